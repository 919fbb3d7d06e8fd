"""Start ``selectchat server`` in a subprocess, on a free port, and stop it for sure.

Notebooks, labs, tests and the benchmark all start servers; none may ever
use a fixed port (a shared JupyterHub has many students on one machine) or
leave a process behind.  So :class:`ServerProcess`

* passes ``--port 0`` and reads the real port from the server's first line,
  ``selectchat server listening on HOST:PORT``;
* holds the server's stdin as a pipe and passes ``--exit-on-eof``: if this
  process dies in any way -- even ``kill -9``, when no ``finally`` or
  ``atexit`` runs -- the kernel closes the pipe and the server exits;
* stops it on ``with`` exit, on :meth:`stop`, and at interpreter exit.

Example::

    from selectchat.launch import start_server
    with start_server("--room", "lobby:3") as server:
        print(server.address)            # ('127.0.0.1', 40123)
        print(server.console("rooms"))   # the operator's console, as lines
"""

import atexit
import os
import select
import subprocess
import sys
import threading
import time
from collections import deque

READY_PREFIX = "selectchat server listening on "
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ServerError(RuntimeError):
    """The server did not start (its stderr is in the message)."""


class ServerProcess:
    """A running ``selectchat server`` subprocess and its console."""

    def __init__(self, *options, ready_timeout=15.0, python=None):
        if "--no-console" in options:
            raise ValueError("start_server() cannot pass --no-console: the console pipe is what stops "
                             "the server when this process dies (see --exit-on-eof)")
        self.options = list(options)
        self.output = deque(maxlen=10000)   # console replies (stdout after the first line)
        self.log = deque(maxlen=10000)      # the server's log (stderr)
        self._output_count = 0              # lines ever added to ``output`` (it forgets old ones)
        self._new_output = threading.Condition()
        self._echo_count = 0
        env = dict(os.environ)
        # Let the child import the same selectchat as we do, installed or not.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
        command = [python or sys.executable, "-m", "selectchat", "server", "--port", "0",
                   "--exit-on-eof", "--log", "-", *self.options]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env)
        self.pid = self.process.pid
        atexit.register(self.stop)
        try:
            self.host, self.port = self._read_address(ready_timeout)
        except BaseException:
            self.stop()
            raise
        for stream, sink in ((self.process.stdout, self.output), (self.process.stderr, self.log)):
            threading.Thread(target=self._drain, args=(stream, sink), daemon=True).start()

    @property
    def address(self):
        return (self.host, self.port)

    def _read_address(self, timeout):
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline().decode(errors="replace").strip() if ready else ""
        if not line.startswith(READY_PREFIX):
            self.process.kill()
            _, err = self.process.communicate(timeout=5)
            raise ServerError(f"server did not start (first line {line!r}): {err.decode(errors='replace').strip()}")
        host, _, port = line[len(READY_PREFIX):].rpartition(":")
        return host, int(port)

    def _drain(self, stream, sink):
        # Always read the server's pipes: a full pipe would block the server.
        for raw in stream:
            with self._new_output:
                sink.append(raw.decode("utf-8", "replace").rstrip("\n"))
                if sink is self.output:
                    self._output_count += 1
                self._new_output.notify_all()
        with self._new_output:  # EOF: the server exited; wake whoever waits for output
            self._new_output.notify_all()

    def console(self, command, timeout=5.0):
        """Type ``command`` on the server's console; return the lines it printed."""
        self._echo_count += 1
        marker = f"--end of console reply {self._echo_count}--"
        start = self._output_count
        try:
            if self.process.poll() is not None:
                raise BrokenPipeError
            self.process.stdin.write(f"{command}\necho {marker}\n".encode())
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):   # ValueError: after stop(), the pipe is closed
            raise ServerError(f"the server is not running (exit code {self.process.poll()}); "
                              f"its last log line: {self.log[-1] if self.log else '(none)'}") from None
        deadline = time.monotonic() + timeout
        with self._new_output:
            while marker not in self.output:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    break
                self._new_output.wait(left)
            new = self._output_count - start
            lines = list(self.output)[-new:] if new else []
        return [line for line in lines if line != marker]

    def wait_for_log(self, text, timeout=5.0):
        """Wait until a log line containing ``text`` appears; return it (or None)."""
        deadline = time.monotonic() + timeout
        with self._new_output:
            while True:
                found = next((line for line in self.log if text in line), None)
                left = deadline - time.monotonic()
                if found or left <= 0:
                    return found
                self._new_output.wait(left)

    def running(self):
        return self.process.poll() is None

    def stop(self, timeout=5.0):
        """Close the console (a clean shutdown), then escalate if needed. Exit code."""
        atexit.unregister(self.stop)
        process = self.process
        if process.poll() is None:
            try:
                process.stdin.close()   # EOF: with --exit-on-eof the server shuts down, exit 0
            except OSError:
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(2)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        return process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def start_server(*options, **kwargs):
    """Start a server with these ``selectchat server`` options; use it with ``with``."""
    return ServerProcess(*options, **kwargs)
