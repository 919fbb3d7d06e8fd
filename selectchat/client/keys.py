"""Bytes from a terminal in, keys out: the escape sequences a keyboard sends.

In cbreak mode the terminal hands us each key as bytes: a letter as its
UTF-8 encoding, Ctrl-A as ``\\x01``, and the keys that have no character as
*escape sequences*: Left is ``ESC [ D``, Home ``ESC [ H`` or ``ESC [ 1 ~``...
:class:`KeyDecoder` turns those bytes into :data:`Key` names and text.

Two sequences need care:

* **bracketed paste**: once we ask for it (``ESC [ ? 2004 h``), the terminal
  wraps pasted text in ``ESC [ 200 ~`` ... ``ESC [ 201 ~``.  Everything in
  between is text, never a key: a pasted newline must not send a half line,
  and a pasted ``ESC [ D`` must not move the cursor.
* **a bare Escape**: the Escape key sends ``ESC`` alone, the start of every
  sequence.  When a read ends right after it we cannot know whether the rest
  is on its way, so we keep it (:attr:`KeyDecoder.pending`) and the caller
  asks :meth:`KeyDecoder.timeout` after a short while (a timer of the event
  loop): then it was the Escape key.  ``ESC`` followed by an ordinary key is
  Escape, then that key -- the key is never swallowed.

The decoder is sans-I/O: it never reads, never waits, so it is tested with
plain byte strings.
"""

import codecs
import re

ESCAPE_TIMEOUT = 0.05   # seconds: a sequence's bytes arrive together, a person's keys do not

PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"

# Control characters -> key names.
CONTROL_KEYS = {
    "\r": "enter", "\n": "enter", "\t": "tab", "\x7f": "backspace", "\x08": "backspace",
    "\x01": "home", "\x05": "end", "\x02": "left", "\x06": "right",     # Ctrl-A/E/B/F, as in readline
    "\x0e": "down", "\x10": "up",                                       # Ctrl-N/P
    "\x04": "ctrl-d", "\x0b": "ctrl-k", "\x0c": "ctrl-l", "\x15": "ctrl-u", "\x17": "ctrl-w",
}

# The final part of ESC [ ... and ESC O ... sequences -> key names.
SEQUENCES = {
    "[A": "up", "[B": "down", "[C": "right", "[D": "left", "[H": "home", "[F": "end",
    "OA": "up", "OB": "down", "OC": "right", "OD": "left", "OH": "home", "OF": "end",
    "[1~": "home", "[7~": "home", "[4~": "end", "[8~": "end", "[3~": "delete",
}

# ESC [ parameters intermediates final  (ECMA-48), or ESC O final.
_CSI = re.compile(r"\[[0-?]*[ -/]*[@-~]|O[@-~]")
_CSI_PREFIX = re.compile(r"(\[[0-?]*[ -/]*|O)?")


class KeyDecoder:
    """Feed it bytes, get keys: a name (``"left"``) or ``("text", str)``."""

    def __init__(self):
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.pending = ""      # the start of an escape sequence, waiting for the rest
        self._paste = None     # the text of a paste in progress, or None

    def feed(self, data):
        """The keys in ``data`` (bytes); an unfinished sequence waits in :attr:`pending`."""
        keys = []
        text = self.pending + self._decoder.decode(data)
        self.pending = ""
        i = 0
        while i < len(text):
            if self._paste is not None:
                i = self._in_paste(text, i, keys)
                continue
            char = text[i]
            if char != "\x1b":
                keys.append(self._plain(char))
                i += 1
                continue
            rest = text[i + 1:]
            found = _CSI.match(rest)
            if found:
                keys.append(self._sequence(found.group()))
                i += 1 + found.end()
            elif rest and _CSI_PREFIX.fullmatch(rest[:8]) and len(rest) < 8:
                self.pending = text[i:]   # ESC [ 2 ... cut by the read: wait for the rest
                break
            elif not rest:
                self.pending = "\x1b"     # ESC alone: the Escape key, or a sequence to come
                break
            else:
                keys.append("escape")     # ESC then an ordinary key: both count
                i += 1
        return [key for key in keys if key is not None]

    def timeout(self):
        """No more bytes came after :attr:`pending`: it was the Escape key (and what followed)."""
        pending, self.pending = self.pending, ""
        if not pending:
            return []
        return ["escape"] + [self._plain(char) for char in pending[1:]]

    def _plain(self, char):
        if char in CONTROL_KEYS:
            return CONTROL_KEYS[char]
        if char < " " or "\x80" <= char < "\xa0":
            return None               # other control characters do nothing
        return ("text", char)

    def _sequence(self, body):
        if "\x1b" + body == PASTE_START:
            self._paste = ""
            return None
        return SEQUENCES.get(body)    # an unknown sequence (F5...) is ignored whole

    def _in_paste(self, text, i, keys):
        end = text.find(PASTE_END, i)
        if end < 0:   # keep all but a possible start of the end marker for next time
            keep = next((k for k in range(len(PASTE_END) - 1, 0, -1)
                         if text.endswith(PASTE_END[:k])), 0)
            self._paste += text[i:len(text) - keep]
            self.pending = text[len(text) - keep:] if keep else ""
            return len(text)
        self._paste += text[i:end]
        keys.append(("paste", self._paste))
        self._paste = None
        return end + len(PASTE_END)
