"""Turn a TCP byte stream into lines.

TCP delivers bytes, not messages: one ``recv()`` may hold half a line, or
three lines and the start of a fourth.  A :class:`LineBuffer` keeps the
unfinished tail between calls and hands back only complete lines.

IRC lines end with ``\\r\\n``; we also accept a bare ``\\n`` (what ``nc``
sends) and a bare ``\\r`` (what some old clients send), as ngIRCd does.
Lines are at most 512 bytes long, terminator included.  A longer line is not
buffered without bound: its bytes are dropped as they arrive, and once its
end is seen the caller is told, so it can answer with an error.
"""

MAX_LINE = 512  # bytes, including the trailing "\r\n" (RFC 1459, section 2.3)


class LineTooLong:
    """Stands in the output of :meth:`LineBuffer.feed` for a line that was dropped."""

    def __repr__(self):
        return "TOO_LONG"


TOO_LONG = LineTooLong()


class LineBuffer:
    """Accumulate bytes; return each complete line without its terminator.

    Memory is bounded: the buffer never holds more than ``max_line`` bytes.
    """

    def __init__(self, max_line=MAX_LINE):
        self.max_line = max_line
        self._partial = bytearray()
        self._discarding = False  # inside an overlong line, waiting for its end
        self._after_cr = False    # the last chunk ended with "\r": a "\n" may follow

    def feed(self, data):
        """Add received bytes; return the list of lines now complete.

        Each item is ``bytes`` (a line, its ``\\r\\n``, ``\\n`` or ``\\r``
        removed) or :data:`TOO_LONG` for a line that exceeded the limit.
        """
        if self._after_cr and data.startswith(b"\n"):
            data = data[1:]  # the "\n" of a "\r\n" split between two reads
        if b"\r" in data:
            self._after_cr = data.endswith(b"\r")
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        else:
            self._after_cr = False
        lines = []
        *complete, tail = data.split(b"\n")
        for piece in complete:
            if self._discarding:
                self._discarding = False
                lines.append(TOO_LONG)
                continue
            line = bytes(self._partial + piece) if self._partial else piece
            self._partial.clear()
            # +2 for the "\r\n" the line was allowed
            lines.append(TOO_LONG if len(line) + 2 > self.max_line else line)
        if not self._discarding:
            self._partial += tail
            if len(self._partial) + 2 > self.max_line:
                self._partial.clear()
                self._discarding = True
        return lines

    @property
    def pending(self):
        """How many bytes of an unfinished line are held."""
        return len(self._partial)
