"""The slash commands of ``selectchat client``, as a table, and the rules for what is typed.

One row per command: its name, the words it takes, what it does, and the
name irssi gives the same thing (people move between clients; ``/help`` and
docs/client.md show both).  The session (:mod:`selectchat.client.session`)
has one method ``cmd_NAME`` per row; the table is what ``/help`` prints and
what Tab completes.
"""

from dataclasses import dataclass

from .. import irc
from .states import State


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    does: str
    irssi: str


COMMANDS = (
    Command("list", "", "the rooms: people/limit, full or private, topic", "/list"),
    Command("join", "ROOM [KEY]", "go to ROOM (a private room asks for its key)", "/join"),
    Command("part", "[REASON]", "leave this room and pick another (also /leave)", "/part"),
    Command("names", "[ROOM]", "who is in the room; @ marks its operators (also /who)", "/names"),
    Command("topic", "[TEXT]", "show the room's topic, or set it", "/topic"),
    Command("msg", "NICK TEXT", "a private message to NICK alone", "/msg"),
    Command("me", "TEXT", 'an action: "* alice waves"', "/me"),
    Command("nick", "NAME", "change your nickname", "/nick"),
    Command("create", "ROOM LIMIT [KEY]", "make a room for LIMIT people (KEY: private)", "/join, then /mode +lk"),
    Command("kick", "NICK [REASON]", "room operators: remove NICK from the room", "/kick"),
    Command("invite", "NICK", "let NICK into this room (if invite only: operators)", "/invite"),
    Command("mode", "[+v NICK, +m, +b MASK...]", "room operators: change the room (alone: show it)",
            "/mode"),
    Command("quit", "[REASON]", "leave the server (Ctrl-D on an empty line, Ctrl-C too)", "/quit"),
    Command("help", "", "this list", "/help"),
)
ALIASES = {"leave": "part", "who": "names", "rooms": "list", "exit": "quit"}
BY_NAME = {command.name: command for command in COMMANDS}


def help_lines():
    """What ``/help`` prints: every command, then the two rules about ``/``."""
    lines = ["Commands (upper or lower case):"]
    for command in COMMANDS:
        lines.append(f"  /{command.name} {command.usage}".ljust(34) + command.does)
    lines.append("  //TEXT".ljust(34) + "send TEXT starting with / to the room")
    lines.append("Anything else you type goes to the room you are in. Keys: Up/Down history, "
                 "Tab completes nicks and rooms.")
    return lines


def split_command(typed):
    """``"/JOIN #a"`` -> ``("join", "#a")``; ``None`` for a chat line (``//x`` is chat: ``/x``)."""
    if not typed.startswith("/") or typed.startswith("//") or len(typed) == 1:
        return None
    name, _, rest = typed[1:].partition(" ")
    name = fold(name)
    return ALIASES.get(name, name), rest.strip()


def chat_text(typed):
    """The text a chat line sends: ``//etc`` sends ``/etc``."""
    return typed[1:] if typed.startswith("//") else typed


# IRC words that people type at the room question (the server's welcome says
# "Type LIST..."): never taken for the name of a new room; each -> our command.
IRC_WORDS = {"list": "list", "rooms": "list", "join": "join", "part": "part", "leave": "part",
             "names": "names", "who": "names", "msg": "msg", "privmsg": "msg", "me": "me", "nick": "nick",
             "topic": "topic", "mode": "mode", "kick": "kick", "invite": "invite", "create": "create",
             "quit": "quit", "help": "help"}


# --- names -----------------------------------------------------------------------

fold = irc.irc_lower  # case as the server folds it (CASEMAPPING=ascii), never str.lower()


def same_name(a, b):
    return a is not None and b is not None and fold(a) == fold(b)


def room_name(text):
    """``lobby`` -> ``#lobby``: typing the ``#`` is optional."""
    return text if text.startswith("#") else "#" + text


# --- cutting a long message ------------------------------------------------------

HOST_GUESS = "x" * 63    # the longest host name, until the server shows us ours
MIN_PIECE = 32           # bytes of text per line, at the least: else the target's name is absurd


def room_for_text(prefix, command, target, wrap=""):
    """Bytes of text that fit in one relayed line ``:prefix COMMAND target :text\\r\\n``.

    The server adds our ``nick!user@host`` before relaying; the whole line
    must fit in 512 bytes (``wrap`` is what surrounds the text, e.g. the
    ``\\x01ACTION ...\\x01`` of /me).
    """
    overhead = len(f":{prefix} {command} {target} :{wrap}\r\n".encode())
    return irc.MAX_LINE - overhead


