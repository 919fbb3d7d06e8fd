"""``selectchat client``: the full-duplex terminal client, on the server's own event loop.

A chat client must listen to two things at once: the keyboard (you may type
at any moment) and the server (a message may arrive at any moment).  Reading
one with a blocking call would make it deaf to the other.  The answer is the
same as the server's: one ``select()`` over both descriptors, stdin and the
socket, in :class:`TerminalClient` -- no threads, no asyncio.

The code comes in three parts, so each can be read (and tested) alone:

* :class:`Session` -- what the client knows and decides: which question it
  is asking, which room it is in, what a server reply means for the person at
  the keyboard.  It is sans-I/O, like the server's chat core: typed lines and
  server lines go in, *effects* come out (:class:`Show`, :class:`Prompt`,
  :class:`Send`, :class:`Connect`, :class:`Exit`);
* :mod:`selectchat.term_display` -- the screen: the line being typed stays
  intact under incoming messages (cbreak mode on a terminal; plain lines on a
  pipe);
* :class:`TerminalClient` -- the loop: two handlers, :class:`Keyboard` and
  :class:`ServerLink`, on one :class:`~selectchat.loop.EventLoop`, and
  :meth:`TerminalClient.apply` to carry out the effects.
"""

import os
import re
import signal
import socket
import sys
from collections import deque
from dataclasses import dataclass

from . import protocol as irc
from .client import RoomInfo
from .framing import TOO_LONG, LineBuffer
from .loop import EventLoop
from .protocol import format_line
from .term_display import make_display

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 6667
CONNECT_TIMEOUT = 5.0   # seconds to reach the server
LINGER = 2.0            # after our QUIT, seconds to wait for the server to close
CHUNK = 400             # bytes of text per PRIVMSG: the relayed line must fit in 512
END_OF_INPUT = "end-of-input"   # our PING token: the server has answered all we asked

HELP = """\
Commands (in upper or lower case):
  /rooms                    list the rooms: people/limit, private or not
  /join ROOM [KEY]          go to ROOM (KEY: for a private room)
  /leave                    leave this room and pick another
  /who                      who is in this room
  /msg NICK TEXT            a private message to NICK alone
  /create ROOM LIMIT [KEY]  make a room for LIMIT people at most (KEY: private)
  /nick NAME                change your nickname
  /me TEXT                  an action: "* alice waves"
  /quit [REASON]            leave the server (Ctrl-D and Ctrl-C do too)
  /help                     this list
Anything else you type goes to the room you are in."""

EPILOG = """\
examples:
  selectchat client                              asks for everything it needs
  selectchat client --port 40123 --nick alice    on this machine; shows the rooms, asks which
  selectchat client --nick bob --room lobby      straight into #lobby
  echo hello | selectchat client --nick bot --room lobby   one message from a script

Type /help in the client for its commands.
"""


# --- effects: what the session asks the I/O part to do --------------------------

@dataclass(frozen=True)
class Show:
    """Print a message; ``kind`` picks its look (see ``term_display.STYLES``)."""

    text: str
    kind: str = "info"
    sender: str = ""


@dataclass(frozen=True)
class Prompt:
    """Change what precedes the typed line; a ``question`` waits for an answer."""

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


# Sentences for the numerics that refuse a JOIN.
JOIN_REFUSED = {
    irc.ERR_CHANNELISFULL: "{room} is full.",
    irc.ERR_BADCHANNELKEY: "{room} is private, and that key is not the right one.",
    irc.ERR_NOSUCHCHANNEL: "There is no room called {room}, and on this server only the operator creates rooms.",
    irc.ERR_BADCHANMASK: "{room} is not a possible room name: no spaces, commas or colons, at most 50 characters.",
    irc.ERR_TOOMANYCHANNELS: "You are in too many rooms to join {room}.",
}
QUESTIONS = {
    "host": "Server address [127.0.0.1]: ",
    "port": "Port [6667]: ",
    "nick": "Nickname: ",
    "password": "Server password: ",
    "room": "Which room? (its number or name; a new name makes a new room) ",
}


