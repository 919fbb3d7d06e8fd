"""The live view: a read-only web page served by the chat server's own loop.

``selectchat server --live PORT`` opens a second listening socket in the same
``select()`` as the chat: one thread now speaks two protocols, IRC on one
port and HTTP on the other -- what multiplexing is for.  A browser asks for

* ``GET /`` -- the page (:mod:`.live_page`), one response, then the
  connection closes;
* ``GET /events`` -- Server-Sent Events: the response never ends; every
  ``INTERVAL`` seconds one ``data:`` line of JSON (:meth:`.live_feed.LiveFeed.update`)
  is written to every watching browser.

Everything else gets an answer (400, 404, 405, 408, 503) and a close.  The
rules that keep the chat safe from its web page:

* each browser is a :class:`~selectchat.net.stream.Stream` like a chat
  client: nothing here blocks, a viewer that does not read is dropped once
  more than ``VIEWER_BACKLOG`` updates wait for it (its ``EventSource``
  reconnects and starts again from the present), and its socket's kernel
  buffer is kept small so that this happens within seconds;
* a request is read as lines of at most ``MAX_LINE`` bytes, at most
  ``MAX_HEADERS`` of them, within ``REQUEST_TIMEOUT`` seconds of the
  connection (a *slowloris* that sends a byte a second is answered 408);
* at most ``MAX_WEB_CLIENTS`` browsers at once: descriptors are for the chat;
* nobody watching costs nothing: the feed is attached to the loop, and the
  update timer runs, only while at least one ``/events`` stream is open.

Parsing is sans-I/O (:class:`RequestReader`: lines in, a request or an error
out), as ``h11`` does it; :class:`WebClient` is the stream's protocol object;
:class:`LiveView` is the listener and the broadcaster.
"""

import ipaddress
import json
import socket
from dataclasses import dataclass

from ..net.framing import TOO_LONG
from ..net.loop import FD_SETSIZE
from ..net.stream import State, Stream
from .live_feed import FanOut, LiveFeed
from .live_page import PAGE

INTERVAL = 0.25               # seconds between two updates (the page wants at least two a second)
MAX_LINE = 2048               # bytes of one request line or header line
MAX_HEADERS = 32              # header lines of one request
REQUEST_TIMEOUT = 5.0         # seconds to send a whole request
MAX_WEB_CLIENTS = 32          # browser connections at once
VIEWER_BACKLOG = 3            # updates that may wait for a viewer; one more and it is dropped
MAX_OUTPUT = 1024 * 1024      # bytes that may wait for any browser, whatever the updates' size
VIEWER_SNDBUF = 8 * 1024      # the kernel's send buffer for a browser (Linux doubles it)
ACCEPT_BATCH = 16
PATHS = ("/", "/events")

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           408: "Request Timeout", 503: "Service Unavailable"}


# --- HTTP requests, sans-I/O -------------------------------------------------------

@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict   # lower-case name -> value (the last one wins)


@dataclass(frozen=True)
class Refusal:
    status: int
    why: str


class RequestReader:
    """Lines in, one :class:`Request` or :class:`Refusal` out.  Only GET of ``PATHS``.

    ``hosts``: the ``Host`` values accepted, or None for any.  A page bound to
    127.0.0.1 accepts only the names of this machine, so that a web site the
    instructor visits cannot read it through a DNS name pointing at 127.0.0.1
    (DNS rebinding).
    """

    def __init__(self, hosts=None):
        self.hosts = hosts
        self.request_line = None
        self.headers = {}
        self.lines = 0

    def feed(self, line):
        """One line (without its end); returns None while the request is incomplete."""
        self.lines += 1
        if line is TOO_LONG:
            return Refusal(400, f"a line longer than {MAX_LINE} bytes")
        if self.lines > MAX_HEADERS + 1:
            return Refusal(400, f"more than {MAX_HEADERS} header lines")
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            return Refusal(400, "a request is ASCII")
        if not text.isprintable():
            return Refusal(400, "control characters in the request")
        if self.request_line is None:
            return self._first_line(text)
        if text:
            return self._header(text)
        return self._complete()

    def _first_line(self, text):
        parts = text.split(" ")
        if len(parts) != 3 or not parts[0].isalpha() or not parts[1].startswith("/"):
            return Refusal(400, "expected a request line such as GET / HTTP/1.1")
        if parts[2] not in ("HTTP/1.0", "HTTP/1.1"):
            return Refusal(400, "only HTTP/1.0 and HTTP/1.1")
        self.request_line = parts
        return None

    def _header(self, text):
        name, colon, value = text.partition(":")
        if not colon or not name or name != name.strip():
            return Refusal(400, "a header line is 'Name: value'")
        self.headers[name.lower()] = value.strip()
        return None

    def _complete(self):
        method, target, version = self.request_line
        path = target.split("?", 1)[0]
        if path not in PATHS:
            return Refusal(404, f"only {' and '.join(PATHS)} are here")
        if method != "GET":
            return Refusal(405, "this page is read-only: only GET")
        host = self.headers.get("host")
        if host is None and version == "HTTP/1.1":
            return Refusal(400, "an HTTP/1.1 request needs a Host header")
        if self.hosts is not None and host is not None and host.lower() not in self.hosts:
            return Refusal(400, f"this page answers to {sorted(self.hosts)[0]}, not {host}")
        return Request(method, path, dict(self.headers))


