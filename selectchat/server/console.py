"""The operator's console: commands typed on the server's stdin.

The console is a second front door to the same chat core.  :class:`Console`
turns a typed line into calls on :mod:`selectchat.chat.operator` and
returns what to print, the effects for the server to carry out, and whether
to shut down -- it does no I/O itself, so it is tested like the core.

Every command is one entry of :data:`COMMANDS`, with its usage and help: the
``help`` text is made from that table, so it cannot forget an alias, and a
wrong number of words is caught by comparing with the usage before anything
runs, so a usage error never changes state.
"""

import inspect
import shlex
from dataclasses import dataclass, field

from ..chat import operator
from ..chat.operator import ChatError


@dataclass
class ConsoleResult:
    output: list = field(default_factory=list)    # lines to print
    effects: list = field(default_factory=list)   # for the server to carry out
    shutdown: str | None = None                   # a reason: the server should stop


@dataclass(frozen=True)
class Command:
    run: object        # (console, *words) -> ConsoleResult
    usage: str
    help: str
    aliases: tuple = ()


COMMANDS = {}


def command(usage, help, aliases=()):
    """Add the decorated function to :data:`COMMANDS` under the usage's first word."""
    def register(function):
        COMMANDS[usage.split()[0]] = Command(function, usage, help, aliases)
        return function
    return register


class Console:
    """Interpret operator commands against a chat core and a log."""

    def __init__(self, chat, log=None):
        self.chat = chat
        self.log = log  # the server's Log (its lines() are what the console shows)

    def execute(self, line):
        try:
            words = shlex.split(line)
        except ValueError as error:  # an unbalanced quote
            return ConsoleResult([f"error: {error}"])
        if not words:
            return ConsoleResult()
        found = find_command(words[0].lower())
        if found is None:
            return ConsoleResult([f"unknown command {words[0]!r}; type help for the list"])
        try:
            inspect.signature(found.run).bind(self, *words[1:])
        except TypeError:
            return ConsoleResult([f"usage: {found.usage}"])
        try:
            return found.run(self, *words[1:])
        except ChatError as error:
            return ConsoleResult([f"error: {error}"])


def find_command(name):
    for key, found in COMMANDS.items():
        if name == key or name in found.aliases:
            return found
    return None


def number(text):
    """A count or limit typed by the operator: ASCII digits only."""
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        raise ChatError("a limit cannot be negative")
    if not (text.isascii() and text.isdigit()):
        raise ChatError(f"{text!r} is not a number")
    return int(text)


@command("rooms", "list rooms: members/limit, private or not, topic")
def rooms(console):
    all_rooms = list(console.chat.rooms.values())
    if not all_rooms:
        return ConsoleResult(["no rooms yet (create ROOM LIMIT, or a client JOINs one)"])
    out = [f"{'ROOM':<20} {'MEMBERS':>8} {'PRIVATE':>8}  TOPIC"]
    for room in all_rooms:
        members = f"{len(room.members)}/{room.limit or '-'}"
        out.append(f"{room.name:<20} {members:>8} {'yes' if room.key else 'no':>8}  {room.topic}")
    return ConsoleResult(out)


@command("create ROOM [LIMIT [KEY]]", "create a room that stays until closed (LIMIT 0: none)")
def create(console, name, limit="0", key=None):
    effects = operator.create_room(console.chat, name, number(limit), key)
    room = operator.find_room(console.chat, name)
    private = " (private)" if room.key else ""
    return ConsoleResult([f"created {room.name}, limit {room.limit or 'none'}{private}"], effects)


@command("who ROOM", "list the participants of ROOM (@: room operator, +: voiced)", aliases=("names",))
def who(console, name):
    room = operator.find_room(console.chat, name)
    names = [room.prefix(user) + user.nick for user in room.members]
    return ConsoleResult([f"{room.name} ({len(names)}/{room.limit or '-'}): {' '.join(names) or '(empty)'}"])


