"""A small blocking IRC client for scripts, notebooks, labs, tests and bots.

This client is the instrument, not the lesson: it blocks, with timeouts, so
that a script reads top to bottom.  (The full-duplex terminal client, one
``select()`` over the keyboard and the socket, is :mod:`selectchat.client.terminal`.)

Example::

    from selectchat.client import Client
    with Client(host, port, "alice") as alice:
        alice.join("#lobby")
        alice.say("#lobby", "hello")
        for message in alice.messages(timeout=1):
            print(message.nick, message.command, message.params)
"""

import socket
import time
from collections import deque
from dataclasses import dataclass

from .. import irc
from ..net.framing import TOO_LONG, LineBuffer
from ..irc import format_line

# Numerics that answer a JOIN with "no", and a plain sentence for each.

class IRCError(Exception):
    """The server said no; ``.message`` is its reply, ``.numeric`` its code."""

    def __init__(self, message, explanation=""):
        self.message = message
        self.numeric = message.command if message is not None else ""
        text = message.params[-1] if message is not None and message.params else "no reply"
        super().__init__(f"{explanation or text} ({self.numeric})" if self.numeric else explanation or text)


class JoinRefused(IRCError):
    pass


class RegistrationFailed(IRCError):
    pass


@dataclass
class RoomInfo:
    """One line of LIST: a room, how many are in it, its limit, whether it has a key."""

    name: str
    members: int
    limit: int
    private: bool
    topic: str

    @classmethod
    def from_list_reply(cls, message):
        # 322 <me> <room> <members> :[+kl 10] topic
        limit, private, topic = irc.parse_list_topic(message.param(3))
        return cls(message.params[1], int(message.params[2]), limit, private, topic)


class Client:
    """One connection to an IRC server, registered under ``nick``."""

    def __init__(self, host, port, nick=None, *, password=None, timeout=5.0, register=True):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.lines = LineBuffer(max_line=64 * 1024)
        self.pending = deque()   # parsed messages received but not yet returned
        self.nick = nick
        self.closed = False
        if nick and register:
            try:
                self.register(nick, password=password)
            except BaseException:   # no ``with`` will close it: the caller never got it
                self.close()
                raise

    # --- sending -----------------------------------------------------------------

    def send(self, line):
        """Send one raw IRC line (the ``\\r\\n`` is added)."""
        self.sock.sendall(line.encode() + b"\r\n")

    def send_message(self, command, *params):
        self.sock.sendall(format_line("", command, *params))

    def register(self, nick, password=None, username=None, realname=None):
        """NICK/USER (and PASS); wait for the welcome (001). Raise on refusal."""
        self.nick = nick
        if password is not None:
            self.send_message("PASS", password)
        self.send_message("NICK", nick)
        self.send_message("USER", username or nick.lower()[:10], "0", "*", realname or nick)
        reply = self.expect(irc.RPL_WELCOME, irc.ERR_NICKNAMEINUSE, irc.ERR_ERRONEUSNICKNAME,
                            irc.ERR_PASSWDMISMATCH, "ERROR")
        if reply.command != irc.RPL_WELCOME:
            raise RegistrationFailed(reply)
        self.expect(irc.RPL_ENDOFMOTD, irc.ERR_NOMOTD)
        return reply

    def join(self, room, key=None):
        """Join ``room``; return its member names. Raise :class:`JoinRefused` on refusal."""
        self.send_message("JOIN", room, *([key] if key else []))
        names = []
        while True:
            reply = self.expect(irc.RPL_NAMREPLY, irc.RPL_ENDOFNAMES, *irc.JOIN_REFUSALS)
            if reply.command in irc.JOIN_REFUSALS:
                raise JoinRefused(reply, irc.JOIN_REFUSALS[reply.command].format(room=room))
            if reply.command == irc.RPL_NAMREPLY:
                names += reply.params[-1].split()
            else:
                return [n.lstrip("@+") for n in names]

    def part(self, room, reason=""):
        self.send_message("PART", room, *([reason] if reason else []))
        return self.expect(lambda m: m.command == "PART" and m.nick == self.nick
                           or m.command in (irc.ERR_NOTONCHANNEL, irc.ERR_NOSUCHCHANNEL))

    def say(self, target, text):
        """PRIVMSG to a room or a nickname."""
        self.send_message("PRIVMSG", target, text)

    def rooms(self):
        """LIST: every room as a :class:`RoomInfo`."""
        self.send_message("LIST")
        rooms = []
        while (reply := self.expect(irc.RPL_LIST, irc.RPL_LISTEND)).command == irc.RPL_LIST:
            rooms.append(RoomInfo.from_list_reply(reply))
        return rooms

    def names(self, room):
        """NAMES: the nicknames in ``room`` (operators without their ``@``)."""
        self.send_message("NAMES", room)
        names = []
        while (reply := self.expect(irc.RPL_NAMREPLY, irc.RPL_ENDOFNAMES)).command == irc.RPL_NAMREPLY:
            names += reply.params[-1].split()
        return [n.lstrip("@+") for n in names]

    def ping(self, token="selectchat"):
        """PING the server; return the round-trip time in seconds."""
        start = time.perf_counter()
        self.send_message("PING", token)
        self.expect(lambda m: m.command == "PONG" and m.params[-1] == token)
        return time.perf_counter() - start

    def quit(self, reason="bye"):
        """QUIT and wait for the server's ERROR line and close."""
        try:
            self.send_message("QUIT", reason)
            self.expect("ERROR")
        except (OSError, TimeoutError, EOFError):
            pass
        self.close()

    # --- receiving ---------------------------------------------------------------

    def recv(self, timeout=None):
        """The next message from the server, or ``None`` after ``timeout`` seconds.

        PINGs from the server are answered here, and not returned.  Raises
        ``EOFError`` when the server closed the connection.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, socket.timeout):
                return None
            if not data:
                raise EOFError("the server closed the connection")
            for line in self.lines.feed(data):
                if line is TOO_LONG:
                    continue
                message = irc.parse(line.decode("utf-8", "replace"))
                if message.command == "PING":
                    self.send_message("PONG", *message.params)
                else:
                    self.pending.append(message)
        return self.pending.popleft()

    def expect(self, *wanted, timeout=None):
        """Skip messages until one matches; return it. Raise ``TimeoutError`` if none does.

        ``wanted`` holds commands/numerics (``"PRIVMSG"``, ``"471"``) or predicates.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            message = self.recv(max(left, 0)) if left > 0 else None
            if message is None:
                raise TimeoutError(f"{self.nick}: nothing matching {wanted!r} arrived")
            if any(w(message) if callable(w) else message.command == w for w in wanted):
                return message

    def messages(self, timeout=1.0):
        """Iterate over what arrives until ``timeout`` seconds pass with nothing new,
        or the server closes the connection."""
        try:
            while (message := self.recv(timeout)) is not None:
                yield message
        except EOFError:
            return

    # --- closing -----------------------------------------------------------------

    def close(self):
        if not self.closed:
            self.closed = True
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
