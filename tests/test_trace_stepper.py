"""The step-through view: each pass of a real server's trace, as it ran.

One traced session of the real server (two students chat; a third stops
reading while a flood is relayed to it, so that the server makes partial
sends), then the Stepper is driven as its buttons would: every pass shows
the sets select() was given and returned as fd_set bits, why it returned,
and what each handler did, all matching the trace's own events.
"""

import json
import os
import re
import signal
import socket
import time

import pytest

from selectchat.client import Client
from selectchat.launch import start_server
from selectchat.trace import load
from selectchat.trace.stepper import describe, fd_set_bits, step_through

pytest.importorskip("ipywidgets")


def read_some(sock, total):
    got = 0
    while got < total and (data := sock.recv(65536)):
        got += len(data)


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    """ada and bob chat in #lobby; bob floods 6.6 MB; sleepy has read none of it when it starts to
    read: its output buffer in the server is then bigger than the room its kernel buffer makes,
    so the sends to it are partial."""
    path = tmp_path_factory.mktemp("step") / "session.jsonl"
    with start_server("--trace", str(path), "--max-sendq", "32000000") as server:
        ada, bob = Client(*server.address, "ada", timeout=5), Client(*server.address, "bob", timeout=5)
        sleepy = socket.socket()
        sleepy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # before connect(): a small window
        sleepy.settimeout(5)
        try:
            sleepy.connect(server.address)
            sleepy.sendall(b"NICK sleepy\r\nUSER s 0 * :s\r\nJOIN #lobby\r\n")
            ada.join("#lobby")
            bob.join("#lobby")
            ada.say("#lobby", "hello bob")
            bob.expect("PRIVMSG", timeout=5)
            bob.sock.sendall("".join(f"PRIVMSG #lobby :{'x' * 400} {i}\r\n" for i in range(16000)).encode())
            bob.ping()                        # the PONG comes once the server has handled the whole flood
            read_some(sleepy, 3_000_000)
        finally:
            for closing in (sleepy, ada, bob):
                closing.close()
        assert server.stop() == 0
    return load(path)


def test_one_pass_per_select_call_and_the_buttons_move_through_them(trace):
    stepper = step_through(trace)
    selects = trace.of("select")
    assert len(stepper.passes) == len(selects) and stepper.index == 0
    stepper.next_button.click()
    stepper.next_button.click()
    assert stepper.index == 2 and stepper.facts().number == selects[2]["pass"]
    stepper.previous_button.click()
    assert stepper.index == 1 and f"<b>pass {selects[1]['pass']}</b>" in stepper.view.value
    stepper.play.value = 6          # play drives the slider (linked, counting from 1), the slider the view
    assert stepper.index == 5 and f"<b>pass {selects[5]['pass']}</b>" in stepper.view.value
    stepper.go(10**6)
    assert stepper.index == len(selects) - 1
    stepper.previous_button.click()
    stepper.go(-3)
    assert stepper.index == 0


def test_every_pass_draws_the_fd_sets_given_and_returned(trace):
    stepper = step_through(trace)
    for index, select in enumerate(trace.of("select")):
        stepper.go(index)
        rows = re.findall(r"data-fdset='([01]+)'", stepper.view.value)
        assert rows == [fd_set_bits(select[name], stepper.fd_bits)
                        for name in ("read", "ready_read", "write", "ready_write")]
        # returned bits are a subset of the given ones: select() only clears bits
        for given, returned in ((rows[0], rows[1]), (rows[2], rows[3])):
            assert all(g == "1" for g, r in zip(given, returned) if r == "1")
    assert fd_set_bits([0, 3, 9], 16) == "1001000001000000"


def test_a_relayed_message_reads_recv_chat_decision_then_send(trace):
    stepper = step_through(trace)
    labels = {e["label"]: e["fd"] for e in trace.of("label")}
    ada, bob = labels["ada"], labels["bob"]
    hello = next(e for e in trace.of("app") if e.get("event") == "message" and e["sender"] == "ada")
    index = next(p.index for p in stepper.passes if hello in p.events)
    stepper.go(index)
    facts = stepper.facts()
    (row,) = [h for h in facts.handled if h.fd == ada]
    assert row.readable and row.handler == "Stream" and facts.woke_by == "a descriptor"
    assert row.lines[0].startswith("recv() → ") and "1 complete line" in row.lines[0]
    assert any(line.startswith("chat: a message from ada to #lobby → relay to 2 members") for line in row.lines)
    (to_bob,) = [h for h in facts.handled if h.fd == bob]
    assert "write interest ON" in to_bob.lines[-1]
    stepper.fd_menu.value = bob
    stepper.jump_button.click()          # the next pass that touches bob: the send of ada's line
    (sent,) = [h for h in stepper.facts().handled if h.fd == bob]
    assert sent.writable and any(line.startswith("send(") for line in sent.lines)


