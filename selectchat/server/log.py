"""The server's log and console output: written without ever stopping the loop.

A log line is output like any other, so the lesson of slow readers applies
to it too.  A terminal paused with Ctrl-S, a pipe nobody drains, a launcher
that died (``EPIPE``), a full disk (``ENOSPC``): a blocking ``write()`` to
any of these would freeze or end the server.  So a :class:`Sink`

* writes without blocking, on an open file description of its own;
* keeps what the destination cannot take yet in a bounded backlog, sent when
  the descriptor is writable (the loop watches it only then), and counts the
  lines it had to drop when even the backlog is full;
* on a broken or full destination, says so once and stops writing there.

Text that came from clients is shown with its control characters escaped
(:func:`printable`): a room name holding ``ESC [ 2 J`` must not clear the
operator's screen, nor a message holding a newline forge a log line.
"""

import os
import re
import time
from collections import deque

BACKLOG = 64 * 1024  # bytes a sink holds for a destination that is not taking them


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1: what terminals obey


def printable(text):
    """``text`` with control characters shown as ``\\x1b``-style escapes."""
    if text.isprintable():
        return text
    return _CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", text)


class Sink:
    """Lines to one descriptor, never blocking; see the module's docstring."""

    def __init__(self, loop, fd, name, on_broken=None):
        self.loop = loop
        self.name = name
        self.fd = _nonblocking_copy(fd)
        self.backlog = bytearray()
        self.dropped = 0
        self.broken = False
        self.on_broken = on_broken  # called once with a sentence, when writing here stops

    def write_line(self, text):
        if self.broken:
            return
        data = text.encode("utf-8", "replace") + b"\n"
        if self.backlog:  # keep the order: behind what is waiting
            if len(self.backlog) + len(data) > BACKLOG:
                self.dropped += 1
            else:
                self.backlog += data
            return
        sent = self._write(data)
        if sent is not None and sent < len(data):
            self.backlog += data[sent:]
            self.loop.register(self.fd, self, read=False, write=True, label=self.name)

    def handle_write(self):
        sent = self._write(self.backlog)
        if sent is None:
            return
        del self.backlog[:sent]
        if not self.backlog:
            self.loop.unregister(self.fd)
            if self.dropped:
                count, self.dropped = self.dropped, 0
                self.write_line(f"({count} lines dropped: {self.name} was not taking them)")

    def _write(self, data):
        """Bytes written (0 if the destination is full for now); None once broken."""
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0
        except OSError as error:  # EPIPE, ENOSPC, EIO ...
            self._break(error)
            return None

    def _break(self, error):
        self.broken = True
        self.backlog.clear()
        self.loop.unregister(self.fd)
        if self.on_broken is not None:
            self.on_broken(f"cannot write to {self.name} ({os.strerror(error.errno)}); stopped writing there")

    def close(self):
        if self.backlog:
            self.loop.unregister(self.fd)
        os.close(self.fd)


def _nonblocking_copy(fd):
    """A descriptor for what ``fd`` is, whose writes never block, and whose
    non-blocking mode no other process sees.

    ``O_NONBLOCK`` belongs to the open file description, which a terminal or
    pipe shares with the shell and the parent: setting it on fd 2 itself
    would leave *their* writes failing with EAGAIN.  Opening ``/proc/self/fd/N``
    again gives a description of our own (Linux).  Where that is impossible
    (no /proc, a socket) we keep a plain duplicate: a regular file's writes do
    not block; a stalled terminal still would.
    """
    try:
        return os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return os.dup(fd)


class Log:
    """The server's log: the last entries in memory (for the console), and a sink.

    A busy server logs every relayed message, so an entry kept in memory is
    formatted only when someone reads it (the console's ``log``): ``event``
    keeps the chat event itself, whose sentence is made on demand.
    """

    def __init__(self, size, sink=None):
        self._entries = deque(maxlen=size)   # (second, kind, text or event)
        self.sink = sink
        self._clock_second, self._clock_text = None, ""

    def write(self, kind, text):
        self._add(kind, text)

    def event(self, event):
        """A chat event: its sentence is made only if a sink or a reader needs it."""
        self._add(event.kind, event)

    def _add(self, kind, what):
        second = int(time.time())
        self._entries.append((second, kind, what))
        if self.sink is not None:
            self.sink.write_line(self._format(second, kind, what))

    def lines(self):
        """Every entry kept, formatted: ``HH:MM:SS kind text``."""
        return [self._format(*entry) for entry in self._entries]

    def _format(self, second, kind, what):
        text = what if isinstance(what, str) else what.text
        return f"{self._clock(second)} {kind:<12} {printable(text)}"

    def _clock(self, second):
        """``HH:MM:SS`` of ``second``, formatted once per second (the log is on the hot path)."""
        if second != self._clock_second:
            self._clock_second, self._clock_text = second, time.strftime("%H:%M:%S", time.localtime(second))
        return self._clock_text
