"""The chat server: sockets and the console on one event loop, the rules in the core.

Everything the server does happens in handlers called by the one
``select()`` loop (:mod:`selectchat.loop`):

* :class:`Listener` -- the listening socket is readable when a connection
  waits: accept it, make it non-blocking, hand it to the core;
* :class:`Connection` -- a client socket is readable when bytes (or EOF)
  arrived: frame them into lines and feed them to the core; it is watched
  for writing only while its output buffer holds something;
* :class:`ConsoleReader` -- stdin is readable when the operator typed a line;
* :class:`SignalWaker` -- SIGINT/SIGTERM wake the loop through a socket
  (the "self-pipe trick"), so shutdown happens between passes, cleanly.

The chat core returns effects (send these bytes, close that connection, log
this); :meth:`Server.apply` carries them out.  No handler ever blocks: a
client that stops reading only fills its own output buffer, which is capped
(``max_sendq``); past the cap that client alone is disconnected.
"""

import errno
import os
import signal
import socket
import sys
import time
from collections import deque
from dataclasses import dataclass, field

from .chat import Chat, Close, Event, Send, Settings, irc_lower
from .console import Console, stdin_bridge
from .framing import LineBuffer
from .loop import FD_SETSIZE, EventLoop
from .protocol import format_line

RECV_SIZE = 16384     # bytes read per readiness: a flooding client gets a bounded turn
ACCEPT_BATCH = 64     # connections accepted per readiness of the listener
CLOSE_TIMEOUT = 5.0   # a closing client has this long to take its last lines
LINGER = 1.0          # after our last byte, wait this long for the peer's EOF


@dataclass
class ServerConfig:
    """Everything ``selectchat server`` can be told on its command line."""

    host: str = "127.0.0.1"
    port: int = 0
    rooms: list = field(default_factory=list)   # [(name, limit, key)]
    settings: Settings = field(default_factory=Settings)
    max_clients: int = 1000
    max_sendq: int = 256 * 1024
    backend: str = "select"
    console: bool = True
    console_thread: bool = sys.platform == "win32"
    exit_on_eof: bool = False
    log_file: str | None = None      # append the log here ("-": stderr)
    log_size: int = 1000             # entries kept in memory for the console
    tick_interval: float = 1.0       # how often the core checks for idle clients


class Server:
    """One chat server: a listening socket, its clients, a console, a loop."""

    def __init__(self, config, observer=None, stdout=None):
        self.config = config
        self.observer = observer
        self.stdout = stdout or sys.stdout
        self.loop = EventLoop(config.backend, observer)
        self.chat = Chat(config.settings)
        self.connections = {}   # fd -> Connection
        self.log = deque(maxlen=config.log_size)
        self.console = Console(self.chat, self.log)
        self.exit_code = 0
        self._log_stream = None
        self._clock_second, self._clock_text = None, ""
        self._stopping = False
        self.listener = None

    # --- start and stop ---------------------------------------------------------

    def start(self):
        """Bind, listen, set up the console and signals. Returns (host, port)."""
        if self.config.log_file == "-":
            self._log_stream = sys.stderr
        elif self.config.log_file:
            self._log_stream = open(self.config.log_file, "a", buffering=1, encoding="utf-8")
        for name, limit, key in self.config.rooms:
            self.apply(self.chat.create_room(name, limit, key))
        _allow_descriptors(self.config.max_clients + 64)
        self.listener = Listener(self)
        if self.config.console:
            ConsoleReader.attach(self)
        SignalWaker.attach(self)
        self.loop.call_every(self.config.tick_interval, self._tick)
        return self.listener.address

    def serve_forever(self):
        """Run the loop until shutdown; then let clients take their last lines."""
        self.loop.run()
        deadline = time.monotonic() + CLOSE_TIMEOUT
        while self.connections and time.monotonic() < deadline:
            self.loop.run_once(timeout=0.1)
        for conn in list(self.connections.values()):
            conn.close("server shut down")
        self.loop.close()
        if self._log_stream not in (None, sys.stderr):
            self._log_stream.close()
        return self.exit_code

    def shutdown(self, reason="Server shutting down"):
        """Tell every client, stop accepting, and stop the loop after this pass."""
        if self._stopping:
            return
        self._stopping = True
        self.record_log("shutdown", reason)
        self.listener.close()
        self.apply(self.chat.shutdown(reason))
        self.loop.stop()

    def _tick(self):
        self.apply(self.chat.tick(self.loop.time()))

    # --- carrying out what the core decided ------------------------------------

    def apply(self, effects):
        """Do what the chat core asked: queue bytes, close connections, log.

        Sends in a row to the same connections (a burst of messages to one
        room) are joined first, so each output buffer grows once per burst
        rather than once per line: members x 1 calls instead of members x lines.
        """
        to, parts = None, []
        for effect in effects:
            if type(effect) is Send:
                if effect.to != to:  # another audience: deliver what we hold first
                    self._queue(to, parts)
                    to, parts = effect.to, []
                parts.append(effect.data)
            elif type(effect) is Close:
                self._queue(to, parts)  # its last lines go before the close
                to, parts = None, []
                effect.conn.close_after_flush(effect.reason)
            else:
                self.note_event(effect)
        self._queue(to, parts)

    def _queue(self, to, parts):
        if parts:
            data = b"".join(parts)
            for conn in to:
                conn.queue(data)

    def note_event(self, event):
        self.record_log(event.kind, event.text)
        if self.observer:   # (the Recorder gathers a burst of messages into one event)
            self.observer.record("app", event=event.kind, text=event.text, **event.fields)
        if event.kind in ("register", "nick"):  # name the descriptor after its user
            user = self.chat.nicks.get(irc_lower(event.fields.get("nick") or event.fields.get("new")))
            if user is not None:
                self.loop.relabel(user.conn.sock, user.nick)

    def record_log(self, kind, text):
        line = f"{self._clock()} {kind:<12} {text}"
        self.log.append(line)
        if self._log_stream is not None:
            self._log_stream.write(line + "\n")

    def _clock(self):
        """``HH:MM:SS`` now, formatted once per second (the log is on the hot path)."""
        second = int(time.time())
        if second != self._clock_second:
            self._clock_second, self._clock_text = second, time.strftime("%H:%M:%S", time.localtime(second))
        return self._clock_text

    def print(self, text):
        """Console output (stdout). Only the operator reads it."""
        self.stdout.write(text + "\n")
        self.stdout.flush()


