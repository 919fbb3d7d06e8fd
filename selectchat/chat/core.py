"""The chat core: one object that holds the users and rooms and dispatches lines.

This is "sans-I/O" code, in the manner of the h11 library: nothing here
touches a socket, a file or the clock.  The server feeds it inputs

* :meth:`Chat.connect` when a client connects,
* :meth:`Chat.receive` for each complete line the client sent,
* :meth:`Chat.disconnect` when a connection is gone,
* :meth:`Chat.tick` now and then, to send PINGs and drop dead peers,

and each call returns the list of effects (:mod:`.effects`) and events
(:mod:`.events`) for the server to carry out.  The rules themselves live in
one module per subject, each offering a table ``COMMANDS`` of IRC command ->
function(chat, user, message); :data:`COMMANDS` below is all of them, the
whole protocol in one place.

A "connection" is whatever hashable object the caller uses to tell clients
apart (the server uses its connection objects; tests use strings).

Time comes in from the caller, too: ``now`` (the server's monotonic clock)
with each input, kept as :attr:`Chat.now`; and once, at creation, the Unix
time that goes with it, so that the replies that show the time of day (a
room's creation time, ``TIME``, a ban's date) need no clock read here.
"""

from collections import deque

from .. import irc
from ..irc import format_line, irc_lower
from ..net.framing import TOO_LONG
from . import history, invites, manual, messaging, modes, opers, queries, registration, rooms, who
from .effects import Close, Send, SendLater
from .events import Connected, LineTooLong, Quit, Refused
from .model import Settings, User

# Every command the server understands, and the function that handles it.
COMMANDS = {**registration.COMMANDS, **rooms.COMMANDS, **modes.COMMANDS, **invites.COMMANDS,
            **messaging.COMMANDS, **queries.COMMANDS, **who.COMMANDS, **history.COMMANDS, **opers.COMMANDS,
            **manual.COMMANDS}

# Users a tick looks at: ten thousand idle clients are checked over ten ticks,
# so no pass of the loop spends milliseconds walking them all.
TICK_SLICE = 1000

# What an unregistered client may send (RFC 2812 section 3.1).
BEFORE_REGISTRATION = {"PASS", "NICK", "USER", "CAP", "PING", "PONG", "QUIT"}


