"""The terminal client's screen and keyboard: what is shown, and the line being typed.

Two displays with one interface, chosen by :func:`make_display`:

* :class:`PlainDisplay` -- stdin or stdout is not a terminal (a pipe, a file,
  a test): the terminal (if any) edits the line, we read whole lines and print
  whole lines, and never write an escape code;
* :class:`TerminalDisplay` -- both are terminals: the terminal is put in
  *cbreak* mode (keys arrive one by one, not echoed), we keep the line being
  typed ourselves, and each incoming message is written *above* it: erase the
  typed line, print the message, draw the typed line again.  That is how a
  message can arrive in the middle of a word without garbling it.

The interface:

``feed(data) -> list``
    bytes read from stdin in, complete typed lines (``str``) out; ``None`` in
    the list stands for "end of input" (EOF, or Ctrl-D on an empty line).
``show(text, kind="info", sender="")``
    print one message; ``kind`` picks its look (see :data:`STYLES`).
``set_prompt(text, question=False, secret=False)``
    what precedes the typed line (``#lobby> ``); a *question* (``Nickname: ``)
    is printed on its own line in plain mode, and a *secret* answer (a
    password) is drawn as ``*``.

Everything shown passes through :func:`clean` first, so a peer cannot send
escape codes to your terminal.  Colour is used only on a terminal, and never
when the ``NO_COLOR`` environment variable is set (https://no-color.org).
"""

import codecs
import os
import re
import sys
import time
import zlib

try:
    import termios
    import tty
except ImportError:   # Windows: no terminal modes (and select() takes only sockets there)
    termios = tty = None

# Control characters (C0, DEL, C1) and the bidirectional overrides: a peer's
# text could use them to move our cursor, recolour the screen or reverse text.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# kind -> (SGR colour code of the whole line or None, whether to time-stamp it)
STYLES = {
    "info": (None, False),       # help, room lists, answers to commands
    "error": ("31", False),      # a refusal or a mistake, as a sentence
    "chat": (None, True),        # <bob> hello
    "self": (None, True),        # <alice> hello   (what we said)
    "action": ("3", True),       # * bob waves
    "private": ("35", True),     # *bob* psst       (to us alone)
    "sent": ("35", True),        # -> *bob* psst    (from us to bob alone)
    "notice": ("90", True),      # -- bob joined #lobby
    "server": ("33", True),      # -- the server: maintenance at noon
}
NICK_COLOURS = ("32", "33", "34", "35", "36", "91", "92", "94", "95", "96")


def clean(text):
    """``text`` with control characters replaced, safe to print on a terminal."""
    return _UNSAFE.sub(lambda m: " " if m.group() == "\t" else "\N{REPLACEMENT CHARACTER}", text)


