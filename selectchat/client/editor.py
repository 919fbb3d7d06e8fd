"""The line being typed: a buffer, a cursor, a history -- keys in, changes out.

This is the part of a terminal client that libraries such as readline or
prompt_toolkit provide.  We write our own because those want to own the
loop (they block in their own ``read()``), and the lesson of this client is
that the keyboard and the socket share one ``select()``.  The editor never
reads or draws: :meth:`LineEditor.handle` takes one key from
:class:`~selectchat.client.keys.KeyDecoder` and says what happened; the
display draws :attr:`LineEditor.text` with the cursor at :attr:`cursor`.

The cursor is an index into the text, in characters.  It never stops inside
a character and its combining marks (``e`` + U+0301 is one thing to a
person), so Left, Right and Backspace move over the pair as one.
"""

import unicodedata

from .commands import fold as irc_fold

HISTORY_SIZE = 200


def _is_mark(char):
    return unicodedata.combining(char) != 0 or unicodedata.category(char) in ("Mn", "Me")


class LineEditor:
    """A one-line editor with history and completion.

    :meth:`handle` returns one of:

    ``("line", text)``  Enter: the finished line (the buffer is empty again);
    ``("eof", None)``   Ctrl-D on an empty line: end of input;
    ``("repaint", None)`` Ctrl-L: draw the whole screen again;
    ``("complete", None)`` Tab: the caller offers candidates to :meth:`complete`;
    ``("changed", None)`` the text or the cursor moved: draw the line again;
    ``None``            nothing to do.
    """

    def __init__(self):
        self.text = ""
        self.cursor = 0
        self.secret = False      # a password or key is being typed: never kept in the history
        self.history = []        # older lines first
        self._browsing = None    # index into history while Up/Down browse, else None
        self._draft = ""         # the line being typed before Up was pressed

    # --- one key ---------------------------------------------------------------

    def handle(self, key):
        if isinstance(key, tuple):          # ("text", "a") or ("paste", "several\nlines")
            kind, text = key
            return self.insert(text if kind == "text" else _one_line(text))
        action = getattr(self, "key_" + key.replace("-", "_"), None)
        return action() if action else None

    def insert(self, text):
        if not text:
            return None
        self.text = self.text[:self.cursor] + text + self.text[self.cursor:]
        self.cursor += len(text)
        return ("changed", None)

    def key_enter(self):
        line = self.text
        if line.strip() and not self.secret and (not self.history or self.history[-1] != line):
            self.history = (self.history + [line])[-HISTORY_SIZE:]
        self.text, self.cursor, self._browsing, self._draft = "", 0, None, ""
        return ("line", line)

    def key_ctrl_d(self):
        if not self.text:
            return ("eof", None)
        return self.key_delete()            # as in bash: Ctrl-D deletes under the cursor

    def key_ctrl_l(self):
        return ("repaint", None)

    def key_tab(self):
        return None if self.secret else ("complete", None)

    def key_escape(self):
        return None

    # --- moving --------------------------------------------------------------

    def key_left(self):
        return self._move_to(self._previous(self.cursor))

    def key_right(self):
        return self._move_to(self._next(self.cursor))

    def key_home(self):
        return self._move_to(0)

    def key_end(self):
        return self._move_to(len(self.text))

    def _move_to(self, position):
        if position == self.cursor:
            return None
        self.cursor = position
        return ("changed", None)

    def _previous(self, position):
        """The start of the character (with its marks) before ``position``."""
        position = max(0, position - 1)
        while position > 0 and _is_mark(self.text[position]):
            position -= 1
        return position

    def _next(self, position):
        """The position after the character (and its marks) at ``position``."""
        position = min(len(self.text), position + 1)
        while position < len(self.text) and _is_mark(self.text[position]):
            position += 1
        return position

    # --- erasing ---------------------------------------------------------------

    def key_backspace(self):
        return self._erase(self._previous(self.cursor), self.cursor)

    def key_delete(self):
        return self._erase(self.cursor, self._next(self.cursor))

    def key_ctrl_u(self):                   # erase from the start of the line to the cursor
        return self._erase(0, self.cursor)

    def key_ctrl_k(self):                   # erase from the cursor to the end
        return self._erase(self.cursor, len(self.text))

    def key_ctrl_w(self):                   # erase the word before the cursor
        start = len(self.text[:self.cursor].rstrip(" "))
        start = self.text.rfind(" ", 0, start) + 1
        return self._erase(start, self.cursor)

    def _erase(self, start, end):
        if start == end:
            return None
        self.text = self.text[:start] + self.text[end:]
        self.cursor = start
        return ("changed", None)

    # --- history -----------------------------------------------------------------

    def key_up(self):
        if self.secret or not self.history or self._browsing == 0:
            return None
        if self._browsing is None:
            self._browsing, self._draft = len(self.history), self.text
        self._browsing -= 1
        return self._show(self.history[self._browsing])

    def key_down(self):
        if self._browsing is None:
            return None
        self._browsing += 1
        if self._browsing == len(self.history):
            self._browsing = None
            return self._show(self._draft)
        return self._show(self.history[self._browsing])

    def _show(self, text):
        self.text, self.cursor = text, len(text)
        return ("changed", None)

    # --- completion ------------------------------------------------------------

    def word_before_cursor(self):
        """The word being completed: from the last space before the cursor to the cursor."""
        start = self.text.rfind(" ", 0, self.cursor) + 1
        return self.text[start:self.cursor]

    def complete(self, candidates, fold=irc_fold):
        """Complete the word before the cursor from ``candidates``; return those that match.

        One match: the word is replaced by it (and a space follows; ``": "`` after a
        nickname at the start of a line, as IRC clients do).  Several: the word grows
        to their common prefix, and the caller may show the list.
        """
        word = self.word_before_cursor()
        if not word:
            return []
        matches = sorted({c for c in candidates if fold(c).startswith(fold(word))}, key=fold)
        if not matches:
            return []
        start = self.cursor - len(word)
        if len(matches) == 1:
            done = matches[0]
            at_start = start == 0 and not done.startswith(("/", "#"))
            suffix = ": " if at_start else " "
            if self.text[self.cursor:self.cursor + 1] == " ":
                suffix = suffix.rstrip()
            replacement = done + suffix
        else:
            replacement = _common_prefix(matches, fold) or word
        self.text = self.text[:start] + replacement + self.text[self.cursor:]
        self.cursor = start + len(replacement)
        return matches


def _one_line(pasted):
    """Pasted text as one line: newlines become spaces, other controls go (a paste never runs a command)."""
    flat = pasted.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    return "".join(char for char in flat if char >= " " and char != "\x7f" and not "\x80" <= char < "\xa0")


def _common_prefix(words, fold):
    first = words[0]
    length = len(first)
    for word in words[1:]:
        length = min(length, len(word))
        while length and fold(word[:length]) != fold(first[:length]):
            length -= 1
    return first[:length]
