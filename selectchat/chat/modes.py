"""Modes: what a room allows (``MODE #room +ntm``), and the user modes +i, +w, +o.

Every room mode is one row of :data:`ROOM_MODES`: its letter, its kind
(which decides whether it takes a parameter, and where ISUPPORT's
``CHANMODES`` and ``PREFIX`` list it), the function that applies it, and
what it means.  The 004 and 005 replies are made from this table, so what
the server says it does and what it does cannot drift apart.

A change that does not apply (``+l abc``, ``+o`` of someone not in the room,
``+n`` on a room that is already ``+n``) is left out of the ``MODE`` line the
room sees; the others apply.  A list mode without a parameter (``MODE #r b``)
asks for the list, which anyone may do.

The console changes modes through the same functions, with ``user=None``:
it is told nothing by numerics (``operator.set_modes`` checks the change
first and says what is wrong), and the room sees the server's name as who
made the change.
"""

from dataclasses import dataclass

from .. import irc
from ..irc import format_line, irc_lower
from .events import ModeChanged
from .masks import full_mask
from .model import MaskEntry, valid_key
from .rooms import require_op

MAX_LIMIT = 1_000_000  # a larger +l is no limit a server could reach
MAX_LIST = 50          # entries per mask list (+b, +e, +I): a room's memory is bounded

# The kinds of mode, in the order of ISUPPORT's CHANMODES=A,B,C,D, then PREFIX.
LIST = "A"            # a list of masks; a parameter to add and to remove; none: show the list
ALWAYS_PARAM = "B"    # a parameter to set and to unset (+k)
PARAM_WHEN_SET = "C"  # a parameter to set only (+l)
FLAG = "D"            # on or off, no parameter
STATUS = "prefix"     # a member's status, shown before its nick (@, +); the parameter is a nick


def _flag(chat, user, room, letter, adding, arg):
    if (letter in room.flags) == adding:
        return None       # already so: nothing to tell the room
    if adding:
        room.flags.add(letter)
    else:
        room.flags.discard(letter)
    return ""


def _limit(chat, user, room, letter, adding, arg):
    if not adding:
        if not room.limit:
            return None
        room.limit = 0
        return ""
    # isdecimal() alone would take "²" or "٣"; int() would not: ASCII digits only.
    if not (arg.isascii() and arg.isdigit() and 0 < int(arg) <= MAX_LIMIT):
        return None
    room.limit = int(arg)
    return arg


def _key(chat, user, room, letter, adding, arg):
    if not adding:
        if room.key is None:
            return None
        room.key = None  # the argument of -k, if any, need not match the key
        return "*"       # k always shows a parameter (CHANMODES type B), even when removed
    if not valid_key(arg):
        return None
    room.key = arg
    return arg


def _tell(chat, user, numeric, *params):
    if user is not None:  # (None: the console, which checked the change before)
        chat.reply(user, numeric, *params)


def _status(chat, user, room, letter, adding, nick):
    target = chat.nicks.get(irc_lower(nick))
    if target is None:
        _tell(chat, user, irc.ERR_NOSUCHNICK, nick or "*", "No such nick/room")
        return None
    if target not in room.members:
        _tell(chat, user, irc.ERR_USERNOTINCHANNEL, nick, room.name, "They aren't in that room")
        return None
    status = room.members[target]
    if (letter in status) == adding:
        return None
    letters = set(status) | {letter} if adding else set(status) - {letter}
    room.members[target] = "".join(c for c in STATUS_ORDER if c in letters)
    return target.nick


def _mask_list(chat, user, room, letter, adding, arg):
    entries = room.masks[letter]
    mask = full_mask(arg)
    existing = next((e for e in entries if irc_lower(e.mask) == irc_lower(mask)), None)
    if not adding:
        if existing is None:
            return None
        entries.remove(existing)
        return existing.mask
    if existing is not None:
        return None
    if len(entries) >= MAX_LIST:
        _tell(chat, user, irc.ERR_BANLISTFULL, room.name, letter, "Room list is full")
        return None
    entries.append(MaskEntry(mask, user.mask if user else chat.settings.server_name, chat.unix_time()))
    return mask


@dataclass(frozen=True)
class RoomMode:
    kind: str
    apply: object  # (chat, user, room, letter, adding, arg) -> parameter shown, "" for none, None: not applied
    meaning: str

    def takes_param(self, adding):
        return self.kind != FLAG and (adding or self.kind != PARAM_WHEN_SET)


ROOM_MODES = {
    "b": RoomMode(LIST, _mask_list, "ban: whoever matches a nick!user@host mask cannot join"),
    "e": RoomMode(LIST, _mask_list, "ban exception: whoever matches may join despite a ban"),
    "I": RoomMode(LIST, _mask_list, "invite exception: whoever matches may join a +i room"),
    "k": RoomMode(ALWAYS_PARAM, _key, "key: JOIN needs this password"),
    "l": RoomMode(PARAM_WHEN_SET, _limit, "limit: at most this many members"),
    "i": RoomMode(FLAG, _flag, "invite only: JOIN needs an INVITE (or a +I mask)"),
    "m": RoomMode(FLAG, _flag, "moderated: only operators and voiced members speak"),
    "n": RoomMode(FLAG, _flag, "no messages from outside: only members speak (on in new rooms)"),
    "s": RoomMode(FLAG, _flag, "secret: outsiders do not see it in LIST, NAMES or WHOIS"),
    "t": RoomMode(FLAG, _flag, "topic lock: only operators set the topic (on in new rooms)"),
    "o": RoomMode(STATUS, _status, "room operator (@): may change modes, topic, kick, invite"),
    "v": RoomMode(STATUS, _status, "voice (+): may speak in a moderated room"),
}
STATUS_ORDER = "ov"        # highest first, as PREFIX lists them
STATUS_PREFIXES = "@+"

