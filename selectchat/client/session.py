"""What the terminal client knows and decides: an explicit state machine, sans-I/O.

Typed lines and server lines go in; *effects* come out (:class:`Show`,
:class:`Prompt`, :class:`Send`, :class:`Connect`, :class:`Exit`), for
:mod:`selectchat.client.terminal` to carry out.  No socket, no terminal: every
rule is a unit test of lines in, effects out.

What a typed line means depends on where the conversation is: the answer to
"Nickname:", the choice of a room, a key, or a chat line.  That is the
:class:`State`, and :data:`TRANSITIONS` lists every move between states --
read it as a map of the client (as h11's ``_state.py`` maps HTTP/1.1).  A move
not in the table is a bug, and raises.  Some states wait for the server (the
room list, a JOIN's answer): lines typed meanwhile wait in
:attr:`Session.typeahead`, so a script may pipe all its lines at once.
"""

import re
from collections import deque
from dataclasses import dataclass

from .. import irc
from ..net.framing import TOO_LONG
from .commands import ALIASES, COMMANDS, Commands, chat_text, fold, room_name, same_name, split_command
from .questions import Questions
from .replies import END_OF_INPUT, Replies
from .states import QUESTIONS, TRANSITIONS, WAITING, State

S = State


# --- effects: what the session asks the I/O part to do --------------------------

@dataclass(frozen=True)
class Show:
    """Print a message; ``kind`` picks its look (see ``display.STYLES``)."""

    text: str
    kind: str = "info"
    sender: str = ""


@dataclass(frozen=True)
class Prompt:
    """Change what precedes the typed line; a ``question`` waits for an answer, a ``secret`` one is masked."""

    text: str
    question: bool = False
    secret: bool = False


@dataclass(frozen=True)
class Send:
    """Queue these bytes (one IRC line) for the server."""

    data: bytes


@dataclass(frozen=True)
class Connect:
    """Open a connection to the server (closing any previous one)."""

    host: str
    port: int


@dataclass(frozen=True)
class Exit:
    """Stop: flush what is queued for the server, restore the terminal, exit with ``code``."""

    code: int


