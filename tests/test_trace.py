"""Traces: does the recording match what happened, and do the readers read it right?

The main test drives a real ``selectchat server --trace FILE`` with raw
sockets that count every byte they send and receive, then checks the trace
against those counts.  The rest test the Recorder in-process (ring bound,
streaming, lost events), the summaries on small hand-made traces, the
Chrome export and the ``selectchat trace`` command.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from selectchat import cli
from selectchat.client import Client
from selectchat.launch import PACKAGE_PARENT, start_server
from selectchat.net.loop import EventLoop
from selectchat.trace import (FORMAT, VERSION, Recorder, TraceError, find_mistakes, latencies, load, loads,
                              per_descriptor, summarize, utilisation, utilisation_bins)

N_CLIENTS = 4
N_MESSAGES = 6


class CountingClient:
    """A raw IRC connection that counts the bytes it sends and receives."""

    def __init__(self, address, nick):
        self.nick = nick
        self.sock = socket.create_connection(address, timeout=5)
        self.local = "%s:%d" % self.sock.getsockname()[:2]   # the server's accept event names this peer
        self.sent = 0
        self.lines = 0
        self.received = bytearray()

    def send(self, line):
        data = line.encode() + b"\r\n"
        self.sock.sendall(data)
        self.sent += len(data)
        self.lines += 1

    def read_until(self, predicate, timeout=5.0):
        """Read until ``predicate(all bytes received so far)``; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not predicate(bytes(self.received)):
            left = deadline - time.monotonic()
            assert left > 0, f"{self.nick}: timed out; got {bytes(self.received[-300:])!r}"
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                return False  # EOF
            self.received += data
        return True

    def read_to_eof(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"{self.nick}: no EOF"
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                return
            self.received += data

    def count(self, text):
        return bytes(self.received).count(text.encode())


def run_session(trace_path, n_clients=N_CLIENTS, n_messages=N_MESSAGES, *extra):
    """N clients join #lobby, each sends M messages, all quit; the server stops cleanly.

    Returns (clients, exit code)."""
    with start_server("--trace", str(trace_path), *extra) as server:
        clients = []
        try:
            for i in range(n_clients):
                client = CountingClient(server.address, f"user{i}")
                clients.append(client)
                client.send(f"NICK {client.nick}")
                client.send(f"USER {client.nick} 0 * :{client.nick}")
                client.read_until(lambda data: b" 376 " in data or b" 422 " in data)
                client.send("JOIN #lobby")
                client.read_until(lambda data: b" 366 " in data)
            for i in range(n_messages):
                for client in clients:
                    client.send(f"PRIVMSG #lobby :message {i} from {client.nick}")
            expected = (n_clients - 1) * n_messages
            for client in clients:
                client.read_until(lambda data: data.count(b" PRIVMSG #lobby ") >= expected)
            for client in clients:
                client.send("QUIT :done")
                client.read_to_eof()
        finally:
            for client in clients:
                client.sock.close()
            code = server.stop()
    return clients, code


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    path = tmp_path_factory.mktemp("trace") / "session.jsonl"
    clients, code = run_session(path)
    return path, clients, code


def test_the_trace_of_a_session_matches_what_happened(session):
    path, clients, code = session
    assert code == 0
    trace = load(path)
    assert trace.header["format"] == FORMAT and trace.header["version"] == VERSION
    assert trace.header["backend"] == "select" and trace.complete
    numbers = [e["pass"] for e in trace.of("select")]   # (version 3) every pass, in order, none missing
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))

    accepts = trace.of("accept")
    assert len(accepts) == N_CLIENTS
    fd_of = {}
    for client in clients:   # the accept event names the client's own address as the peer
        (accept,) = [a for a in accepts if a["peer"] == client.local]
        fd_of[client.nick] = accept["fd"]

    for client in clients:
        fd = fd_of[client.nick]
        recvs = [e for e in trace.of("recv") if e["fd"] == fd]
        sends = [e for e in trace.of("send") if e["fd"] == fd]
        assert sum(e["bytes"] for e in recvs) == client.sent
        assert sum(e["lines"] for e in recvs) == client.lines   # (version 3) the lines each read completed
        assert sum(e["sent"] for e in sends) == len(client.received)
        assert all(0 < e["sent"] <= e["asked"] for e in sends)
        assert recvs[-1]["bytes"] == 0   # the client's EOF after QUIT
        assert [e["fd"] for e in trace.of("close")].count(fd) == 1
        table = per_descriptor(trace)[fd]
        assert (table.bytes_in, table.bytes_out, table.label) == (client.sent, len(client.received), client.nick)

    # One message event per burst (the lines of a sender read in one recv()), counting its lines.
    messages = [e for e in trace.of("app") if e["event"] == "message"]
    assert sum(m["count"] for m in messages) == N_CLIENTS * N_MESSAGES
    assert all(m["recipients"] == N_CLIENTS - 1 and m["room"] == "#lobby" for m in messages)
    for client in clients:
        mine = [m for m in messages if m["sender"] == client.nick]
        assert sum(m["count"] for m in mine) == N_MESSAGES
        assert len(mine) <= len([e for e in trace.of("recv") if e["fd"] == fd_of[client.nick] and e["bytes"]])
        # `bytes`: what each recipient gets of the burst; here, the lines another client received from it
        other = next(c for c in clients if c is not client)
        relayed = [line for line in bytes(other.received).split(b"\r\n")
                   if line.startswith(f":{client.nick}!".encode()) and b" PRIVMSG #lobby :" in line]
        assert sum(m["bytes"] for m in mine) == sum(len(line) + 2 for line in relayed)


