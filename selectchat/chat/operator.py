"""What the server's operator can do from the console.

The console is a second front door to the same core: a room the operator
creates obeys the same rules as one a ``JOIN`` creates.  Each action checks
everything first and changes state only when all is valid (a refused
``key lobby "a b"`` leaves the room as it was), then returns the effects.
"""

from ..irc import format_line, irc_lower
from . import modes
from .events import RoomClosed, RoomCreated, ModeChanged
from .model import ROOM_RE, room_name, valid_key
from .rooms import create, kick as kick_member, set_topic as set_room_topic


class ChatError(ValueError):
    """An operator action that cannot be done; the message says why."""


def find_room(chat, name):
    """The room called ``name`` (``#`` optional), or :class:`ChatError`."""
    room = chat.find_room(room_name(name))
    if room is None:
        raise ChatError(f"no room called {room_name(name)}")
    return room


def _check_limit(limit):
    if limit < 0:
        raise ChatError("the limit must be 0 (none) or more")


def _check_key(key):
    if key and not valid_key(key):
        raise ChatError(f"bad key {key!r}: no spaces or commas, and not starting with ':'")


def create_room(chat, name, limit=0, key=None):
    """Create a room that stays open, even empty, until :func:`close_room`."""
    name = room_name(name)
    if not ROOM_RE.match(name):
        raise ChatError(f"bad room name {name!r}: no spaces, commas or colons, at most 50 characters")
    if irc_lower(name) in chat.rooms:
        raise ChatError(f"{name} already exists")
    _check_limit(limit)
    _check_key(key)
    create(chat, name, limit, key or None, persistent=True)
    chat.event(RoomCreated(name, "operator"))
    return chat.take_effects()


def close_room(chat, name, reason="Room closed by the operator"):
    """Remove every member (their connections stay open), then the room."""
    room = find_room(chat, name)
    for member in list(room.members):
        kick_member(chat, chat.settings.server_name, room, member, reason)
    chat.rooms.pop(irc_lower(room.name), None)
    chat.event(RoomClosed(room.name))
    return chat.take_effects()


def set_limit(chat, name, limit):
    room = find_room(chat, name)
    _check_limit(limit)
    room.limit = limit
    return _announce_mode(chat, room, ("+l", str(limit)) if limit else ("-l",))


def set_key(chat, name, key):
    room = find_room(chat, name)
    _check_key(key)
    room.key = key or None
    return _announce_mode(chat, room, ("+k", key) if key else ("-k", "*"))


def _announce_mode(chat, room, change):
    chat.send_to_room(room, format_line(chat.settings.server_name, "MODE", room.name, *change))
    chat.event(ModeChanged("the operator", room.name, change[0], change[1:]))
    return chat.take_effects()


def set_modes(chat, name, modestring, *args):
    """``mode lobby +m``, ``mode lobby +v bob``, ``mode lobby +b *!*@10.0.0.*``: any room mode.

    The whole change is checked first; a ChatError says what is wrong and
    changes nothing.  What did not change (``+n`` on a ``+n`` room) is left
    out of the MODE line the room sees.
    """
    room = find_room(chat, name)
    _check_modes(chat, room, modestring, list(args))
    if not modes.change_room_modes(chat, None, room, modestring, list(args)):
        raise ChatError(f"{room.name} is already {modestring} (nothing changed)")
    return chat.take_effects()


def _check_modes(chat, room, modestring, args):
    adding = True
    for letter in modestring:
        if letter in "+-":
            adding = letter == "+"
            continue
        mode = modes.ROOM_MODES.get(letter)
        if mode is None:
            raise ChatError(f"no room mode {letter!r}; the modes are {''.join(modes.ROOM_MODES)}")
        if not mode.takes_param(adding):
            continue
        if not args:
            raise ChatError(f"{'+' if adding else '-'}{letter} needs a parameter")
        arg = args.pop(0)
        if mode.kind == modes.STATUS:
            target = chat.nicks.get(irc_lower(arg))
            if target is None or target not in room.members:
                raise ChatError(f"{arg} is not in {room.name}")
        elif letter == "l":
            _check_limit(int(arg) if arg.isascii() and arg.isdigit() else -1)
        elif letter == "k" and adding:
            _check_key(arg)
        elif mode.kind == modes.LIST and adding and len(room.masks[letter]) >= modes.MAX_LIST:
            raise ChatError(f"the +{letter} list of {room.name} is full ({modes.MAX_LIST} masks)")
    if args:
        raise ChatError(f"too many parameters: {' '.join(args)}")


def set_topic(chat, name, topic):
    room = find_room(chat, name)
    set_room_topic(chat, room, topic, "the operator", chat.settings.server_name)
    return chat.take_effects()


def kick(chat, name, nick, reason="Kicked by the operator"):
    room = find_room(chat, name)
    target = chat.nicks.get(irc_lower(nick))
    if target is None or target not in room.members:
        raise ChatError(f"{nick} is not in {room.name}")
    kick_member(chat, chat.settings.server_name, room, target, reason)
    return chat.take_effects()


def disconnect_user(chat, nick, reason="Disconnected by the operator"):
    target = chat.nicks.get(irc_lower(nick))
    if target is None:
        raise ChatError(f"no user called {nick}")
    chat.drop(target, reason)
    return chat.take_effects()


def announce(chat, text):
    """A NOTICE from the server to every registered user."""
    for user in chat.users.values():
        if user.registered:
            chat.send(user, format_line(chat.settings.server_name, "NOTICE", user.nick, text=text))
    return chat.take_effects()


def shutdown(chat, reason="Server shutting down"):
    """Tell every client why, and close every connection."""
    for user in list(chat.users.values()):
        chat.drop(user, reason, tell_peers=False)
    return chat.take_effects()
