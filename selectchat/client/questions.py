"""What the answer to each question of the terminal client means.

In a state that asks a question (``ASK_NICK``, ``ASK_ROOM``, ``ASK_KEY``...,
see :mod:`~selectchat.client.states`), the next typed line is its answer, and
``Session._typed`` hands it to ``_answer_<state>`` here.  Answers are checked
first; a wrong one is said, and the same question asked again -- nothing else
changes.  The room question is the careful one: free text never makes a room
without asking, and an IRC word (``LIST``, ``JOIN #lobby``: what the server's
welcome tells people to type) is never taken for a room's name.
"""

import re

from .commands import IRC_WORDS, fold, room_name
from .states import DEFAULT_HOST, DEFAULT_PORT, State

S = State
ROOM_NAME = re.compile(r"#?[^\s,:\x07]{1,49}")   # what the server accepts after its "#"


class Questions:
    """The ``_answer_<state>`` methods of :class:`~selectchat.client.session.Session`."""

    def _next_step(self):
        """Ask for what is missing; connect once host, port and nickname are known."""
        if self.host is None:
            self._go(S.ASK_HOST)
        elif self.port is None:
            self._go(S.ASK_PORT)
        elif self.nick is None:
            self._go(S.ASK_NICK)
        else:
            self._connect()

    def _answer_ask_host(self, text):
        self.host = text or DEFAULT_HOST
        self._next_step()

    def _answer_ask_port(self, text):
        if text and not (text.isdigit() and 0 < int(text) < 65536):
            self._show("A port is a number from 1 to 65535.", "error")
            return self._go(S.ASK_PORT)
        self.port = int(text) if text else DEFAULT_PORT
        self._next_step()

    def _answer_ask_nick(self, text):
        if not text or " " in text:
            self._show("A nickname is one word, starting with a letter.", "error")
            return self._go(S.ASK_NICK)
        self.nick = text
        if self.connected and not self.registered:   # the server refused the first one
            self._send("NICK", text)
            self._go(S.REGISTERING)
        else:
            self._next_step()

    def _answer_ask_password(self, text):
        self.password = text
        self._connect()

    def _answer_ask_key(self, text):
        if not text:            # no key: give up on that room
            self._show(f"Not joining {self.target}.")
            return self._settle()
        self._join(self.target, text)

    def _answer_confirm_create(self, text):
        if fold(text) not in ("y", "yes"):
            self._show(f"{self.target} was not made.")
            return self._go(S.ASK_ROOM)
        self.creating = (self.target, 0, self.target_key)
        self._join(self.target)

    def _answer_ask_room(self, text):
        words = text.split()
        if not words:
            return self._go(S.ASK_ROOM)
        name, key = words[0], (words[1] if len(words) > 1 else None)
        if name.isdigit():
            if not 1 <= int(name) <= len(self.rooms):
                self._show(f"There is no room number {name} in the list.", "error")
                return self._go(S.ASK_ROOM)
            name = self.rooms[int(name) - 1].name
        info = self._listed(room_name(name))
        if info is not None:
            return self._join_or_ask_key(info.name, key, info.private)
        if not name.startswith("#") and fold(name) in IRC_WORDS:
            command = IRC_WORDS[fold(name)]
            self._show(f"{name} is an IRC command; here it is /{command} (/help lists them all).", "error")
            return self._go(S.ASK_ROOM)
        if len(words) > 2 or not ROOM_NAME.fullmatch(name):
            self._show("A room is its number in the list or one name: no spaces, commas or colons.", "error")
            return self._go(S.ASK_ROOM)
        self.target, self.target_key = room_name(name), key
        self._go(S.CONFIRM_CREATE, f"There is no {self.target} in the list. Make it? (y/n) ")
