"""The live view (``selectchat server --live PORT``): real sockets against a real server.

The page must be served, updates must follow the chat within a second, and
nothing a browser (or something pretending to be one) does may end, stall or
slow the chat.  Without ``--live-text`` no message text may reach the page.
"""

import json
import socket
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selectchat.client import Client
from selectchat.launch import start_server
from selectchat.net.framing import TOO_LONG
from selectchat.server import live as live_module
from selectchat.server.live import MAX_HEADERS, Refusal, Request, RequestReader
from selectchat.server.live_feed import MEMBERS_SHOWN

LIVE_PREFIX = "selectchat live view on http://"


def live_address(server, timeout=5.0):
    """The (host, port) of the live view: the server's second stdout line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(server.output):
            if line.startswith(LIVE_PREFIX):
                host, _, port = line[len(LIVE_PREFIX):].rstrip("/").rpartition(":")
                return host.strip("[]"), int(port)
        time.sleep(0.02)
    raise AssertionError(f"no live view address in {list(server.output)}")


@pytest.fixture
def live():
    """A server with ``--live 0``: yields (server, live address)."""
    with start_server("--live", "0", "--room", "lobby:10") as server:
        yield server, live_address(server)


def http(address, request, timeout=5.0):
    """Send raw bytes, read until the server closes; return the whole response."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def get(address, path="/", host=None):
    host = host or f"{address[0]}:{address[1]}"
    return http(address, f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())


def status(response):
    return int(response.split(b" ", 2)[1])