def response_head(status, content_type, length=None, extra=()):
    """The status line and headers of a response that ends with the connection."""
    lines = [f"HTTP/1.1 {status} {REASONS[status]}", f"Content-Type: {content_type}",
             "Cache-Control: no-store", "X-Content-Type-Options: nosniff", "Connection: close", *extra]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def refusal_bytes(refusal):
    body = f"{refusal.status} {REASONS[refusal.status]}: {refusal.why}\n".encode("ascii", "replace")
    extra = ("Allow: GET",) if refusal.status == 405 else ()
    return response_head(refusal.status, "text/plain; charset=utf-8", len(body), extra) + body


PAGE_BYTES = PAGE.encode("utf-8")
PAGE_RESPONSE = response_head(200, "text/html; charset=utf-8", len(PAGE_BYTES), (
    "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; connect-src 'self'",)) + PAGE_BYTES
EVENTS_HEAD = response_head(200, "text/event-stream") + b"retry: 1000\n\n"


# --- one browser connection --------------------------------------------------------

class WebClient:
    """The protocol of one browser's stream: read a request, answer it (or stream)."""

    def __init__(self, live, sock, peer):
        self.live = live
        self.peer = peer
        self.reader = RequestReader(live.hosts)
        self.viewer = False       # an /events stream, receiving updates
        self.answered = False
        self.stream = Stream(live.loop, sock, self, label=f"web {peer[0]}:{peer[1]}",
                             max_line=MAX_LINE, max_output=MAX_OUTPUT)
        self.timer = live.loop.call_later(REQUEST_TIMEOUT, self._timed_out)

    def lines_received(self, lines):
        for line in lines:
            if self.answered:
                return  # what a browser sends after its request is not read
            outcome = self.reader.feed(line)
            if outcome is not None:
                self._answer(outcome)

    def _answer(self, outcome):
        self.answered = True
        self.timer.cancel()
        if isinstance(outcome, Refusal):
            self.stream.write(refusal_bytes(outcome))
            self.stream.close(f"HTTP {outcome.status}")
        elif outcome.path == "/":
            self.stream.write(PAGE_RESPONSE)
            self.stream.close("page sent")
        else:
            self.stream.write(EVENTS_HEAD)
            self.viewer = True
            self.live.add_viewer(self)

    def _timed_out(self):
        if not self.answered and self.stream.state is State.OPEN:
            self._answer(Refusal(408, f"a request must arrive within {REQUEST_TIMEOUT:g} seconds"))

    def eof_received(self):
        return False  # the browser left (or half-closed): the stream closes after what is queued

    def send_update(self, frame):
        """Queue one update, or drop a viewer that has not taken the last ones.

        Counted in updates, not bytes: an update grows with the class (every
        room, every member), and a cap in bytes would drop every viewer of a
        big class at once.
        """
        if self.stream.buffer_size > VIEWER_BACKLOG * len(frame):
            self.stream.abort(f"viewer too slow (more than {VIEWER_BACKLOG} updates waiting)")
        else:
            self.stream.write(frame)

    def output_overflow(self):
        self.stream.abort(f"browser too slow ({MAX_OUTPUT} bytes waiting)")

    def connection_lost(self, reason):
        self.timer.cancel()
        self.live.forget(self, reason)

    def handle_error(self, error):
        self.live.server.log_error(f"live view: error while serving {self.peer[0]}", error)
        self.stream.abort("internal error")