class Session(Questions, Commands, Replies):
    """The client's state and the meaning of each line.

    Call :meth:`start` once, then :meth:`user_line`, :meth:`server_line`,
    :meth:`server_closed`, :meth:`end_of_input` or :meth:`interrupted` as
    those happen; each returns the effects to carry out, in order.  What a
    typed line means is decided in :meth:`_typed`: the answer to the question
    of the state (:class:`~selectchat.client.questions.Questions`), a slash
    command (:class:`~selectchat.client.commands.Commands`), or a chat line.
    The server's lines are in :class:`~selectchat.client.replies.Replies`.
    """

    def __init__(self, host=None, port=None, nick=None, room=None, key=None, password=None):
        self.host, self.port, self.nick, self.password = host, port, nick, password
        self.state = None
        self.wanted = (room_name(room), key) if room else None   # a room to join once registered
        self.room = None             # the room we are in
        self.members = {}            # fold(nick) -> nick, in our room
        self.rooms = []              # the last room list, [RoomInfo]
        self.target = None           # the room of a JOIN, key question or creation in progress
        self.target_key = None       # the key to send with it
        self.creating = None         # (room, limit or 0, key) to set once we are in
        self.prefix = None           # our nick!user@host, once the server has shown it
        self.typeahead = deque()     # typed lines waiting for the server
        self.input_ended = False     # EOF arrived while lines were waiting
        self.lists = deque()         # why we sent each unanswered LIST: "show", "pick", "create"
        self.listed, self.names = [], []   # a LIST or NAMES being received
        self.connected = self.registered = False
        self.password_refused = False
        self.closing_reason = ""
        self._effects = []

    # --- the state machine -------------------------------------------------------

    def _go(self, state, prompt=None, secret=False):
        """Move to ``state`` (it must be in the table); ask its question, if it has one."""
        if self.state is not None and state is not S.QUITTING and state not in TRANSITIONS[self.state]:
            raise RuntimeError(f"no move from {self.state.name} to {state.name}")
        self.state = state
        question = prompt or QUESTIONS.get(state)
        if question:
            self._effects.append(Prompt(question, question=True, secret=secret))
        elif state is S.CHATTING:
            self._effects.append(Prompt(f"{self.room}> "))

    # --- inputs ------------------------------------------------------------------

    def start(self):
        self._show("Type /help for the commands.")
        self._next_step()
        return self._take()

    def user_line(self, text):
        """A line the person typed (without its newline)."""
        if self.state is S.QUITTING:    # lines after /quit (a script's) mean nothing now
            return []
        if self.state in WAITING:
            self.typeahead.append(text)
        else:
            self._typed(text)
        return self._take()

    def server_line(self, line):
        """A line (bytes, or ``framing.TOO_LONG``) from the server."""
        if line is not TOO_LONG and self.state is not S.QUITTING:   # after QUIT: nothing changes
            try:
                message = irc.parse(line.decode("utf-8", "replace"))
            except irc.ProtocolError:
                message = None
            if message is not None:
                getattr(self, "on_" + message.command, self.on_other)(message)
        return self._take()

    def server_closed(self, reason=""):
        """The server closed the connection (``reason``: the error, if it broke)."""
        self.connected = self.registered = False
        if self.state is S.QUITTING:
            self._effects.append(Exit(0))
        elif self.password_refused and self.state in (S.REGISTERING, S.ASK_NICK):
            self.password_refused = False
            self._go(S.ASK_PASSWORD, secret=True)
        else:
            reason = self.closing_reason or reason
            self._show("The server closed the connection" + (f": {reason}" if reason else "."), "error")
            self._effects.append(Exit(1))
        return self._take()

    def connection_failed(self, reason):
        self._show(f"Cannot connect to {self.host}:{self.port}: {reason}.", "error")
        self._effects.append(Exit(1))
        return self._take()

    def end_of_input(self):
        """EOF on stdin (or Ctrl-D): once the waiting lines are done and answered, QUIT."""
        if self.state in WAITING and self.typeahead:
            self.input_ended = True
        else:
            self._finish_input()
        return self._take()

    def interrupted(self):
        """Ctrl-C: QUIT now."""
        self.typeahead.clear()
        self._quit("Interrupted")
        return self._take()

    def completions(self):
        """What Tab may complete: nicknames here, room names, command names."""
        return ([*self.members.values()] + [info.name for info in self.rooms] + ([self.room] if self.room else [])
                + ["/" + c.name for c in COMMANDS] + ["/" + alias for alias in ALIASES])

    # --- effects -----------------------------------------------------------------

    def _take(self):
        while self.state not in WAITING and self.state is not S.QUITTING and self.typeahead:
            self._typed(self.typeahead.popleft())
        if self.input_ended and self.state not in WAITING and not self.typeahead:
            self.input_ended = False
            self._finish_input()
        effects, self._effects = self._effects, []
        return effects

    def _show(self, text, kind="info", sender=""):
        self._effects.append(Show(text, kind, sender))

    def _send(self, command, *params):
        self._effects.append(Send(irc.format_line("", command, *params)))

    # --- what a typed line means ---------------------------------------------------

    def _typed(self, text):
        command = split_command(text.strip())
        if command and command[0] == "quit":     # /quit works at every question too
            return self.cmd_quit(command[1])
        answer = getattr(self, "_answer_" + self.state.name.lower(), None)
        if answer is not None and not (command and self.state is S.ASK_ROOM):
            return answer(text.strip())
        if command:
            return self.run_command(*command)
        if self.state is S.CHATTING and text.strip():
            return self.say(chat_text(text))
        if text.strip():
            self._show("You are not in a room: /list shows them, /join ROOM goes to one.", "error")

    # --- joining, leaving, quitting ------------------------------------------------

    def _listed(self, name):
        return next((info for info in self.rooms if same_name(info.name, name)), None)

    def _join_or_ask_key(self, name, key, private):
        """A private room without a key: ask for it, masked (never on a visible line)."""
        if private and key is None:
            self.target = name
            return self._go(S.ASK_KEY, f"{name} is private. Its key: ", secret=True)
        self._join(name, key)

    def _join(self, name, key=None):
        self.target, self.target_key = name, key
        self._send("JOIN", name, *([key] if key else []))
        self._go(S.JOINING)

    def _joined(self, room, names):
        if self.room and not same_name(self.room, room):
            self._send("PART", self.room)   # one room at a time: leave the old one
        self.room, self.target, self.target_key = room, None, None
        self._set_members(names)
        self._show(f"You are in {room}. Here: {', '.join(names)}.", "event")
        if self.creating and same_name(self.creating[0], room):
            _, limit, key = self.creating
            modes = ("+l" if limit else "+") + ("k" if key else "")
            args = ([str(limit)] if limit else []) + ([key] if key else [])
            if args:
                self._send("MODE", room, modes, *args)
        self.creating = None
        self._go(S.CHATTING)

    def _set_members(self, names):
        self.members = {fold(n.lstrip("@+")): n.lstrip("@+") for n in names}   # for Tab

    def _settle(self):
        """Back to where the person was: the room, or the room list and its question."""
        self.target = self.target_key = self.creating = None
        if self.room:
            self._show(f"You are still in {self.room}.")
            self._go(S.CHATTING)
        else:
            self._pick_room()

    def _pick_room(self):
        """Not in a room: get the rooms, then ask which one."""
        self.room, self.members = None, {}
        self._list("pick")

    def _list(self, why, room=None):
        self.lists.append(why)
        self._send("LIST", *([room] if room else []))
        if why == "pick":
            self._go(S.LISTING)

    def _connect(self):
        self._show(f"Connecting to {self.host}:{self.port} as {self.nick}...")
        self._effects.append(Connect(self.host, self.port))
        self.connected = True
        if self.password is not None:
            self._send("PASS", self.password)
        self._send("NICK", self.nick)
        self._send("USER", self.username(), "0", "*", self.nick)
        self._go(S.REGISTERING)

    def username(self):
        return re.sub(r"[^A-Za-z0-9]", "", fold(self.nick))[:10] or "user"

    def _finish_input(self):
        # The server answers in order: its PONG comes after the replies to all
        # we sent before the PING (a piped "/names" gets its answer shown).
        if self.registered:
            self._send("PING", END_OF_INPUT)
        else:
            self._quit("Leaving")

    def _quit(self, reason):
        if self.state is S.QUITTING:
            return
        if self.connected:
            self._send("QUIT", reason)
        self._go(S.QUITTING)
        self._effects.append(Exit(0))

