"""Grading tests for lab 06: reading a trace.  Run them: python -m pytest

Two kinds of trace: a small one written out below, where every answer is
known exactly, and one recorded live from a real selectchat server running
the story in record.py.
"""

import json

import pytest

import answers
from record import record_scenario
from selectchat.trace import load, loads

when = pytest.mark.category("when")
why = pytest.mark.category("why")
who = pytest.mark.category("who")
stories = pytest.mark.category("stories")
live = pytest.mark.category("live")

HEADER = {"format": "selectchat-trace", "version": 2, "program": "server", "backend": "select",
          "pid": 1, "clock": "monotonic", "start_monotonic": 100.0, "labels": {}}


def sel(t, blocked, ready_read=(), ready_write=(), watched=(3, 7, 8)):
    return {"t": t, "kind": "select", "began": round(t - blocked, 6), "blocked": blocked, "timeout": 1.0,
            "backend": "select", "read": list(watched), "write": list(ready_write),
            "ready_read": list(ready_read), "ready_write": list(ready_write)}


def story_events(talker, slow, late, timer=1.0, fds=(7, 8), port=40001):
    """A story in events, with its names, timer and descriptors as parameters.

    ``talker`` connects and registers; ``slow`` connects, registers, is sent
    5000 bytes he reads slowly (two partial sends), leaves; ``late`` gets
    ``slow``'s old descriptor.  ``talker`` sends the most bytes.
    """
    a, b = fds
    t = timer + 0.601                                  # the end of the timer's wait
    return [
        {"t": 0.0, "kind": "register", "fd": 3, "label": "listener", "read": True, "write": False},
        sel(0.1, 0.099, ready_read=[3]),
        {"t": 0.1, "kind": "accept", "fd": a, "peer": f"127.0.0.1:{port}"},
        {"t": 0.1, "kind": "register", "fd": a, "label": f"127.0.0.1:{port}", "read": True, "write": False},
        sel(0.15, 0.049, ready_read=[a]),
        {"t": 0.15, "kind": "recv", "fd": a, "bytes": 60},
        {"t": 0.15, "kind": "label", "fd": a, "label": talker},
        sel(0.5, 0.349, ready_read=[3]),
        {"t": 0.5, "kind": "accept", "fd": b, "peer": f"127.0.0.1:{port + 1}"},
        {"t": 0.5, "kind": "register", "fd": b, "label": f"127.0.0.1:{port + 1}", "read": True, "write": False},
        sel(0.6, 0.099, ready_read=[b]),
        {"t": 0.6, "kind": "recv", "fd": b, "bytes": 40},
        {"t": 0.6, "kind": "label", "fd": b, "label": slow},
        sel(t, timer),                                    # nothing ready: the timer
        sel(t + 0.2, 0.198, ready_read=[a]),
        {"t": t + 0.2, "kind": "recv", "fd": a, "bytes": 5000},
        sel(t + 0.21, 0.009, ready_write=[b]),
        {"t": t + 0.21, "kind": "send", "fd": b, "asked": 5000, "sent": 3000},
        sel(t + 0.25, 0.039, ready_write=[b]),
        {"t": t + 0.25, "kind": "send", "fd": b, "asked": 2000, "sent": 500},
        sel(t + 0.3, 0.049, ready_write=[b]),
        {"t": t + 0.3, "kind": "send", "fd": b, "asked": 1500, "sent": 1500},
        sel(t + 0.4, 0.099, ready_read=[b]),
        {"t": t + 0.4, "kind": "recv", "fd": b, "bytes": 0},
        {"t": t + 0.4, "kind": "unregister", "fd": b, "label": slow},
        {"t": t + 0.4, "kind": "close", "fd": b, "reason": "EOF"},
        sel(t + 0.5, 0.099, ready_read=[3]),
        {"t": t + 0.5, "kind": "accept", "fd": b, "peer": f"127.0.0.1:{port + 2}"},
        {"t": t + 0.5, "kind": "register", "fd": b, "label": f"127.0.0.1:{port + 2}", "read": True, "write": False},
        sel(t + 0.6, 0.099, ready_read=[b]),
        {"t": t + 0.6, "kind": "recv", "fd": b, "bytes": 30},
        {"t": t + 0.6, "kind": "label", "fd": b, "label": late},
        sel(t + 0.7, 0.1, ready_read=[a, b]),
        sel(t + 0.7 + timer, timer),                       # the timer again: as long, but later
        {"t": t + 0.7, "kind": "recv", "fd": a, "bytes": 10},
        {"t": t + 0.7, "kind": "recv", "fd": b, "bytes": 10},
        {"t": t + 0.71 + timer, "kind": "end", "recorded": 39, "lost": 0},
    ]