# --- the listener and the broadcaster ---------------------------------------------

class LiveView:
    """The live page's listening socket, its browsers, and the updates they watch."""

    def __init__(self, server, show_text=False):
        self.server = server
        self.loop = server.loop
        self.feed = LiveFeed(server, show_text)
        self.sock = None
        self.hosts = None
        self.clients = set()
        self.viewers = set()
        self.ticker = None        # the update timer, while someone watches
        self.plain_observer = server.observer   # what the server had before (a trace's Recorder, or None)

    def listen(self, host, port):
        """Bind where the chat binds; return the address actually bound."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(socket.SOMAXCONN)
        self.sock.setblocking(False)
        self.loop.register(self.sock, self, read=True, label="live listener")
        host, port = self.sock.getsockname()[:2]
        self.hosts = local_names(host, port)
        return host, port

    def handle_read(self):
        for _ in range(ACCEPT_BATCH):
            try:
                sock, peer = self.sock.accept()
            except BlockingIOError:
                return
            except OSError as error:  # out of descriptors: the chat needs them more
                self.server.log.write("error", f"live view: accept failed: {error}")
                return
            if len(self.clients) >= MAX_WEB_CLIENTS or (
                    self.loop.backend == "select" and sock.fileno() >= FD_SETSIZE):
                _refuse(sock, Refusal(503, "too many browsers"))
                continue
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, VIEWER_SNDBUF)
            self.clients.add(WebClient(self, sock, peer))

    # --- watching: the feed is attached only while someone watches ------------------

    def add_viewer(self, client):
        self.viewers.add(client)
        self.server.log.write("live", f"viewer from {client.peer[0]} watching ({len(self.viewers)} now)")
        if self.ticker is None:
            # At the end of this pass, not inside the handler: the loop must see
            # the same observer from the start to the end of a call it times.
            self.loop.call_soon(self.start_watching)
        else:
            client.stream.write(self._frame(self.feed.update()))

    def forget(self, client, reason):
        self.clients.discard(client)
        if client in self.viewers:
            self.viewers.discard(client)
            self.server.log.write("live", f"viewer from {client.peer[0]} gone: {reason}")
        if not self.viewers and self.ticker is not None:
            self.loop.call_soon(self.stop_watching)

    def start_watching(self):
        if self.ticker is not None or not self.viewers:
            return
        self.feed.reset()
        plain = self.plain_observer
        self._observe(FanOut(plain, self.feed) if plain else self.feed)
        self.ticker = self.loop.call_every(INTERVAL, self.broadcast)
        self.broadcast()

    def stop_watching(self):
        if self.ticker is None or self.viewers:
            return
        self.ticker.cancel()
        self.ticker = None
        self._observe(self.plain_observer)

    def _observe(self, observer):
        self.server.observer = self.loop.observer = observer

    def broadcast(self):
        """One update to every viewer (one too far behind is dropped instead)."""
        frame = self._frame(self.feed.update())
        self.feed.reset()
        for client in list(self.viewers):
            client.send_update(frame)

    @staticmethod
    def _frame(update):
        # json.dumps escapes newlines and non-ASCII: one data line, nothing a viewer could misread.
        return b"data: " + json.dumps(update, separators=(",", ":")).encode("ascii") + b"\n\n"

    def close(self):
        """Stop listening and drop every browser (the server is shutting down)."""
        if self.sock is not None and self.sock.fileno() >= 0:
            self.loop.unregister(self.sock)
            self.sock.close()
        for client in list(self.clients):
            client.stream.abort("server shut down")
        self.viewers.clear()
        if self.ticker is not None:
            self.ticker.cancel()
            self.ticker = None
            self._observe(self.plain_observer)


def local_names(host, port):
    """The ``Host`` headers a page bound to ``host`` accepts: None (any) unless on loopback."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        return None
    shown = f"[{host}]" if ":" in host else host
    return {f"{shown}:{port}", f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"}


def _refuse(sock, refusal):
    """Answer a connection we do not take, best effort, never blocking.

    What the browser already sent is read first: closing a socket with unread
    input makes the kernel send a reset, which can destroy the answer.
    """
    try:
        sock.setblocking(False)
        sock.recv(MAX_LINE * MAX_HEADERS)
    except OSError:
        pass
    try:
        sock.send(refusal_bytes(refusal))
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    sock.close()
