"""The chat core: users, rooms, limits, keys and every IRC rule, with no I/O.

This is "sans-I/O" code, in the manner of the h11 library: nothing here
touches a socket, a file or the clock.  The server feeds it events

* :meth:`Chat.connect` when a client connects,
* :meth:`Chat.receive` for each complete line the client sent,
* :meth:`Chat.disconnect` when a connection is gone,
* :meth:`Chat.tick` now and then, to send PINGs and drop dead peers,

and each call returns a list of *effects* for the server to carry out:

* :class:`Send` -- these bytes go to these connections,
* :class:`Close` -- flush this connection's output, then close it,
* :class:`Event` -- something happened worth logging or tracing.

A "connection" is whatever hashable object the caller uses to tell clients
apart (the server uses its connection objects; tests use strings).  Because
the core only maps inputs to outputs, every rule below is tested without a
single socket (see tests/test_chat.py).

The console (the server operator) calls the methods under "Operator
actions" -- the same rules apply to a room however it was made.
"""

import re
from dataclasses import dataclass, field

from . import __version__
from . import protocol as irc
from .framing import TOO_LONG
from .protocol import format_line


# --- effects: what the server must do after a call --------------------------

@dataclass(frozen=True, slots=True)
class Send:
    """Append ``data`` (one formatted line) to the output of every connection in ``to``."""

    to: tuple  # or list: any sequence of connections
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """Send what is pending to ``conn``, then close it."""

    conn: object
    reason: str


@dataclass(frozen=True, slots=True)
class Event:
    """A fact for the log and the trace: ``kind`` is a short tag, ``fields`` the details."""

    kind: str
    text: str
    fields: dict = field(default_factory=dict)


class ChatError(ValueError):
    """An operator action that cannot be done; the message says why."""


# --- names ------------------------------------------------------------------

NICK_RE = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,29}\Z")
ROOM_RE = re.compile(r"#[^\x00\x07\r\n ,:]{1,49}\Z")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def valid_key(key):
    """Can clients send this room key? (``JOIN #a,#b k1,k2`` splits keys on commas.)"""
    return bool(key) and " " not in key and "," not in key and not key.startswith(":")


def irc_lower(name):
    """Fold case the way we advertise (CASEMAPPING=ascii): only A-Z change."""
    return name.translate(_ASCII_LOWER)


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
        flags = ("k" if self.key else "") + ("l" if self.limit else "")
        return "+" + flags

    def __repr__(self):
        return f"<Room {self.name} {len(self.members)}/{self.limit or '-'}>"


