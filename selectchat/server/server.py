"""The chat server: sockets and the console on one event loop, the rules in the core.

Everything the server does happens in handlers called by the one
``select()`` loop (:mod:`selectchat.net.loop`):

* :class:`~.listener.Listener` -- the listening socket is readable when a
  connection waits: accept it, give it a :class:`~.connection.Connection`;
* :class:`~.connection.Connection` -- a client's stream delivered lines:
  feed them to the core, in bounded turns;
* :class:`~.console_input.ConsoleReader` -- the operator typed a line;
* :mod:`.signals` -- SIGINT/SIGTERM/SIGHUP woke the loop (the self-pipe trick).

The chat core returns effects (send these bytes, send this long reply as the
socket drains, close that connection) and events (log this);
:meth:`Server.apply` carries them out.  This module knows nothing of the
rules of chat: they live in :mod:`selectchat.chat`.
"""

import os
import sys
import time
import traceback

from ..chat import Chat, Close, Send, SendLater, operator
from ..chat.events import NickChanged, Registered
from ..net.loop import EventLoop
from ..net.stream import CLOSE_TIMEOUT
from .console import Console
from .console_input import ConsoleReader
from .live import LiveView
from .listener import Listener
from .log import Log, Sink, printable
from . import signals

RESERVED_DESCRIPTORS = 64  # beside the clients: listener, console, log, trace, signals


class Server:
    """One chat server: a listening socket, its clients, a console, a loop."""

    def __init__(self, config, observer=None):
        self.config = config
        self.observer = observer
        self.loop = EventLoop(config.backend, observer, on_error=self.handle_error)
        # The core reads no clock: it gets the loop's time with each input, and
        # here, once, the time of day that goes with it (for 329, TIME, WHOWAS).
        self.chat = Chat(config.settings, now=self.loop.now, unix_now=time.time())
        self.connections = set()
        self.log = Log(config.log_size)
        self.console = Console(self.chat, self.log)
        self.output = None   # the console's replies (stdout), a Sink
        self.listener = Listener(self)
        self.live = None     # the live web view (--live), a LiveView
        self.exit_code = 0
        self._stopping = False

    # --- start and stop ---------------------------------------------------------

    def start(self):
        """Open the log, create the rooms, listen, attach console and signals. Returns (host, port)."""
        self._open_log()
        self._create_rooms()
        shortfall = _allow_descriptors(self.config.max_clients + RESERVED_DESCRIPTORS)
        if shortfall:  # said once, at start: later, an accept() failing with EMFILE says less
            print(f"selectchat server: {shortfall}", file=sys.stderr, flush=True)
        address = self.listener.listen(self.config.host, self.config.port)
        if sys.stdout is not None:  # (None: started with stdout closed)
            self.output = Sink(self.loop, sys.stdout.fileno(), "stdout")
        if self.config.console:
            ConsoleReader.attach(self)
        signals.attach(self)
        self.loop.call_every(self.config.tick_interval, self._tick)
        return address

    def _open_log(self):
        target = self.config.log_file
        if target == "-":
            self.log.sink = Sink(self.loop, sys.stderr.fileno(), "stderr", on_broken=self._sink_broken)
        elif target:
            fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                self.log.sink = Sink(self.loop, fd, target, on_broken=self._sink_broken)
            finally:
                os.close(fd)

    def _sink_broken(self, sentence):
        self.log.write("log", sentence)  # (the broken sink writes nothing more)
        if self.output is not None and not self.output.broken:
            self.print(f"log: {sentence}")

    def _create_rooms(self):
        for name, limit, key in self.config.rooms:
            self.apply(operator.create_room(self.chat, name, limit, key))

    def serve_forever(self):
        """Run the loop until shutdown; then let clients take their last lines."""
        self.loop.run()
        deadline = time.monotonic() + CLOSE_TIMEOUT
        while self.connections and time.monotonic() < deadline:
            self.loop.run_once(timeout=0.1)
        for conn in list(self.connections):
            conn.stream.abort("server shut down")
        self.loop.close()
        for sink in (self.log.sink, self.output):
            if sink is not None:
                sink.close()
        return self.exit_code

    def shutdown(self, reason="Server shutting down"):
        """Tell every client, stop accepting, and stop the loop after this pass."""
        if self._stopping:
            return
        self._stopping = True
        self.log.write("shutdown", reason)
        self.listener.close()
        if self.live is not None:
            self.live.close()
        self.apply(operator.shutdown(self.chat, reason))
        self.loop.stop()

    def _tick(self):
        self.apply(self.chat.tick(self.loop.now))

    # --- carrying out what the core decided ------------------------------------

    def apply(self, effects, origin=None):
        """Do what the chat core asked: queue bytes, close connections, log.

        Sends in a row to the same connections (a burst of messages to one
        room) are joined first, so each output buffer grows once per burst
        rather than once per line.  ``origin`` is the client whose lines
        caused these effects: a reader whose queue they fill holds it back.
        """
        to, exclude, parts = None, None, []
        for effect in effects:
            kind = type(effect)
            if kind is Send:
                if (effect.to is not to and effect.to != to) or effect.exclude is not exclude:
                    self._deliver(to, exclude, parts, origin)  # another audience: deliver what we hold
                    to, exclude, parts = effect.to, effect.exclude, []
                parts.append(effect.data)
            elif kind is SendLater or kind is Close:
                self._deliver(to, exclude, parts, origin)  # what came before goes first
                to, exclude, parts = None, None, []
                if kind is SendLater:
                    effect.conn.send_later(effect.lines)
                else:
                    effect.conn.close(effect.reason)
            else:  # an event: it changes no output
                self.note_event(effect)
        self._deliver(to, exclude, parts, origin)

    def _deliver(self, to, exclude, parts, origin):
        if not parts:
            return
        data = b"".join(parts)
        for conn in to:
            if conn is exclude:
                continue
            if conn.stream.write(data) > conn.high_water and origin is not None and conn is not origin:
                origin.wait_for(conn)

    def note_event(self, event):
        self.log.event(event)
        if self.observer:  # (the Recorder gathers a burst of messages into one event)
            self.observer.record("app", event=event.kind, text=event.text, **event.fields())
        if type(event) in (Registered, NickChanged):  # name the descriptor after its user
            user = self.chat.find_user(event.nick if type(event) is Registered else event.new)
            if user is not None:
                self.loop.relabel(user.conn.stream.sock, user.nick)

    # --- the console ------------------------------------------------------------

    def run_console_command(self, line):
        result = self.console.execute(line)
        for text in result.output:
            self.print(text)
        self.apply(result.effects)
        if result.shutdown:
            self.shutdown(result.shutdown)

    def print(self, text):
        """Console output (stdout): only the operator reads it."""
        if self.output is not None:
            self.output.write_line(printable(text))

    # --- errors: one failure never ends the server -------------------------------

    def handle_error(self, error):
        """An exception no handler took (a timer, a late callback): log it, go on."""
        self.log_error("internal error", error)

    def log_error(self, what, error):
        self.log.write("error", f"{what}: {type(error).__name__}: {error}")
        for line in traceback.format_exception(error):
            for part in line.rstrip("\n").split("\n"):
                self.log.write("traceback", part)