# What a list query answers: letter -> (an entry, the end, the end's text).
LIST_REPLIES = {
    "b": (irc.RPL_BANLIST, irc.RPL_ENDOFBANLIST, "End of room ban list"),
    "e": (irc.RPL_EXCEPTLIST, irc.RPL_ENDOFEXCEPTLIST, "End of room exception list"),
    "I": (irc.RPL_INVEXLIST, irc.RPL_ENDOFINVEXLIST, "End of room invite exception list"),
}


def chanmodes():
    """The ISUPPORT CHANMODES value, ``A,B,C,D``, from the table."""
    return ",".join("".join(c for c, m in ROOM_MODES.items() if m.kind == kind)
                    for kind in (LIST, ALWAYS_PARAM, PARAM_WHEN_SET, FLAG))


def prefix_token():
    """The ISUPPORT PREFIX value: ``(ov)@+``."""
    return f"({STATUS_ORDER}){STATUS_PREFIXES}"


def myinfo_room_modes():
    """004's last two words: every room mode, and those that take a parameter."""
    return ("".join(sorted(ROOM_MODES)),
            "".join(sorted(c for c, mode in ROOM_MODES.items() if mode.takes_param(adding=True))))


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
        return send_room_modes(chat, user, room)
    modestring = msg.params[1]
    letters = modestring.replace("+", "").replace("-", "")
    if len(msg.params) == 2 and letters and all(c in LIST_REPLIES for c in letters):
        for letter in dict.fromkeys(letters):  # "MODE #r b": show the list; anyone may ask
            send_mask_list(chat, user, room, letter)
        return
    if require_op(chat, user, room):
        change_room_modes(chat, user, room, modestring, list(msg.params[2:]))


def send_room_modes(chat, user, room):
    """324 (the modes, the key shown to members only) and 329 (when the room was made)."""
    params = []
    if room.key:
        params.append(room.key if user in room.members else "*")
    if room.limit:
        params.append(str(room.limit))
    chat.reply(user, irc.RPL_CHANNELMODEIS, room.name, room.mode_string, *params)
    chat.reply(user, irc.RPL_CREATIONTIME, room.name, str(room.created))


def send_mask_list(chat, user, room, letter):
    entry, end, text = LIST_REPLIES[letter]
    for found in room.masks[letter]:
        chat.reply(user, entry, room.name, found.mask, found.set_by, str(found.set_at))
    chat.reply(user, end, room.name, text)


def change_room_modes(chat, user, room, modestring, args):
    """Apply ``+nt-l`` style changes; tell the room what changed, once, in one MODE line."""
    shown, shown_args, adding = [], [], True
    for letter in modestring:
        if letter in "+-":
            adding = letter == "+"
            continue
        mode = ROOM_MODES.get(letter)
        if mode is None:
            _tell(chat, user, irc.ERR_UNKNOWNMODE, letter, "is unknown mode char to me")
            continue
        needs = mode.takes_param(adding)
        if needs and args:
            result = mode.apply(chat, user, room, letter, adding, args.pop(0))
        elif needs and mode.kind == LIST:
            if user is not None:
                send_mask_list(chat, user, room, letter)  # "+b" alone: the list
            continue
        elif needs and (adding or mode.kind == STATUS):
            continue  # a parameter is missing: that change is ignored, as by most servers
        else:         # no parameter, or "-k" without the key (which it need not repeat)
            result = mode.apply(chat, user, room, letter, adding, "")
        if result is not None:
            shown.append(("+" if adding else "-") + letter)
            if result:
                shown_args.append(result)
    if shown:
        modes = compact_modes(shown)
        by_mask, by = (user.mask, user.nick) if user else (chat.settings.server_name, "the operator")
        chat.send_to_room(room, format_line(by_mask, "MODE", room.name, modes, *shown_args))
        chat.event(ModeChanged(by, room.name, modes, tuple(shown_args)))
    return shown


USER_MODES = "iow"   # invisible, server operator (set by OPER only), receives WALLOPS


def user_mode(chat, user, msg):
    target = msg.params[0]
    if irc_lower(target) != irc_lower(user.nick):
        if irc_lower(target) not in chat.nicks:
            return chat.reply(user, irc.ERR_NOSUCHNICK, target, "No such nick/room")
        return chat.reply(user, irc.ERR_USERSDONTMATCH, "Can't change mode for other users")
    if len(msg.params) == 1:
        return chat.reply(user, irc.RPL_UMODEIS, user_mode_string(user))
    # A change is echoed as a MODE line; unknown letters get 501 after the
    # known ones apply.  +o comes only from OPER: "MODE me +o" is ignored.
    adding, changed = True, []
    for flag in msg.params[1]:
        if flag in "+-":
            adding = flag == "+"
        elif flag == "i" and user.invisible != adding:
            user.invisible = adding
            changed.append(("+" if adding else "-") + flag)
        elif flag == "w" and user.wallops != adding:
            user.wallops = adding
            changed.append(("+" if adding else "-") + flag)
        elif flag == "o" and user.oper and not adding:
            user.oper = False
            changed.append("-o")
    if changed:
        chat.send(user, format_line(user.mask, "MODE", user.nick, compact_modes(changed)))
    if msg.params[1].strip("+-" + USER_MODES):
        chat.reply(user, irc.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")


def user_mode_string(user):
    return "+" + ("i" if user.invisible else "") + ("o" if user.oper else "") + ("w" if user.wallops else "")


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