class Listener:
    """The listening socket: readable means a connection is waiting in accept()."""

    def __init__(self, server):
        self.server = server
        config = server.config
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((config.host, config.port))
        self.sock.listen(socket.SOMAXCONN)  # a classroom connecting at once must not overflow it
        self.sock.setblocking(False)
        self.address = self.sock.getsockname()[:2]
        server.loop.register(self.sock, self, read=True, label="listener")

    def handle_read(self):
        server = self.server
        for _ in range(ACCEPT_BATCH):
            try:
                sock, peer = self.sock.accept()
            except BlockingIOError:
                return  # no more waiting connections
            except OSError as error:  # e.g. EMFILE: out of descriptors; pause, don't spin
                server.record_log("error", f"accept failed: {error}")
                self.pause(0.5)
                return
            if server.observer:
                server.observer.record("accept", fd=sock.fileno(), peer=f"{peer[0]}:{peer[1]}")
            too_many = len(server.connections) >= server.config.max_clients
            if too_many or (server.loop.backend == "select" and sock.fileno() >= FD_SETSIZE):
                self.refuse(sock, peer, "Server is full")
            else:
                Connection(server, sock, peer)

    def refuse(self, sock, peer, reason):
        """Turn a connection away with one ERROR line (best effort, never blocking)."""
        line = format_line("", "ERROR", f"Closing Link: {peer[0]} ({reason})")
        try:
            sock.setblocking(False)
            sent = sock.send(line)
        except OSError:
            sent = 0
        self.server.record_log("refused", f"connection from {peer[0]} refused: {reason}")
        if self.server.observer:
            self.server.observer.record("send", fd=sock.fileno(), asked=len(line), sent=sent)
            self.server.observer.record("close", fd=sock.fileno(), reason=reason)
        sock.close()

    def pause(self, seconds):
        self.server.loop.modify(self.sock, read=False)
        self.server.loop.call_later(seconds, self.resume)

    def resume(self):
        if self.sock.fileno() >= 0:  # not closed by a shutdown meanwhile
            self.server.loop.modify(self.sock, read=True)

    def handle_write(self):
        pass

    def close(self):
        if self.sock.fileno() >= 0:
            self.server.loop.unregister(self.sock)
            self.sock.close()


