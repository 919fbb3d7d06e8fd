"""Lines out of a byte stream (given; you wrote one like it in lab 02)."""

MAX_LINE = 1024


class LineBuffer:
    """``feed(bytes)`` returns the complete lines (str, without the line end)."""

    def __init__(self, max_line=MAX_LINE):
        self.max_line = max_line
        self._tail = b""

    def feed(self, data):
        self._tail += data
        lines = []
        while True:
            end = self._tail.find(b"\n")
            if end < 0:
                break
            lines.append(self._tail[:end].rstrip(b"\r").decode("utf-8", "replace"))
            self._tail = self._tail[end + 1:]
        if len(self._tail) > self.max_line or any(len(line) > self.max_line for line in lines):
            raise ValueError("line too long")
        return lines