def _allow_descriptors(wanted):
    """Raise the soft limit on open files (often 1024) towards ``wanted`` if allowed.

    A process may raise its soft limit up to the hard one, no further.
    Returns a sentence saying what is missing, or "" if ``wanted`` fits.
    """
    try:
        import resource
    except ImportError:  # Windows
        return ""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return ""
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        target = soft
    if target >= wanted:
        return ""
    return (f"only {target} open files allowed (hard limit {hard}), so at most about "
            f"{max(0, target - RESERVED_DESCRIPTORS)} clients, not --max-clients {wanted - RESERVED_DESCRIPTORS}; "
            f"raise the limit ('ulimit -Hn', /etc/security/limits.conf) to serve more")


def run(config, observer=None):
    """Start a server, print the contract line, serve until shutdown. Exit code."""
    server = Server(config, observer)
    try:
        host, port = server.start()
    except OSError as error:  # e.g. the port is taken, or the log file cannot be written
        what = f"cannot open the log {error.filename}" if error.filename else \
            f"cannot listen on {config.host}:{config.port}"
        print(f"selectchat server: {what}: {error.strerror}", file=sys.stderr)
        return 1
    if config.live_port is not None:  # the same loop also serves a web page
        server.live = LiveView(server, config.live_text)
        try:
            live_host, live_port = server.live.listen(config.host, config.live_port)
        except OSError as error:
            print(f"selectchat server: cannot serve the live view on {config.host}:{config.live_port}: "
                  f"{error.strerror}", file=sys.stderr)
            return 1
    print(f"selectchat server listening on {host}:{port}", flush=True)
    if server.live is not None:  # (a second line: the first is the contract launchers read)
        shown = f"[{live_host}]" if ":" in live_host else live_host
        print(f"selectchat live view on http://{shown}:{live_port}/", flush=True)
    return server.serve_forever()
