"""The terminal client's screen: messages above, the line being typed on the last row.

Two displays with one interface, chosen by :func:`make_display`:

* :class:`PlainDisplay` -- stdin or stdout is not a terminal (a pipe, a file,
  a test): whole lines out, never an escape code; the typed line is not drawn;
* :class:`TerminalDisplay` -- both are terminals: the terminal is put in
  *cbreak* mode (keys arrive one by one, not echoed), and the line being
  typed (kept by :class:`~selectchat.client.editor.LineEditor`) is drawn on
  the last row.  Each incoming message is written *above* it: erase the row,
  print the message, draw the row again.  The typed line always takes exactly
  one row: a line wider than the screen scrolls sideways (``<`` and ``>``
  mark the hidden parts), so a message can never land in the middle of it and
  leave a stale copy behind.  Widths are measured in columns
  (:mod:`~selectchat.client.width`), not characters: 日本語 takes six.

The interface: ``show(text, kind, sender)``, ``set_prompt(text, question,
secret)``, ``draw_input(text, cursor)``, ``accept(text)`` (the typed line was
sent), ``repaint()`` (Ctrl-L), ``resize()`` (SIGWINCH).

Everything shown passes through :func:`clean` first, so a peer cannot send
escape codes to your terminal.  Colour is used only on a terminal, and never
when the ``NO_COLOR`` environment variable is set (https://no-color.org).
"""

import os
import re
import sys
import time
import zlib
from collections import deque

from .width import char_width, fit_end, fit_start, fits, text_width

try:
    import termios
    import tty
except ImportError:   # Windows: no terminal modes (and select() takes only sockets there)
    termios = tty = None

# Control characters (C0, DEL, C1) and the bidirectional overrides: a peer's
# text could use them to move our cursor, recolour the screen or reverse text.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# kind -> (SGR colour code of the whole line or None, whether to time-stamp it, format)
STYLES = {
    "info": (None, False, "{text}"),               # help, room lists, answers to commands
    "error": ("31", False, "{text}"),              # a refusal or a mistake, as a sentence
    "chat": (None, True, "<{sender}> {text}"),
    "self": (None, True, "<{sender}> {text}"),     # what we said
    "action": ("3", True, "* {sender} {text}"),
    "private": ("35", True, "*{sender}* {text}"),  # to us alone
    "sent": ("35", True, "-> *{sender}* {text}"),  # from us to one person
    "notice": ("36", True, "-{sender}- {text}"),   # a NOTICE: no answer expected
    "event": ("90", True, "-- {text}"),            # joined, left, the room changed
    "server": ("33", True, "-- {text}"),           # -- the server: maintenance at noon
}
NICK_COLOURS = ("32", "33", "34", "35", "36", "91", "92", "94", "95", "96")
PASTE_ON, PASTE_OFF = "\x1b[?2004h", "\x1b[?2004l"   # ask for bracketed paste (see keys.py)


def clean(text):
    """``text`` with control characters replaced, safe to print on a terminal (one character each)."""
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
    """Line out; no escape codes.  Also a context manager, doing nothing."""

    is_terminal = False

    def __init__(self, stdout=None):
        self.out = stdout or sys.stdout

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def format(self, text, kind="info", sender=""):
        """The line to print for a message, without colour."""
        stamp, layout = STYLES.get(kind, STYLES["info"])[1:]
        line = layout.format(text=clean(text), sender=clean(sender))
        return f"{time.strftime('%H:%M')} {line}" if stamp else line

    def show(self, text, kind="info", sender=""):
        self._write(self.format(text, kind, sender) + "\n")

    def set_prompt(self, text, question=False, secret=False):
        if question:  # the chat prompt is not printed: no one would see it in a log
            self._write(clean(text).rstrip() + "\n")

    def draw_input(self, text, cursor):
        pass

    def accept(self, text):
        pass

    def repaint(self):
        pass

    def resize(self):
        pass

    def _write(self, text):
        try:
            self.out.write(text)
            self.out.flush()
        except OSError:  # whoever read our output went away (EPIPE, EIO): carry on quietly
            pass


