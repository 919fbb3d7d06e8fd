"""The operator's stdin, watched by the same ``select()`` as the sockets.

On POSIX, stdin is one more descriptor in the ``select()`` set.  Windows'
``select()`` accepts only sockets, so there :func:`stdin_bridge` copies
stdin into a socket pair from a small thread and the loop watches the
socket end (``--console-thread`` uses it on POSIX too, which is how the
tests keep that path working).
"""

import os
import socket
import sys
import threading

from ..net.framing import LineBuffer


class ConsoleReader:
    """Lines typed by the operator -> :class:`~.console.Console` -> the server."""

    def __init__(self, server, source):
        self.server = server
        self.source = source  # fd 0, or the loop's end of a stdin_bridge socket
        self.lines = LineBuffer(max_line=4096)
        server.loop.register(source, self, read=True, label="console")

    @classmethod
    def attach(cls, server):
        """Watch stdin if there is a usable one; else say why the server runs without."""
        if sys.__stdin__ is None:
            # Descriptor 0 was closed when Python started (`selectchat server <&-`):
            # by now 0 may be one of our own sockets, which is not a console.
            return server.log.write("console", "no stdin: running without a console")
        if server.config.console_thread:
            return cls(server, stdin_bridge())
        try:
            os.fstat(0)
        except OSError:  # no stdin at all (closed descriptor): serve without a console
            return server.log.write("console", "no stdin: running without a console")
        if os.isatty(0) and os.tcgetpgrp(0) != os.getpgrp():
            # Started in the background (`selectchat server &`): reading the
            # terminal would stop the whole process with SIGTTIN.
            return server.log.write("console", "in the background: running without a console")
        try:
            return cls(server, 0)
        except PermissionError:
            # epoll refuses regular files and /dev/null (they are always ready):
            # read such a stdin through the socket-pair bridge instead.
            server.loop.unregister(0)
            return cls(server, stdin_bridge())

    def handle_read(self):
        try:
            data = os.read(self.source, 4096) if self.source == 0 else self.source.recv(4096)
        except OSError:
            data = b""
        if not data:
            return self.at_eof()
        for line in self.lines.feed(data):
            if not isinstance(line, bytes):
                self.server.print("error: line too long")
                continue
            try:
                self.server.run_console_command(line.decode("utf-8", "replace"))
            except Exception as error:  # a bug in one command must not lose the next ones
                self.handle_error(error)

    def at_eof(self):
        # Stop watching stdin: at EOF it is always readable, and watching it
        # would make select() return at once, forever (a busy loop).
        server = self.server
        server.loop.unregister(self.source)
        if server.config.exit_on_eof:
            server.shutdown("Server shutting down (console closed)")
        else:
            server.log.write("console", "console closed (EOF); still serving")

    def handle_error(self, error):
        """A bug in a console command: say so; the server goes on."""
        self.server.log_error("internal error in a console command", error)
        self.server.print(f"error: internal error ({type(error).__name__}: {error}); the server goes on")


def stdin_bridge(stdin=None):
    """A socket that yields what arrives on stdin, fed by a thread.

    For platforms whose ``select()`` takes only sockets (Windows).  The thread
    closes its end at EOF, so the loop sees EOF on the socket as it would on
    stdin itself.
    """
    stdin = stdin or sys.stdin.buffer
    loop_end, thread_end = socket.socketpair()

    def copy():
        with thread_end:
            while True:
                line = stdin.readline()
                if not line:
                    break
                try:
                    thread_end.sendall(line)
                except OSError:
                    break

    threading.Thread(target=copy, name="stdin-bridge", daemon=True).start()
    return loop_end