class Connection:
    """One client: its socket, the bytes read but not yet a line, the bytes to send."""

    def __init__(self, server, sock, peer):
        self.server = server
        self.sock = sock
        self.fd = sock.fileno()
        self.peer = peer
        self.lines = LineBuffer()
        self.outbuf = bytearray()
        self.max_sendq = server.config.max_sendq
        self.closing = False   # a Close effect arrived: send what is queued, then close
        self.closed = False
        sock.setblocking(False)
        # Chat lines are small and interactive: send each batch at once rather
        # than let Nagle's algorithm hold it until the previous one is acknowledged.
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server.connections[self.fd] = self
        server.loop.register(sock, self, read=True, label=f"{peer[0]}:{peer[1]}")
        server.apply(server.chat.connect(self, peer[0], server.loop.time()))

    def __repr__(self):
        return f"<Connection fd={self.fd} {self.peer[0]}:{self.peer[1]}>"

    # --- reading ---------------------------------------------------------------

    def handle_read(self):
        observer = self.server.observer
        try:
            data = self.sock.recv(RECV_SIZE)
        except BlockingIOError:  # a spurious wake-up: nothing to read after all
            if observer:
                observer.record("eagain", fd=self.fd, call="recv")
            return
        except OSError as error:  # e.g. ECONNRESET: the peer vanished
            return self.close(f"read error: {os.strerror(error.errno) if error.errno else error}")
        if observer:   # (lines: how many this read completes, one per line feed)
            observer.record("recv", fd=self.fd, bytes=len(data), lines=data.count(b"\n"))
        if not data:
            return self.close("connection closed by peer")
        if self.closing:
            return  # we said goodbye; drain what it still sends, ignore it
        server, chat, now = self.server, self.server.chat, self.server.loop.time()
        effects = []
        for line in self.lines.feed(data):
            # (After a QUIT the core has forgotten this client: it ignores the rest.)
            effects += chat.receive(self, line, now)
        server.apply(effects)  # once per recv(), so that a burst is queued in one piece

    # --- writing ---------------------------------------------------------------

    def queue(self, data):
        """Add bytes to the output buffer; they go out when the socket is writable."""
        outbuf = self.outbuf
        if not outbuf:
            if self.closing or self.closed:
                return  # (a closing connection's buffer holds its ERROR line)
            self.server.loop.modify(self.sock, read=True, write=True)
        outbuf += data
        if len(outbuf) > self.max_sendq:
            self.abort(f"SendQ exceeded ({self.max_sendq} bytes)")

    def handle_write(self):
        try:
            sent = self.sock.send(self.outbuf)
        except BlockingIOError:  # the kernel's buffer filled since select() said writable
            if self.server.observer:
                self.server.observer.record("eagain", fd=self.fd, call="send", asked=len(self.outbuf))
            return
        except OSError as error:  # EPIPE, ECONNRESET: the peer is gone
            return self.close(f"write error: {os.strerror(error.errno) if error.errno else error}")
        observer = self.server.observer
        if observer:
            observer.record("send", fd=self.fd, asked=len(self.outbuf), sent=sent)
        del self.outbuf[:sent]
        if not self.outbuf:
            self.server.loop.modify(self.sock, read=True, write=False)
            if self.closing:
                self._half_close()

    # --- closing ---------------------------------------------------------------

    def close_after_flush(self, reason):
        """Stop taking input; close once the output (its ERROR line) is sent."""
        if self.closing or self.closed:
            return
        self.closing = True
        self.close_reason = reason
        self.server.loop.call_later(CLOSE_TIMEOUT, lambda: self.close(reason + "; output not taken"))
        if not self.outbuf:
            self._half_close()

    def _half_close(self):
        # Closing a socket with unread input makes the kernel send a reset,
        # which can destroy our last lines before the client reads them.
        # So: shut down our side, and close when the client closes its side.
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            return self.close(self.close_reason)
        self.server.loop.call_later(LINGER, lambda: self.close(self.close_reason))

    def abort(self, reason):
        """Drop a client that does not read: one ERROR attempt, then close now."""
        # The last send may have stopped mid-line: finish that line first, so
        # the ERROR is not glued to half a message.
        rest_of_line = self.outbuf[: self.outbuf.find(b"\n") + 1]
        self.outbuf.clear()
        line = bytes(rest_of_line) + format_line("", "ERROR", f"Closing Link: {self.peer[0]} ({reason})")
        try:
            sent = self.sock.send(line)
        except OSError:
            sent = 0
        if self.server.observer:   # the trace accounts for every byte sent
            self.server.observer.record("send", fd=self.fd, asked=len(line), sent=sent)
        self.close(reason)

    def close(self, reason):
        if self.closed:
            return
        self.closed = True
        self.outbuf.clear()
        server = self.server
        if server.observer:
            server.observer.record("close", fd=self.fd, reason=reason)
        server.loop.unregister(self.sock)
        del server.connections[self.fd]
        self.sock.close()
        server.apply(server.chat.disconnect(self, reason))


