"""More clients than one process may hold: worker processes, each with its own loop.

A connection costs the generator a descriptor, just as it costs the server
one, and a process may hold only ``RLIMIT_NOFILE`` of them.  To open 10,000
clients where that limit is lower, the bench starts *workers*: each is
``python -m selectchat.bench.spread``, a :class:`~.load.Generator` of its
own that opens its share of the clients, says how it went, and holds them
until told to let go.  They talk to the bench in JSON lines over pipes::

    worker -> bench   {"hello": PID}                 started, imports done
    bench  -> worker  "go"                           open your clients now
    worker -> bench   {"done": {...}}                 how many are ready, refused, failed, and when
    bench  -> worker  (closes its stdin)              let go
    worker -> bench   {"still": N}                    N were still connected; then it closes them

Nothing is left behind: a worker exits when its stdin reaches EOF -- also
when the bench dies, even by ``kill -9``, since the kernel then closes the
pipe -- and on Linux it is also killed with its parent (``PR_SET_PDEATHSIG``).
:meth:`Workers.stop` closes every stdin, waits, and kills by PID a worker
that lingers; the scenarios call it in ``finally``, so Ctrl-C and a failed
step stop the workers too.
"""

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections import Counter

from ..launch import PACKAGE_PARENT
from .load import Generator

MARGIN = 64           # descriptors a generator keeps for itself (epoll, pipes, files)
HELLO_TIMEOUT = 20.0  # seconds for a worker to start (imports on a busy machine)
HOLD_LIMIT = 3600.0   # a worker never holds its clients longer than this, whatever happens


def capacity():
    """How many connections this process may open: its descriptor limit, raised
    to the hard limit where allowed, minus a margin."""
    try:
        import resource
    except ImportError:
        return 512 - MARGIN
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return max(1, soft - MARGIN)


def shares(total, processes):
    """``total`` clients split over ``processes`` as evenly as possible."""
    return [total // processes + (i < total % processes) for i in range(processes)]


def room_of(room, rooms, i):
    """The room the ``i``-th client of a storm joins: one, or one of ``rooms``."""
    return room if rooms <= 1 else f"{room}{i % rooms}"


def processes_needed(total, asked=None):
    """``asked`` processes, or as few as hold ``total`` clients (one more for the probe)."""
    if asked:
        return max(1, min(asked, total))
    return max(1, -(-(total + 1) // capacity()))


class WorkerError(RuntimeError):
    """A worker did not start or did not answer."""


class Workers:
    """Worker processes, each holding a share of the clients."""

    def __init__(self, host, port, counts, mode, room=None, concurrency=100, timeout=30.0, rooms=1, first=0):
        self.processes = []
        try:
            for i, count in enumerate(counts):
                command = [sys.executable, "-m", "selectchat.bench.spread", host, str(port), "--clients",
                           str(count), "--mode", mode, "--concurrency", str(concurrency),
                           "--timeout", str(timeout), "--letter", "wxyz"[i % 4],
                           "--rooms", str(rooms), "--first", str(first)]
                first += count
                if room:
                    command += ["--room", room]
                env = dict(os.environ)
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
                self.processes.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                       env=env, preexec_fn=_die_with_parent))
            for process in self.processes:
                self._read(process, "hello", HELLO_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    @property
    def pids(self):
        return [p.pid for p in self.processes]

    def go(self):
        """Every worker opens its clients now."""
        for process in self.processes:
            process.stdin.write(b"go\n")
            process.stdin.flush()

    def results(self, timeout):
        """Each worker's ``done`` report (waits up to ``timeout`` seconds for each)."""
        deadline = time.monotonic() + timeout
        return [self._read(p, "done", max(1.0, deadline - time.monotonic())) for p in self.processes]

    def stop(self, timeout=10.0):
        """Let go of every client; returns how many each worker still had connected."""
        still = []
        for process in self.processes:
            if process.stdin and not process.stdin.closed:
                try:
                    process.stdin.close()   # EOF: the worker's signal to finish
                except OSError:
                    pass
        for process in self.processes:
            try:
                still.append(self._read(process, "still", timeout))   # (it may have exited: the pipe keeps it)
            except WorkerError:
                still.append(None)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()   # by PID: only a process we started
                process.wait()
            process.stdout.close()
        self.processes = []
        return still

    def _read(self, process, key, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([process.stdout], [], [], max(0.0, left))
            if not ready:
                raise WorkerError(f"worker {process.pid} sent no {key!r} within {timeout:.0f} s")
            line = process.stdout.readline()
            if not line:
                raise WorkerError(f"worker {process.pid} ended (exit code {process.wait()}) before {key!r}")
            message = json.loads(line)
            if key in message:
                return message[key]


def _die_with_parent():
    """In the worker, before exec: SIGTERM it if the bench dies (Linux)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# --- the worker ----------------------------------------------------------------

class _StdinWatch:
    """The bench's pipe on the worker's loop: a line or EOF ends a wait."""

    def __init__(self, gen):
        self.gen = gen
        self.lines = []
        self.eof = False
        gen.loop.register(sys.stdin.fileno(), self, label="bench pipe")

    def handle_read(self):
        data = os.read(sys.stdin.fileno(), 4096)
        if not data:
            self.eof = True
            self.gen.loop.unregister(sys.stdin.fileno())
        self.lines += data.decode().split()


def _say(**message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def worker(argv=None):
    parser = argparse.ArgumentParser(description="a bench worker (started by selectchat bench)")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--mode", choices=("idle", "storm"), required=True)
    parser.add_argument("--room")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--letter", default="w")
    parser.add_argument("--rooms", type=int, default=1)
    parser.add_argument("--first", type=int, default=0, help="the index of this worker's first client")
    args = parser.parse_args(argv)
    capacity()
    gen = Generator(args.host, args.port)
    pipe = _StdinWatch(gen)
    _say(hello=os.getpid())
    try:
        gen.run_until(lambda: pipe.lines or pipe.eof, HELLO_TIMEOUT)
        if pipe.eof:
            return 0
        if args.mode == "idle":
            peers = gen.open(args.clients, args.letter, concurrency=args.concurrency,
                             timeout=args.timeout, room=args.room)
        else:   # a storm: every connect() at once
            peers = [gen.connect(args.letter, room=args.room and room_of(args.room, args.rooms, args.first + i))
                     for i in range(args.clients)]
            gen.run_until(lambda: gen.pending == 0, args.timeout)
        states = Counter(p.state for p in peers)
        ready = [p for p in peers if p.state == "ready"]
        _say(done={"ready": len(ready), "refused": states["refused"],
                   "pending": sum(states[s] for s in peers[0].PENDING) if peers else 0,
                   "failed": states["failed"],
                   "refusals": dict(Counter(p.reason.split(":")[0] for p in peers if p.state == "refused")),
                   "failures": dict(Counter(p.reason for p in peers if p.state == "failed").most_common(5)),
                   "ready_at": [p.ready_at for p in ready],
                   "join_us": [int((p.ready_at - p.started) * 1e6) for p in ready]})
        gen.run_until(lambda: pipe.eof, HOLD_LIMIT)   # hold them (answering PINGs) until told
        _say(still=sum(p.state == "ready" for p in peers))
    except KeyboardInterrupt:   # Ctrl-C reaches the whole process group: the bench stops too
        return 130
    finally:
        gen.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(worker())