class Chat:
    """All users and rooms of one server; the effects of the call in progress."""

    def __init__(self, settings=None, now=0.0, unix_now=0.0):
        self.settings = settings or Settings()
        self.users = {}        # conn -> User
        self.nicks = {}        # irc_lower(nick) -> User
        self.rooms = {}        # irc_lower(name) -> Room
        self.most_users = 0    # the most registered users at once (LUSERS 265/266)
        self.gone = history.History(self.settings.whowas_length)   # who left, for WHOWAS
        self.now = now         # the caller's clock, as of the latest input
        self._unix_offset = unix_now - now   # add it to ``now``: Unix time
        self._effects = []
        self._to_check = deque()   # the users the next ticks will look at

    def unix_time(self):
        """The time of day (Unix seconds) as of the latest input, from the caller's clocks."""
        return int(self.now + self._unix_offset)

    # --- inputs from the server ------------------------------------------

    def connect(self, conn, host, now):
        """A client connected from ``host``; it must register next."""
        self.now = now
        self.users[conn] = User(conn, host, now)
        self.event(Connected(host))
        return self.take_effects()

    def receive(self, conn, line, now):
        """One complete line (bytes, or ``framing.TOO_LONG``) arrived from ``conn``."""
        user = self.users.get(conn)
        if user is None:  # already gone (e.g. it sent QUIT and more lines)
            return []
        self.now = now
        user.last_seen = now
        user.ping_sent_at = None
        if line is TOO_LONG:
            self.reply(user, irc.ERR_INPUTTOOLONG, "Input line was too long")
            self.event(LineTooLong(user.name))
            return self.take_effects()
        # Invalid UTF-8 becomes U+FFFD; NUL and CR (the framer leaves none, a
        # caller might) are removed, so nothing we relay can end a line early.
        text = line.decode("utf-8", "replace").replace("\0", "").replace("\r", " ")
        try:
            message = irc.parse(text)
        except irc.ProtocolError:
            return self.take_effects()  # blank lines are ignored, as by every server
        self._dispatch(user, message)
        return self.take_effects()

    def disconnect(self, conn, reason="Connection closed"):
        """The connection is gone (EOF, reset, or after a :class:`Close`)."""
        user = self.users.get(conn)
        if user is not None:
            self.remove_user(user, reason)
        return self.take_effects()

    def tick(self, now):
        """Called periodically: PING idle clients, drop those that never answer.

        Each call looks at ``TICK_SLICE`` users, the next ones of a round that
        starts again once every user has been looked at.
        """
        self.now = now
        s = self.settings
        if not self._to_check:
            self._to_check.extend(self.users.values())
        for _ in range(min(TICK_SLICE, len(self._to_check))):
            user = self._to_check.popleft()
            if user.conn not in self.users:
                continue  # gone since the round began
            if not user.registered:
                if now - user.connected_at > s.register_timeout:
                    self.drop(user, "Registration timeout")
            elif user.ping_sent_at is not None:
                if now - user.ping_sent_at > s.ping_timeout:
                    self.drop(user, f"Ping timeout: {s.ping_timeout:g} seconds")
            elif now - user.last_seen > s.ping_interval:
                user.ping_sent_at = now
                self.send(user, format_line("", "PING", s.server_name))
        return self.take_effects()

    def _dispatch(self, user, msg):
        handler = COMMANDS.get(msg.command)
        if handler is None and user.registered:
            self.reply(user, irc.ERR_UNKNOWNCOMMAND, msg.command, "Unknown command")
        elif handler is None or not (user.registered or msg.command in BEFORE_REGISTRATION):
            self.reply(user, irc.ERR_NOTREGISTERED, "You have not registered")
        else:
            handler(self, user, msg)

    # --- effects, for the rules' modules -----------------------------------

    def take_effects(self):
        effects, self._effects = self._effects, []
        return effects

    def send(self, user, data):
        self._effects.append(Send((user.conn,), data))

    def send_many(self, users, data):
        if users:
            self._effects.append(Send(tuple(u.conn for u in users), data))

    def send_to_room(self, room, data, exclude=None):
        # The hottest line of a busy server: the room keeps its tuple of connections.
        if room.members:
            self._effects.append(Send(room.conns, data, exclude.conn if exclude is not None else None))

    def send_later(self, user, lines):
        """A long reply, produced as the client takes it (see :class:`SendLater`)."""
        self._effects.append(SendLater(user.conn, lines))

    def reply(self, user, numeric, *params):
        self.send(user, format_line(self.settings.server_name, numeric, user.nick or "*", *params))

    def refuse(self, user, numeric, *params):
        """A numeric error worth logging: the user asked for something and was told no."""
        self.reply(user, numeric, *params)
        self.event(Refused(user.nick, user.name, numeric, params[-1]))

    def need_more_params(self, user, msg):
        self.reply(user, irc.ERR_NEEDMOREPARAMS, msg.command, "Not enough parameters")

    def event(self, event):
        self._effects.append(event)

    # --- looking things up ---------------------------------------------------

    def find_user(self, nick):
        """The registered user called ``nick``, or None."""
        user = self.nicks.get(irc_lower(nick))
        return user if user is not None and user.registered else None

    def find_room(self, name):
        return self.rooms.get(irc_lower(name))

    def peers(self, user):
        """Everyone who shares a room with ``user`` (each once), ``user`` excluded."""
        peers = {}
        for room in user.rooms.values():
            peers.update(room.members)
        peers.pop(user, None)
        return list(peers)

    # --- users leaving -----------------------------------------------------

    def drop(self, user, reason, tell_peers=True):
        """Say goodbye with an ERROR line, then close (RFC 2812 3.1.7)."""
        self.send(user, irc.closing_link(user.host, reason))
        self._effects.append(Close(user.conn, reason))
        self.remove_user(user, reason, tell_peers)

    def remove_user(self, user, reason, tell_peers=True):
        if user.registered and tell_peers:
            self.send_many(self.peers(user), format_line(user.mask, "QUIT", text=reason))
        for room in list(user.rooms.values()):
            rooms.leave(self, user, room)
        if user.nick is not None and self.nicks.get(irc_lower(user.nick)) is user:
            del self.nicks[irc_lower(user.nick)]
        if user.registered:
            self.gone.remember(user, self.unix_time())
        del self.users[user.conn]
        self.event(Quit(user.nick, user.name, reason))
