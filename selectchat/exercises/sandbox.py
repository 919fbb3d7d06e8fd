"""Run a student's code in a child process with a time limit, and always end that process.

A notebook exercise asks a student to write a loop.  A wrong loop may hang in a
blocking call, spin at 100% CPU, or never return.  Run in the notebook's own
(Jupyter) kernel, it would freeze the notebook.  So the code runs in a child
Python process (``python -m selectchat.exercises.child``) that

* reports to us as JSON lines on a private pipe (what the student prints goes to
  its stderr, which we keep for the failure message);
* exits when its stdin reaches EOF -- that is, when we die in any way, even
  ``kill -9`` -- and, on Linux, also gets SIGKILL when we exit (PR_SET_PDEATHSIG);
* runs in its own process group, killed whole by :meth:`Child.stop` at the end of every
  check (and at interpreter exit), so a process the student's code started goes too.
"""

import atexit
import inspect
import json
import linecache
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def source_of(answer):
    """The student's code: the whole notebook cell that defined the function ``answer``,
    so that the helpers and imports of that cell come along.  A string is taken as is."""
    if isinstance(answer, str):
        return answer
    code = getattr(answer, "__code__", None)
    if code is not None:
        lines = linecache.getlines(code.co_filename)   # IPython keeps each cell's text here
        if lines:
            return "".join(lines)
    return inspect.getsource(answer)


class Child:
    """One run of a student's code for exercise ``label``; a context manager that kills it."""

    def __init__(self, label, source, *args, pass_fds=()):
        self._folder = tempfile.TemporaryDirectory(prefix="selectchat-exercise-")
        path = os.path.join(self._folder.name, "answer.py")
        with open(path, "w") as file:
            file.write(source)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        self._stderr = open(os.path.join(self._folder.name, "stderr"), "w+b")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "selectchat.exercises.child", label, path, *map(str, args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            pass_fds=pass_fds, cwd=self._folder.name, env=env,
            process_group=0)     # its own group: stop() also ends whatever the student's code started
        self.pid = self.process.pid
        self._pending = b""
        atexit.register(self.stop)

    def message(self, timeout):
        """The next JSON message from the child, or None if none came in ``timeout`` seconds
        (or the child ended without one)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                return None
            data = os.read(self.process.stdout.fileno(), 65536)
            if not data:
                return None
            self._pending += data
        line, _, self._pending = self._pending.partition(b"\n")
        return json.loads(line)

    def running(self):
        return self.process.poll() is None

    def stopped(self, grace=0.5):
        """True if the child has ended, waiting up to ``grace`` seconds for it (a child that
        just closed its pipes may not have been reaped yet)."""
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            return False
        return True

    def cpu_seconds(self):
        """User plus system CPU time the child has used so far (Linux /proc; 0.0 elsewhere)."""
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    def threads(self):
        """How many threads the child has (Linux /proc; 0 elsewhere)."""
        try:
            with open(f"/proc/{self.pid}/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))
        except (OSError, StopIteration, ValueError):
            return 0

    def printed(self, limit=600):
        """The end of what the child wrote to stderr (tracebacks, the student's prints)."""
        try:
            self._stderr.seek(0)
            text = self._stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""
        return text[-limit:]

    def stop(self):
        """Kill the child (if it still runs) and wait for it; safe to call twice."""
        atexit.unregister(self.stop)
        try:
            os.killpg(self.pid, signal.SIGKILL)   # before wait(): the group id cannot be reused yet
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def close(self):
        self.stop()
        self._stderr.close()
        self._folder.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