class Session:
    """What the client knows, and what each typed or received line means.

    Call :meth:`start` once, then :meth:`user_line` for each typed line,
    :meth:`server_line` for each line from the server, :meth:`server_closed`,
    :meth:`end_of_input` or :meth:`interrupted` when those happen.  Each
    returns the list of effects to carry out, in order.

    A typed line may arrive while the meaning of the next one depends on a
    reply still to come (after ``/leave``, the next line answers "which
    room?").  While :attr:`busy` says so, typed lines wait in
    :attr:`typeahead`: a script can pipe all its lines at once.
    """

    def __init__(self, host=None, port=None, nick=None, room=None, key=None, password=None):
        self.host, self.port, self.nick, self.password = host, port, nick, password
        self.wanted = (room, key) if room else None   # a room to join once registered
        self.room = None             # the room we are in
        self.rooms = []              # the last room list, [RoomInfo]
        self.asking = None           # what the next typed line answers (a key of QUESTIONS, "key") or None
        self.busy = None             # what reply we wait for before reading typed lines
        self.typeahead = deque()     # typed lines waiting for the reply
        self.input_ended = False     # EOF arrived while lines were waiting
        self.joining = None          # the room we asked to JOIN
        self.joining_with_key = False
        self.key_for = None          # the private room whose key we are asking for
        self.creating = None         # (room, limit, key) of a /create in progress
        self.lists = deque()         # why we sent each LIST still unanswered: "show", "pick", "create"
        self.listed = []             # RoomInfo of the LIST being received
        self.names = []              # names of the NAMES being received
        self.connected = False       # a connection is open (or being opened)
        self.registered = False      # the server welcomed us (001)
        self.quitting = False
        self.password_refused = False
        self.closing_reason = ""
        self._effects = []

    # --- inputs ------------------------------------------------------------------

    def start(self):
        self._next_step()
        return self._take()

    def user_line(self, text):
        """A line the person typed (without its newline)."""
        if self.busy:
            self.typeahead.append(text)
        else:
            self._typed(text)
        return self._take()

    def server_line(self, line):
        """A line (bytes, or ``framing.TOO_LONG``) from the server."""
        if line is not TOO_LONG:
            try:
                message = irc.parse(line.decode("utf-8", "replace"))
            except irc.ProtocolError:
                message = None
            if message is not None:
                handler = getattr(self, "on_" + message.command, self._on_other)
                handler(message)
        return self._take()

    def server_closed(self):
        """The server closed the connection."""
        self.connected = self.registered = False
        if self.quitting:
            self._effects.append(Exit(0))
        elif self.password_refused:
            self.password_refused = False
            self.busy = None
            self._ask("password", secret=True)
        else:
            why = f": {self.closing_reason}" if self.closing_reason else "."
            self._show(f"The server closed the connection{why}", "error")
            self._effects.append(Exit(1))
        return self._take()

    def connection_failed(self, reason):
        self._show(f"Cannot connect to {self.host}:{self.port}: {reason}.", "error")
        self._effects.append(Exit(1))
        return self._take()

    def end_of_input(self):
        """EOF on stdin (or Ctrl-D): once the waiting lines are done and answered, QUIT."""
        if self.busy and self.typeahead:
            self.input_ended = True
        else:
            self._finish_input()
        return self._take()

    def interrupted(self):
        """Ctrl-C: QUIT now."""
        self.typeahead.clear()
        self._quit("Interrupted")
        return self._take()

    # --- effects -----------------------------------------------------------------

    def _take(self):
        # Typed lines that waited for a reply are read once it has come.
        while not self.busy and self.typeahead:
            self._typed(self.typeahead.popleft())
        if self.input_ended and not self.busy and not self.typeahead:
            self.input_ended = False
            self._finish_input()
        effects, self._effects = self._effects, []
        return effects

    def _show(self, text, kind="info", sender=""):
        self._effects.append(Show(text, kind, sender))

    def _send(self, command, *params):
        self._effects.append(Send(format_line("", command, *params)))

    def _ask(self, what, text=None, secret=False):
        self.asking = what
        self._effects.append(Prompt(text or QUESTIONS[what], question=True, secret=secret))

    def _chat_prompt(self):
        self.asking = None
        self._effects.append(Prompt(f"{self.room}> "))

    # --- what a typed line means ---------------------------------------------------

    def _typed(self, text):
        command, _, rest = text.strip().partition(" ")
        if command.lower() == "/quit":
            return self._quit(rest.strip() or "Leaving")
        if self.asking in ("host", "port", "nick", "password", "key"):
            return getattr(self, "_answer_" + self.asking)(text.strip())
        if command.startswith("/") and len(command) > 1:
            return self._command(command[1:].lower(), rest.strip())
        if self.asking == "room":
            return self._answer_room(text.strip())
        if text.strip() and self.room:
            self._say(text)
        elif text.strip():
            self._show("You are not in a room: /rooms lists them, /join ROOM goes to one.", "error")

    def _next_step(self):
        """Ask for what is missing; connect once host, port and nickname are known."""
        if self.host is None:
            self._ask("host")
        elif self.port is None:
            self._ask("port")
        elif self.nick is None:
            self._ask("nick")
        else:
            self._connect()

    def _answer_host(self, text):
        self.host = text or DEFAULT_HOST
        self._next_step()

    def _answer_port(self, text):
        if not text:
            self.port = DEFAULT_PORT
        elif text.isdigit() and 0 < int(text) < 65536:
            self.port = int(text)
        else:
            self._show("A port is a number from 1 to 65535.", "error")
            return self._ask("port")
        self._next_step()

    def _answer_nick(self, text):
        if not text or " " in text:
            self._show("A nickname is one word, starting with a letter.", "error")
            return self._ask("nick")
        self.asking = None
        self.nick = text
        if self.connected and not self.registered:   # the server refused the first one
            self.busy = "registering"
            self._send("NICK", text)
        else:
            self._next_step()

    def _answer_password(self, text):
        self.password = text
        self.asking = None
        self._connect()

    def _answer_key(self, text):
        self.asking = None
        self._join(self.key_for, text or None)

    def _answer_room(self, text):
        words = text.split()
        if not words:
            return self._ask("room")
        name, key = words[0], (words[1] if len(words) > 1 else None)
        if name.isdigit():
            if not 1 <= int(name) <= len(self.rooms):
                self._show(f"There is no room number {name} in the list.", "error")
                return self._ask("room")
            name = self.rooms[int(name) - 1].name
        name = room_name(name)
        info = next((r for r in self.rooms if r.name.lower() == name.lower()), None)
        if info is not None and info.private and key is None:
            self.key_for = info.name
            return self._ask("key", f"{info.name} is private. Its key: ", secret=True)
        self._join(name, key)

    def _command(self, name, rest):
        handler = getattr(self, "cmd_" + name, None)
        if handler is None:
            return self._show(f"There is no command /{name}. Type /help for the list.", "error")
        handler(rest)

    def _say(self, text):
        data = text.encode()
        while data:   # a long line goes as several messages, cut between characters
            piece = data[:CHUNK].decode("utf-8", "ignore")
            data = data[len(piece.encode()):]
            self._send("PRIVMSG", self.room, piece)
            self._show(piece, "self", self.nick)

    def _finish_input(self):
        # The server answers in order: its PONG comes after the replies to all
        # we sent before the PING (a piped "/who" gets its answer shown).
        if self.registered:
            self._send("PING", END_OF_INPUT)
        else:
            self._quit("Leaving")

    def _quit(self, reason):
        if self.quitting:
            return
        self.quitting = True
        if self.connected:
            self._send("QUIT", reason)
        self._effects.append(Exit(0))

    # --- commands ----------------------------------------------------------------

    def cmd_help(self, rest):
        for line in HELP.splitlines():
            self._show(line)

    def cmd_rooms(self, rest):
        self._list("pick" if self.room is None else "show")

    def cmd_join(self, rest):
        words = rest.split()
        if not words:
            return self._show("Usage: /join ROOM [KEY]", "error")
        name = room_name(words[0])
        if self.room and name.lower() == self.room.lower():
            return self._show(f"You are already in {self.room}.")
        key = words[1] if len(words) > 1 else None
        info = next((r for r in self.rooms if r.name.lower() == name.lower()), None)
        if key is None and info is not None and info.private:   # known to need a key: ask for it
            self.key_for = info.name
            return self._ask("key", f"{info.name} is private. Its key: ", secret=True)
        self._join(name, key)

    def cmd_leave(self, rest):
        if self.room is None:
            return self._show("You are not in a room.", "error")
        self._send("PART", self.room)
        self.busy = "leaving"

    cmd_part = cmd_leave

    def cmd_who(self, rest):
        room = room_name(rest.split()[0]) if rest.split() else self.room
        if room is None:
            return self._show("You are not in a room: /who ROOM, or join one first.", "error")
        self._send("NAMES", room)

    cmd_names = cmd_who

    def cmd_msg(self, rest):
        nick, _, text = rest.partition(" ")
        if not nick or not text.strip():
            return self._show("Usage: /msg NICK TEXT", "error")
        self._send("PRIVMSG", nick, text)
        self._show(text, "sent", nick)

    def cmd_me(self, rest):
        if self.room is None or not rest:
            return self._show("Usage, in a room: /me TEXT", "error")
        self._send("PRIVMSG", self.room, f"\x01ACTION {rest}\x01")
        self._show(rest, "action", self.nick)

    def cmd_create(self, rest):
        words = rest.split()
        if len(words) not in (2, 3) or not words[1].isdigit() or int(words[1]) < 1:
            return self._show("Usage: /create ROOM LIMIT [KEY]  (LIMIT: 1 or more people)", "error")
        self.creating = (room_name(words[0]), int(words[1]), words[2] if len(words) == 3 else None)
        self.busy = "creating"
        self._list("create", self.creating[0])   # does it exist already?

    def cmd_nick(self, rest):
        if not rest or " " in rest:
            return self._show("Usage: /nick NAME", "error")
        self._send("NICK", rest)

    # --- steps that wait for the server --------------------------------------------

    def _connect(self):
        self._show(f"Connecting to {self.host}:{self.port} as {self.nick}...")
        self._effects.append(Connect(self.host, self.port))
        self.connected, self.busy = True, "registering"
        if self.password is not None:
            self._send("PASS", self.password)
        self._send("NICK", self.nick)
        self._send("USER", re.sub(r"[^A-Za-z0-9]", "", self.nick.lower())[:10] or "user", "0", "*", self.nick)

    def _list(self, why, room=None):
        self.lists.append(why)
        self._send("LIST", *([room] if room else []))
        if why == "pick":
            self.busy = "listing"

    def _pick_room(self):
        """Not in a room: show the rooms, then ask which one."""
        self.room = None
        self._list("pick")

    def _join(self, name, key=None):
        self.joining, self.joining_with_key = name, bool(key)
        self.busy = "joining"
        self._send("JOIN", name, *([key] if key else []))

    def _joined(self, room, names):
        self.joining = None
        if self.room and self.room.lower() != room.lower():
            self._send("PART", self.room)   # one room at a time: leave the old one
        self.room = room
        self._show(f"You are in {room}. Here: {', '.join(names)}.", "notice")
        if self.creating and self.creating[0].lower() == room.lower():
            _, limit, key = self.creating
            self._send("MODE", room, "+lk" if key else "+l", str(limit), *([key] if key else []))
            self.creating = None
        if self.busy in ("joining", "creating"):
            self.busy = None
        self._chat_prompt()

    def _join_refused(self, message):
        room = message.param(1)
        if message.command == irc.ERR_BADCHANNELKEY and not self.joining_with_key:
            self._show(f"{room} is private: it needs a key (/join {room} KEY).", "error")
        else:
            self._show(JOIN_REFUSED[message.command].format(room=room), "error")
        self.joining = self.creating = None
        if self.room:
            self.busy = None
            self._show(f"You are still in {self.room}.")
            self._chat_prompt()
        else:
            self._pick_room()

    # --- what a server line means -------------------------------------------------

    def _mine(self, message):
        return message.nick.lower() == (self.nick or "").lower()

    def on_PING(self, message):
        self._send("PONG", *message.params)

    def on_PONG(self, message):
        if message.params and message.params[-1] == END_OF_INPUT:
            self._quit("Leaving")

    def on_001(self, message):          # RPL_WELCOME: registered
        self.nick = message.params[0]
        self.registered = True

    def on_372(self, message):          # RPL_MOTD: the message of the day
        self._show(message.params[-1].removeprefix("- "))

    def on_376(self, message):          # RPL_ENDOFMOTD (or 422 ERR_NOMOTD): ready
        if self.busy != "registering":
            return
        self.busy = None
        if self.wanted:
            room, key = self.wanted
            self.wanted = None
            self._join(room_name(room), key)
        else:
            self._pick_room()

    on_422 = on_376

    def on_433(self, message):          # ERR_NICKNAMEINUSE
        self._nick_refused(f"The nickname {message.param(1)} is taken.")

    def on_432(self, message):          # ERR_ERRONEUSNICKNAME
        self._nick_refused(f"{message.param(1)} cannot be a nickname: start with a letter, then letters, "
                           "digits or - _ [ ] { } \\ ` ^ |, at most 30.")

    def _nick_refused(self, sentence):
        self._show(sentence, "error")
        if not self.registered:          # not in yet: ask for another one
            self.busy = None
            self._ask("nick")
        else:
            self._show(f"You are still {self.nick}.")

    def on_464(self, message):          # ERR_PASSWDMISMATCH; the server closes next
        self._show("The server needs a password." if self.password is None
                   else "The server refused that password.", "error")
        self.password_refused = True

    def on_ERROR(self, message):
        text = message.param(0)
        found = re.search(r"\((.*)\)$", text)   # "Closing Link: 127.0.0.1 (Quit: bye)"
        self.closing_reason = found.group(1) if found else text

    def on_322(self, message):          # RPL_LIST: one room
        self.listed.append(RoomInfo.from_list_reply(message))

    def on_323(self, message):          # RPL_LISTEND
        why = self.lists.popleft() if self.lists else "show"
        listed, self.listed = self.listed, []
        if why == "create":
            return self._create_checked(listed)
        self.rooms = listed
        self._show_rooms()
        if why == "pick" and self.room is None:
            self.busy = None
            self._ask("room")

    def _show_rooms(self):
        if not self.rooms:
            return self._show("There are no rooms yet: type a name to make one.")
        self._show("Rooms:")
        for number, info in enumerate(self.rooms, 1):
            people = f"{info.members}/{info.limit}" if info.limit else f"{info.members} (no limit)"
            flags = ", ".join(f for f, on in (("full", info.limit and info.members >= info.limit),
                                                ("private", info.private)) if on)
            self._show(f"  {number:>2}. {info.name:<20} {people:<14} {flags}".rstrip())

    def _create_checked(self, listed):
        name, limit, key = self.creating
        if listed:
            self._show(f"{name} exists already: /join {name} to go there.", "error")
            self.creating = None
            self.busy = None
            if self.room is None:
                self._ask("room")
        else:
            self._join(name)
            self.busy = "creating"

    def on_353(self, message):          # RPL_NAMREPLY
        self.names += [name.lstrip("@") for name in message.params[-1].split()]

    def on_366(self, message):          # RPL_ENDOFNAMES
        room, names, self.names = message.param(1), self.names, []
        if self.joining and room.lower() == self.joining.lower():
            self._joined(room, names)
        else:
            self._show(f"In {room}: {', '.join(names) or 'no one'}.")

    def on_JOIN(self, message):
        if not self._mine(message):
            self._show(f"{message.nick} joined {message.param(0)}", "notice")

    def on_PART(self, message):
        room, reason = message.param(0), message.param(1)
        because = f" ({reason})" if reason else ""
        if not self._mine(message):
            return self._show(f"{message.nick} left {room}{because}", "notice")
        self._show(f"You left {room}.", "notice")
        if self.room and room.lower() == self.room.lower():
            self._pick_room()

    def on_QUIT(self, message):
        reason = message.param(0)
        self._show(f"{message.nick} left the chat" + (f" ({reason})" if reason else ""), "notice")

    def on_KICK(self, message):
        room, nick, reason = message.param(0), message.param(1), message.param(2)
        by = "the operator" if "!" not in message.prefix else message.nick
        if nick.lower() != self.nick.lower():
            return self._show(f"{nick} was removed from {room} by {by} ({reason})", "notice")
        self._show(f"You were removed from {room} by {by}: {reason}", "error")
        if self.room and room.lower() == self.room.lower():
            self.room = None
            self._pick_room()

    def on_NICK(self, message):
        new = message.param(0)
        if self._mine(message):
            self.nick = new
            self._show(f"You are now known as {new}.", "notice")
        else:
            self._show(f"{message.nick} is now known as {new}", "notice")

    def on_MODE(self, message):
        if not message.param(0).startswith("#"):
            return
        room, changes, args = message.param(0), message.param(1), list(message.params[2:])
        by = "the operator" if "!" not in message.prefix else message.nick
        sentences, sign = [], "+"
        for flag in changes:
            if flag in "+-":
                sign = flag
            elif flag == "l":
                sentences.append(f"limit {args.pop(0)}" if sign == "+" and args else "no limit")
            elif flag == "k":
                if sign == "+" and args:
                    args.pop(0)
                sentences.append("private" if sign == "+" else "public")
            elif flag == "o" and args:
                sentences.append(f"{args.pop(0)} {'is' if sign == '+' else 'is no longer'} a room operator")
        if sentences:
            self._show(f"{room} now: {', '.join(sentences)} (set by {by})", "notice")

    def on_TOPIC(self, message):
        self._show(f"{message.nick} set the topic of {message.param(0)}: {message.param(1)}", "notice")

    def on_332(self, message):          # RPL_TOPIC
        self._show(f"Topic of {message.param(1)}: {message.param(2)}", "notice")

    def on_PRIVMSG(self, message, notice=False):
        target, text = message.param(0), message.param(1)
        if "!" not in message.prefix:   # from the server itself (the operator's "say")
            return self._show(f"the server: {text}", "server")
        if text.startswith("\x01"):     # CTCP: show actions, ignore the rest
            if text.startswith("\x01ACTION ") and not notice:
                self._show(text[8:].rstrip("\x01"), "action", message.nick)
            return
        self._show(text, "chat" if target.startswith("#") else "private", message.nick)

    def on_NOTICE(self, message):
        self.on_PRIVMSG(message, notice=True)

    def on_401(self, message):          # ERR_NOSUCHNICK
        self._show(f"There is no one called {message.param(1)} here.", "error")

    def on_404(self, message):          # ERR_CANNOTSENDTOCHAN
        self._show(f"You are not in {message.param(1)}, so you cannot talk there.", "error")

    def on_442(self, message):          # ERR_NOTONCHANNEL
        self._show(f"You are not in {message.param(1)}.", "error")

    def on_482(self, message):          # ERR_CHANOPRIVSNEEDED
        self._show(f"Only an operator of {message.param(1)} may do that.", "error")

    def _on_other(self, message):
        if message.command in JOIN_REFUSED and self.joining:
            return self._join_refused(message)
        if message.command.isdigit() and message.command[0] in "45":   # any other error
            self._show(message.params[-1] if message.params else message.command, "error")
        # Other replies (the welcome numbers, WHO lines...) are not worth showing.