class EventStream:
    """A raw ``GET /events`` connection: its updates, parsed."""

    def __init__(self, address, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(5)
        self.sock.connect(address)
        self.sock.sendall(f"GET /events HTTP/1.1\r\nHost: {address[0]}:{address[1]}\r\n\r\n".encode())
        self.buffer = b""
        self.raw = b""           # every byte received, to search for what must not be there

    def head(self):
        while b"\r\n\r\n" not in self.buffer:
            self._read(5)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        return head.decode()

    def _read(self, timeout):
        self.sock.settimeout(max(timeout, 0.01))
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the server closed the event stream")
        self.buffer += data
        self.raw += data

    def until(self, predicate, timeout):
        """The first update for which ``predicate(update)`` is true, or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n\n" in self.buffer:
                block, self.buffer = self.buffer.split(b"\n\n", 1)
                for line in block.split(b"\n"):
                    if line.startswith(b"data: "):
                        update = json.loads(line[6:])
                        if predicate(update):
                            return update
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                self._read(left)
            except TimeoutError:
                return None

    def close(self):
        self.sock.close()


def said(update, words):
    return any(words in event["text"] for event in update["events"])


# --- the contract and the page ---------------------------------------------------

def test_the_contract_line_stays_first_and_the_live_view_binds_on_the_servers_host(live):
    server, address = live
    assert server.host == "127.0.0.1" and address[0] == "127.0.0.1"   # start_server read line 1
    assert address[1] not in (0, server.port)


def test_the_page_is_served_with_its_script_and_no_cache(live):
    _, address = live
    response = get(address, "/")
    head, _, body = response.partition(b"\r\n\r\n")
    assert status(response) == 200
    assert b"Content-Type: text/html; charset=utf-8" in head and b"Cache-Control: no-store" in head
    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    assert len(body) == length and b"new EventSource(\"events\")" in body
    assert b"innerHTML" not in body   # user-chosen names are written as text only


def test_events_follow_the_chat_within_a_second(live):
    server, address = live
    events = EventStream(address)
    try:
        head = events.head()
        assert "200 OK" in head and "Content-Type: text/event-stream" in head
        first = events.until(lambda u: True, timeout=2)
        assert first is not None and [room["name"] for room in first["rooms"]] == ["#lobby"]
        with Client(*server.address, "alice") as alice, Client(*server.address, "bob") as bob:
            alice.join("#lobby")
            bob.join("#lobby")
            joined = events.until(lambda u: any(set(r["members"]) == {"alice", "bob"} for r in u["rooms"]), 2)
            assert joined is not None, "the room's members never showed"
            sent = time.monotonic()
            alice.say("#lobby", "hello, room")
            update = events.until(lambda u: said(u, "alice \u2192 #lobby: a message"), timeout=1.0)
            assert update is not None, "no update within a second of the line"
            print(f"update {time.monotonic() - sent:.3f} s after the line")
            assert update["passes_per_s"] > 0 and update["clients"] == 2
            assert any(d["label"] == "alice" and d["bytes_in"] > 0 for d in update["descriptors"])
    finally:
        events.close()


@pytest.mark.parametrize("text_shown", [False, True])
def test_message_text_reaches_the_page_only_with_live_text(text_shown):
    options = ["--live", "0"] + (["--live-text"] if text_shown else [])
    with start_server(*options) as server:
        events = EventStream(live_address(server))
        try:
            events.head()
            with Client(*server.address, "alice") as alice, Client(*server.address, "bob") as bob:
                alice.join("#secrets")
                bob.join("#secrets")
                alice.send_message("TOPIC", "#secrets", "topic-words-7731")
                alice.say("#secrets", "message-words-4412")
                assert events.until(lambda u: any(e["kind"] == "message" for e in u["events"]), 2)
                alice.send_message("KICK", "#secrets", "bob", "reason-words-9034")
                alice.send_message("QUIT", "quit-words-5521")
                assert events.until(lambda u: any(e["text"].startswith("alice") and "quit" in e["text"].lower()
                                                  or "left the chat" in e["text"] for e in u["events"]), 3)
                events.until(lambda u: False, timeout=0.6)   # one more update or two
        finally:
            events.close()
    for words in (b"topic-words-7731", b"message-words-4412", b"reason-words-9034", b"quit-words-5521"):
        assert (words in events.raw) is text_shown, words


# --- a slow browser is a slow reader -----------------------------------------------

def test_a_viewer_that_does_not_read_is_dropped_and_the_chat_goes_on(live):
    server, address = live
    stuck = EventStream(address, rcvbuf=2048)   # reads its head, then nothing
    stuck.head()
    with Client(*server.address, "alice") as alice, Client(*server.address, "bob") as bob:
        alice.join("#lobby")
        bob.join("#lobby")
        got, sent = 0, 0
        deadline = time.monotonic() + 30
        dropped = None
        while dropped is None and time.monotonic() < deadline:
            for _ in range(20):   # the chat keeps going while the viewer's queue fills
                alice.say("#lobby", f"line {sent} " + "x" * 200)
                sent += 1
            while got < sent:
                message = bob.expect("PRIVMSG", timeout=5)
                assert message.params[-1].startswith(f"line {got} ")
                got += 1
            dropped = server.wait_for_log("gone: viewer too slow", timeout=0.1)
        assert dropped, "the viewer that never reads was never dropped"
        assert got == sent and bob.ping() < 5
    stuck.close()
    assert status(get(address, "/")) == 200   # and the page is still served


# --- bad requests: an answer or a drop, and the chat keeps working -----------------

BAD_REQUESTS = [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /\r\n\r\n", 400),                                       # HTTP/0.9: no version
    (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 400),
    (b"GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),        # not origin-form
    (b"GET / HTTP/1.1\r\n\r\n", 400),                              # no Host
    (b"GET / HTTP/1.1\r\nHost: rebound.example:80\r\n\r\n", 400),  # DNS rebinding
    (b"GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n", 400),            # no colon
    (b"GET / HTTP/1.1\r\n folded: header\r\n\r\n", 400),
    (b"GET /\xff HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nX-A: \x1b[2J\r\n\r\n", 400),
    (b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n", 400),     # a huge request line
    (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 40 + b"\r\n", 400),  # too many headers
    (b"GET /secret HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    (b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 405),
    (b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 405),
]


def test_malformed_huge_and_wrong_requests_get_an_answer_and_the_chat_keeps_working(live):
    server, address = live
    with Client(*server.address, "alice") as alice:
        for request, expected in BAD_REQUESTS:
            if expected != 400 or b"Host: x" in request:   # a right Host where the test is not about it
                request = request.replace(b"Host: x", f"Host: 127.0.0.1:{address[1]}".encode())
            response = http(address, request)
            assert status(response) == expected, (request[:60], response[:200])
            assert b"Connection: close" in response
            if expected == 405:
                assert b"Allow: GET" in response
            assert alice.ping() < 5
        assert status(get(address, "/", host=f"localhost:{address[1]}")) == 200
        assert server.running()


def test_a_slowloris_is_answered_408_and_never_holds_the_chat(live, monkeypatch):
    server, address = live
    slow = socket.create_connection(address)
    slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")   # ... and never the empty line
    began = time.monotonic()
    with Client(*server.address, "alice") as alice, Client(*server.address, "bob") as bob:
        bob.join("#lobby")
        alice.join("#lobby")
        slow.settimeout(0.5)
        response = b""
        while time.monotonic() - began < live_module.REQUEST_TIMEOUT + 5:
            try:
                slow.sendall(b"X")         # a byte now and then, as a slowloris does
                chunk = slow.recv(4096)
            except TimeoutError:
                alice.say("#lobby", "still here")
                assert bob.expect("PRIVMSG").params[-1] == "still here"
                continue
            except OSError:
                break
            if not chunk:
                break
            response += chunk
    slow.close()
    assert status(response) == 408
    assert time.monotonic() - began >= live_module.REQUEST_TIMEOUT - 0.5


def test_browsers_past_the_limit_get_503_and_the_chat_does_not_notice(live):
    server, address = live
    held = [socket.create_connection(address) for _ in range(live_module.MAX_WEB_CLIENTS)]
    try:
        time.sleep(0.2)   # let the loop accept them all
        # (It sends nothing: the answer comes at accept, before any request.)
        with socket.create_connection(address, timeout=5) as extra:
            response = b"".join(iter(lambda: extra.recv(4096), b""))
        assert status(response) == 503
        with Client(*server.address, "alice") as alice:
            assert alice.ping() < 5
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    assert status(get(address, "/")) == 200


# --- the command line ------------------------------------------------------------------

def test_live_text_without_live_is_a_usage_error():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "selectchat", "server", "--port", "0", "--live-text"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and "--live-text needs --live" in done.stderr


def test_a_taken_live_port_is_a_clear_error(live):
    _, address = live
    from selectchat.launch import ServerError
    with pytest.raises(ServerError, match=f"cannot serve the live view on 127.0.0.1:{address[1]}"):
        start_server("--live", str(address[1]))


# --- nobody watching: nothing attached -------------------------------------------------

class Notes:
    """An observer standing for the trace's Recorder: it keeps the kinds it is told."""

    def __init__(self):
        self.kinds = []

    def record(self, kind, **fields):
        self.kinds.append(kind)


@pytest.mark.parametrize("traced", [False, True])
def test_the_feed_is_attached_only_while_a_viewer_watches(traced):
    # In this process, so that the loop's observer can be looked at between passes.
    from selectchat.server import Server, ServerConfig
    from selectchat.server.live import LiveView
    from selectchat.server.live_feed import FanOut

    notes = Notes() if traced else None
    server = Server(ServerConfig(console=False), observer=notes)
    live = server.live = LiveView(server)
    address = live.listen("127.0.0.1", 0)

    def pump_until(done, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            server.loop.run_once(timeout=0.02)
        return done()

    def watching():
        return server.loop.observer is not notes and server.observer is server.loop.observer

    try:
        page = socket.create_connection(address)
        page.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{address[1]}\r\n\r\n".encode())
        assert pump_until(lambda: not live.clients)          # the page is sent, the connection closed
        assert server.loop.observer is notes and live.ticker is None   # a page alone attaches nothing
        page.close()

        viewer = socket.create_connection(address)
        viewer.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{address[1]}\r\n\r\n".encode())
        assert pump_until(watching), "the feed was never attached"
        observer = server.loop.observer
        assert observer is live.feed if not traced else (
            isinstance(observer, FanOut) and observer.observers == (notes, live.feed))
        assert live.ticker is not None
        viewer.close()
        assert pump_until(lambda: not watching()), "the feed stayed attached after the viewer left"
        assert server.loop.observer is notes and server.observer is notes and live.ticker is None
        if traced:  # the trace went on being told everything, before, during and after
            assert "select" in notes.kinds and "close" in notes.kinds
    finally:
        live.close()
        server.loop.close()


# --- the request parser, sans-I/O: nothing it is fed makes it raise ----------------------

PIECES = st.sampled_from([b"GET", b"POST", b" ", b"/", b"/events", b"HTTP/1.1", b"HTTP/1.0", b"Host:",
                          b"127.0.0.1:80", b":", b"\xff", b"\x00", b"", b"?a=b", b"\t"])
LINES = st.lists(st.one_of(st.lists(PIECES, max_size=6).map(b"".join), st.binary(max_size=40), st.just(TOO_LONG)),
                 max_size=MAX_HEADERS + 5)


@settings(max_examples=400, deadline=None)
@given(LINES)
def test_any_lines_give_a_request_a_refusal_or_a_wait_never_an_exception(lines):
    reader = RequestReader(hosts={"127.0.0.1:80"})
    for number, line in enumerate(lines, start=1):
        outcome = reader.feed(line)
        if outcome is None:
            assert number <= MAX_HEADERS + 1
            continue
        assert isinstance(outcome, (Request, Refusal))
        if isinstance(outcome, Request):   # only what the page serves gets through
            assert outcome.method == "GET" and outcome.path in ("/", "/events")
            assert outcome.headers.get("host", "127.0.0.1:80") == "127.0.0.1:80"
        else:
            assert outcome.status in (400, 404, 405)
        break


def test_a_big_room_is_counted_whole_and_listed_in_part(live):
    server, address = live
    events = EventStream(address)
    clients = []
    try:
        events.head()
        for number in range(MEMBERS_SHOWN + 5):   # more than an update lists
            clients.append(Client(*server.address, f"student{number:02d}"))
            clients[-1].join("#big")
        update = events.until(lambda u: any(r["name"] == "#big" and r["count"] == len(clients)
                                            for r in u["rooms"]), 3)
        assert update is not None, "the room's full count never showed"
        big = next(r for r in update["rooms"] if r["name"] == "#big")
        assert len(big["members"]) == MEMBERS_SHOWN < big["count"]
        assert big["members"][0] == "@student00"
        assert events.until(lambda u: True, 1) is not None   # a viewer that reads is not dropped
    finally:
        for client in clients:
            client.close()
        events.close()