class ConsoleReader:
    """The operator's stdin, watched by the same select() as the sockets."""

    def __init__(self, server, source):
        self.server = server
        self.source = source  # fd 0, or the loop's end of a stdin_bridge socket
        self.lines = LineBuffer(max_line=4096)
        server.loop.register(source, self, read=True, label="console")

    @classmethod
    def attach(cls, server):
        if sys.__stdin__ is None:
            # Descriptor 0 was closed when Python started (`selectchat server <&-`):
            # by now 0 may be one of our own sockets, which is not a console.
            return server.record_log("console", "no stdin: running without a console")
        if server.config.console_thread:
            return cls(server, stdin_bridge())
        try:
            os.fstat(0)
        except OSError:  # no stdin at all (closed descriptor): serve without a console
            return server.record_log("console", "no stdin: running without a console")
        if os.isatty(0) and os.tcgetpgrp(0) != os.getpgrp():
            # Started in the background (`selectchat server &`): reading the
            # terminal would stop the whole process with SIGTTIN.
            return server.record_log("console", "in the background: running without a console")
        try:
            return cls(server, 0)
        except PermissionError:
            # epoll refuses regular files and /dev/null (they are always ready):
            # read such a stdin through the socket-pair bridge instead.
            server.loop.unregister(0)
            return cls(server, stdin_bridge())

    def handle_read(self):
        server = self.server
        try:
            data = os.read(self.source, 4096) if self.source == 0 else self.source.recv(4096)
        except OSError:
            data = b""
        if not data:
            return self.at_eof()
        for line in self.lines.feed(data):
            if not isinstance(line, bytes):
                server.print("error: line too long")
                continue
            result = server.console.execute(line.decode("utf-8", "replace"))
            for text in result.output:
                server.print(text)
            server.apply(result.effects)
            if result.shutdown:
                server.shutdown(result.shutdown)

    def at_eof(self):
        # Stop watching stdin: at EOF it is always readable, and watching it
        # would make select() return at once, forever (a busy loop).
        server = self.server
        server.loop.unregister(self.source)
        if server.config.exit_on_eof:
            server.shutdown("Server shutting down (console closed)")
        else:
            server.record_log("console", "console closed (EOF); still serving")

    def handle_write(self):
        pass


class SignalWaker:
    """Turn SIGINT/SIGTERM into a readable socket: the self-pipe trick.

    A signal handler may run at any moment; doing real work in it is unsafe.
    Python's ``signal.set_wakeup_fd`` writes the signal number to a socket
    instead, which wakes ``select()``; we shut down from the loop, calmly.
    """

    def __init__(self, server):
        self.server = server
        self.reader, self.writer = socket.socketpair()
        self.reader.setblocking(False)
        self.writer.setblocking(False)
        signal.set_wakeup_fd(self.writer.fileno())
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: None)  # the byte on the socket is enough
        server.loop.register(self.reader, self, read=True, label="signals")

    @classmethod
    def attach(cls, server):
        try:
            return cls(server)
        except ValueError:  # not the main thread (a server run inside a test or notebook)
            return None

    def handle_read(self):
        try:
            data = self.reader.recv(64)
        except BlockingIOError:
            return
        names = ", ".join(signal.Signals(n).name for n in data)
        self.server.shutdown(f"Server shutting down ({names})")

    def handle_write(self):
        pass


def _allow_descriptors(wanted):
    """Raise the soft limit on open files (often 1024) towards ``wanted`` if allowed."""
    try:
        import resource
    except ImportError:  # Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def run(config, observer=None):
    """Start a server, print the contract line, serve until shutdown. Exit code."""
    server = Server(config, observer)
    try:
        host, port = server.start()
    except OSError as error:  # e.g. the port is taken
        print(f"selectchat server: cannot listen on {config.host}:{config.port}: {error.strerror}",
              file=sys.stderr)
        return 1
    print(f"selectchat server listening on {host}:{port}", flush=True)
    return server.serve_forever()
