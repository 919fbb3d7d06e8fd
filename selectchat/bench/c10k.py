"""The C10K curve: what one pass of select(), poll() and epoll costs at 100 to 10,000 descriptors.

A server loop asks the kernel "which of my descriptors are ready?" once per
pass.  How much that question costs depends on the API:

* ``select()`` is handed the whole set every time, as a bit array of
  ``FD_SETSIZE`` (1024) bits: Python builds it from the list, the kernel
  scans it, Python builds the answer.  Cost grows with the number watched.
  A descriptor *numbered* 1024 or more cannot be put in the bit array at
  all: Python raises ``ValueError: filedescriptor out of range in select()``.
* ``poll()`` takes an array of any length: no wall, but the whole array is
  still copied to the kernel and scanned at every pass.
* ``epoll`` keeps the watched set *in the kernel* (registered once); a pass
  returns only the ready ones, so its cost follows the ready descriptors,
  not the watched ones.

:func:`pass_cost` measures one backend at one size; :func:`curve` measures a
grid of them (notebook 8 plots it).  The descriptors are eventfds (Linux),
one descriptor each, made ready by writing to them; elsewhere socket pairs.
Every descriptor is closed before the function returns.
"""

import os
import select
import socket
import time

BACKENDS = ("select", "poll", "epoll")
SIZES = (100, 300, 1000, 3000, 10000)
FD_SETSIZE = 1024


class Descriptors:
    """``count`` readable-when-poked descriptors; close them with :meth:`close`."""

    def __init__(self, count):
        self.fds, self._keep = [], []
        try:
            for _ in range(count):
                if hasattr(os, "eventfd"):
                    self.fds.append(os.eventfd(0, os.EFD_NONBLOCK))
                else:   # one end watched, the other kept to poke it
                    a, b = socket.socketpair()
                    self._keep += [a, b]
                    self.fds.append(a.fileno())
        except BaseException:
            self.close()
            raise

    def make_ready(self, count):
        """Make ``count`` of them readable (spread over the set, not the first ones)."""
        step = max(1, len(self.fds) // max(1, count))
        for fd in self.fds[::step][:count]:
            if hasattr(os, "eventfd"):
                os.eventfd_write(fd, 1)
            else:
                socket.socket(fileno=os.dup(fd)).close()   # (unreachable on Linux)

    def close(self):
        if hasattr(os, "eventfd"):
            for fd in self.fds:
                os.close(fd)
        for sock in self._keep:
            sock.close()
        self.fds, self._keep = [], []


def _one_pass(backend, fds):
    """A function doing one pass of ``backend`` over ``fds`` (timeout 0), and its cleanup."""
    if backend == "select":
        return (lambda: select.select(fds, [], [], 0)[0]), (lambda: None)
    if backend == "poll":
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        return (lambda: poller.poll(0)), (lambda: None)
    epoll = select.epoll()
    for fd in fds:
        epoll.register(fd, select.EPOLLIN)
    return (lambda: epoll.poll(0)), epoll.close


def _time_passes(do_pass, budget):
    """Microseconds per pass: the fastest of five batches of about ``budget``/5 seconds."""
    passes, elapsed = 1, 0.0
    while elapsed < budget / 30:   # find a batch size worth timing
        passes *= 2
        began = time.perf_counter()
        for _ in range(passes):
            do_pass()
        elapsed = time.perf_counter() - began
    batch = max(3, int(passes * (budget / 5) / max(elapsed, 1e-9)))
    best = None
    for _ in range(5):   # the fastest batch: the one the rest of the machine disturbed least
        began = time.perf_counter()
        for _ in range(batch):
            do_pass()
        took = (time.perf_counter() - began) / batch * 1e6
        best = took if best is None else min(best, took)
    return best


def pass_cost(backend, watched, ready=100, budget=0.3):
    """One point of the curve: ``backend`` watching ``watched`` descriptors.

    Returns a dict: ``us_per_pass`` with none ready, ``us_per_pass_ready``
    with ``ready`` of them ready, ``us_per_ready`` (the difference, per ready
    descriptor), ``highest_fd``; or ``error`` -- for select() past the
    wall, the ``ValueError`` exactly as Python raises it.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    ready = min(ready, watched)
    result = {"backend": backend, "watched": watched, "ready": ready}
    try:
        descriptors = Descriptors(watched)
    except OSError as error:   # EMFILE: more than this process may open
        return {**result, "error": f"{type(error).__name__}: {error}"}
    cleanup = None
    try:
        fds = descriptors.fds
        result["highest_fd"] = max(fds)
        do_pass, cleanup = _one_pass(backend, fds)
        try:
            do_pass()
        except ValueError as error:   # select(): a descriptor numbered FD_SETSIZE or more
            return {**result, "error": f"ValueError: {error}"}
        idle = _time_passes(do_pass, budget / 2)
        descriptors.make_ready(ready)
        found = len(do_pass())
        busy = _time_passes(do_pass, budget / 2)
        result.update(us_per_pass=idle, us_per_pass_ready=busy, found_ready=found,
                      us_per_ready=(busy - idle) / ready if ready else None)
        return result
    finally:
        if cleanup is not None:
            cleanup()
        descriptors.close()


def curve(backends=BACKENDS, sizes=SIZES, ready=100, budget=0.3):
    """:func:`pass_cost` for every backend at every size: a list of dicts."""
    _allow(max(sizes) + 64)
    return [pass_cost(backend, size, ready, budget) for size in sizes for backend in backends]


def _allow(wanted):
    """Raise this process's descriptor limit towards ``wanted`` (up to the hard limit)."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))
    except (ImportError, ValueError, OSError):
        pass


def format_curve(rows):
    """The curve as a text table (µs per pass, and per ready descriptor)."""
    lines = [f"{'backend':<8}{'watched':>9}{'µs/pass':>11}{'with ready':>12}{'µs/ready':>10}"]
    for r in rows:
        head = f"{r['backend']:<8}{r['watched']:>9,}"
        if "error" in r:
            lines.append(f"{head}   {r['error']}")
        else:
            per_ready = "-" if r["us_per_ready"] is None else f"{r['us_per_ready']:.3f}"
            lines.append(f"{head}{r['us_per_pass']:>11.1f}{r['us_per_pass_ready']:>12.1f}{per_ready:>10}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_curve(curve()))
