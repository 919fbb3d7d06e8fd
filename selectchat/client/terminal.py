"""``selectchat client``: the full-duplex terminal client, on the server's own event loop.

A chat client must listen to two things at once: the keyboard (you may type
at any moment) and the server (a message may arrive at any moment).  Reading
one with a blocking call would make it deaf to the other.  The answer is the
same as the server's: one ``select()`` over both descriptors, stdin and the
socket, in :class:`TerminalClient` -- no threads, no asyncio, no readline.

Three handlers share the loop: :class:`Keyboard` (stdin), :class:`ServerLink`
(the socket) and :class:`~selectchat.net.signals.SignalSocket` (SIGWINCH, the window was resized, turned
into a readable socket by the self-pipe trick, as the server does with
SIGTERM).  One timer, too: a lone Escape byte is the Escape key only if
nothing follows it within :data:`~selectchat.client.keys.ESCAPE_TIMEOUT`.
What the bytes mean is decided elsewhere, without I/O:
:mod:`~selectchat.client.keys` and :mod:`~selectchat.client.editor` (keys),
:mod:`~selectchat.client.session` (lines), :mod:`~selectchat.client.display`
(the screen).
"""

import codecs
import os
import signal
import socket
import sys
import time

from ..net.loop import EventLoop
from ..net.signals import SignalSocket
from ..net.stream import State, Stream
from .commands import fold
from .display import make_display
from .editor import LineEditor
from .keys import ESCAPE_TIMEOUT, KeyDecoder
from .session import Connect, Exit, Prompt, Send, Session, Show
from .states import DEFAULT_HOST, DEFAULT_PORT

CONNECT_TIMEOUT = 5.0   # seconds to reach the server
LINGER = 2.0            # after our QUIT, seconds to wait for the server to close
KEY_VARIABLE = "SELECTCHAT_KEY"   # the key of a private --room: never on the command line

EPILOG = f"""\
examples:
  selectchat client                              asks for everything it needs
  selectchat client --port 40123 --nick alice    on this machine; shows the rooms, asks which
  selectchat client --nick bob --room lobby      straight into #lobby
  {KEY_VARIABLE}=s3cret selectchat client --nick bob --room staff   a private room (or: asked, masked)
  echo hello | selectchat client --nick bot --room lobby   one message from a script

Type /help in the client for its commands.
"""


class TerminalClient:
    """Run a :class:`Session` with a display, on one :class:`EventLoop`."""

    def __init__(self, session, display, observer=None, stdin_fd=0):
        self.session = session
        self.display = display
        self.editor = LineEditor()
        self.loop = EventLoop(observer=observer)
        self.keyboard = Keyboard(self, stdin_fd)
        self.signals = None
        if display.is_terminal and hasattr(signal, "SIGWINCH"):  # (no SIGWINCH on Windows)
            self.signals = SignalSocket.attach(self.loop, [signal.SIGWINCH], lambda signals: self.resized())
        self.server = None       # a ServerLink, once connected
        self.exit_code = None

    def run(self):
        """Until the session says Exit: one select(), then the ready handlers."""
        try:
            self.apply(self.session.start())
            while self.exit_code is None:
                self.loop.run_once()
        except KeyboardInterrupt:   # Ctrl-C: say goodbye to the server
            self.apply(self.session.interrupted())
        finally:
            if self.server is not None:
                self.server.close()
            if self.signals is not None:
                self.signals.close()
            self.loop.close()
        return self.exit_code

    def apply(self, effects):
        """Carry out what the session decided."""
        for effect in effects:
            if type(effect) is Show:
                self.display.show(effect.text, effect.kind, effect.sender)
            elif type(effect) is Prompt:
                self.editor.secret = effect.secret
                self.display.set_prompt(effect.text, effect.question, effect.secret)
            elif type(effect) is Send:
                if self.server is not None:
                    self.server.write(effect.data)
            elif type(effect) is Connect:
                self.connect(effect.host, effect.port)
            elif type(effect) is Exit:
                self.exit_code = effect.code

    def connect(self, host, port):
        if self.server is not None:
            self.server.close()
            self.server = None
        try:
            # A blocking connect, with a timeout: to a server nearby it takes
            # a moment, and a non-blocking one is a lesson of its own.
            sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
        except OSError as error:
            return self.apply(self.session.connection_failed(error.strerror or str(error)))
        self.server = ServerLink(self.loop, sock, self.server_line, self.server_closed)

    def server_line(self, line):
        if self.exit_code is None:
            self.apply(self.session.server_line(line))

    def server_closed(self, reason):
        self.server = None
        self.apply(self.session.server_closed(reason))

    # --- what a key does ---------------------------------------------------------

    def key(self, key):
        result = self.editor.handle(key)
        if result is None:
            return
        what, line = result
        if what == "line":
            self.display.accept(line)
            self.apply(self.session.user_line(line))
        elif what == "eof":
            self.apply(self.session.end_of_input())
        elif what == "repaint":
            self.display.repaint()
        elif what == "complete":
            matches = self.editor.complete(self.session.completions(), fold)
            if len(matches) > 1:
                self.display.show("  ".join(matches))
        if what in ("changed", "complete"):
            self.display.draw_input(self.editor.text, self.editor.cursor)

    def resized(self):
        self.display.resize()   # measures the window again and draws everything at its new width