# The same story told several ways: other names, another timer, other descriptors.
# Each answer differs from one telling to the next, so only code that reads the trace gets them all.
STORIES = [
    dict(talker="alice", slow="bob", late="carol", timer=1.0, fds=(7, 8), port=40001),
    dict(talker="dave", slow="erin", late="alice", timer=0.7, fds=(9, 5), port=51234),
    dict(talker="bob", slow="carol", late="dave", timer=0.85, fds=(12, 11), port=33000),
]


def tell(events):
    return loads("\n".join(json.dumps(line) for line in [HEADER, *events]))


@pytest.fixture(params=range(len(STORIES)), ids=lambda n: STORIES[n]["talker"])
def told(request):
    """(story, its parameters, the time its timer's wait ended), once per telling."""
    params = STORIES[request.param]
    return tell(story_events(**params)), params, round(params["timer"] + 0.601, 6)


def select_at(trace, t):
    return next(e for e in trace.of("select") if e["t"] == pytest.approx(t, abs=1e-9))


@when
def test_longest_wait_is_the_timer_wait(told):
    story, _, timer_end = told
    event = answers.longest_wait(story)
    assert event is select_at(story, timer_end), f"expected the select that ended at t={timer_end}, " \
                                                 f"got {event!r}"


@when
def test_longest_wait_takes_the_first_of_equals():
    events = [sel(0.2, 0.2, ready_read=[3]), sel(0.3, 0.05), sel(0.5, 0.2, ready_read=[3])]
    trace = tell(events)
    assert answers.longest_wait(trace) is trace.events[0]


@when
def test_time_blocked_is_blocked_over_span(told):
    story, _, timer_end = told
    blocked = sum(e["blocked"] for e in story.of("select"))
    span = story.events[-1]["t"] - story.of("select")[0]["began"]   # the first select's start to the last event
    assert answers.time_blocked(story) == pytest.approx(blocked / span, abs=1e-6)


@why
def test_woke_by_names_descriptors_as_they_were_then(told):
    """At 0.15 the first client had not registered yet: its descriptor was still its address."""
    story, p, t = told
    assert answers.woke_by(story, select_at(story, 0.15)) == [f"127.0.0.1:{p['port']}"]
    assert answers.woke_by(story, select_at(story, t + 0.2)) == [p["talker"]]
    assert answers.woke_by(story, select_at(story, t + 0.21)) == [p["slow"]]          # writable
    assert answers.woke_by(story, select_at(story, t + 0.7)) == sorted([p["talker"], p["late"]])


@why
def test_woke_by_a_timeout_is_empty(told):
    story, _, t = told
    assert answers.woke_by(story, select_at(story, t)) == []


@why
def test_first_woken_by_follows_labels_and_reused_descriptors(told):
    """One descriptor was the slow client, then the late one: each name wakes the loop at its own time."""
    story, p, t = told
    assert answers.first_woken_by(story, p["talker"]) is select_at(story, t + 0.2)
    assert answers.first_woken_by(story, p["slow"]) is select_at(story, t + 0.4)       # readable: its EOF
    assert answers.first_woken_by(story, p["late"]) is select_at(story, t + 0.7)
    assert answers.first_woken_by(story, p["talker"], after=t + 0.3) is select_at(story, t + 0.7)
    assert answers.first_woken_by(story, "nobody-of-that-name") is None