class TerminalDisplay(PlainDisplay):
    """A terminal in cbreak mode, the typed line on one row under the messages.

    Use it as a context manager: the terminal's settings are saved on entry
    and restored on exit -- whether the client quits, is interrupted by Ctrl-C,
    or fails with an exception.
    """

    is_terminal = True

    def __init__(self, stdin_fd=0, stdout=None, colour=True):
        super().__init__(stdout)
        self.fd = stdin_fd
        self.colour = colour
        self.prompt, self.question, self.secret = "", False, False
        self.text, self.cursor = "", 0     # the typed line, as the editor last gave it
        self.columns, self.rows = 80, 24
        self.recent = deque(maxlen=500)    # (painted line, its width): what Ctrl-L draws again
        self._scroll = 0                   # index of the first character shown of a long line
        self._saved = None

    # --- the terminal's mode -----------------------------------------------------

    def __enter__(self):
        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)     # no line editing, no echo; Ctrl-C still sends SIGINT
        self._measure()
        self._write(PASTE_ON)
        return self

    def __exit__(self, *exc_info):
        self._write("\r\x1b[K" + PASTE_OFF)
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        return None

    def _measure(self):
        try:
            self.columns, self.rows = os.get_terminal_size(self.out.fileno())
        except (OSError, ValueError):
            pass
        self.columns, self.rows = max(self.columns, 10), max(self.rows, 2)

    # --- lines out -------------------------------------------------------------

    def show(self, text, kind="info", sender=""):
        line = self._paint(text, kind, sender)
        self.recent.append((line, text_width(self.format(text, kind, sender))))
        self._write("\r\x1b[K" + line + "\r\n" + self._input_row())

    def set_prompt(self, text, question=False, secret=False):
        self.prompt, self.question, self.secret = text, question, secret
        self._scroll = 0
        self._write(self._input_row())

    def draw_input(self, text, cursor):
        self.text, self.cursor = text, cursor
        self._write(self._input_row())

    def accept(self, text):
        """The line was sent: a question keeps its answer on screen (masked if secret)."""
        self.text, self.cursor, self._scroll = "", 0, 0
        if self.question:
            answer = "*" * len(text) if self.secret else clean(text)
            self.show(clean(self.prompt) + answer)
        else:
            self._write(self._input_row())

    def repaint(self):
        """Clear the screen; draw the last messages that fit, then the typed line."""
        lines, used = [], 0
        for line, width in reversed(self.recent):
            height = max(1, -(-width // self.columns))
            if used + height > self.rows - 1:
                break
            lines.append(line)
            used += height
        body = "".join(line + "\r\n" for line in reversed(lines))
        self._write("\x1b[H\x1b[2J" + body + self._input_row())

    def resize(self):
        self._measure()
        self.repaint()

    def _paint(self, text, kind, sender):
        line = self.format(text, kind, sender)
        colour = STYLES.get(kind, STYLES["info"])[0]
        if not self.colour:
            return line
        if kind in ("chat", "self") and sender:  # colour only the name, by the name
            name = f"<{clean(sender)}>"
            code = "1" if kind == "self" else NICK_COLOURS[zlib.crc32(sender.encode()) % len(NICK_COLOURS)]
            return line.replace(name, f"\x1b[{code}m{name}\x1b[0m", 1)
        return f"\x1b[{colour}m{line}\x1b[0m" if colour else line

    # --- the typed line: one row, scrolled sideways --------------------------------

    def _input_row(self):
        """Escape codes that draw prompt + typed line on the cursor's row, cursor in place."""
        prompt = clean(self.prompt)
        widest = max(self.columns - 12, self.columns // 2)    # leave room to type an answer
        if text_width(prompt) > widest:                         # a long question on a narrow screen
            prompt = "\N{HORIZONTAL ELLIPSIS}" + fit_end(prompt, widest - 1)
        shown = "*" * len(self.text) if self.secret else clean(self.text)
        room = self.columns - 1 - text_width(prompt)         # the last column stays empty
        start = self._scroll_start(shown, room)
        marker = "<" if start else ""
        rest = shown[start:]
        if not fits(rest, room - len(marker)):
            visible = fit_start(rest, room - len(marker) - 1) + ">"
        else:
            visible = rest
        column = text_width(prompt) + len(marker) + text_width(shown[start:self.cursor])
        painted = f"\x1b[1m{prompt}\x1b[0m" if self.colour else prompt
        return f"\r{painted}{marker}{visible}\x1b[K\r" + (f"\x1b[{column}C" if column else "")

    def _scroll_start(self, shown, room):
        """Where the visible part starts: moved only as far as needed to keep the cursor in view."""
        cursor = min(self.cursor, len(shown))
        if fits(shown, room):
            self._scroll = 0
        self._scroll = min(self._scroll, cursor)
        if self._scroll and not fits(shown[self._scroll:cursor], room - 2):
            # The cursor went past the right edge: show the text just before it ("<" takes a column).
            self._scroll = cursor - len(fit_end(shown[:cursor], room - 2))
        elif not self._scroll and not fits(shown[:cursor], room - 1):
            self._scroll = cursor - len(fit_end(shown[:cursor], room - 2))
        while self._scroll < cursor and char_width(shown[self._scroll]) == 0:
            self._scroll += 1           # never start on an accent: it would sit on the "<"
        return self._scroll