class Keyboard:
    """stdin: readable when keys were pressed (or a line arrived on a pipe)."""

    def __init__(self, client, fd):
        self.client = client
        self.fd = fd
        self.keys = KeyDecoder() if client.display.is_terminal else None
        self.lines = _PipeLines() if self.keys is None else None
        self.escape_timer = None
        client.loop.register(fd, self, read=True, label="keyboard")

    def handle_read(self):
        client = self.client
        try:
            data = os.read(self.fd, 4096)
        except OSError:   # e.g. EIO: the terminal was closed
            data = b""
        if client.loop.observer:
            client.loop.observer.record("recv", fd=self.fd, bytes=len(data))
        if not data:      # EOF: stop watching, or select() would return at once forever
            client.loop.unregister(self.fd)
        if self.lines is not None:
            return self._pipe(data)
        if not data:
            return client.apply(client.session.end_of_input())
        if self.escape_timer is not None:
            self.escape_timer.cancel()
        for key in self.keys.feed(data):
            client.key(key)
        if self.keys.pending:   # a lone ESC (or half a sequence): wait a moment for the rest
            self.escape_timer = client.loop.call_later(ESCAPE_TIMEOUT, self._escape_timeout)

    def _escape_timeout(self):
        self.escape_timer = None
        for key in self.keys.timeout():
            self.client.key(key)

    def _pipe(self, data):
        for line in self.lines.feed(data):
            if line is None:
                self.client.apply(self.client.session.end_of_input())
            else:
                self.client.apply(self.client.session.user_line(line))

    def handle_write(self):
        pass


class _PipeLines:
    """stdin as a pipe: bytes in, whole lines out; ``None`` stands for the end of input."""

    def __init__(self):
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial = ""

    def feed(self, data):
        text = self._partial + self._decoder.decode(data, final=not data)
        *lines, self._partial = text.split("\n")
        lines = [line.removesuffix("\r") for line in lines]
        if not data:  # a last line without "\n" still counts
            if self._partial:
                lines.append(self._partial)
                self._partial = ""
            lines.append(None)
        return lines


class ServerLink:
    """The connection to the server: a :class:`~selectchat.net.stream.Stream` and where its lines go.

    The stream does what every select() connection must (non-blocking reads,
    an output buffer watched for writing only while it holds something,
    closing that drains); this class only says what its events mean here.
    A connection that breaks (reset, refused write) is reported once through
    ``on_close(reason)``, never ignored; a server that simply closed is
    reported with an empty reason.
    """

    def __init__(self, loop, sock, on_line, on_close):
        self.on_line, self.on_close = on_line, on_close
        self.stream = Stream(loop, sock, self, label="server", max_line=64 * 1024)
        self.closed = False
        self._peer_closed = False

    def write(self, data):
        self.stream.write(data)  # (dropped once the stream is closing or closed)

    def lines_received(self, lines):
        for line in lines:
            if self.closed:
                break
            self.on_line(line)

    def eof_received(self):
        self._peer_closed = True
        return False  # the stream sends what is queued, then closes

    def connection_lost(self, reason):
        if not self.closed:
            self.closed = True
            self.on_close("" if self._peer_closed else reason)

    def close(self):
        """Send what is still queued (our QUIT), then wait a little for the server to close."""
        if self.closed:
            return
        self.closed = True
        stream, deadline = self.stream, time.monotonic() + LINGER
        stream.close("quit")
        while stream.state is not State.CLOSED and time.monotonic() < deadline:
            stream.loop.run_once(timeout=0.1)
        stream.abort("quit")


# --- the command line ------------------------------------------------------------

def add_arguments(parser):
    """The options of ``selectchat client``; what is left out is asked for."""
    parser.add_argument("--host", help=f"server address (default {DEFAULT_HOST}; asked if neither "
                        "--host nor --port is given)")
    parser.add_argument("--port", type=int, help=f"server port (default {DEFAULT_PORT}; asked if neither "
                        "--host nor --port is given)")
    parser.add_argument("--nick", help="your nickname (asked if not given)")
    parser.add_argument("--room", help="the room to join (if not given: the rooms are shown, and you pick); "
                        f"a private room's key is read from ${KEY_VARIABLE}, or asked, masked")
    parser.add_argument("--password-env", metavar="VAR",
                        help="read the server password from environment variable VAR")
    parser.add_argument("--trace", metavar="FILE",
                        help="record this client's select() loop to FILE (see docs/tracing.md)")


def main(args):
    """``selectchat client``: exit 0 after /quit, Ctrl-D or Ctrl-C; 1 if the server went away."""
    if sys.platform == "win32":
        print("selectchat client: Windows' select() cannot watch the keyboard; "
              "use WSL, or another IRC client", file=sys.stderr)
        return 2
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            print(f"selectchat client: environment variable {args.password_env} is not set", file=sys.stderr)
            return 2
    host, port = args.host, args.port
    if (host is None) != (port is None):   # one given: the other takes its default, unasked
        host, port = host or DEFAULT_HOST, port or DEFAULT_PORT
    key = os.environ.get(KEY_VARIABLE) or None
    session = Session(host, port, args.nick, args.room, key if args.room else None, password)
    # SIGTERM takes the same way out as an error: the terminal is restored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    recorder = None
    if args.trace:
        from ..trace import Recorder
        try:
            recorder = Recorder(path=args.trace, backend="select", program="client")
        except OSError as error:
            print(f"selectchat client: cannot write the trace {args.trace}: {error.strerror}", file=sys.stderr)
            return 2
    try:
        with make_display() as display:
            return TerminalClient(session, display, observer=recorder).run()
    finally:
        if recorder is not None:
            recorder.close()   # write what is pending and the end event
