"""Helpers the tests use to run your program and talk to it (the same in every lab).

Your program runs as a real process, exactly as you would start it, and the
tests connect to it over TCP on 127.0.0.1.  It is always started with
``--port 0``, so the kernel picks a free port; the tests read that port from
the first line your program prints, ``... listening on HOST:PORT``.

Every wait here is bounded (``WAIT`` seconds), and every process a test
starts is stopped when the test ends, whether it passed or not.
"""

import collections
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

# The lab's folder.  Not resolve(): in the course repository each lab's tests/conftest.py is a
# symlink to labs/_harness/conftest.py, and the lab is where the link is, not where it points.
LAB = Path(os.path.abspath(__file__)).parent.parent
READY = re.compile(r"listening on (\S+):(\d+)")
WAIT = 3.0   # seconds any one expectation may take (loopback answers in milliseconds)


class Program:
    """One of the lab's programs, running in a subprocess, its output collected (the last lines only)."""

    KEPT_LINES = 1000     # per stream: a program that floods its output costs bounded memory
    LINE_LIMIT = 2000     # characters kept of one line

    def __init__(self, script, *args, stdin=subprocess.DEVNULL, env=None):
        self.name = " ".join([script, *map(str, args)])
        self.argv = [sys.executable, "-u", str(LAB / script), *map(str, args)]
        self.process = subprocess.Popen(self.argv, cwd=LAB, stdin=stdin, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
                                        preexec_fn=_die_with_parent)
        self.pid = self.process.pid
        self._out = collections.deque(maxlen=self.KEPT_LINES)
        self._err = collections.deque(maxlen=self.KEPT_LINES)
        self.first_lines = []             # the first lines of stdout, where the port is
        self.dropped = 0                  # lines no longer kept
        self._changed = threading.Condition()
        self._open_streams = 2
        for stream, sink in ((self.process.stdout, self._out), (self.process.stderr, self._err)):
            threading.Thread(target=self._drain, args=(stream, sink), daemon=True).start()

    def _drain(self, stream, sink):
        """Read whatever comes, in chunks (a line without an end must not grow without bound)."""
        pending = b""
        while chunk := stream.read1(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            if len(pending) > self.LINE_LIMIT:
                lines.append(pending)
                pending = b""
            self._keep(sink, lines)
        self._keep(sink, [pending] if pending else [])
        with self._changed:
            self._open_streams -= 1
            self._changed.notify_all()

    def _keep(self, sink, lines):
        with self._changed:
            for raw in lines:
                line = raw[:self.LINE_LIMIT].decode("utf-8", "replace").rstrip("\r")
                if sink is self._out and len(self.first_lines) < 5:
                    self.first_lines.append(line)
                self.dropped += len(sink) == sink.maxlen
                sink.append(line)
            self._changed.notify_all()

    @property
    def stdout(self):
        """The lines the program printed on stdout (the last ``KEPT_LINES``), as a list."""
        with self._changed:
            return list(self._out)

    @property
    def stderr(self):
        with self._changed:
            return list(self._err)

    def wait_for(self, test, timeout=WAIT, what="output"):
        """Wait until ``test()`` is true (checked at each new line); fail with the program's output."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = test()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0 or (self._open_streams == 0 and self.process.poll() is not None):
                    break
                self._changed.wait(min(left, 0.05))
        with self._changed:
            value = test()
        if value:
            return value
        state = f"exited with code {self.process.returncode}" if self.process.poll() is not None else "still running"
        pytest.fail(f"waited {timeout:g} s for {what}; the program is {state} (its output is below)")

    def wait_ready(self, timeout=WAIT):
        """The (host, port) from the first ``listening on HOST:PORT`` line."""
        def ready():
            for line in self.first_lines:
                match = READY.search(line)
                if match:
                    return match.group(1), int(match.group(2))
            return None
        return self.wait_for(ready, timeout, "a first line 'listening on HOST:PORT'")

    def wait_for_line(self, text, stream="stdout", timeout=WAIT):
        lines = (lambda: self.stdout) if stream == "stdout" else (lambda: self.stderr)
        return self.wait_for(lambda: next((l for l in lines() if text in l), None), timeout,
                             f"{text!r} on {stream}")

    def wait_exit(self, timeout=WAIT):
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the program did not exit within {timeout:g} s (its output is below)")

    def running(self):
        return self.process.poll() is None

    def cpu_seconds(self):
        """CPU time (user + system) the program has used so far (Linux /proc)."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wakeups(self):
        """How often the program has been scheduled off the CPU so far (Linux /proc).

        A program blocked in ``select()`` with nothing to do is not woken at
        all; one that polls (a timeout, or a sleep in its loop) wakes every time.
        """
        with open(f"/proc/{self.pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        return int(fields["voluntary_ctxt_switches"])

    def assert_idle(self, seconds=0.5, what="the idle program"):
        """Fail unless the program neither uses CPU nor wakes up for ``seconds`` (Linux)."""
        cpu, woke = self.cpu_seconds(), self.wakeups()
        time.sleep(seconds)
        cpu, woke = self.cpu_seconds() - cpu, self.wakeups() - woke
        assert cpu < 0.25 * seconds, (f"{what} used {cpu:.2f} s of CPU in {seconds:g} s: it loops "
                                      "without waiting (is select() returning at once, every pass?)")
        assert woke <= 3, (f"{what} woke up {woke} times in {seconds:g} s without anything to do: it polls "
                           "(a sleep or a timeout in its loop) instead of waiting in select()")

    def transcript(self):
        """The last lines the program printed (waiting a moment for a dead one's last words)."""
        deadline = time.monotonic() + 1.0
        with self._changed:
            while self.process.poll() is not None and self._open_streams and time.monotonic() < deadline:
                self._changed.wait(0.05)
            out, err = "\n".join(list(self._out)[-20:]), "\n".join(list(self._err)[-30:])
        return f"--- its stdout (last lines):\n{out}\n--- its stderr (last lines):\n{err}"

    def stop(self):
        """Kill the program.  Its output pipes stay open for the reading threads: a process it
        forked may still hold them, and closing a pipe another thread is reading would wait for it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdin:
            try:
                self.process.stdin.close()
            except OSError:
                pass


class Peer:
    """A TCP connection the test makes, with a buffer for what it received."""

    def __init__(self, address, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(WAIT)
        self.sock.connect(address)
        self.received = bytearray()
        self.closed = False

    @classmethod
    def wrap(cls, sock):
        """A Peer for a socket the test already has (e.g. one it accepted)."""
        peer = cls.__new__(cls)
        peer.sock, peer.received, peer.closed = sock, bytearray(), False
        sock.settimeout(WAIT)
        return peer

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or self.closed:
            return False
        ready, _, _ = select.select([self.sock], [], [], left)
        if not ready:
            return False
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            data = b""
        if not data:
            self.closed = True
            return False
        self.received += data
        return True

    def recv_until(self, test, timeout=WAIT, what="data"):
        """Receive until ``test(self.received)`` is true; fail (showing what came) if it never is."""
        deadline = time.monotonic() + timeout
        while not test(bytes(self.received)):
            if not self._fill(deadline):
                if test(bytes(self.received)):
                    break
                how = "the connection was closed" if self.closed else f"nothing more came in {timeout:g} s"
                pytest.fail(f"waiting for {what}: {how}; received so far {_preview(self.received)}")
        return bytes(self.received)

    def recv_exactly(self, count, timeout=WAIT):
        data = self.recv_until(lambda got: len(got) >= count, timeout, f"{count} bytes")
        del self.received[:count]
        return data[:count]

    def recv_line(self, timeout=WAIT):
        """One line (without its ``\\n``)."""
        data = self.recv_until(lambda got: b"\n" in got, timeout, "a line")
        line, _, _ = data.partition(b"\n")
        del self.received[:len(line) + 1]
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def expect_closed(self, timeout=WAIT):
        """Wait until the other side closes (reading and dropping what still comes)."""
        deadline = time.monotonic() + timeout
        while not self.closed:
            if not self._fill(deadline) and not self.closed:
                pytest.fail(f"the connection was not closed within {timeout:g} s")

    def nothing_more(self, wait=0.2):
        """True if nothing arrives within ``wait`` seconds."""
        before = len(self.received)
        self._fill(time.monotonic() + wait)
        return len(self.received) == before

    def close(self):
        self.sock.close()


def _die_with_parent():
    """In the child, before exec: die when the test process dies (Linux), so no server outlives it."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _preview(data, limit=200):
    data = bytes(data)
    return repr(data if len(data) <= limit else data[:limit] + b"...") + f" ({len(data)} bytes)"


PROGRAMS = pytest.StashKey()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test fails, show what its programs printed (a traceback tells more than 'refused')."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for program in item.stash.get(PROGRAMS, []):
            state = "running" if program.running() else f"exited with code {program.process.returncode}"
            report.sections.append((f"program {program.name} ({state})", program.transcript()))


@pytest.fixture
def start(request):
    """``start("server.py", "--opt", ...)`` runs a program with ``--port 0``; stopped after the test."""
    programs = request.node.stash.setdefault(PROGRAMS, [])

    def run(script, *args, port=True, **kwargs):
        program = Program(script, *(("--port", "0") if port else ()), *args, **kwargs)
        programs.append(program)
        return program

    yield run
    for program in programs:
        program.stop()


@pytest.fixture
def connect():
    """``connect(address)`` opens a TCP connection; all are closed after the test."""
    peers = []

    def make(address, **kwargs):
        peer = Peer(address, **kwargs)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.close()


@pytest.fixture
def listen():
    """``listen()`` is a listening socket on 127.0.0.1, port 0, for programs that connect to the test.

    ``server.address`` is where it listens; ``server.accept()`` returns a :class:`Peer`.
    """
    sockets = []

    class Server:
        def __init__(self):
            self.sock = socket.create_server(("127.0.0.1", 0))
            self.sock.settimeout(WAIT)
            self.address = self.sock.getsockname()[:2]
            sockets.append(self.sock)

        def accept(self):
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                pytest.fail(f"nobody connected to {self.address} within {WAIT:g} s")
            sockets.append(conn)
            return Peer.wrap(conn)

    yield Server
    for sock in sockets:
        sock.close()