def test_a_burst_read_in_one_recv_is_one_message_event(tmp_path):
    """A flood costs the trace one event per recv(), not one per line -- and the
    latency summary still counts every line's delivery to every member."""
    path, lines = tmp_path / "burst.jsonl", 200
    with start_server("--trace", str(path)) as server:
        clients = [Client(*server.address, f"u{i}", timeout=5) for i in range(3)]
        try:
            for client in clients:
                client.join("#flood")
            clients[0].names("#flood")   # every JOIN handled before the burst
            burst = "".join(f"PRIVMSG #flood :line {n}\r\n" for n in range(lines)).encode()
            clients[0].sock.sendall(burst)   # about 4 KB: read by one or a few recv() calls
            for client in clients[1:]:
                client.expect(lambda m: m.command == "PRIVMSG" and m.params[1] == f"line {lines - 1}")
        finally:
            for client in clients:
                client.close()
    trace = load(path)
    (sender_fd,) = [e["fd"] for e in trace.of("label") if e["label"] == "u0"]
    recvs = [e for e in trace.of("recv") if e["fd"] == sender_fd and e["bytes"]]
    events = [e for e in trace.of("app") if e["event"] == "message"]
    assert sum(e["count"] for e in events) == lines
    assert len(events) <= len(recvs) - 3   # registration and JOIN took recv() calls of their own
    assert max(e["count"] for e in events) > 1
    result = latencies(trace)
    assert result.messages == lines and result.unresolved == 0
    assert len(result.deliveries) == 2 * lines
    assert {d.recipient for d in result.deliveries} == {"u1", "u2"}
    assert summarize(trace).apps["message"] == lines


def test_a_blocked_select_precedes_every_readiness_and_io(session):
    trace = load(session[0])
    (listener,) = [e["fd"] for e in trace.of("register") if e["label"] == "listener"]
    last = None
    checked = 0
    for event in trace.events:
        if event["kind"] == "select":
            assert event["blocked"] >= 0 and event["began"] <= event["t"]
            assert set(event["ready_read"]) <= set(event["read"])
            assert set(event["ready_write"]) <= set(event["write"])
            last = event
        elif event["kind"] in ("recv", "send", "accept"):
            # The I/O happened in a handler called for a descriptor that
            # the latest select() returned ready.
            assert last is not None and last["began"] + last["blocked"] <= event["t"] + 1e-6
            ready = last["ready_write"] if event["kind"] == "send" else last["ready_read"]
            assert (listener if event["kind"] == "accept" else event["fd"]) in ready, event
            checked += 1
    assert checked > N_CLIENTS * N_MESSAGES


def test_latency_counts_every_delivery_of_every_message(session):
    trace = load(session[0])
    result = latencies(trace)
    assert result.messages == N_CLIENTS * N_MESSAGES
    assert result.unresolved == 0 and result.undelivered == 0
    assert len(result.deliveries) == N_CLIENTS * N_MESSAGES * (N_CLIENTS - 1)
    for delivery in result.deliveries:
        assert delivery.recipient != delivery.sender and delivery.latency >= 0
    per_pair = {(d.sender, d.recipient) for d in result.deliveries}
    assert len(per_pair) == N_CLIENTS * (N_CLIENTS - 1)


