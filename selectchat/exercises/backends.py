"""Notebook 8: measuring what one readiness call costs (8.3) and choosing a backend (8.4)."""

import os
import selectors
import statistics
import time

from .base import Exercise, Wrong

FD_SETSIZE = 1024


def _open_descriptors():
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _counting(selector_class, log):
    """``selector_class`` with its calls recorded: descriptors watched, timeout, ready, duration."""
    class Counting(selector_class):
        def select(self, timeout=None):
            started = time.perf_counter()
            ready = super().select(timeout)
            log.append({"watched": len(self.get_map()), "timeout": timeout, "ready": len(ready),
                        "seconds": time.perf_counter() - started})
            return ready
    Counting.__name__ = selector_class.__name__
    return Counting


def measure_in_child(measure, args, report):
    for selector_class, idle in ((selectors.SelectSelector, 200), (selectors.PollSelector, 10)):
        log = []
        before = _open_descriptors()
        result = measure(_counting(selector_class, log), idle)
        after = _open_descriptors()
        name = selector_class.__name__
        if not isinstance(result, float) or result <= 0:
            raise Wrong(f"measure({name}, {idle}) returned {result!r}: it should return seconds, a float above 0")
        if not log:
            raise Wrong(f"measure({name}, {idle}) never called select() on the selector class it was given: "
                        "it should time that class")
        if len(log) < 20:
            raise Wrong(f"measure({name}, {idle}) made {len(log)} select() call(s): one call is too short to "
                        "time alone, time many")
        watched = {entry["watched"] for entry in log}
        if watched != {idle + 1}:
            raise Wrong(f"measure({name}, {idle}) watched {sorted(watched)} descriptors: it should watch "
                        f"{idle} idle ones and one ready one")
        if any(entry["timeout"] is None or entry["timeout"] > 0 for entry in log):
            raise Wrong("a select() call in your measure() was allowed to wait: time calls that return at once")
        if any(entry["ready"] != 1 for entry in log):
            raise Wrong("in some calls no descriptor was ready (or several were): exactly one should be")
        typical = statistics.median(entry["seconds"] for entry in log)
        if not typical / 4 <= result <= typical * 4 + 20e-6:
            raise Wrong(f"measure({name}, {idle}) returned {result * 1e6:.1f} µs, but one call took about "
                        f"{typical * 1e6:.1f} µs: it should return the time of one call")
        if before is not None and after > before:
            raise Wrong(f"measure({name}, {idle}) left {after - before} descriptors open: close the sockets "
                        "and the selector")


MEASURE = Exercise("measure", measure_in_child, time_limit=20)


CHOICES = [
    (["select", "poll", "epoll"], 10, "epoll"),
    (["select", "poll", "epoll"], 5000, "epoll"),
    (["select", "poll"], 10, "poll"),
    (["select", "poll"], 5000, "poll"),
    (["select"], 1023, "select"),
    (["select", "kqueue"], 5000, "kqueue"),
]


def choose_in_child(choose_backend, args, report):
    for available, highest_fd, _ in CHOICES:
        result = choose_backend(list(available), highest_fd)
        if result not in available:
            raise Wrong(f"choose_backend({available}, {highest_fd}) returned {result!r}, which is not available")
        if result == "select" and highest_fd >= FD_SETSIZE:
            raise Wrong(f"choose_backend({available}, {highest_fd}) chose select(), which cannot watch "
                        f"descriptor {highest_fd}")
    for available, highest_fd, right in CHOICES:
        result = choose_backend(list(available), highest_fd)
        if result != right:
            raise Wrong(f"choose_backend({available}, {highest_fd}) chose {result!r}: with these available, "
                        "another one costs less per call when many descriptors are idle")
    try:
        result = choose_backend(["select"], 4000)
    except ValueError:
        return
    raise Wrong(f"choose_backend(['select'], 4000) returned {result!r}: nothing available can watch "
                "descriptor 4000, so it should raise ValueError")


CHOOSE = Exercise("choose_backend", choose_in_child, time_limit=5)
