"""Signals through the loop: the self-pipe trick.

A signal handler may run at any moment, in the middle of any handler;
doing real work in it is unsafe.  Python's ``signal.set_wakeup_fd`` writes
the signal number to a socket instead, which wakes ``select()``; the server
then shuts down from the loop, between two passes, calmly.

SIGHUP (the terminal closed, the ssh session dropped) is a shutdown like
SIGTERM: clients get their ERROR line and the exit status is 0.  Left to its
default action it would kill the server on the spot.
"""

import signal
import socket

SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class SignalWaker:
    """Turn SIGINT/SIGTERM/SIGHUP into a readable socket."""

    def __init__(self, server):
        self.server = server
        self.reader, self.writer = socket.socketpair()
        self.reader.setblocking(False)
        self.writer.setblocking(False)
        signal.set_wakeup_fd(self.writer.fileno())
        for signum in SHUTDOWN_SIGNALS:
            signal.signal(signum, lambda *_: None)  # the byte on the socket is enough
        server.loop.register(self.reader, self, read=True, label="signals")

    @classmethod
    def attach(cls, server):
        try:
            return cls(server)
        except ValueError:  # not the main thread (a server run inside a test or notebook)
            return None

    def handle_read(self):
        try:
            data = self.reader.recv(64)
        except BlockingIOError:
            return
        names = ", ".join(signal.Signals(n).name for n in data)
        self.server.shutdown(f"Server shutting down ({names})")
