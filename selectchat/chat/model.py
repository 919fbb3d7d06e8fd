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
        self.invisible = False  # user mode +i: accepted and counted by LUSERS; hides nothing here
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


class Room:
    """A chat room (an IRC channel): members, a participant limit, an optional key."""

    def __init__(self, name, limit=0, key=None, persistent=False):
        self.name = name
        self.limit = limit            # 0: no limit (IRC mode +l)
        self.key = key                # None: public; else the password (mode +k)
        self.persistent = persistent  # made by the operator: stays when empty
        self.topic = ""
        self.topic_set_by = ""
        self.members = {}             # User -> is room operator, in join order

    @property
    def is_full(self):
        return bool(self.limit) and len(self.members) >= self.limit

    @property
    def mode_string(self):
        """``+kl`` style flags, without parameters."""
        return "+" + ("k" if self.key else "") + ("l" if self.limit else "")

    def __repr__(self):
        return f"<Room {self.name} {len(self.members)}/{self.limit or '-'}>"
