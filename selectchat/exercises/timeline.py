"""Notebook 4: the busy strip of a timeline, computed from a trace recorded live.

The check runs a real ``selectchat server --trace`` with real clients (a quiet scene
with long waits, then a busy one), and compares the student's bins with
:func:`selectchat.trace.utilisation_bins`.
"""

import tempfile
import time
from pathlib import Path

from .base import Exercise, Wrong

WIDTH = 0.05   # seconds per bin


def record(clients, messages, pause):
    """A trace of ``clients`` people in #lobby, each saying ``messages`` lines ``pause`` s apart."""
    from selectchat.client import Client
    from selectchat.launch import start_server
    from selectchat.trace import load

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scene.jsonl"
        with start_server("--room", "lobby", "--trace", str(path)) as server:
            people = [Client(*server.address, f"user{n}") for n in range(clients)]
            for person in people:
                person.join("#lobby")
            for _ in range(messages):
                for person in people:
                    person.say("#lobby", "x" * 50)
                time.sleep(pause)
            for person in people:
                person.quit()
        return load(path)


def _whole_wait_in_first_bin(selects, width, count):
    """The usual mistake: each wait counted in the bin where it began, not split."""
    first = selects[0]["began"]
    blocked = [0.0] * count
    for event in selects:
        index = min(count - 1, int((event["began"] - first) / width))
        blocked[index] += event["blocked"]
    return blocked


def busy_bins_in_child(busy_per_bin, args, report):
    from selectchat.trace import utilisation_bins
    for scene, trace in (("a quiet trace (long waits)", record(2, 3, 0.12)),
                         ("a busy trace", record(4, 12, 0.01))):
        events = [dict(event) for event in trace.events]
        expected = [busy for _, _, busy in utilisation_bins(trace, WIDTH)]
        got = busy_per_bin(events, WIDTH)
        if not isinstance(got, (list, tuple)):
            raise Wrong(f"on {scene}, your function returned {type(got).__name__}: it should return a list")
        if len(got) != len(expected):
            raise Wrong(f"on {scene} with bins of {WIDTH} s, your function returned {len(got)} bins; the trace's "
                        "span (first select()'s start to the last event) needs a different number")
        wrong = [n for n, (a, b) in enumerate(zip(got, expected)) if abs(a - b) > 1e-6]
        if not wrong:
            continue
        selects = [e for e in events if e["kind"] == "select"]
        naive = _whole_wait_in_first_bin(selects, WIDTH, len(expected))
        lengths = [busy + blocked for (_, blocked, busy) in utilisation_bins(trace, WIDTH)]
        if all(abs(got[n] - (lengths[n] - naive[n])) < 1e-6 for n in wrong):
            raise Wrong(f"on {scene}, a select() wait that crossed a bin's edge was counted whole in the bin "
                        "where it began: split it between the bins it covers")
        if wrong == [len(expected) - 1]:
            raise Wrong(f"on {scene}, only the last bin is wrong: the trace ends inside it, so it is shorter "
                        "than the others")
        if abs(sum(got) - sum(expected)) > 1e-6:
            raise Wrong(f"on {scene}, your bins do not add up to the trace's busy time (its span less the "
                        "time blocked in select())")
        raise Wrong(f"on {scene}, bin {wrong[0]} (from {wrong[0] * WIDTH:.2f} s after the first select() began) "
                    "has the wrong busy time")


BUSY_BINS = Exercise("busy_per_bin", busy_bins_in_child, time_limit=30)