def room_name(text):
    """``lobby`` -> ``#lobby``: typing the ``#`` is optional."""
    return text if text.startswith("#") else "#" + text


# --- the loop: one select() over the keyboard and the server ------------------------

class TerminalClient:
    """Run a :class:`Session` with a display, on one :class:`EventLoop`."""

    def __init__(self, session, display, observer=None, stdin_fd=0):
        self.session = session
        self.display = display
        self.loop = EventLoop(observer=observer)
        self.keyboard = Keyboard(self, stdin_fd)
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
            self.loop.close()
        return self.exit_code

    def apply(self, effects):
        """Carry out what the session decided."""
        for effect in effects:
            if type(effect) is Show:
                self.display.show(effect.text, effect.kind, effect.sender)
            elif type(effect) is Prompt:
                self.display.set_prompt(effect.text, effect.question, effect.secret)
            elif type(effect) is Send:
                if self.server is not None:
                    self.server.queue(effect.data)
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
        self.server = ServerLink(self, sock)


class Keyboard:
    """stdin: readable when keys were pressed (or a line arrived on a pipe)."""

    def __init__(self, client, fd):
        self.client = client
        self.fd = fd
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
        for line in client.display.feed(data):
            if line is None:
                client.apply(client.session.end_of_input())
            else:
                client.apply(client.session.user_line(line))

    def handle_write(self):
        pass


