"""Grading tests for lab 06: reading a trace.  Run them: python -m pytest

Two kinds of trace: a small one written out below, where every answer is
known exactly, and one recorded live from a real selectchat server running
the story in record.py.
"""

import json

import pytest

import answers
from record import PAUSE, record_scenario
from selectchat.trace import load, loads

when = pytest.mark.category("when")
why = pytest.mark.category("why")
who = pytest.mark.category("who")
live = pytest.mark.category("live")

HEADER = {"format": "selectchat-trace", "version": 2, "program": "server", "backend": "select",
          "pid": 1, "clock": "monotonic", "start_monotonic": 100.0, "labels": {}}


def sel(t, blocked, ready_read=(), ready_write=(), watched=(3, 7, 8)):
    return {"t": t, "kind": "select", "began": round(t - blocked, 6), "blocked": blocked, "timeout": 1.0,
            "backend": "select", "read": list(watched), "write": list(ready_write),
            "ready_read": list(ready_read), "ready_write": list(ready_write)}


# A story in events: alice connects and registers; bob connects, registers, is sent
# 5000 bytes he reads slowly (two partial sends), leaves; carol gets bob's old fd 8.
EVENTS = [
    {"t": 0.0, "kind": "register", "fd": 3, "label": "listener", "read": True, "write": False},
    sel(0.1, 0.099, ready_read=[3]),
    {"t": 0.1, "kind": "accept", "fd": 7, "peer": "127.0.0.1:40001"},
    {"t": 0.1, "kind": "register", "fd": 7, "label": "127.0.0.1:40001", "read": True, "write": False},
    sel(0.15, 0.049, ready_read=[7]),
    {"t": 0.15, "kind": "recv", "fd": 7, "bytes": 60},
    {"t": 0.15, "kind": "label", "fd": 7, "label": "alice"},
    sel(0.5, 0.349, ready_read=[3]),
    {"t": 0.5, "kind": "accept", "fd": 8, "peer": "127.0.0.1:40002"},
    {"t": 0.5, "kind": "register", "fd": 8, "label": "127.0.0.1:40002", "read": True, "write": False},
    sel(0.6, 0.099, ready_read=[8]),
    {"t": 0.6, "kind": "recv", "fd": 8, "bytes": 40},
    {"t": 0.6, "kind": "label", "fd": 8, "label": "bob"},
    sel(1.601, 1.0),                                   # nothing ready: the 1-second timer
    sel(1.8, 0.198, ready_read=[7]),
    {"t": 1.8, "kind": "recv", "fd": 7, "bytes": 5000},
    sel(1.81, 0.009, ready_write=[8]),
    {"t": 1.81, "kind": "send", "fd": 8, "asked": 5000, "sent": 3000},
    sel(1.85, 0.039, ready_write=[8]),
    {"t": 1.85, "kind": "send", "fd": 8, "asked": 2000, "sent": 500},
    sel(1.9, 0.049, ready_write=[8]),
    {"t": 1.9, "kind": "send", "fd": 8, "asked": 1500, "sent": 1500},
    sel(2.0, 0.099, ready_read=[8]),
    {"t": 2.0, "kind": "recv", "fd": 8, "bytes": 0},
    {"t": 2.0, "kind": "unregister", "fd": 8, "label": "bob"},
    {"t": 2.0, "kind": "close", "fd": 8, "reason": "EOF"},
    sel(2.1, 0.099, ready_read=[3]),
    {"t": 2.1, "kind": "accept", "fd": 8, "peer": "127.0.0.1:40003"},
    {"t": 2.1, "kind": "register", "fd": 8, "label": "127.0.0.1:40003", "read": True, "write": False},
    sel(2.2, 0.099, ready_read=[8]),
    {"t": 2.2, "kind": "recv", "fd": 8, "bytes": 30},
    {"t": 2.2, "kind": "label", "fd": 8, "label": "carol"},
    sel(2.3, 0.1, ready_read=[7, 8]),
    {"t": 2.3, "kind": "recv", "fd": 7, "bytes": 10},
    {"t": 2.3, "kind": "recv", "fd": 8, "bytes": 10},
    {"t": 2.31, "kind": "end", "recorded": 38, "lost": 0},
]


