"""Lab 02: messages over a TCP byte stream.

TCP delivers a stream of bytes, not messages.  One ``recv()`` may return
half a message, or three messages and the start of a fourth.  So a program
must *frame* its messages: here, one JSON object per line, each line ending
with ``b"\\n"`` (JSON Lines).  JSON never contains a raw newline -- ``json.dumps``
writes a newline inside a string as the two characters ``\\n`` -- so a newline
can only ever mean "end of message".

:class:`LineBuffer` keeps the unfinished tail between ``recv()`` calls and
hands back only complete lines.  :func:`encode` and :func:`decode` turn a
message (a dict) into one line and back.
"""

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
        ### BEGIN SOLUTION
        # TODO: add data to self.pending, cut off every complete line, keep the rest.
        self.pending += data
        *complete, rest = self.pending.split(b"\n")
        self.pending = bytearray(rest)
        lines = []
        for line in complete:
            line = bytes(line).removesuffix(b"\r")
            if len(line) > self.max_line:
                raise LineTooLong(f"a line of {len(line)} bytes (the limit is {self.max_line})")
            lines.append(line)
        if len(self.pending) > self.max_line:
            size = len(self.pending)
            self.pending.clear()
            raise LineTooLong(f"{size} bytes and no end of line (the limit is {self.max_line})")
        return lines
        ### END SOLUTION


def encode(message):
    """A message (a dict) as one line of JSON, ending with ``b"\\n"``."""
    ### BEGIN SOLUTION
    # TODO: json.dumps the message, encode it as UTF-8, add the line end.
    return json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n"
    ### END SOLUTION


def decode(line):
    """The message (a dict) in one line, as :meth:`LineBuffer.feed` returned it."""
    ### BEGIN SOLUTION
    # TODO: the reverse of encode().
    return json.loads(line.decode("utf-8"))
    ### END SOLUTION


def breaks_the_brace_reader():
    """A message that ``broken.read_until_brace`` gets wrong -- and :class:`LineBuffer` gets right.

    Read ``broken.py`` first: it is how the first selectchat read messages.
    """
    ### BEGIN SOLUTION
    # TODO: return a dict that the brace reader cannot read back.
    return {"from": "alice", "text": "a code sample: if (x) { y(); }"}
    ### END SOLUTION
