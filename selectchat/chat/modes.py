"""Modes: a room's limit (+l), key (+k) and operators (+o), and the user mode +i.

The room modes are a table, :data:`ROOM_MODES`: each letter, whether it
takes a parameter, and the function that applies it.  A change that does
not apply (``+l abc``, ``+o`` of someone not in the room) is left out of the
``MODE`` line the room sees; the others apply.
"""

from dataclasses import dataclass

from .. import irc
from ..irc import format_line, irc_lower
from .events import ModeChanged
from .model import valid_key
from .rooms import require_op

MAX_LIMIT = 1_000_000  # a larger +l is no limit a server could reach


def _limit(chat, user, room, adding, arg):
    if not adding:
        room.limit = 0
        return ""
    # isdecimal() alone would take "²" or "٣"; int() would not: ASCII digits only.
    if not (arg.isascii() and arg.isdigit() and 0 < int(arg) <= MAX_LIMIT):
        return None
    room.limit = int(arg)
    return arg


def _key(chat, user, room, adding, arg):
    if not adding:
        room.key = None  # the argument of -k, if any, need not match the key
        return "*"       # k always shows a parameter (CHANMODES type B), even when removed
    if not valid_key(arg):
        return None
    room.key = arg
    return arg


def _operator(chat, user, room, adding, nick):
    target = chat.nicks.get(irc_lower(nick))
    if target is None:
        chat.reply(user, irc.ERR_NOSUCHNICK, nick or "*", "No such nick/room")
        return None
    if target not in room.members:
        chat.reply(user, irc.ERR_USERNOTINCHANNEL, nick, room.name, "They aren't in that room")
        return None
    room.members[target] = adding
    return target.nick


@dataclass(frozen=True)
class RoomMode:
    takes_param_to_add: bool
    takes_param_to_remove: bool
    apply: object  # (chat, user, room, adding, arg) -> the parameter shown, "" for none, None: not applied


ROOM_MODES = {
    "l": RoomMode(True, False, _limit),
    "k": RoomMode(True, True, _key),
    "o": RoomMode(True, True, _operator),
}


def do_mode(chat, user, msg):
    if not msg.params:
        return chat.need_more_params(user, msg)
    target = msg.params[0]
    if not target.startswith("#"):
        return user_mode(chat, user, msg)
    room = chat.find_room(target)
    if room is None:
        return chat.reply(user, irc.ERR_NOSUCHCHANNEL, target, "No such room")
    if len(msg.params) == 1:
        params = []
        if room.key:
            params.append(room.key if user in room.members else "*")
        if room.limit:
            params.append(str(room.limit))
        return chat.reply(user, irc.RPL_CHANNELMODEIS, room.name, room.mode_string, *params)
    if msg.params[1] in ("b", "+b"):  # clients ask for the ban list on join; we keep none
        return chat.reply(user, irc.RPL_ENDOFBANLIST, room.name, "End of room ban list")
    if require_op(chat, user, room):
        change_room_modes(chat, user, room, msg.params[1], list(msg.params[2:]))


def change_room_modes(chat, user, room, modestring, args):
    shown, shown_args, adding = [], [], True
    for flag in modestring:
        if flag in "+-":
            adding = flag == "+"
            continue
        mode = ROOM_MODES.get(flag)
        if mode is None:
            chat.reply(user, irc.ERR_UNKNOWNMODE, flag, "is unknown mode char to me")
            continue
        takes_param = mode.takes_param_to_add if adding else mode.takes_param_to_remove
        arg = args.pop(0) if takes_param and args else ""
        result = mode.apply(chat, user, room, adding, arg)
        if result is not None:
            shown.append(("+" if adding else "-") + flag)
            if result:
                shown_args.append(result)
    if shown:
        modes = compact_modes(shown)
        chat.send_to_room(room, format_line(user.mask, "MODE", room.name, modes, *shown_args))
        chat.event(ModeChanged(user.nick, room.name, modes, tuple(shown_args)))


def user_mode(chat, user, msg):
    target = msg.params[0]
    if irc_lower(target) != irc_lower(user.nick):
        if irc_lower(target) not in chat.nicks:
            return chat.reply(user, irc.ERR_NOSUCHNICK, target, "No such nick/room")
        return chat.reply(user, irc.ERR_USERSDONTMATCH, "Can't change mode for other users")
    if len(msg.params) == 1:
        return chat.reply(user, irc.RPL_UMODEIS, "+i" if user.invisible else "+")
    # The one user mode is +i, which clients set on connect. A change is
    # echoed as a MODE line; unknown letters get 501 after the known ones apply.
    adding, changed = True, []
    for flag in msg.params[1]:
        if flag in "+-":
            adding = flag == "+"
        elif flag == "i" and user.invisible != adding:
            user.invisible = adding
            changed.append(("+" if adding else "-") + "i")
    if changed:
        chat.send(user, format_line(user.mask, "MODE", user.nick, compact_modes(changed)))
    if msg.params[1].strip("+-i"):
        chat.reply(user, irc.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")


def compact_modes(changes):
    """``["+l", "+k", "-o"]`` -> ``"+lk-o"``, as servers write mode changes."""
    out, sign = "", ""
    for change in changes:
        if change[0] != sign:
            sign = change[0]
            out += sign
        out += change[1]
    return out


COMMANDS = {"MODE": do_mode}
