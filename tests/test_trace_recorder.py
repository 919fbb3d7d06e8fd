"""The Recorder's own policies and the loop's version-3 fields, in-process.

* a burst of chat messages (one sender, one room, nothing else between)
  becomes one ``message`` event with ``count`` and ``bytes``, emitted before
  any other event and by ``snapshot()``/``close()``;
* the loop numbers its passes, names handlers, records timers and slow
  handler calls; the server records EAGAIN and the lines a recv completes.
"""

import json
import socket
import time
from io import StringIO

from selectchat.net.loop import EventLoop
from selectchat.trace import Recorder, load, passes, to_dict, write_json


def message(recorder, sender="ada", room="#lobby", size=20):
    recorder.record("app", event="message", text=f"{sender} -> {room}", sender=sender, room=room,
                    recipients=2, bytes=size)


def kinds(events):
    return [(e[1], e[2].get("event"), e[2].get("count")) for e in events]


def test_messages_in_a_row_from_one_sender_to_one_room_are_one_event():
    recorder = Recorder(size=100)
    for size in (10, 20, 30):
        message(recorder, size=size)
    assert len(recorder.events) == 0            # still gathering
    message(recorder, sender="bob")             # another sender: the first burst is over
    recorder.record("send", fd=7, asked=60, sent=60)
    message(recorder, room="#other")
    message(recorder, room="#other")
    assert kinds(recorder.events) == [("app", "message", 3), ("app", "message", 1), ("send", None, None)]
    assert recorder.events[0][2]["bytes"] == 60 and recorder.events[0][2]["text"] == "ada -> #lobby"
    snapshot = recorder.snapshot()               # a snapshot ends the burst in hand
    assert [e.get("count") for e in snapshot.events] == [3, 1, None, 2]
    times = [e["t"] for e in snapshot.events]
    assert times == sorted(times)


def test_other_chat_events_are_recorded_as_they_come(tmp_path):
    path = tmp_path / "t.jsonl"
    with Recorder(size=10, path=str(path)) as recorder:
        message(recorder)
        recorder.record("app", event="join", text="cy joined", nick="cy", room="#lobby", members=3)
        message(recorder)
    events = load(path).events
    assert [(e["kind"], e.get("event"), e.get("count")) for e in events] == [
        ("app", "message", 1), ("app", "join", None), ("app", "message", 1), ("end", None, None)]


class Slow:
    def __init__(self, sock, seconds):
        self.sock, self.seconds = sock, seconds

    def handle_read(self):
        self.sock.recv(100)
        time.sleep(self.seconds)

    def handle_write(self):
        pass


def test_the_loop_numbers_passes_names_handlers_and_records_timers_and_slow_calls():
    recorder = Recorder(size=1000)
    loop = EventLoop(observer=recorder)
    a, b = socket.socketpair()
    fired = []
    try:
        loop.register(a, Slow(a, 0.02), label="slowpoke")
        loop.call_later(0.0, lambda: fired.append(1))
        b.send(b"x")
        for _ in range(3):
            loop.run_once(timeout=0.01)
    finally:
        loop.close()
        a.close()
        b.close()
    trace = recorder.snapshot()
    assert [e["pass"] for e in trace.of("select")] == [1, 2, 3]
    (register,) = trace.of("register")
    assert register["handler"] == "Slow"
    (timer,) = trace.of("timer")
    assert fired == [1] and "lambda" in timer["callback"] and timer["took"] >= 0 and timer["late"] >= 0
    (slow,) = trace.of("slow")
    assert slow["fd"] == register["fd"] and slow["call"] == "handle_read" and slow["took"] >= 0.02
    first = passes(trace)[0]
    assert first.number == 1 and slow in first.events and first.busy >= 0.02


def test_the_fast_json_lines_of_version_3_are_what_to_dict_says():
    start = 10.0
    events = [(10.5, "select", {"pass": 7, "began": 10.25, "blocked": 0.25, "timeout": 0.5, "backend": "select",
                                "read": [3, 4], "write": [4], "ready_read": [4], "ready_write": []}),
              (10.6, "recv", {"fd": 4, "bytes": 12, "lines": 2}),
              (10.7, "eagain", {"fd": 4, "call": "send", "asked": 99}),
              (10.8, "send", {"fd": 4, "asked": 12, "sent": 5})]
    out = StringIO()
    write_json(events, start, out)
    lines = out.getvalue().splitlines()
    assert '"pass":7' in lines[0] and '"lines":2' in lines[1]
    assert [json.loads(line) for line in lines] == [to_dict(e, start) for e in events]