class Chat:
    """All users and rooms of one server, and the rules that change them."""

    def __init__(self, settings=None):
        self.settings = settings or Settings()
        self.users = {}        # conn -> User
        self.nicks = {}        # irc_lower(nick) -> User
        self.rooms = {}        # irc_lower(name) -> Room
        self._effects = []

    # --- inputs from the server ------------------------------------------

    def connect(self, conn, host, now):
        """A client connected from ``host``; it must register next."""
        self.users[conn] = User(conn, host, now)
        self._event("connect", f"connection from {host}", host=host)
        return self._take_effects()

    def receive(self, conn, line, now):
        """One complete line (bytes, or ``framing.TOO_LONG``) arrived from ``conn``."""
        user = self.users.get(conn)
        if user is None:  # already gone (e.g. it sent QUIT and more lines)
            return []
        user.last_seen = now
        user.ping_sent_at = None
        if line is TOO_LONG:
            self._reply(user, irc.ERR_INPUTTOOLONG, "Input line was too long")
            self._event("error", f"{self._who(user)} sent an overlong line")
            return self._take_effects()
        # Invalid UTF-8 becomes U+FFFD; NUL and stray CR are removed so that
        # nothing we relay can end a line early at the receiving end.
        text = line.decode("utf-8", "replace").replace("\0", "").replace("\r", " ")
        try:
            message = irc.parse(text)
        except irc.ProtocolError:
            return self._take_effects()  # blank lines are ignored, as by every server
        self._dispatch(user, message, now)
        return self._take_effects()

    def disconnect(self, conn, reason="Connection closed"):
        """The connection is gone (EOF, reset, or after a :class:`Close`)."""
        user = self.users.get(conn)
        if user is not None:
            self._remove_user(user, reason)
        return self._take_effects()

    def tick(self, now):
        """Called periodically: PING idle clients, drop those that never answer."""
        s = self.settings
        for user in list(self.users.values()):
            if not user.registered:
                if now - user.connected_at > s.register_timeout:
                    self._drop(user, "Registration timeout")
            elif user.ping_sent_at is not None:
                if now - user.ping_sent_at > s.ping_timeout:
                    self._drop(user, f"Ping timeout: {s.ping_timeout:g} seconds")
            elif now - user.last_seen > s.ping_interval:
                user.ping_sent_at = now
                self._send(user, format_line("", "PING", s.server_name))
        return self._take_effects()

    # --- dispatch ----------------------------------------------------------

    # What an unregistered client may send (RFC 2812 section 3.1).
    BEFORE_REGISTRATION = {"PASS", "NICK", "USER", "CAP", "PING", "PONG", "QUIT"}

    def _dispatch(self, user, msg, now):
        handler = getattr(self, "do_" + msg.command, None)
        if handler is None:
            if user.registered:
                self._reply(user, irc.ERR_UNKNOWNCOMMAND, msg.command, "Unknown command")
            else:
                self._reply(user, irc.ERR_NOTREGISTERED, "You have not registered")
        elif not user.registered and msg.command not in self.BEFORE_REGISTRATION:
            self._reply(user, irc.ERR_NOTREGISTERED, "You have not registered")
        else:
            handler(user, msg)

    # --- registration ------------------------------------------------------

    def do_PASS(self, user, msg):
        if user.registered:
            return self._reply(user, irc.ERR_ALREADYREGISTERED, "You may not reregister")
        if not msg.params:
            return self._need_more_params(user, msg)
        user.password_ok = msg.params[0] == self.settings.password

    def do_NICK(self, user, msg):
        nick = msg.param(0)
        if not nick:
            return self._reply(user, irc.ERR_NONICKNAMEGIVEN, "No nickname given")
        if not NICK_RE.match(nick):
            return self._refuse(user, irc.ERR_ERRONEUSNICKNAME, nick, "Erroneous nickname")
        owner = self.nicks.get(irc_lower(nick))
        if owner is not None and owner is not user:
            return self._refuse(user, irc.ERR_NICKNAMEINUSE, nick, "Nickname is already in use")
        if nick == user.nick:
            return
        old_mask = user.mask
        if user.nick is not None:
            del self.nicks[irc_lower(user.nick)]
        self.nicks[irc_lower(nick)] = user
        old_nick, user.nick = user.nick, nick
        if user.registered:
            line = format_line(old_mask, "NICK", nick)
            self._send_many([user, *self._peers(user)], line)
            self._event("nick", f"{old_nick} is now known as {nick}", old=old_nick, new=nick)
        else:
            self._try_register(user)

    def do_USER(self, user, msg):
        if user.registered:
            return self._reply(user, irc.ERR_ALREADYREGISTERED, "You may not reregister")
        if len(msg.params) < 4 or not msg.params[0] or not msg.params[3]:
            return self._need_more_params(user, msg)  # an empty name counts as a missing one
        user.username = re.sub(r"[^A-Za-z0-9._-]", "", msg.params[0])[:10] or "user"
        user.realname = msg.params[3][:100]
        self._try_register(user)

    def do_CAP(self, user, msg):
        # We offer no capabilities, but must answer so that clients that ask
        # (most do, before NICK/USER) carry on with registration.
        sub = msg.param(0).upper()
        target = user.nick or "*"
        if sub in ("LS", "LIST"):
            if not user.registered and sub == "LS":
                user.negotiating_caps = True
            self._send(user, format_line(self.settings.server_name, "CAP", target, sub, ""))
        elif sub == "REQ":
            if not user.registered:
                user.negotiating_caps = True
            self._send(user, format_line(self.settings.server_name, "CAP", target, "NAK", msg.param(1)))
        elif sub == "END":
            user.negotiating_caps = False
            self._try_register(user)

    def _try_register(self, user):
        if user.registered or not user.nick or not user.username or user.negotiating_caps:
            return
        if self.settings.password is not None and not user.password_ok:
            self._refuse(user, irc.ERR_PASSWDMISMATCH, "Password incorrect")
            return self._drop(user, "Bad password")
        user.registered = True
        s = self.settings
        self._reply(user, irc.RPL_WELCOME, f"Welcome to the {s.network} IRC network {user.mask}")
        self._reply(user, irc.RPL_YOURHOST, f"Your host is {s.server_name}, running version selectchat-{__version__}")
        self._reply(user, irc.RPL_CREATED, f"This server was created {s.created}")
        self._reply(user, irc.RPL_MYINFO, s.server_name, f"selectchat-{__version__}", "i", "klo", "klo")
        self._reply(user, irc.RPL_ISUPPORT, *self.isupport(), "are supported by this server")
        self._send_lusers(user)
        self._send_motd(user)
        self._event("register", f"{user.nick} registered from {user.host}", nick=user.nick)

    def isupport(self):
        """The ISUPPORT (005) tokens: what a client may rely on here."""
        s = self.settings
        return (f"NETWORK={s.network}", "CASEMAPPING=ascii", "CHANTYPES=#",
                "CHANMODES=,k,l,", "PREFIX=(o)@", f"CHANLIMIT=#:{s.max_rooms_per_user}",
                "NICKLEN=30", "CHANNELLEN=50", f"TOPICLEN={s.topic_length}",
                f"TARGMAX=PRIVMSG:{s.max_targets},NOTICE:{s.max_targets}", "MODES=3")

    def _send_lusers(self, user):
        # Only registered users count; clients parse the three numbers out of the 251 text.
        registered = [u for u in self.users.values() if u.registered]
        invisible = sum(1 for u in registered if u.invisible)
        self._reply(user, irc.RPL_LUSERCLIENT,
                    f"There are {len(registered) - invisible} users and {invisible} invisible on 1 servers")
        self._reply(user, irc.RPL_LUSERCHANNELS, str(len(self.rooms)), "rooms formed")
        self._reply(user, irc.RPL_LUSERME, f"I have {len(registered)} clients and 0 servers")

    def _send_motd(self, user):
        if not self.settings.motd:
            return self._reply(user, irc.ERR_NOMOTD, "MOTD File is missing")
        self._reply(user, irc.RPL_MOTDSTART, f"- {self.settings.server_name} Message of the day -")
        for text in self.settings.motd:
            self._reply(user, irc.RPL_MOTD, f"- {text}")
        self._reply(user, irc.RPL_ENDOFMOTD, "End of /MOTD command.")

    # --- liveness ----------------------------------------------------------

    def do_PING(self, user, msg):
        if not msg.params:
            return self._reply(user, irc.ERR_NOORIGIN, "No origin specified")
        name = self.settings.server_name
        self._send(user, format_line(name, "PONG", name, msg.params[0]))

    def do_PONG(self, user, msg):
        pass  # receive() already noted that the client is alive

    def do_QUIT(self, user, msg):
        reason = f"Quit: {msg.param(0)}"  # "Quit: " even when empty, as modern IRC docs say
        self._drop(user, reason)

    # --- rooms -------------------------------------------------------------

    def do_JOIN(self, user, msg):
        if not msg.params:
            return self._need_more_params(user, msg)
        if msg.params[0] == "0":  # "JOIN 0" leaves every room (RFC 2812 3.2.1)
            for room in list(user.rooms.values()):
                self._part(user, room, "Left all rooms")
            return
        names = msg.params[0].split(",")
        keys = msg.param(1).split(",")
        for i, name in enumerate(names):
            self._join(user, name, keys[i] if i < len(keys) else "")

    def _join(self, user, name, key):
        if not ROOM_RE.match(name):
            return self._refuse(user, irc.ERR_BADCHANMASK, name, "Bad room name: it must start with # and hold no spaces or commas")
        room = self.rooms.get(irc_lower(name))
        if room is not None and user in room.members:
            return
        if len(user.rooms) >= self.settings.max_rooms_per_user:
            return self._refuse(user, irc.ERR_TOOMANYCHANNELS, name, "You have joined too many rooms")
        if room is None:
            if not self.settings.client_rooms:
                return self._refuse(user, irc.ERR_NOSUCHCHANNEL, name, "No such room (only the operator creates rooms here)")
            room = self._create(name)
            self._event("room-created", f"{user.nick} created {name}", room=name, by=user.nick)
        elif room.key is not None and key != room.key:
            return self._refuse(user, irc.ERR_BADCHANNELKEY, room.name, "Cannot join room (+k) - wrong key")
        elif room.is_full:
            return self._refuse(user, irc.ERR_CHANNELISFULL, room.name, f"Cannot join room (+l) - room is full ({room.limit} max)")
        # Whoever makes a room is its operator (unless the server operator made it).
        room.members[user] = not room.members and not room.persistent
        user.rooms[irc_lower(room.name)] = room
        self._send_to_room(room, format_line(user.mask, "JOIN", room.name))
        if room.topic:
            self._reply(user, irc.RPL_TOPIC, room.name, room.topic)
        self._send_names(user, room)
        self._event("join", f"{user.nick} joined {room.name}", nick=user.nick, room=room.name,
                    members=len(room.members))

    def _create(self, name, limit=0, key=None, persistent=False):
        room = Room(name, limit, key, persistent)
        self.rooms[irc_lower(name)] = room
        return room

    def do_PART(self, user, msg):
        if not msg.params:
            return self._need_more_params(user, msg)
        for name in msg.params[0].split(","):
            room = self._member_room(user, name)
            if room is not None:
                self._part(user, room, msg.param(1))

    def _part(self, user, room, reason):
        line = format_line(user.mask, "PART", room.name, reason) if reason else format_line(user.mask, "PART", room.name)
        self._send_to_room(room, line)
        self._leave(user, room)
        self._event("part", f"{user.nick} left {room.name}", nick=user.nick, room=room.name)

    def _leave(self, user, room):
        """Take ``user`` out of ``room``; a room a client made goes when it empties."""
        del room.members[user]
        del user.rooms[irc_lower(room.name)]
        if not room.members and not room.persistent:
            del self.rooms[irc_lower(room.name)]
            self._event("room-gone", f"{room.name} is empty and was removed", room=room.name)

    def do_NAMES(self, user, msg):
        if not msg.params:
            for room in self.rooms.values():
                self._send_names(user, room, end=False)
            return self._reply(user, irc.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        for name in msg.params[0].split(","):
            room = self.rooms.get(irc_lower(name))
            if room is not None:
                self._send_names(user, room)
            else:
                self._reply(user, irc.RPL_ENDOFNAMES, name, "End of /NAMES list")

    def _send_names(self, user, room, end=True):
        names = [("@" if is_op else "") + member.nick for member, is_op in room.members.items()]
        # One 353 line must stay under 512 bytes: send the names in chunks.
        chunk = []
        for name in names:
            chunk.append(name)
            if sum(len(n) + 1 for n in chunk) > 350:
                self._reply(user, irc.RPL_NAMREPLY, "=", room.name, " ".join(chunk))
                chunk = []
        if chunk or not names:
            self._reply(user, irc.RPL_NAMREPLY, "=", room.name, " ".join(chunk))
        if end:
            self._reply(user, irc.RPL_ENDOFNAMES, room.name, "End of /NAMES list")

    def do_LIST(self, user, msg):
        if msg.params:
            wanted = [irc_lower(n) for n in msg.params[0].split(",")]
            rooms = [self.rooms[n] for n in wanted if n in self.rooms]
        else:
            rooms = list(self.rooms.values())
        self._reply(user, irc.RPL_LISTSTART, "Room", "Users  Name")
        for room in rooms:
            # The modes in brackets tell the limit and whether a key is needed.
            limit = f" {room.limit}" if room.limit else ""
            modes = f"[{room.mode_string}{limit}]" if room.mode_string != "+" else "[+]"
            self._reply(user, irc.RPL_LIST, room.name, str(len(room.members)), f"{modes} {room.topic}".rstrip())
        self._reply(user, irc.RPL_LISTEND, "End of /LIST")

    def do_TOPIC(self, user, msg):
        if not msg.params:
            return self._need_more_params(user, msg)
        room = self.rooms.get(irc_lower(msg.params[0]))
        if room is None:
            return self._reply(user, irc.ERR_NOSUCHCHANNEL, msg.params[0], "No such room")
        if len(msg.params) == 1:
            if room.topic:
                return self._reply(user, irc.RPL_TOPIC, room.name, room.topic)
            return self._reply(user, irc.RPL_NOTOPIC, room.name, "No topic is set")
        if self._require_op(user, room):
            room.topic = msg.params[1][: self.settings.topic_length]
            room.topic_set_by = user.nick
            self._send_to_room(room, format_line(user.mask, "TOPIC", room.name, room.topic))
            self._event("topic", f"{user.nick} set the topic of {room.name}", room=room.name)

    def do_KICK(self, user, msg):
        if len(msg.params) < 2:
            return self._need_more_params(user, msg)
        room = self.rooms.get(irc_lower(msg.params[0]))
        if room is None:
            return self._reply(user, irc.ERR_NOSUCHCHANNEL, msg.params[0], "No such room")
        if not self._require_op(user, room):
            return
        for nick in msg.params[1].split(","):
            target = self.nicks.get(irc_lower(nick))
            if target is None or target not in room.members:
                self._reply(user, irc.ERR_USERNOTINCHANNEL, nick, room.name, "They aren't in that room")
                continue
            self._kick(user.mask, room, target, msg.param(2) or user.nick)

    def _kick(self, by_mask, room, target, reason):
        self._send_to_room(room, format_line(by_mask, "KICK", room.name, target.nick, reason))
        self._leave(target, room)
        self._event("kick", f"{target.nick} was kicked from {room.name} ({reason})",
                    nick=target.nick, room=room.name)

    def do_MODE(self, user, msg):
        if not msg.params:
            return self._need_more_params(user, msg)
        target = msg.params[0]
        if not target.startswith("#"):
            return self._user_mode(user, msg)
        room = self.rooms.get(irc_lower(target))
        if room is None:
            return self._reply(user, irc.ERR_NOSUCHCHANNEL, target, "No such room")
        if len(msg.params) == 1:
            params = []
            if room.key:
                params.append(room.key if user in room.members else "*")
            if room.limit:
                params.append(str(room.limit))
            return self._reply(user, irc.RPL_CHANNELMODEIS, room.name, room.mode_string, *params)
        if msg.params[1] in ("b", "+b"):  # clients ask for the ban list on join; we keep none
            return self._reply(user, irc.RPL_ENDOFBANLIST, room.name, "End of room ban list")
        if self._require_op(user, room):
            self._change_modes(user, room, msg.params[1], list(msg.params[2:]))

    def _change_modes(self, user, room, modestring, args):
        applied, applied_args, sign = "", [], "+"
        for flag in modestring:
            if flag in "+-":
                sign = flag
            elif flag == "l" and sign == "+":
                limit = args.pop(0) if args else ""
                if limit.isdigit() and int(limit) > 0:
                    room.limit = int(limit)
                    applied, applied_args = applied + "+l", applied_args + [limit]
            elif flag == "k" and sign == "+":
                key = args.pop(0) if args else ""
                if valid_key(key):
                    room.key = key
                    applied, applied_args = applied + "+k", applied_args + [key]
            elif flag == "k":  # -k: its argument, if any, need not match the key
                if args:
                    args.pop(0)
                room.key = None
                # k always takes a parameter (CHANMODES type B), even when removed.
                applied, applied_args = applied + "-k", applied_args + ["*"]
            elif flag == "l":  # -l
                room.limit = 0
                applied += "-l"
            elif flag == "o":
                nick = args.pop(0) if args else ""
                target = self.nicks.get(irc_lower(nick))
                if target is None:
                    self._reply(user, irc.ERR_NOSUCHNICK, nick, "No such nick/room")
                    continue
                if target not in room.members:
                    self._reply(user, irc.ERR_USERNOTINCHANNEL, nick, room.name, "They aren't in that room")
                    continue
                room.members[target] = sign == "+"
                applied, applied_args = applied + sign + "o", applied_args + [target.nick]
            else:
                self._reply(user, irc.ERR_UNKNOWNMODE, flag, "is unknown mode char to me")
        if applied:
            modes = _compact_modes(applied)
            self._send_to_room(room, format_line(user.mask, "MODE", room.name, modes, *applied_args))
            self._event("mode", f"{user.nick} set {room.name} {modes} {' '.join(applied_args)}".rstrip(),
                        room=room.name, modes=modes)

    def _user_mode(self, user, msg):
        target = msg.params[0]
        if irc_lower(target) != irc_lower(user.nick):
            if irc_lower(target) not in self.nicks:
                return self._reply(user, irc.ERR_NOSUCHNICK, target, "No such nick/room")
            return self._reply(user, irc.ERR_USERSDONTMATCH, "Can't change mode for other users")
        if len(msg.params) == 1:
            return self._reply(user, irc.RPL_UMODEIS, "+i" if user.invisible else "+")
        # The one user mode is +i, which clients set on connect. A change is
        # echoed as a MODE line; unknown letters get 501 after the known ones apply.
        sign, changed = "+", ""
        for flag in msg.params[1]:
            if flag in "+-":
                sign = flag
            elif flag == "i" and user.invisible != (sign == "+"):
                user.invisible = sign == "+"
                changed += sign + "i"
        if changed:
            self._send(user, format_line(user.mask, "MODE", user.nick, _compact_modes(changed)))
        if msg.params[1].strip("+-i"):
            self._reply(user, irc.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")

    # --- talking -----------------------------------------------------------

    def do_PRIVMSG(self, user, msg, notice=False):
        command = "NOTICE" if notice else "PRIVMSG"
        if not msg.params:
            return notice or self._reply(user, irc.ERR_NORECIPIENT, f"No recipient given ({command})")
        if len(msg.params) < 2 or not msg.params[1]:
            return notice or self._reply(user, irc.ERR_NOTEXTTOSEND, "No text to send")
        text = msg.params[1]
        for target in msg.params[0].split(",")[: self.settings.max_targets]:
            if target.startswith("#"):
                room = self.rooms.get(irc_lower(target))
                if room is None:
                    notice or self._reply(user, irc.ERR_NOSUCHNICK, target, "No such nick/room")
                elif user not in room.members:
                    notice or self._reply(user, irc.ERR_CANNOTSENDTOCHAN, room.name, "Cannot send to room (you are not in it)")
                else:
                    line = format_line(user.mask, command, room.name, text)
                    self._send_to_room(room, line, exclude=user)
                    self._event("message", f"<{user.nick}> {room.name}: {text}", sender=user.nick,
                                room=room.name, recipients=len(room.members) - 1, bytes=len(line))
            else:
                peer = self.nicks.get(irc_lower(target))
                if peer is None or not peer.registered:
                    notice or self._reply(user, irc.ERR_NOSUCHNICK, target, "No such nick/room")
                else:
                    self._send(peer, format_line(user.mask, command, peer.nick, text))
                    # Private messages are logged without their text.
                    self._event("private", f"{user.nick} -> {peer.nick} (private, {len(text)} chars)",
                                sender=user.nick, to=peer.nick)

    def do_NOTICE(self, user, msg):
        # Like PRIVMSG, but never answered with an error (RFC 2812 3.3.2).
        self.do_PRIVMSG(user, msg, notice=True)

    def do_AWAY(self, user, msg):
        user.away = msg.param(0) or None
        if user.away:
            self._reply(user, irc.RPL_NOWAWAY, "You have been marked as being away")
        else:
            self._reply(user, irc.RPL_UNAWAY, "You are no longer marked as being away")

    # --- looking people up ------------------------------------------------

    def do_WHO(self, user, msg):
        mask = msg.param(0, "*")
        room = self.rooms.get(irc_lower(mask))
        if room is not None:
            for member, is_op in room.members.items():
                self._who_reply(user, member, room.name, is_op)
        else:
            peer = self.nicks.get(irc_lower(mask))
            if peer is not None and peer.registered:
                self._who_reply(user, peer, "*", False)
        self._reply(user, irc.RPL_ENDOFWHO, mask, "End of /WHO list")

    def _who_reply(self, user, member, room_name, is_op):
        flags = ("G" if member.away else "H") + ("@" if is_op else "")
        self._reply(user, irc.RPL_WHOREPLY, room_name, member.username, member.host,
                    self.settings.server_name, member.nick, flags, f"0 {member.realname}")

    def do_WHOIS(self, user, msg):
        if not msg.params:
            return self._reply(user, irc.ERR_NONICKNAMEGIVEN, "No nickname given")
        nick = msg.params[-1]
        peer = self.nicks.get(irc_lower(nick))
        if peer is None or not peer.registered:
            self._reply(user, irc.ERR_NOSUCHNICK, nick, "No such nick/room")
        else:
            self._reply(user, irc.RPL_WHOISUSER, peer.nick, peer.username, peer.host, "*", peer.realname)
            if peer.rooms:
                rooms = " ".join(("@" if r.members[peer] else "") + r.name for r in peer.rooms.values())
                self._reply(user, irc.RPL_WHOISCHANNELS, peer.nick, rooms)
            self._reply(user, irc.RPL_WHOISSERVER, peer.nick, self.settings.server_name, "selectchat")
        self._reply(user, irc.RPL_ENDOFWHOIS, nick, "End of /WHOIS list")

    def do_USERHOST(self, user, msg):
        # Only registered users: a connection that sent NICK but not USER has no username yet.
        found = [p for n in msg.params[:5] if (p := self.nicks.get(irc_lower(n))) and p.registered]
        self._reply(user, irc.RPL_USERHOST, " ".join(f"{p.nick}=+{p.username}@{p.host}" for p in found))

    def do_ISON(self, user, msg):
        nicks = " ".join(msg.params).split()
        online = [p for n in nicks if (p := self.nicks.get(irc_lower(n))) and p.registered]
        self._reply(user, irc.RPL_ISON, " ".join(p.nick for p in online))

    def do_MOTD(self, user, msg):
        self._send_motd(user)

    def do_LUSERS(self, user, msg):
        self._send_lusers(user)

    # --- operator actions (the server console) ----------------------------

    def create_room(self, name, limit=0, key=None):
        """Create a room that stays open, even empty, until :meth:`close_room`."""
        name = name if name.startswith("#") else "#" + name
        if not ROOM_RE.match(name):
            raise ChatError(f"bad room name {name!r}: no spaces, commas or colons, at most 50 characters")
        if irc_lower(name) in self.rooms:
            raise ChatError(f"{name} already exists")
        if limit < 0:
            raise ChatError("the limit must be 0 (none) or more")
        if key and not valid_key(key):
            raise ChatError(f"bad key {key!r}: no spaces or commas, and not starting with ':'")
        self._create(name, limit, key or None, persistent=True)
        self._event("room-created", f"the operator created {name}", room=name, by="operator")
        return self._take_effects()

    def find_room(self, name):
        """The room called ``name`` (``#`` optional), or :class:`ChatError`."""
        name = name if name.startswith("#") else "#" + name
        room = self.rooms.get(irc_lower(name))
        if room is None:
            raise ChatError(f"no room called {name}")
        return room

    def close_room(self, name, reason="Room closed by the operator"):
        """Remove every member (their connections stay open), then the room."""
        room = self.find_room(name)
        for member in list(room.members):
            self._kick(self.settings.server_name, room, member, reason)
        self.rooms.pop(irc_lower(room.name), None)
        self._event("room-closed", f"the operator closed {room.name}", room=room.name)
        return self._take_effects()

    def set_limit(self, name, limit):
        room = self.find_room(name)
        if limit < 0:
            raise ChatError("the limit must be 0 (none) or more")
        room.limit = limit
        modes = ("+l", str(limit)) if limit else ("-l",)
        self._send_to_room(room, format_line(self.settings.server_name, "MODE", room.name, *modes))
        self._event("mode", f"the operator set {room.name} {' '.join(modes)}", room=room.name)
        return self._take_effects()

    def set_key(self, name, key):
        room = self.find_room(name)
        room.key = key or None
        if key and not valid_key(key):
            raise ChatError(f"bad key {key!r}: no spaces or commas, and not starting with ':'")
        modes = ("+k", key) if key else ("-k", "*")
        self._send_to_room(room, format_line(self.settings.server_name, "MODE", room.name, *modes))
        self._event("mode", f"the operator set {room.name} {modes[0]}", room=room.name)
        return self._take_effects()

    def kick(self, name, nick, reason="Kicked by the operator"):
        room = self.find_room(name)
        target = self.nicks.get(irc_lower(nick))
        if target is None or target not in room.members:
            raise ChatError(f"{nick} is not in {room.name}")
        self._kick(self.settings.server_name, room, target, reason)
        return self._take_effects()

    def disconnect_user(self, nick, reason="Disconnected by the operator"):
        target = self.nicks.get(irc_lower(nick))
        if target is None:
            raise ChatError(f"no user called {nick}")
        self._drop(target, reason)
        return self._take_effects()

    def announce(self, text):
        """A NOTICE from the server to every registered user."""
        users = [u for u in self.users.values() if u.registered]
        for u in users:
            self._send(u, format_line(self.settings.server_name, "NOTICE", u.nick, text))
        return self._take_effects()

    def shutdown(self, reason="Server shutting down"):
        """Tell every client why, and close every connection."""
        for user in list(self.users.values()):
            self._drop(user, reason, tell_peers=False)
        return self._take_effects()

    # --- helpers -------------------------------------------------------------

    def _take_effects(self):
        effects, self._effects = self._effects, []
        return effects

    def _send(self, user, data):
        self._effects.append(Send((user.conn,), data))

    def _send_many(self, users, data):
        if users:
            self._effects.append(Send(tuple(u.conn for u in users), data))

    def _send_to_room(self, room, data, exclude=None):
        # The hottest line of a busy server: one pass over the members.
        to = [member.conn for member in room.members if member is not exclude]
        if to:
            self._effects.append(Send(to, data))

    def _reply(self, user, numeric, *params):
        self._send(user, format_line(self.settings.server_name, numeric, user.nick or "*", *params))

    def _refuse(self, user, numeric, *params):
        """A numeric error worth logging: the user asked for something and was told no."""
        self._reply(user, numeric, *params)
        self._event("refused", f"{self._who(user)} refused: {params[-1]}", nick=user.nick, numeric=numeric)

    def _need_more_params(self, user, msg):
        self._reply(user, irc.ERR_NEEDMOREPARAMS, msg.command, "Not enough parameters")

    def _require_op(self, user, room):
        if user not in room.members:
            self._reply(user, irc.ERR_NOTONCHANNEL, room.name, "You're not in that room")
            return False
        if not room.members[user]:
            self._refuse(user, irc.ERR_CHANOPRIVSNEEDED, room.name, "You're not a room operator")
            return False
        return True

    def _member_room(self, user, name):
        """The room ``name`` if ``user`` is in it; otherwise reply with the error."""
        room = self.rooms.get(irc_lower(name))
        if room is None:
            self._reply(user, irc.ERR_NOSUCHCHANNEL, name, "No such room")
        elif user not in room.members:
            self._reply(user, irc.ERR_NOTONCHANNEL, room.name, "You're not in that room")
        else:
            return room
        return None

    def _peers(self, user):
        """Everyone who shares a room with ``user`` (each once), ``user`` excluded."""
        peers = {}
        for room in user.rooms.values():
            peers.update(room.members)
        peers.pop(user, None)
        return list(peers)

    def _drop(self, user, reason, tell_peers=True):
        """Say goodbye with an ERROR line, then close (RFC 2812 3.1.7)."""
        self._send(user, format_line("", "ERROR", f"Closing Link: {user.host} ({reason})"))
        self._effects.append(Close(user.conn, reason))
        self._remove_user(user, reason, tell_peers)

    def _remove_user(self, user, reason, tell_peers=True):
        if user.registered and tell_peers:
            self._send_many(self._peers(user), format_line(user.mask, "QUIT", reason))
        for room in list(user.rooms.values()):
            self._leave(user, room)
        if user.nick is not None and self.nicks.get(irc_lower(user.nick)) is user:
            del self.nicks[irc_lower(user.nick)]
        del self.users[user.conn]
        self._event("quit", f"{self._who(user)} disconnected ({reason})", nick=user.nick, reason=reason)

    def _who(self, user):
        return user.nick or f"unregistered client from {user.host}"

    def _event(self, kind, text, **fields):
        self._effects.append(Event(kind, text, fields))


def _compact_modes(changes):
    """Turn ``+l+k-o`` into ``+lk-o``, as servers write mode changes."""
    out, sign = "", ""
    for i in range(0, len(changes), 2):
        if changes[i] != sign:
            sign = changes[i]
            out += sign
        out += changes[i + 1]
    return out
