"""Talking: messages to rooms and to people, notices, and being away.

Who may speak in a room is decided by its modes: +n (on in new rooms)
keeps out messages from non-members, +m lets only operators and voiced
members speak.

A message to a room is one line formatted once and sent to every other
member (one :class:`~.effects.Send` with many recipients): the fan-out at
the heart of a chat server.
"""

from .. import irc
from ..irc import format_line
from .events import PrivateMessage, RoomMessage


def do_privmsg(chat, user, msg, command="PRIVMSG"):
    notice = command == "NOTICE"  # a NOTICE is never answered with an error (RFC 2812 3.3.2)
    if not msg.params:
        return notice or chat.reply(user, irc.ERR_NORECIPIENT, f"No recipient given ({command})")
    if len(msg.params) < 2 or not msg.params[1]:
        return notice or chat.reply(user, irc.ERR_NOTEXTTOSEND, "No text to send")
    text = msg.params[1]
    for target in msg.params[0].split(",")[: chat.settings.max_targets]:
        if target.startswith("#"):
            room = chat.find_room(target)
            if room is None:
                notice or chat.reply(user, irc.ERR_NOSUCHNICK, target, "No such nick/room")
                continue
            # The hot path: one dict lookup, and set lookups only for a sender without status.
            status = room.members.get(user)   # None for an outsider, else "o", "v", "ov" or ""
            if not status and ("m" in room.flags or status is None and "n" in room.flags):
                notice or chat.reply(user, irc.ERR_CANNOTSENDTOCHAN, room.name, cannot_speak(room, status))
                continue
            line = format_line(user.mask, command, room.name, text=text)
            chat.send_to_room(room, line, exclude=user)
            chat.event(RoomMessage(user.nick, room.name, len(room.members) - (status is not None), len(line), text))
        elif target[:1] in STATUS_TARGETS and target[1:2] == "#":
            to_status(chat, user, command, target, text, notice)
        else:
            peer = chat.find_user(target)
            if peer is None:
                notice or chat.reply(user, irc.ERR_NOSUCHNICK, target, "No such nick/room")
                continue
            chat.send(peer, format_line(user.mask, command, peer.nick, text=text))
            if peer.away and not notice:
                chat.reply(user, irc.RPL_AWAY, peer.nick, peer.away)
            chat.event(PrivateMessage(user.nick, peer.nick, len(text)))


def cannot_speak(room, status):
    """Why a sender whose status is ``status`` (None: not a member) may not speak in ``room``; None if it may.

    Two set lookups at most: +n refuses outsiders, +m whoever has no status.
    """
    if status is None and "n" in room.flags:
        return "Cannot send to room (+n: you are not in it)"
    if not status and "m" in room.flags:
        return "Cannot send to room (+m: you need voice)"
    return None


# STATUSMSG: "@#room" reaches the room's operators, "+#room" its operators and voiced members.
STATUS_TARGETS = {"@": "o", "+": "ov"}


def to_status(chat, user, command, target, text, notice):
    room = chat.find_room(target[1:])
    if room is None:
        return notice or chat.reply(user, irc.ERR_NOSUCHNICK, target, "No such nick/room")
    refusal = cannot_speak(room, room.members.get(user))
    if refusal:
        return notice or chat.reply(user, irc.ERR_CANNOTSENDTOCHAN, room.name, refusal)
    wanted = STATUS_TARGETS[target[0]]
    readers = [m for m, status in room.members.items() if m is not user and any(c in status for c in wanted)]
    line = format_line(user.mask, command, target[0] + room.name, text=text)
    chat.send_many(readers, line)
    chat.event(RoomMessage(user.nick, target[0] + room.name, len(readers), len(line), text))


def do_notice(chat, user, msg):
    do_privmsg(chat, user, msg, command="NOTICE")


def do_away(chat, user, msg):
    user.away = msg.param(0) or None
    if user.away:
        chat.reply(user, irc.RPL_NOWAWAY, "You have been marked as being away")
    else:
        chat.reply(user, irc.RPL_UNAWAY, "You are no longer marked as being away")


COMMANDS = {"PRIVMSG": do_privmsg, "NOTICE": do_notice, "AWAY": do_away}