@pytest.fixture
def story():
    return loads("\n".join(json.dumps(line) for line in [HEADER, *EVENTS]))


def select_at(trace, t):
    return next(e for e in trace.of("select") if e["t"] == t)


@when
def test_longest_wait_is_the_timer_wait(story):
    event = answers.longest_wait(story)
    assert event is select_at(story, 1.601)


@when
def test_longest_wait_takes_the_first_of_equals():
    events = [sel(0.2, 0.2, ready_read=[3]), sel(0.3, 0.05), sel(0.5, 0.2, ready_read=[3])]
    trace = loads("\n".join(json.dumps(line) for line in [HEADER, *events]))
    assert answers.longest_wait(trace) is trace.events[0]


@when
def test_time_blocked_is_blocked_over_span(story):
    blocked = sum(e["blocked"] for e in EVENTS if e["kind"] == "select")
    span = 2.31 - 0.001                      # from the first select's start to the last event
    assert answers.time_blocked(story) == pytest.approx(blocked / span, abs=1e-6)


@why
def test_woke_by_names_descriptors_as_they_were_then(story):
    """At 0.15 alice had not registered yet: her descriptor was still her address."""
    assert answers.woke_by(story, select_at(story, 0.15)) == ["127.0.0.1:40001"]
    assert answers.woke_by(story, select_at(story, 1.8)) == ["alice"]
    assert answers.woke_by(story, select_at(story, 1.81)) == ["bob"]          # writable
    assert answers.woke_by(story, select_at(story, 2.3)) == ["alice", "carol"]


@why
def test_woke_by_a_timeout_is_empty(story):
    assert answers.woke_by(story, select_at(story, 1.601)) == []


@why
def test_first_woken_by_follows_labels_and_reused_descriptors(story):
    """fd 8 was bob, then carol: each name wakes the loop at its own time."""
    assert answers.first_woken_by(story, "alice") is select_at(story, 1.8)
    assert answers.first_woken_by(story, "bob") is select_at(story, 2.0)      # readable, as bob
    assert answers.first_woken_by(story, "carol") is select_at(story, 2.3)
    assert answers.first_woken_by(story, "alice", after=1.9) is select_at(story, 2.3)
    assert answers.first_woken_by(story, "dave") is None


@who
def test_who_was_slow_is_bob(story):
    assert answers.who_was_slow(story) == "bob"


@who
def test_nobody_was_slow_without_partial_sends(story):
    trace = loads("\n".join(json.dumps(line) for line in [HEADER, *EVENTS[:17]]))
    assert answers.who_was_slow(trace) is None


@who
def test_busiest_sender_counts_bytes_per_name(story):
    assert answers.busiest_sender(story) == "alice"      # 5070 bytes: more than bob's 40 and carol's 40


# --- a live recording ----------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    path = tmp_path_factory.mktemp("trace") / "scenario.jsonl"
    moments = record_scenario(path)
    trace = load(path)
    start = trace.header["start_monotonic"]
    return trace, {name: when - start for name, when in moments.items()}


@live
def test_live_the_long_wait_is_the_quiet_pause(recorded):
    """The room was silent for 1.2 s; the loop's 1-second timer may cut that wait, never below 0.35 s."""
    trace, moments = recorded
    event = answers.longest_wait(trace)
    assert event["kind"] == "select" and event["blocked"] >= 0.35
    assert moments["pause"] - 0.5 <= event["began"] <= moments["carol speaks"]


@live
def test_live_carol_wakes_the_loop_after_the_pause(recorded):
    trace, moments = recorded
    event = answers.first_woken_by(trace, "carol", after=moments["carol speaks"])
    assert event is not None and event["kind"] == "select"
    assert "carol" in answers.woke_by(trace, event)


@live
def test_live_alice_sent_the_most_and_the_loop_mostly_waited(recorded):
    trace, _ = recorded
    assert answers.busiest_sender(trace) == "alice"
    assert 0.5 < answers.time_blocked(trace) <= 1.0
