"""The notebook's live view of a trace file being written (selectchat.trace.follow, .live_widget).

A real server writes ``--trace FILE`` while clients chat; the follower reads the file as it
grows, and must show the rooms and members, the loop's pace and busiest descriptors, and no
message text unless asked.
"""

import json
import time

import pytest

from selectchat.client import Client
from selectchat.launch import start_server
from selectchat.trace import FORMAT, VERSION
from selectchat.trace.follow import TraceFollower


def poll_until(follower, predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        follower.poll()
        view = follower.view()
        if predicate(view):
            return view
        time.sleep(0.05)
    return None


def texts(view):
    return [event["text"] for event in view["events"]]


def test_the_follower_shows_a_traced_classroom_as_it_happens(tmp_path):
    path = tmp_path / "class.jsonl"
    with start_server("--trace", str(path)) as server:
        plain, with_text = TraceFollower(path), TraceFollower(path, show_text=True)
        with Client(*server.address, "alice") as alice, Client(*server.address, "bob") as bob:
            alice.join("#lobby")
            bob.join("#lobby")
            alice.say("#lobby", "secret-text-1")
            bob.expect("PRIVMSG")
            view = poll_until(plain, lambda v: any("alice \u2192 #lobby" in t for t in texts(v)))
            assert view is not None, "the message never showed"
            assert view["rooms"] == [{"name": "#lobby", "members": ["@alice", "bob"]}]
            assert view["passes_per_s"] > 0 and view["passes"] > 0
            assert any(d["label"] == "alice" and d["bytes_in"] > 0 for d in view["descriptors"])
            assert not any("secret-text-1" in t for t in texts(view))
            shown = poll_until(with_text, lambda v: any("secret-text-1" in t for t in texts(v)))
            assert shown is not None, "--live-text's twin: the text must show when asked"
            bob.part("#lobby")
            view = poll_until(plain, lambda v: v["rooms"] == [{"name": "#lobby", "members": ["@alice"]}])
            assert view is not None, plain.view()["rooms"]
    view = poll_until(plain, lambda v: v["ended"])
    assert view is not None and view["rooms"] == []   # the shutdown emptied the room


def test_a_half_written_line_waits_for_its_end(tmp_path):
    path = tmp_path / "growing.jsonl"
    header = {"format": FORMAT, "version": VERSION, "labels": {"5": "alice"}}
    join = {"t": 0.5, "kind": "app", "event": "join", "nick": "alice", "room": "#a", "members": 1, "text": ""}
    line = json.dumps(join) + "\n"
    path.write_text(json.dumps(header) + "\n" + line + line[:20])
    follower = TraceFollower(path)
    assert follower.poll() == 1
    with open(path, "a") as file:
        file.write(line[20:])
    assert follower.poll() == 1
    assert follower.poll() == 0
    assert follower.view()["rooms"] == [{"name": "#a", "members": ["@alice"]}]


def test_the_widget_escapes_names_and_stops_by_itself_at_the_end(tmp_path):
    pytest.importorskip("ipywidgets")
    from selectchat.trace.live_widget import LiveTraceView

    path = tmp_path / "class.jsonl"
    with start_server("--trace", str(path)) as server:
        view = LiveTraceView(path, interval=0.1).start()
        with Client(*server.address, "alice") as alice:
            alice.join("#<b>bold</b>")
            deadline = time.monotonic() + 5
            while "@alice" not in view.html.value and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "#&lt;b&gt;bold&lt;/b&gt;" in view.html.value and "<b>bold</b>" not in view.html.value
            assert "<svg" in view.html.value and "passes/s" in view.html.value
    view._thread.join(5)
    assert not view._thread.is_alive(), "the view kept polling after the trace's end"
    assert "end of trace" in view.html.value
