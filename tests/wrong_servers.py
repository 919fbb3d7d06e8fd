"""Small echo servers that each make one classic event-loop mistake -- and one that makes none.

Each runs on selectchat's :class:`~selectchat.net.loop.EventLoop` with a
:class:`~selectchat.trace.Recorder` as its observer, serves real sockets on
127.0.0.1 (port 0), and records ``recv``/``send``/``close`` as selectchat's
server does.  :func:`record` runs one of them against a client script and
returns the trace, which ``tests/test_trace_mistakes.py`` hands to
:func:`selectchat.trace.find_mistakes`.

Keep them wrong: each is the mistake in its plainest form, as students write it.
"""

import socket
import threading
import time

from selectchat.net.loop import EventLoop
from selectchat.trace import Recorder


class CleanEcho:
    """The right way: non-blocking, write interest only while output waits, close at EOF."""

    WATCH_WRITE_ALWAYS = False

    def __init__(self, loop, sock, recorder):
        self.loop, self.sock, self.recorder, self.fd = loop, sock, recorder, sock.fileno()
        self.outbuf = bytearray()
        sock.setblocking(False)
        loop.register(sock, self, read=True, write=self.WATCH_WRITE_ALWAYS, label=f"client {self.fd}")

    def handle_read(self):
        data = self.sock.recv(4096)
        self.recorder.record("recv", fd=self.fd, bytes=len(data))
        if not data:
            return self.close()
        self.outbuf += data
        self.loop.modify(self.sock, read=True, write=True)

    def handle_write(self):
        if not self.outbuf:
            return
        sent = self.sock.send(self.outbuf)
        self.recorder.record("send", fd=self.fd, asked=len(self.outbuf), sent=sent)
        del self.outbuf[:sent]
        if not self.outbuf and not self.WATCH_WRITE_ALWAYS:
            self.loop.modify(self.sock, read=True, write=False)

    def close(self):
        self.recorder.record("close", fd=self.fd, reason="EOF")
        self.loop.unregister(self.sock)
        self.sock.close()


class AlwaysWatchesWrite(CleanEcho):
    """MISTAKE: watches its socket for writing all the time, so select() never sleeps."""

    WATCH_WRITE_ALWAYS = True


class IgnoresEOF(CleanEcho):
    """MISTAKE: an empty read is treated as 'nothing yet'; the closed socket stays watched."""

    def handle_read(self):
        data = self.sock.recv(4096)
        self.recorder.record("recv", fd=self.fd, bytes=len(data))
        if data:
            self.outbuf += data
            self.loop.modify(self.sock, read=True, write=True)


class ForgetsToRead(CleanEcho):
    """MISTAKE: the handler of a readable socket does not read it, so it stays readable."""

    def handle_read(self):
        pass


class BlocksForTheLine(CleanEcho):
    """MISTAKE: a blocking socket, and recv() again until the line is complete."""

    def handle_read(self):
        self.sock.setblocking(True)
        line = b""
        while not line.endswith(b"\n"):
            data = self.sock.recv(4096)   # blocks until the client sends the rest: everyone waits
            self.recorder.record("recv", fd=self.fd, bytes=len(data))
            if not data:
                return self.close()
            line += data
        self.sock.setblocking(False)
        self.outbuf += line
        self.loop.modify(self.sock, read=True, write=True)


class ThinksHard(CleanEcho):
    """MISTAKE: long work inside the handler (here: 0.3 s of it, per line)."""

    def handle_read(self):
        data = self.sock.recv(4096)
        self.recorder.record("recv", fd=self.fd, bytes=len(data))
        if not data:
            return self.close()
        time.sleep(0.3)   # stands for hashing a password, resizing an image, a database query...
        self.outbuf += data.upper()
        self.loop.modify(self.sock, read=True, write=True)


class Acceptor:
    """The listening socket: each connection gets a ``handler_class``."""

    def __init__(self, loop, recorder, handler_class):
        self.loop, self.recorder, self.handler_class = loop, recorder, handler_class
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.address = self.sock.getsockname()
        self.handlers = []
        loop.register(self.sock, self, read=True, label="listener")

    def handle_read(self):
        sock, peer = self.sock.accept()
        self.recorder.record("accept", fd=sock.fileno(), peer=f"{peer[0]}:{peer[1]}")
        self.handlers.append(self.handler_class(self.loop, sock, self.recorder))

    def handle_write(self):
        pass


def record(handler_class, talk, *, max_passes=100_000, path=None, timeout=0.05):
    """Serve ``handler_class`` while ``talk(address)`` runs in a thread; the trace.

    ``path``: also write the trace there, as ``selectchat server --trace`` does.
    ``timeout``: what each pass gives select() (0: it polls -- a mistake too).

    The loop runs until the client script is done and 0.1 s more (what a
    server does after a client leaves shows too), or ``max_passes``: a busy
    loop must not fill the memory.
    """
    recorder = Recorder(size=4 * max_passes, path=path, backend="select", program=handler_class.__name__)
    loop = EventLoop(observer=recorder)
    acceptor = Acceptor(loop, recorder, handler_class)
    errors = []

    def client():
        try:
            talk(acceptor.address)
        except Exception as error:   # noqa: BLE001 -- handed to the test below
            errors.append(error)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    try:
        passes, stop_at = 0, None
        while passes < max_passes and (stop_at is None or time.monotonic() < stop_at):
            loop.run_once(timeout=timeout)
            passes += 1
            if stop_at is None and not thread.is_alive():
                stop_at = time.monotonic() + 0.1
    finally:
        thread.join(timeout=10)
        for handler in acceptor.handlers:
            handler.sock.close()
        loop.close()
        acceptor.sock.close()
        recorder.close()
    assert not errors, errors
    return recorder.snapshot()


def say_and_hear(lines, pause=0.0, linger=0.1):
    """A client script: send each line (``pause`` seconds apart), read its echo, wait, close."""
    def talk(address):
        with socket.create_connection(address, timeout=5) as sock:
            for line in lines:
                sock.sendall(line)
                time.sleep(pause)
            expected = sum(len(line) for line in lines)
            got = b""
            while len(got) < expected:
                data = sock.recv(4096)
                assert data, "the server closed early"
                got += data
            time.sleep(linger)
    return talk