class ServerLink:
    """The socket to the server: lines in; an output buffer, sent when writable."""

    def __init__(self, client, sock):
        self.client = client
        self.sock = sock
        self.lines = LineBuffer()
        self.outbuf = bytearray()
        self.closed = False
        sock.setblocking(False)
        client.loop.register(sock, self, read=True, label="server")

    def handle_read(self):
        client = self.client
        try:
            data = self.sock.recv(16384)
        except BlockingIOError:
            return
        except OSError:   # e.g. ECONNRESET
            data = b""
        if client.loop.observer:
            client.loop.observer.record("recv", fd=self.sock.fileno(), bytes=len(data))
        if not data:
            self.close()
            client.server = None
            return client.apply(client.session.server_closed())
        for line in self.lines.feed(data):
            client.apply(client.session.server_line(line))
            if self.closed or client.exit_code is not None:
                break

    def queue(self, data):
        if not self.outbuf:   # watch for writability only while there is something to send
            self.client.loop.modify(self.sock, read=True, write=True)
        self.outbuf += data

    def handle_write(self):
        try:
            sent = self.sock.send(self.outbuf)
        except BlockingIOError:
            return
        except OSError:
            return   # the read side will see the connection's end
        if self.client.loop.observer:
            self.client.loop.observer.record("send", fd=self.sock.fileno(), asked=len(self.outbuf), sent=sent)
        del self.outbuf[:sent]
        if not self.outbuf:
            self.client.loop.modify(self.sock, read=True, write=False)

    def close(self):
        """Send what is still queued (our QUIT), wait a little for the server to close, close."""
        if self.closed:
            return
        self.closed = True
        self.client.loop.unregister(self.sock)
        try:
            self.sock.settimeout(LINGER)
            if self.outbuf:
                self.sock.sendall(self.outbuf)
            self.sock.shutdown(socket.SHUT_WR)
            while self.sock.recv(4096):   # until the server's EOF: it has read our QUIT
                pass
        except OSError:
            pass
        self.sock.close()


# --- the command line ------------------------------------------------------------

def add_arguments(parser):
    """The options of ``selectchat client``; what is left out is asked for."""
    parser.add_argument("--host", help=f"server address (default {DEFAULT_HOST}; asked if neither "
                        "--host nor --port is given)")
    parser.add_argument("--port", type=int, help=f"server port (default {DEFAULT_PORT}; asked if neither "
                        "--host nor --port is given)")
    parser.add_argument("--nick", help="your nickname (asked if not given)")
    parser.add_argument("--room", help="the room to join (if not given: the rooms are shown, and you pick)")
    parser.add_argument("--key", help="the key of a private --room")
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
    if args.key and not args.room:
        print("selectchat client: --key needs --room", file=sys.stderr)
        return 2
    host, port = args.host, args.port
    if (host is None) != (port is None):   # one given: the other takes its default, unasked
        host, port = host or DEFAULT_HOST, port or DEFAULT_PORT
    session = Session(host, port, args.nick, args.room, args.key, password)
    # SIGTERM takes the same way out as an error: the terminal is restored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    recorder = None
    if args.trace:
        from .trace import Recorder
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