def wants_colour(stream):
    """Colour on a terminal, unless NO_COLOR is set to anything but ``""``."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def make_display(stdin_fd=0, stdout=None):
    """A :class:`TerminalDisplay` if stdin and stdout are terminals, else a :class:`PlainDisplay`."""
    stdout = stdout or sys.stdout
    if termios is not None and os.isatty(stdin_fd) and stdout.isatty():
        return TerminalDisplay(stdin_fd, stdout, colour=wants_colour(stdout))
    return PlainDisplay(stdout)


class PlainDisplay:
    """Line in, line out; no escape codes.  Also a context manager, doing nothing."""

    def __init__(self, stdout=None):
        self.out = stdout or sys.stdout
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial = ""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def feed(self, data):
        text = self._partial + self._decoder.decode(data, final=not data)
        *lines, self._partial = text.split("\n")
        lines = [line.removesuffix("\r") for line in lines]
        if not data:  # end of input: a last line without "\n" still counts
            if self._partial:
                lines.append(self._partial)
                self._partial = ""
            lines.append(None)
        return lines

    def format(self, text, kind="info", sender=""):
        """The line to print for a message, without colour."""
        text, sender = clean(text), clean(sender)
        if kind in ("chat", "self"):
            text = f"<{sender}> {text}"
        elif kind == "action":
            text = f"* {sender} {text}"
        elif kind == "private":
            text = f"*{sender}* {text}"
        elif kind == "sent":
            text = f"-> *{sender}* {text}"
        elif kind in ("notice", "server"):
            text = f"-- {text}"
        if STYLES.get(kind, (None, False))[1]:
            text = f"{time.strftime('%H:%M')} {text}"
        return text

    def show(self, text, kind="info", sender=""):
        self._write(self.format(text, kind, sender) + "\n")

    def set_prompt(self, text, question=False, secret=False):
        if question:  # the chat prompt is not printed: no one would see it in a log
            self._write(clean(text).rstrip() + "\n")

    def _write(self, text):
        try:
            self.out.write(text)
            self.out.flush()
        except OSError:  # whoever read our output went away (EPIPE, EIO): carry on quietly
            pass


class TerminalDisplay(PlainDisplay):
    """A terminal in cbreak mode, with the typed line kept under the messages.

    Use it as a context manager: the terminal's settings are saved on entry
    and restored on exit -- whether the client quits, is interrupted by Ctrl-C,
    or fails with an exception.
    """

    def __init__(self, stdin_fd=0, stdout=None, colour=True):
        super().__init__(stdout)
        self.fd = stdin_fd
        self.colour = colour
        self.prompt = ""
        self.question = False
        self.secret = False
        self.typed = []            # the characters of the line being typed
        self._escape = ""          # the start of an escape sequence (an arrow key...)
        self._saved = None         # the terminal settings to restore
        self._drawn = 0            # characters of prompt + typed line now on screen

    # --- the terminal's mode -----------------------------------------------------

    def __enter__(self):
        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)     # no line editing, no echo; Ctrl-C still sends SIGINT
        return self

    def __exit__(self, *exc_info):
        self._clear_input()
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        return None

    # --- keys in ---------------------------------------------------------------

    def feed(self, data):
        lines = []
        if not data:
            return [None]
        for char in self._decoder.decode(data):
            if self._escape or char == "\x1b":   # swallow ESC [ ... final, e.g. arrow keys
                self._escape += char
                if len(self._escape) > 1 and (self._escape[1] not in "[O" or
                                              (len(self._escape) > 2 and "@" <= char <= "~")):
                    self._escape = ""
            elif char in "\r\n":
                lines.append(self._enter())
            elif char in "\x7f\x08":                 # Backspace
                if self.typed:
                    self.typed.pop()
                    self._redraw()
            elif char == "\x15":                     # Ctrl-U: erase the line
                self.typed.clear()
                self._redraw()
            elif char == "\x17":                     # Ctrl-W: erase the last word
                while self.typed and self.typed[-1] == " ":
                    self.typed.pop()
                while self.typed and self.typed[-1] != " ":
                    self.typed.pop()
                self._redraw()
            elif char == "\x0c":                     # Ctrl-L: draw the line again
                self._redraw()
            elif char == "\x04":                     # Ctrl-D: end of input, on an empty line
                if not self.typed:
                    lines.append(None)
            elif char == "\t" or char >= " ":
                self.typed.append(" " if char == "\t" else char)
                self._write(self._shown(char))       # the fast path: just echo it
                self._drawn += 1
        return lines

    def _enter(self):
        line = "".join(self.typed)
        self._clear_input()
        if self.question:  # keep the question and its answer on screen
            self._write(clean(self.prompt) + self._shown(line) + "\r\n")
        self.typed.clear()
        self._draw_input()
        return line

    # --- lines out -------------------------------------------------------------

    def show(self, text, kind="info", sender=""):
        self._clear_input()
        self._write(self._paint(text, kind, sender) + "\r\n")
        self._draw_input()

    def set_prompt(self, text, question=False, secret=False):
        self._clear_input()
        self.prompt, self.question, self.secret = text, question, secret
        self._draw_input()

    def _paint(self, text, kind, sender):
        line = self.format(text, kind, sender)
        colour = STYLES.get(kind, (None, False))[0]
        if not self.colour:
            return line
        if kind in ("chat", "self") and sender:  # colour only the name, by the name
            name = f"<{clean(sender)}>"
            code = "1" if kind == "self" else NICK_COLOURS[zlib.crc32(sender.encode()) % len(NICK_COLOURS)]
            line = line.replace(name, f"\x1b[{code}m{name}\x1b[0m", 1)
        elif colour:
            line = f"\x1b[{colour}m{line}\x1b[0m"
        return line

    # --- drawing the typed line ------------------------------------------------

    def _shown(self, text):
        return "*" * len(text) if self.secret else clean(text)

    def _clear_input(self):
        """Erase the prompt and the typed line, which may have wrapped onto more rows."""
        try:
            width = os.get_terminal_size(self.out.fileno()).columns or 80
        except (OSError, ValueError):
            width = 80
        # After exactly `width` characters the cursor still waits on the same row.
        rows = (self._drawn - 1) // width if self._drawn else 0
        self._write((f"\x1b[{rows}A" if rows else "") + "\r\x1b[J")
        self._drawn = 0

    def _draw_input(self):
        prompt = clean(self.prompt)
        self._write((f"\x1b[1m{prompt}\x1b[0m" if self.colour else prompt) + self._shown("".join(self.typed)))
        self._drawn = len(prompt) + len(self.typed)

    def _redraw(self):
        self._clear_input()
        self._draw_input()
