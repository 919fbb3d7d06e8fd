"""What the chat is made of: the operator's settings, users, rooms, valid names.

Plain data: the rules that change it live in the modules named after what
they do (registration, rooms, messaging, queries, modes, operator).
"""

import re
from dataclasses import dataclass

NICK_RE = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,29}\Z")
ROOM_RE = re.compile(r"#[^\x00-\x20\x7f,:]{1,49}\Z")  # no controls, spaces, commas or colons


def valid_key(key):
    """Can clients send this room key? (``JOIN #a,#b k1,k2`` splits keys on commas.)"""
    return bool(key) and " " not in key and "," not in key and not key.startswith(":")


def room_name(name):
    """``lobby`` or ``#lobby`` -> ``#lobby`` (the console lets the operator omit the ``#``)."""
    return name if name.startswith("#") else "#" + name


@dataclass
class Settings:
    """What the operator chose at start; the core reads, never changes, these."""

    server_name: str = "selectchat.local"
    network: str = "selectchat"
    password: str | None = None     # server password (PASS); None: no password
    client_rooms: bool = True       # may a JOIN create a room?
    motd: tuple = ("Welcome to selectchat: a select() chat server for learning.",
                   "Type LIST to see the rooms, JOIN #room to enter one.")
    ping_interval: float = 60.0     # idle this long: we send PING
    ping_timeout: float = 60.0      # no answer this long after PING: dropped
    register_timeout: float = 60.0  # not registered this long after connecting: dropped
    max_rooms_per_user: int = 20
    max_targets: int = 4            # PRIVMSG a,b,c,d
    topic_length: int = 300
    created: str = "today"
    operators: tuple = ()           # ((name, password), ...) that OPER accepts; () : no OPER
    whowas_length: int = 100        # gone nicks that WHOWAS remembers


class User:
    """One connection and, once registered, the person behind it."""

    def __init__(self, conn, host, now):
        self.conn = conn
        self.host = host
        self.nick = None
        self.username = None
        self.realname = ""
        self.registered = False
        self.password_ok = False
        self.negotiating_caps = False  # registration waits for CAP END
        self.away = None
        self.invisible = False  # user mode +i: counted by LUSERS, hidden from WHO of strangers
        self.oper = False       # user mode +o: a server operator (OPER), may KILL and WALLOPS
        self.oper_failures = 0  # wrong OPER attempts on this connection
        self.wallops = False    # user mode +w: receives WALLOPS
        self.invited_to = set() # irc_lower(room name) of rooms an INVITE lets it into, once
        self.rooms = {}        # irc_lower(name) -> Room, in join order
        self.connected_at = now
        self.last_seen = now
        self.ping_sent_at = None

    @property
    def mask(self):
        """The ``nick!user@host`` prefix of messages this user causes."""
        return f"{self.nick}!{self.username}@{self.host}"

    @property
    def name(self):
        """Who this is, for the log: the nick, or where an unregistered client came from."""
        return self.nick or f"unregistered client from {self.host}"

    def __repr__(self):
        return f"<User {self.nick or '?'} {self.conn!r}>"


DEFAULT_ROOM_FLAGS = "nt"  # new rooms: no messages from outside, topic by operators (as ngIRCd)


@dataclass(frozen=True)
class MaskEntry:
    """One entry of a room's ban (+b), exception (+e) or invite-exception (+I) list."""

    mask: str     # nick!user@host, with * and ? wildcards
    set_by: str
    set_at: int   # Unix time


class Room:
    """A chat room (an IRC channel): members and their status, flags, limit, key, mask lists."""

    def __init__(self, name, limit=0, key=None, persistent=False, created=0):
        self.name = name
        self.limit = limit            # 0: no limit (IRC mode +l)
        self.key = key                # None: public; else the password (mode +k)
        self.persistent = persistent  # made by the operator: stays when empty
        self.created = created        # Unix time, for 329
        self.flags = set(DEFAULT_ROOM_FLAGS)  # the modes without a parameter: i m n s t
        self.masks = {"b": [], "e": [], "I": []}  # list modes: letter -> [MaskEntry]
        self.topic = ""
        self.topic_set_by = ""
        self.topic_set_at = 0
        self.members = {}             # User -> status letters ("o", "v", "ov" or ""), in join order
        self._conns = None            # the members' connections, kept until someone joins or leaves

    @property
    def is_full(self):
        return bool(self.limit) and len(self.members) >= self.limit

    @property
    def mode_string(self):
        """``+ntkl`` style flags, without parameters."""
        return "+" + "".join(sorted(self.flags)) + ("k" if self.key else "") + ("l" if self.limit else "")

    def add_member(self, user, status=""):
        self.members[user] = status
        self._conns = None

    def remove_member(self, user):
        del self.members[user]
        self._conns = None

    @property
    def conns(self):
        """Every member's connection, as one tuple: a fan-out need not build it per message."""
        if self._conns is None:
            self._conns = tuple(member.conn for member in self.members)
        return self._conns

    def is_operator(self, user):
        return "o" in self.members.get(user, "")

    def prefix(self, user):
        """``@`` for a room operator, ``+`` for a voiced member, else nothing (PREFIX=(ov)@+)."""
        status = self.members.get(user, "")
        return "@" if "o" in status else "+" if "v" in status else ""

    def __repr__(self):
        return f"<Room {self.name} {len(self.members)}/{self.limit or '-'}>"