def split_text(text, size):
    """Cut ``text`` into pieces of at most ``size`` bytes, between characters, at a space if one is near."""
    if size < MIN_PIECE:
        raise ValueError(f"{size} bytes is no room for text")
    pieces = []
    data = text.encode()
    while len(data) > size:
        cut = size
        while cut and (data[cut] & 0xC0) == 0x80:   # not inside a UTF-8 character
            cut -= 1
        space = data.rfind(b" ", size // 2, cut + 1)
        if space > 0:
            cut = space + 1
        pieces.append(data[:cut].decode())
        data = data[cut:]
    if data or not pieces:
        pieces.append(data.decode())
    return pieces


class Commands:
    """The ``cmd_NAME`` methods of :class:`~selectchat.client.session.Session`, one per row of :data:`COMMANDS`."""

    def run_command(self, name, rest):
        handler = getattr(self, "cmd_" + name, None)
        if handler is None:
            return self._show(f"There is no command /{name}. Type /help for the list.", "error")
        handler(rest)

    def _need_room(self, usage):
        if self.room is None:
            self._show(f"You are not in a room. Usage, in a room: {usage}", "error")
        return self.room

    def say(self, text):
        """A chat line to the room, cut so that each relayed line fits in 512 bytes."""
        for piece in self._pieces(text, self.room):
            self._send("PRIVMSG", self.room, piece)
            self._show(piece, "self", self.nick)

    def _pieces(self, text, target, wrap=""):
        size = room_for_text(self.my_prefix(), "PRIVMSG", target, wrap)
        if size < MIN_PIECE:
            self._show(f"{target[:40]}... is too long a name to send anything to.", "error")
            return []
        return split_text(text, size)

    def my_prefix(self):
        """``nick!user@host`` as the server will write it (the host guessed long until seen)."""
        return self.prefix or f"{self.nick}!{self.username()}@{HOST_GUESS}"

    def cmd_quit(self, rest):
        self._quit(rest or "Leaving")

    def cmd_help(self, rest):
        for line in help_lines():
            self._show(line)

    def cmd_list(self, rest):
        self._list("show" if self.state is not State.ASK_ROOM else "pick")

    def cmd_join(self, rest):
        words = rest.split()
        if not words:
            return self._show("Usage: /join ROOM [KEY]", "error")
        name = room_name(words[0])
        if same_name(self.room, name):
            return self._show(f"You are already in {self.room}.")
        info = self._listed(name)
        self._join_or_ask_key(info.name if info else name, words[1] if len(words) > 1 else None,
                              bool(info and info.private))

    def cmd_part(self, rest):
        if self._need_room("/part [REASON]"):
            self._send("PART", self.room, *([rest] if rest else []))
            self._go(State.LEAVING)

    def cmd_names(self, rest):
        room = room_name(rest.split()[0]) if rest.split() else self.room
        if room is None:
            return self._show("You are not in a room: /names ROOM, or join one first.", "error")
        self._send("NAMES", room)

    def cmd_topic(self, rest):
        if self._need_room("/topic [TEXT]"):
            self._send("TOPIC", self.room, *([rest] if rest else []))

    def cmd_msg(self, rest):
        nick, _, text = rest.partition(" ")
        if not nick or not text.strip():
            return self._show("Usage: /msg NICK TEXT", "error")
        for piece in self._pieces(text, nick):
            self._send("PRIVMSG", nick, piece)
            self._show(piece, "sent", nick)

    def cmd_me(self, rest):
        if self._need_room("/me TEXT") is None:
            return
        if not rest:
            return self._show("Usage: /me TEXT", "error")
        for piece in self._pieces(rest, self.room, "\x01ACTION \x01"):
            self._send("PRIVMSG", self.room, f"\x01ACTION {piece}\x01")
            self._show(piece, "action", self.nick)

    def cmd_nick(self, rest):
        if not rest or " " in rest:
            return self._show("Usage: /nick NAME", "error")
        self._send("NICK", rest)

    def cmd_create(self, rest):
        words = rest.split()
        if len(words) not in (2, 3) or not words[1].isdigit() or int(words[1]) < 1:
            return self._show("Usage: /create ROOM LIMIT [KEY]  (LIMIT: 1 or more people)", "error")
        self.creating = (room_name(words[0]), int(words[1]), words[2] if len(words) == 3 else None)
        self._list("create", self.creating[0])   # does it exist already?
        self._go(State.CHECKING)

    def cmd_kick(self, rest):
        nick, _, reason = rest.partition(" ")
        if not nick:
            return self._show("Usage: /kick NICK [REASON]", "error")
        if self._need_room("/kick NICK [REASON]"):
            self._send("KICK", self.room, nick, reason.strip() or "Kicked")

    def cmd_invite(self, rest):
        words = rest.split()
        if len(words) != 1:
            return self._show("Usage: /invite NICK", "error")
        if self._need_room("/invite NICK"):
            self._send("INVITE", words[0], self.room)

    def cmd_mode(self, rest):
        words = rest.split()
        room = words.pop(0) if words and words[0].startswith("#") else self.room
        if room is None:
            return self._need_room("/mode [+o NICK, +l N, +k KEY]")
        self._send("MODE", room, *words)