def test_partial_sends_to_a_reader_that_stopped_are_visible(trace):
    stepper = step_through(trace)
    partial = [e for e in trace.of("send") if e["sent"] < e["asked"]]
    assert partial, "sleepy's output buffer should have outgrown its kernel buffer"
    index = next(p.index for p in stepper.passes if partial[0] in p.events)
    stepper.go(index)
    (row,) = [h for h in stepper.facts().handled if h.fd == partial[0]["fd"]]
    left = partial[0]["asked"] - partial[0]["sent"]
    assert f"PARTIAL send, {left} bytes stay in the buffer" in " ".join(row.lines)
    assert "PARTIAL send" in stepper.view.value


def test_the_jump_stays_put_at_the_end_and_a_new_connection_is_told_on_the_listener(trace):
    stepper = step_through(trace)
    listener = next(e["fd"] for e in trace.of("register") if e["label"] == "listener")
    stepper.go(len(stepper.passes) - 1)
    stepper.next_event_on(listener)
    assert stepper.index == len(stepper.passes) - 1
    # Pass 1: the listener was readable, and its handler accepted ada (told on its row); the new
    # descriptor's handler is known from its register event, the listener's (registered before) not.
    facts = describe(stepper.passes, 0, {})
    rows = {h.fd: h for h in facts.handled}
    (accept,) = trace.of("accept")[:1]
    assert rows[listener].readable and rows[listener].handler == "?"
    assert rows[listener].lines[0].startswith(f"accept() → new connection fd {accept['fd']}")
    assert rows[accept["fd"]].handler == "Stream" and not rows[accept["fd"]].readable


def test_a_signal_and_a_timer_are_told_as_why_select_returned(tmp_path):
    """SIGTERM reaches the loop through the self-pipe; the 1-second tick through the timeout."""
    path = tmp_path / "signal.jsonl"
    with start_server("--trace", str(path)) as server:
        time.sleep(1.2)   # one tick of the server's idle-client timer
        os.kill(server.pid, signal.SIGTERM)
        server.process.wait(10)
    stepper = step_through(load(path))
    woke_by = [p.woke_by for p in stepper.passes]
    signals = next(e["fd"] for e in stepper.trace.of("register") if e["label"] == "signals")
    stepper.go(woke_by.index("a signal"))
    facts = stepper.facts()
    assert facts.ready_read == [signals] and "a signal (its byte arrived on the self-pipe)" in stepper.view.value
    listener = next(h for h in facts.handled if h.label == "listener")   # the shutdown stops accepting
    assert listener.lines == ["unregistered: no longer watched"]
    stepper.go(woke_by.index("a timer"))
    facts = stepper.facts()
    assert facts.ready_read == facts.ready_write == [] and "the timeout passed: a timer was due" in stepper.view.value
    assert any(line.startswith("timer Server._tick ran") for line in facts.timers), facts.timers


def test_eagain_slow_calls_and_timers_are_told_in_words():
    """Rare in a short real session (EAGAIN after select() said ready), so hand-made: each
    version-3 event kind the server and the loop record has its sentence in the view."""
    from selectchat.trace import loads
    events = [{"format": "selectchat-trace", "version": 3, "labels": {"7": "ada"}},
              {"t": 0.5, "kind": "select", "pass": 4, "began": 0.1, "blocked": 0.4, "timeout": None,
               "backend": "select", "read": [7], "write": [7], "ready_read": [7], "ready_write": [7]},
              {"t": 0.51, "kind": "eagain", "fd": 7, "call": "recv"},
              {"t": 0.52, "kind": "eagain", "fd": 7, "call": "send", "asked": 900},
              {"t": 0.53, "kind": "slow", "fd": 7, "call": "handle_write", "took": 0.0042},
              {"t": 0.54, "kind": "timer", "callback": "Server._tick", "late": 0.0003, "took": 0.00002}]
    stepper = step_through(loads("\n".join(json.dumps(e) for e in events)))
    facts = stepper.facts()
    (ada,) = facts.handled
    assert ada.lines == ["recv() → EAGAIN: would block, try on the next readiness",
                         "send() → EAGAIN: would block, try on the next readiness (900 bytes waiting)",
                         "handle_write() took 4.2 ms (the loop waited)"]
    assert facts.timers == ["timer Server._tick ran (0.02 ms, 0.3 ms late)"]
    assert facts.number == 4 and "timeout None (wait for ever)" in stepper.view.value
