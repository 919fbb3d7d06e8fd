"""feed() returns only the first complete line; the others wait for the next recv()."""

import json

MAX_LINE = 4096   # bytes in one line, not counting its b"\n"


class LineTooLong(ValueError):
    """A line grew past the limit: the peer is broken or hostile."""


class LineBuffer:
    """Collect bytes as they arrive; return each complete line.

    Memory is bounded: an unfinished line longer than ``max_line`` bytes
    raises :class:`LineTooLong` instead of growing without end.
    """

    def __init__(self, max_line=MAX_LINE):
        self.max_line = max_line
        self.pending = bytearray()   # the start of a line whose b"\n" has not come yet

    def feed(self, data):
        """Add the bytes of one ``recv()``; return the list of lines now complete.

        Each line is ``bytes`` without its ``b"\\n"`` (and without a ``b"\\r"``
        before it, so ``nc -C`` works too).  Raises :class:`LineTooLong` when
        a line -- finished or not -- is longer than ``max_line`` bytes.
        """
        self.pending += data
        if b"\n" not in self.pending:
            if len(self.pending) > self.max_line:
                size = len(self.pending)
                self.pending.clear()
                raise LineTooLong(f"{size} bytes and no end of line (the limit is {self.max_line})")
            return []
        line, _, rest = bytes(self.pending).partition(b"\n")   # the bug: one line per call, the others wait
        self.pending = bytearray(rest)
        line = line.removesuffix(b"\r")
        if len(line) > self.max_line:
            raise LineTooLong(f"a line of {len(line)} bytes (the limit is {self.max_line})")
        return [line]


def encode(message):
    """A message (a dict) as one line of JSON, ending with ``b"\\n"``."""
    return json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n"


def decode(line):
    """The message (a dict) in one line, as :meth:`LineBuffer.feed` returned it."""
    return json.loads(line.decode("utf-8"))


def breaks_the_brace_reader():
    """A message that ``broken.read_until_brace`` gets wrong -- and :class:`LineBuffer` gets right.

    Read ``broken.py`` first: it is how the first selectchat read messages.
    """
    return {"from": "alice", "text": "a code sample: if (x) { y(); }"}
