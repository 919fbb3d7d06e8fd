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
            # One dict lookup: None for an outsider, else the member's status
            # letters ("" for none); +n refuses outsiders, +m whoever has no status.
            status = room.members.get(user)
            if status is None and "n" in room.flags:
                notice or chat.reply(user, irc.ERR_CANNOTSENDTOCHAN, room.name,
                                     "Cannot send to room (+n: you are not in it)")
            elif not status and "m" in room.flags:
                notice or chat.reply(user, irc.ERR_CANNOTSENDTOCHAN, room.name,
                                     "Cannot send to room (+m: you need voice)")
            else:
                line = format_line(user.mask, command, room.name, text=text)
                chat.send_to_room(room, line, exclude=user)
                chat.event(RoomMessage(user.nick, room.name, len(room.members) - (status is not None),
                                      len(line), text))
        else:
            peer = chat.find_user(target)
            if peer is None:
                notice or chat.reply(user, irc.ERR_NOSUCHNICK, target, "No such nick/room")
                continue
            chat.send(peer, format_line(user.mask, command, peer.nick, text=text))
            if peer.away and not notice:
                chat.reply(user, irc.RPL_AWAY, peer.nick, peer.away)
            chat.event(PrivateMessage(user.nick, peer.nick, len(text)))


def do_notice(chat, user, msg):
    do_privmsg(chat, user, msg, command="NOTICE")


def do_away(chat, user, msg):
    user.away = msg.param(0) or None
    if user.away:
        chat.reply(user, irc.RPL_NOWAWAY, "You have been marked as being away")
    else:
        chat.reply(user, irc.RPL_UNAWAY, "You are no longer marked as being away")


COMMANDS = {"PRIVMSG": do_privmsg, "NOTICE": do_notice, "AWAY": do_away}
