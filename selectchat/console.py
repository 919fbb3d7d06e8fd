"""The operator's console: commands typed on the server's stdin.

The console is a second front door to the same chat core.  :class:`Console`
turns a typed line into calls on :class:`~selectchat.chat.Chat` and returns
what to print, the effects for the server to carry out, and whether to shut
down -- it does no I/O itself, so it is tested like the core.

Reading stdin is the server's job: on POSIX, stdin is one more descriptor in
the ``select()`` set.  Windows' ``select()`` accepts only sockets, so there
:func:`stdin_bridge` copies stdin into a socket pair from a small thread and
the loop watches the socket end (``--console-thread`` uses it on POSIX too,
which is how the tests keep that path working).
"""

import shlex
import socket
import sys
import threading
from dataclasses import dataclass, field

from .chat import ChatError

HELP = """\
Commands (ROOM may be written with or without #):
  rooms                        list rooms: members/limit, private or not, topic
  create ROOM [LIMIT [KEY]]    create a room that stays until closed (LIMIT 0: none)
  who ROOM                     list the participants of ROOM
  users                        list connected users
  limit ROOM N                 change ROOM's participant limit (0: none)
  key ROOM [KEY]               make ROOM private with KEY, or public without
  kick ROOM NICK [REASON]      remove NICK from ROOM (the connection stays)
  disconnect NICK [REASON]     close NICK's connection
  close ROOM [REASON]          remove everyone from ROOM, then delete it
  say TEXT                     send a notice to every user
  log [N]                      show the last N log entries (default 20)
  shutdown [REASON]            tell every client, close, exit 0
  echo TEXT                    print TEXT (lets a script know its commands are done)
  help                         this list"""


@dataclass
class ConsoleResult:
    output: list = field(default_factory=list)    # lines to print
    effects: list = field(default_factory=list)   # for the server to carry out
    shutdown: str | None = None                   # a reason: the server should stop


class Console:
    """Interpret operator commands against a chat core and a log."""

    def __init__(self, chat, log=()):
        self.chat = chat
        self.log = log  # a sequence of already formatted log lines

    def execute(self, line):
        try:
            words = shlex.split(line)
        except ValueError as error:  # an unbalanced quote
            return ConsoleResult([f"error: {error}"])
        if not words:
            return ConsoleResult()
        command, args = words[0].lower(), words[1:]
        method = getattr(self, "cmd_" + command, None)
        if method is None:
            return ConsoleResult([f"unknown command {command!r}; type help for the list"])
        try:
            return method(*args)
        except TypeError:  # wrong number of arguments
            usage = next(l for l in HELP.splitlines() if l.strip().startswith(command + " ") or l.strip() == command)
            return ConsoleResult([f"usage: {usage.strip()}"])
        except ChatError as error:
            return ConsoleResult([f"error: {error}"])

    def cmd_help(self):
        return ConsoleResult(HELP.splitlines())

    def cmd_rooms(self):
        rooms = list(self.chat.rooms.values())
        if not rooms:
            return ConsoleResult(["no rooms yet (create ROOM LIMIT, or a client JOINs one)"])
        out = [f"{'ROOM':<20} {'MEMBERS':>8} {'PRIVATE':>8}  TOPIC"]
        for room in rooms:
            members = f"{len(room.members)}/{room.limit or '-'}"
            out.append(f"{room.name:<20} {members:>8} {'yes' if room.key else 'no':>8}  {room.topic}")
        return ConsoleResult(out)

    def cmd_create(self, name, limit="0", key=None):
        effects = self.chat.create_room(name, _number(limit), key)
        room = self.chat.find_room(name)
        private = " (private)" if room.key else ""
        return ConsoleResult([f"created {room.name}, limit {room.limit or 'none'}{private}"], effects)

    def cmd_who(self, name):
        room = self.chat.find_room(name)
        names = [("@" if op else "") + user.nick for user, op in room.members.items()]
        return ConsoleResult([f"{room.name} ({len(names)}/{room.limit or '-'}): {' '.join(names) or '(empty)'}"])

    cmd_names = cmd_who

    def cmd_users(self):
        users = [u for u in self.chat.users.values()]
        if not users:
            return ConsoleResult(["no one is connected"])
        return ConsoleResult([f"{u.nick or '(unregistered)':<16} {u.host:<16} {' '.join(r.name for r in u.rooms.values())}"
                              for u in users])

    def cmd_limit(self, name, limit):
        effects = self.chat.set_limit(name, _number(limit))
        return ConsoleResult([f"limit of {self.chat.find_room(name).name} is now {_number(limit) or 'none'}"], effects)

    def cmd_key(self, name, key=None):
        effects = self.chat.set_key(name, key)
        return ConsoleResult([f"{self.chat.find_room(name).name} is now {'private' if key else 'public'}"], effects)

    def cmd_kick(self, name, nick, *reason):
        effects = self.chat.kick(name, nick, " ".join(reason) or "Kicked by the operator")
        return ConsoleResult([f"kicked {nick}"], effects)

    def cmd_disconnect(self, nick, *reason):
        effects = self.chat.disconnect_user(nick, " ".join(reason) or "Disconnected by the operator")
        return ConsoleResult([f"disconnected {nick}"], effects)

    def cmd_close(self, name, *reason):
        room = self.chat.find_room(name)
        effects = self.chat.close_room(name, " ".join(reason) or "Room closed by the operator")
        return ConsoleResult([f"closed {room.name}"], effects)

    def cmd_say(self, *words):
        if not words:
            raise TypeError
        return ConsoleResult(["sent"], self.chat.announce(" ".join(words)))

    def cmd_log(self, count="20"):
        entries = list(self.log)[-_number(count):] if _number(count) else []
        return ConsoleResult(entries or ["(the log is empty)"])

    def cmd_echo(self, *words):
        return ConsoleResult([" ".join(words)])

    def cmd_shutdown(self, *reason):
        return ConsoleResult(["shutting down"], shutdown=" ".join(reason) or "Server shutting down")

    cmd_quit = cmd_exit = cmd_shutdown


def _number(text):
    try:
        value = int(text)
    except ValueError:
        raise ChatError(f"{text!r} is not a number") from None
    if value < 0:
        raise ChatError("a limit cannot be negative")
    return value


def stdin_bridge(stdin=None):
    """A socket that yields what arrives on stdin, fed by a thread.

    For platforms whose ``select()`` takes only sockets (Windows).  The thread
    closes its end at EOF, so the loop sees EOF on the socket as it would on
    stdin itself.
    """
    stdin = stdin or sys.stdin.buffer
    loop_end, thread_end = socket.socketpair()

    def copy():
        with thread_end:
            while True:
                line = stdin.readline()
                if not line:
                    break
                try:
                    thread_end.sendall(line)
                except OSError:
                    break

    threading.Thread(target=copy, name="stdin-bridge", daemon=True).start()
    return loop_end