def test_summary_agrees_with_the_parts(session):
    trace = load(session[0])
    summary = summarize(trace)
    u = utilisation(trace)
    assert summary.utilisation == u and u.calls == len(trace.of("select"))
    assert abs(u.blocked + u.busy - u.span) < 1e-6 and 0 <= u.busy_fraction <= 1
    assert sum(summary.ready.ready.values()) == u.calls
    bins = utilisation_bins(trace, u.span / 10)
    assert abs(sum(b[1] for b in bins) - u.blocked) < 1e-6
    text = summary.text()
    for nick in ("user0", "user3", "listener", "console"):
        assert nick in text
    assert "complete" in text and f"{N_CLIENTS * N_MESSAGES} sent" in text


def test_trace_cli_summary_and_chrome_export(session, tmp_path, capsys):
    path = session[0]
    assert cli.run(["trace", "summary", str(path)]) == 0
    assert "select() loop" in capsys.readouterr().out
    out = tmp_path / "chrome.json"
    assert cli.run(["trace", "export", str(path), "--chrome", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    exported = json.loads(out.read_text())
    events = exported["traceEvents"]
    assert events and all({"ph", "ts", "pid", "tid"} <= event.keys() for event in events)
    trace = load(path)
    blocked = [e for e in events if e["ph"] == "X" and e["name"].endswith("() blocked")]
    assert len(blocked) == len(trace.of("select")) and all(e["dur"] >= 0 for e in blocked)
    assert cli.run(["trace", "export", str(path)]) == 0    # no --chrome: the JSON on standard output
    assert json.loads(capsys.readouterr().out) == exported
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {"select() loop", "fd 0: console"} <= names
    assert sum(name.startswith("fd ") and "user" in name for name in names) == N_CLIENTS
    assert len({e["tid"] for e in events if e["ph"] == "i" and e["name"].startswith("recv")}) == N_CLIENTS


def test_sigterm_leaves_a_complete_trace(tmp_path):
    path = tmp_path / "term.jsonl"
    with start_server("--trace", str(path)) as server:
        with socket.create_connection(server.address, timeout=5) as sock:
            sock.sendall(b"NICK sig\r\nUSER sig 0 * :sig\r\n")
            sock.recv(4096)
            os.kill(server.pid, signal.SIGTERM)
            while sock.recv(4096):   # the server says goodbye, then closes
                pass
        server.process.wait(10)
    assert server.process.returncode == 0
    trace = load(path)
    assert trace.complete
    assert any(e["kind"] == "app" and e["event"] == "connect" for e in trace.events)


def test_console_shutdown_leaves_a_complete_trace(tmp_path):
    path = tmp_path / "console.jsonl"
    with start_server("--trace", str(path)) as server:
        server.console("shutdown")
        server.process.wait(10)
    trace = load(path)
    assert trace.complete and trace.events[-1]["recorded"] == len(trace.events)


# --- the Recorder, in-process ----------------------------------------------------------


class Echo:
    """Echo what arrives on one end of a socket pair, telling the observer as the server does."""

    def __init__(self, sock, observer=None):
        self.sock = sock
        self.observer = observer

    def handle_read(self):
        data = self.sock.recv(4096)
        sent = self.sock.send(data)
        if self.observer:
            self.observer.record("recv", fd=self.sock.fileno(), bytes=len(data))
            self.observer.record("send", fd=self.sock.fileno(), asked=len(data), sent=sent)

    def handle_write(self):
        pass


def busy_loop(recorder, passes):
    """Run a loop with an echo handler for ``passes`` passes; check the ring as it goes."""
    a, b = socket.socketpair()
    loop = EventLoop(observer=recorder)
    loop.register(a, Echo(a, recorder), label="echo")
    longest = 0
    try:
        for i in range(passes):
            b.send(b"x" * (1 + i % 50))
            loop.run_once(timeout=1.0)
            b.recv(4096)
            longest = max(longest, len(recorder.events))
        loop.close()
    finally:
        a.close()
        b.close()
    return longest


def test_the_ring_buffer_never_exceeds_its_size(tmp_path):
    recorder = Recorder(size=64)
    longest = busy_loop(recorder, 3000)
    assert longest == 64 and len(recorder.events) == 64
    assert recorder.recorded > 3000 * 3   # select, recv, send per pass: far more than the ring holds
    snapshot = recorder.snapshot()
    assert len(snapshot) == 64 and snapshot.header["recorded"] == recorder.recorded
    assert snapshot.events[-1]["kind"] == "unregister"   # the newest are kept
    times = [e["t"] for e in snapshot.events]
    assert times == sorted(times) and times[0] > 0
    assert snapshot.header["labels"] == {}    # the loop closed: nothing is registered any more


@pytest.mark.parametrize("in_process", [False, True], ids=["child-process", "thread"])
def test_streaming_writes_every_event_while_the_ring_keeps_the_newest(tmp_path, in_process):
    path = tmp_path / "stream.jsonl"
    with Recorder(size=10, path=str(path), backend="select", program="test", in_process=in_process) as recorder:
        busy_loop(recorder, 500)
        ring = recorder.snapshot().events
    trace = load(path)
    assert trace.complete and trace.header["program"] == "test"
    assert len(trace.events) == recorder.recorded == trace.events[-1]["recorded"]
    assert [e["kind"] for e in trace.events[-11:-1]] == [e["kind"] for e in ring]
    selects = trace.of("select")
    assert len(selects) == 500 and all(s["read"] == [s["ready_read"][0]] for s in selects)


def test_a_live_snapshot_labels_descriptors_registered_before_the_ring_began():
    recorder = Recorder(size=5)
    a, b = socket.socketpair()
    loop = EventLoop(observer=recorder)
    try:
        loop.register(a, Echo(a), label="echo")
        loop.relabel(a, "alice")
        for _ in range(20):
            b.send(b"hi")
            loop.run_once(timeout=1.0)
            b.recv(10)
        snapshot = recorder.snapshot()
        assert not snapshot.of("register")       # pushed out of the ring long ago
        assert snapshot.header["labels"] == {a.fileno(): "alice"}
        assert per_descriptor(snapshot)[a.fileno()].label == "alice"
    finally:
        loop.close()
        a.close()
        b.close()


def test_a_writer_that_falls_behind_drops_and_says_how_many(tmp_path):
    path = tmp_path / "lossy.jsonl"
    recorder = Recorder(size=0, path=str(path), max_backlog=-1)   # every batch is "too late"
    for i in range(10):
        recorder.record("recv", fd=7, bytes=i)
        recorder.flush()
    recorder.close()
    trace = load(path)
    assert [e["kind"] for e in trace.events] == ["lost", "end"]
    assert trace.events[0]["count"] == 10 and trace.events[-1]["lost"] == 10
    assert summarize(trace).lost == 10


def test_no_observer_means_no_recording_and_the_loop_still_runs():
    a, b = socket.socketpair()
    loop = EventLoop()
    try:
        loop.register(a, Echo(a))
        b.send(b"ping")
        loop.run_once(timeout=1.0)
        assert b.recv(10) == b"ping"
    finally:
        loop.close()
        a.close()
        b.close()


# --- reading and summaries on hand-made traces --------------------------------------------


def make_trace(*events):
    header = {"format": FORMAT, "version": VERSION, "labels": {}}
    return loads("\n".join(json.dumps(e) for e in (header, *events)))


def chat_preamble():
    return [{"t": 0.1, "kind": "register", "fd": 7, "label": "127.0.0.1:1", "read": True, "write": False},
            {"t": 0.1, "kind": "register", "fd": 8, "label": "127.0.0.1:2", "read": True, "write": False},
            {"t": 0.2, "kind": "label", "fd": 7, "label": "alice"},
            {"t": 0.2, "kind": "label", "fd": 8, "label": "bob"},
            {"t": 0.3, "kind": "app", "event": "join", "nick": "alice", "room": "#r"},
            {"t": 0.3, "kind": "app", "event": "join", "nick": "bob", "room": "#R"}]


def test_latency_is_exact_when_the_next_send_empties_the_buffer():
    trace = make_trace(*chat_preamble(),
                       {"t": 1.000, "kind": "recv", "fd": 7, "bytes": 20},
                       {"t": 1.001, "kind": "app", "event": "message", "sender": "alice", "room": "#r",
                        "recipients": 1, "bytes": 40},
                       {"t": 1.004, "kind": "send", "fd": 8, "asked": 40, "sent": 40})
    (delivery,) = latencies(trace).deliveries
    assert (delivery.sender, delivery.recipient, delivery.fd, delivery.exact) == ("alice", "bob", 8, True)
    assert delivery.latency == pytest.approx(0.004)


def test_latency_after_partial_sends_is_an_upper_bound():
    trace = make_trace(*chat_preamble(),
                       {"t": 0.9, "kind": "send", "fd": 8, "asked": 100, "sent": 100},
                       {"t": 1.000, "kind": "recv", "fd": 7, "bytes": 20},
                       {"t": 1.001, "kind": "app", "event": "message", "sender": "alice", "room": "#r",
                        "recipients": 1, "bytes": 40},
                       {"t": 1.002, "kind": "send", "fd": 8, "asked": 90, "sent": 50},
                       {"t": 1.003, "kind": "send", "fd": 8, "asked": 40, "sent": 30},
                       {"t": 1.005, "kind": "send", "fd": 8, "asked": 10, "sent": 10})
    (delivery,) = latencies(trace).deliveries
    assert delivery.delivered_at == 1.005 and not delivery.exact


def test_latency_follows_membership_and_skips_what_it_cannot_know():
    trace = make_trace(*chat_preamble(),
                       {"t": 0.5, "kind": "app", "event": "part", "nick": "bob", "room": "#r"},
                       {"t": 1.0, "kind": "app", "event": "message", "sender": "alice", "room": "#r",
                        "recipients": 0, "bytes": 40},
                       # a room the trace never saw anyone join: membership unknown
                       {"t": 1.1, "kind": "app", "event": "message", "sender": "alice", "room": "#other",
                        "recipients": 3, "bytes": 40},
                       {"t": 1.2, "kind": "app", "event": "private", "sender": "alice", "to": "bob"},
                       {"t": 1.3, "kind": "close", "fd": 8, "reason": "gone"})
    result = latencies(trace)
    assert (result.messages, result.unresolved, len(result.deliveries), result.undelivered) == (3, 1, 0, 1)


def test_window_keeps_the_events_in_range_and_the_labels_known_at_its_start():
    trace = make_trace(*chat_preamble(),
                       {"t": 1.0, "kind": "select", "began": 0.5, "blocked": 0.5, "timeout": None,
                        "backend": "select", "read": [7, 8], "write": [], "ready_read": [7], "ready_write": []},
                       {"t": 1.5, "kind": "recv", "fd": 7, "bytes": 3},
                       {"t": 2.5, "kind": "recv", "fd": 8, "bytes": 3})
    window = trace.window(0.8, 2.0)
    assert [e["kind"] for e in window.events] == ["select", "recv"]
    assert window.header["labels"] == {7: "alice", 8: "bob"}


def test_load_refuses_what_is_not_a_trace_and_tolerates_a_cut_last_line(tmp_path):
    with pytest.raises(TraceError, match="not a selectchat trace"):
        loads('{"hello": 1}\n')
    with pytest.raises(TraceError, match="version"):
        loads(json.dumps({"format": FORMAT, "version": VERSION + 1}))
    with pytest.raises(TraceError, match="line 2"):
        loads(json.dumps({"format": FORMAT, "version": VERSION}) + '\n{"t": 1, "ki\n{"t": 2, "kind": "x"}')
    cut = (json.dumps({"format": FORMAT, "version": VERSION})
           + '\n{"t": 1, "kind": "recv", "fd": 3, "bytes": 1}\n{"t": 2, "ki')
    trace = loads(cut)
    assert len(trace) == 1 and not trace.complete
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n")
    assert cli.run(["trace", "summary", str(path)]) == 1


def test_a_killed_server_leaves_a_readable_but_incomplete_trace(tmp_path):
    path = tmp_path / "killed.jsonl"
    with start_server("--trace", str(path)) as server:
        with socket.create_connection(server.address, timeout=5) as sock:
            sock.sendall(b"NICK k\r\nUSER k 0 * :k\r\n")
            sock.recv(4096)
            deadline = time.monotonic() + 5
            while path.read_text().count("\n") < 5 and time.monotonic() < deadline:
                time.sleep(0.02)   # the server hands a batch on at most every 0.05 s
            os.kill(server.pid, signal.SIGKILL)
            server.process.wait(10)
    trace = load(path)
    assert not trace.complete
    assert trace.of("accept") and trace.of("select")


def register(address, nick, room=None):
    client = CountingClient(address, nick)
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :{nick}")
    client.read_until(lambda data: b" 376 " in data or b" 422 " in data)
    if room:
        client.send(f"JOIN {room}")
        client.read_until(lambda data: b" 366 " in data)
    return client


def bytes_sent_to(trace, client):
    """What the trace says the server sent to this client's connection."""
    (fd,) = [e["fd"] for e in trace.of("accept") if e["peer"] == client.local]
    return fd, sum(e["sent"] for e in trace.of("send") if e["fd"] == fd)


def test_the_goodbye_to_a_refused_or_dropped_client_is_in_the_trace(tmp_path):
    """Bytes sent outside the write handler (the ERROR line of a refusal or a
    SendQ drop) are traced too, so the byte counts still add up."""
    path = tmp_path / "goodbye.jsonl"
    with start_server("--trace", str(path), "--max-clients", "2", "--max-sendq", "2000") as server:
        reader = register(server.address, "reader", "#r")
        talker = register(server.address, "talker", "#r")
        refused = CountingClient(server.address, "refused")   # the third: past --max-clients
        refused.read_to_eof()
        talker.send("\r\n".join(f"PRIVMSG #r :{i:03d} " + "x" * 90 for i in range(40)))
        reader.read_to_eof()   # dropped: its queue passed 2000 bytes
        talker.send("QUIT")
        talker.read_to_eof()
        for client in (reader, talker, refused):
            client.sock.close()
    trace = load(path)
    closes = {e["fd"]: e["reason"] for e in trace.of("close")}
    for client, reason in ((refused, "Server is full"), (reader, "SendQ exceeded")):
        fd, sent = bytes_sent_to(trace, client)
        assert sent == len(client.received) and client.received.startswith(b"ERROR") == (client is refused)
        assert reason in closes[fd]


def test_the_terminal_client_records_its_own_loop(tmp_path):
    path = tmp_path / "client.jsonl"
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    with start_server() as server, Client(*server.address, "bob") as bob:
        bob.join("#lobby")
        client = subprocess.Popen([sys.executable, "-m", "selectchat", "client", "--host", server.host,
                                   "--port", str(server.port), "--nick", "zed", "--room", "lobby",
                                   "--trace", str(path)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, env=env)
        try:
            assert bob.expect("JOIN").nick == "zed"
            client.stdin.write(b"hello from zed\n")
            client.stdin.flush()
            assert bob.expect("PRIVMSG").params == ("#lobby", "hello from zed")
            client.stdin.write(b"/quit\n")
            client.stdin.close()
            assert client.wait(10) == 0, client.stderr.read()
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
            client.stderr.close()
    trace = load(path)
    assert trace.complete and trace.header["program"] == "client"
    labels = {e["label"]: e["fd"] for e in trace.of("register")}
    assert {"keyboard", "server"} <= labels.keys()
    woke = [e for e in trace.of("select") if labels["server"] in e["ready_read"]]
    typed = [e for e in trace.of("select") if labels["keyboard"] in e["ready_read"]]
    assert woke and typed and all(e["blocked"] >= 0 for e in woke + typed)
    # Its reads and writes: the keys typed, the server's lines, what it sent.
    keyboard = [e for e in trace.of("recv") if e["fd"] == labels["keyboard"]]
    assert sum(e["bytes"] for e in keyboard) == len(b"hello from zed\n/quit\n")
    assert sum(e["bytes"] for e in trace.of("recv") if e["fd"] == labels["server"]) > 0
    sends = [e for e in trace.of("send") if e["fd"] == labels["server"]]
    assert sends and all(0 < e["sent"] <= e["asked"] for e in sends)
    assert find_mistakes(trace) == []   # a healthy loop of another program: nothing to flag


def test_the_fast_json_writer_writes_what_to_dict_says(tmp_path):
    from io import StringIO

    from selectchat.trace import to_dict, write_json

    start = 100.0
    events = [(100.5, "select", {"began": 100.25, "blocked": 0.25, "timeout": None, "backend": "select",
                                  "read": [3, 4], "write": [], "ready_read": [4], "ready_write": []}),
              (101.0, "app", {"event": "message", "text": 'quote " backslash \\ é ☃ \n', "sender": "a",
                              "room": "#r", "recipients": 2, "bytes": 40}),
              (101.5, "close", {"fd": 4, "reason": None}),
              (102.0, "odd", {})]
    out = StringIO()
    write_json(events, start, out)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(events)
    for line, event in zip(lines, events):
        assert json.loads(line) == to_dict(event, start)


def test_fields_marshal_cannot_carry_arrive_as_text(tmp_path):
    path = tmp_path / "odd.jsonl"
    with Recorder(size=0, path=str(path)) as recorder:
        recorder.record("app", event="custom", peer=("127.0.0.1", 5), thing=object())
    (event, end) = load(path).events
    assert event["peer"] == ["127.0.0.1", 5] and event["thing"].startswith("<object object")
    assert end["kind"] == "end"
