"""Signals through the loop: the self-pipe trick.

A signal handler may run at any moment, in the middle of any handler; doing
real work in it is unsafe (a half-drawn screen, a half-queued reply).  So
the handler does nothing; Python's ``signal.set_wakeup_fd`` writes the
signal's number to a socket, that socket wakes ``select()`` like any other
descriptor, and the work is done from the loop, between two handlers.
"""

import signal
import socket


class SignalSocket:
    """Deliver ``signals`` to ``on_signal(numbers)`` from the loop."""

    def __init__(self, loop, signals, on_signal):
        self.loop = loop
        self.on_signal = on_signal
        self.reader, self.writer = socket.socketpair()
        self.reader.setblocking(False)
        self.writer.setblocking(False)
        self.old_fd = signal.set_wakeup_fd(self.writer.fileno())
        self.old_handlers = {signum: signal.signal(signum, lambda *_: None) for signum in signals}
        loop.register(self.reader, self, read=True, label="signals")

    @classmethod
    def attach(cls, loop, signals, on_signal):
        """A SignalSocket, or None where signals cannot be caught (not the main thread)."""
        try:
            return cls(loop, signals, on_signal)
        except ValueError:
            return None

    def handle_read(self):
        try:
            data = self.reader.recv(64)
        except BlockingIOError:
            return
        self.on_signal([signal.Signals(number) for number in data])

    def close(self):
        """Give the signals back their old handlers."""
        for signum, handler in self.old_handlers.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self.old_fd)
        self.loop.unregister(self.reader)
        self.reader.close()
        self.writer.close()