@command("users", "list connected users and their rooms")
def users(console):
    everyone = list(console.chat.users.values())
    if not everyone:
        return ConsoleResult(["no one is connected"])
    return ConsoleResult([f"{u.nick or '(unregistered)':<16} {u.host:<16} {' '.join(r.name for r in u.rooms.values())}"
                          for u in everyone])


@command("limit ROOM N", "change ROOM's participant limit (0: none)")
def limit(console, name, count):
    effects = operator.set_limit(console.chat, name, number(count))
    return ConsoleResult([f"limit of {operator.find_room(console.chat, name).name} is now {number(count) or 'none'}"],
                         effects)


@command("key ROOM [KEY]", "make ROOM private with KEY, or public without")
def key(console, name, new_key=None):
    effects = operator.set_key(console.chat, name, new_key)
    return ConsoleResult([f"{operator.find_room(console.chat, name).name} is now {'private' if new_key else 'public'}"],
                         effects)


@command("mode ROOM [CHANGES [ARGS]]", "show ROOM's modes, or change them: +m, +v NICK, +b MASK, -t ...")
def mode(console, name, changes=None, *args):
    if changes is None:
        room = operator.find_room(console.chat, name)
        out = [f"{room.name} {room.mode_string}" + (f" key {room.key}" if room.key else "")
               + (f" limit {room.limit}" if room.limit else "")]
        out += [f"  +{letter} {entry.mask} (set by {entry.set_by})"
                for letter, entries in room.masks.items() for entry in entries]
        return ConsoleResult(out)
    effects = operator.set_modes(console.chat, name, changes, *args)
    return ConsoleResult([f"{operator.find_room(console.chat, name).name} {changes} {' '.join(args)}".rstrip()],
                         effects)


@command("topic ROOM TEXT", "set ROOM's topic (an empty TEXT \"\" clears it)")
def topic(console, name, *words):
    if not words:
        raise ChatError("usage: topic ROOM TEXT")
    effects = operator.set_topic(console.chat, name, " ".join(words))
    return ConsoleResult([f"topic of {operator.find_room(console.chat, name).name} set"], effects)


@command("kick ROOM NICK [REASON]", "remove NICK from ROOM (the connection stays)")
def kick(console, name, nick, *reason):
    effects = operator.kick(console.chat, name, nick, " ".join(reason) or "Kicked by the operator")
    return ConsoleResult([f"kicked {nick}"], effects)


@command("disconnect NICK [REASON]", "close NICK's connection")
def disconnect(console, nick, *reason):
    effects = operator.disconnect_user(console.chat, nick, " ".join(reason) or "Disconnected by the operator")
    return ConsoleResult([f"disconnected {nick}"], effects)


@command("close ROOM [REASON]", "remove everyone from ROOM, then delete it")
def close(console, name, *reason):
    room = operator.find_room(console.chat, name)
    effects = operator.close_room(console.chat, name, " ".join(reason) or "Room closed by the operator")
    return ConsoleResult([f"closed {room.name}"], effects)


@command("say TEXT", "send a notice to every user")
def say(console, first_word, *words):
    return ConsoleResult(["sent"], operator.announce(console.chat, " ".join((first_word, *words))))


@command("log [N]", "show the last N log entries (default 20)")
def log(console, count="20"):
    entries = console.log.lines()[-number(count):] if console.log and number(count) else []
    return ConsoleResult(entries or ["(the log is empty)"])


@command("shutdown [REASON]", "tell every client, close, exit 0", aliases=("quit", "exit"))
def shutdown(console, *reason):
    return ConsoleResult(["shutting down"], shutdown=" ".join(reason) or "Server shutting down")


@command("echo TEXT", "print TEXT (lets a script know its commands are done)")
def echo(console, *words):
    return ConsoleResult([" ".join(words)])


@command("help", "this list")
def help_(console):
    lines = ["Commands (ROOM may be written with or without #):"]
    for found in COMMANDS.values():
        also = f" (also: {', '.join(found.aliases)})" if found.aliases else ""
        lines.append(f"  {found.usage:<28} {found.help}{also}")
    return ConsoleResult(lines)