def describe(answer):
    if isinstance(answer, dict) and answer.get("kind") == "select":
        return f"the select that ended at t={answer['t']:g}"
    return repr(answer)


@stories
@pytest.mark.parametrize("params", STORIES, ids=[p["talker"] for p in STORIES])
def test_every_question_about_one_story(params):
    """All six questions about one telling of the story; every wrong answer is listed."""
    story = tell(story_events(**params))
    t = round(params["timer"] + 0.601, 6)
    blocked = sum(e["blocked"] for e in story.of("select"))
    span = story.events[-1]["t"] - story.of("select")[0]["began"]
    questions = [
        ("longest_wait", lambda: answers.longest_wait(story), select_at(story, t)),
        (f"woke_by at t={t + 0.2:g}", lambda: answers.woke_by(story, select_at(story, t + 0.2)), [params["talker"]]),
        (f"woke_by at t={t:g}", lambda: answers.woke_by(story, select_at(story, t)), []),
        (f"first_woken_by({params['slow']!r})", lambda: answers.first_woken_by(story, params["slow"]),
         select_at(story, t + 0.4)),
        (f"first_woken_by({params['late']!r})", lambda: answers.first_woken_by(story, params["late"]),
         select_at(story, t + 0.7)),
        ("who_was_slow", lambda: answers.who_was_slow(story), params["slow"]),
        ("busiest_sender", lambda: answers.busiest_sender(story), params["talker"]),
        ("time_blocked", lambda: answers.time_blocked(story), pytest.approx(blocked / span, abs=1e-6)),
    ]
    wrong = []
    for question, ask, expected in questions:
        try:
            answer = ask()
        except Exception as error:      # one broken function must not hide the others' answers
            wrong.append(f"{question}: raised {type(error).__name__}: {error}")
            continue
        right = answer is expected if isinstance(expected, dict) else answer == expected
        if not right:
            wrong.append(f"{question}: expected {describe(expected)}, got {describe(answer)}")
    assert not wrong, "wrong answers about this trace:\n  " + "\n  ".join(wrong)


@who
def test_who_was_slow_is_the_one_with_partial_sends(told):
    story, p, _ = told
    assert answers.who_was_slow(story) == p["slow"]


@who
def test_nobody_was_slow_without_partial_sends(told):
    story, _, _ = told
    before = [e for e in story.events if not (e["kind"] == "send" and e["sent"] < e["asked"])]
    assert answers.who_was_slow(tell(before)) is None


@who
def test_busiest_sender_counts_bytes_per_name(told):
    story, p, _ = told
    assert answers.busiest_sender(story) == p["talker"]      # 5070 bytes: more than the others' 40


# --- a live recording ----------------------------------------------------------


LIVE_NAMES = ("mallory", "oscar", "peggy")   # who talks a lot, who never reads, who speaks after the pause


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    path = tmp_path_factory.mktemp("trace") / "scenario.jsonl"
    moments = record_scenario(path, names=LIVE_NAMES)
    trace = load(path)
    start = trace.header["start_monotonic"]
    return trace, {name: when - start for name, when in moments.items()}


@live
def test_live_the_long_wait_is_the_quiet_pause(recorded):
    """The room was silent for 1.2 s; the loop's 1-second timer may cut that wait, never below 0.35 s."""
    trace, moments = recorded
    event = answers.longest_wait(trace)
    assert event["kind"] == "select" and event["blocked"] >= 0.35
    assert moments["pause"] - 0.5 <= event["began"] <= moments["late speaks"]


@live
def test_live_the_late_speaker_wakes_the_loop_after_the_pause(recorded):
    trace, moments = recorded
    late = LIVE_NAMES[2]
    event = answers.first_woken_by(trace, late, after=moments["late speaks"])
    assert event is not None and event["kind"] == "select"
    assert late in answers.woke_by(trace, event)


@live
def test_live_the_talker_sent_the_most_and_the_loop_mostly_waited(recorded):
    trace, _ = recorded
    assert answers.busiest_sender(trace) == LIVE_NAMES[0]
    assert 0.5 < answers.time_blocked(trace) <= 1.0
