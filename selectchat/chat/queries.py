"""Looking things up: LIST, NAMES, WHO, WHOIS, USERHOST, ISON, MOTD, LUSERS.

A reply that can be long (``LIST`` of every room, ``NAMES`` of every room,
``WHO`` of a crowded room) is a generator handed to
:meth:`~.core.Chat.send_later`: the server pulls its lines as the asker's
socket drains, so asking can never overflow the asker's output queue, and
a packet of a thousand ``LIST`` lines cannot make the server build a
thousand lists at once.
"""

from .. import irc
from ..irc import format_line, list_topic
from .registration import send_lusers, send_motd
from .rooms import names_lines


def do_list(chat, user, msg):
    if msg.params:
        rooms = [room for name in msg.params[0].split(",") if (room := chat.find_room(name))]
    else:
        rooms = list(chat.rooms.values())  # the rooms now: later changes do not disturb the reply
    chat.send_later(user, _list_lines(chat, user, rooms))


def _list_lines(chat, user, rooms):
    server = chat.settings.server_name
    yield format_line(server, irc.RPL_LISTSTART, user.nick, "Room", "Users  Name")
    for room in rooms:
        topic = list_topic(room.limit, bool(room.key), room.topic)
        yield format_line(server, irc.RPL_LIST, user.nick, room.name, str(len(room.members)), topic)
    yield format_line(server, irc.RPL_LISTEND, user.nick, "End of /LIST")


def do_names(chat, user, msg):
    if msg.params:
        chat.send_later(user, _names_of(chat, user, msg.params[0].split(",")))
    else:
        chat.send_later(user, _names_of_all(chat, user, list(chat.rooms.values())))


def _names_of(chat, user, names):
    for name in names:
        room = chat.find_room(name)
        if room is not None:
            yield from names_lines(chat, user, room)
        else:
            yield format_line(chat.settings.server_name, irc.RPL_ENDOFNAMES, user.nick, name, "End of /NAMES list")


def _names_of_all(chat, user, rooms):
    for room in rooms:
        yield from names_lines(chat, user, room, end=False)
    yield format_line(chat.settings.server_name, irc.RPL_ENDOFNAMES, user.nick, "*", "End of /NAMES list")


def do_who(chat, user, msg):
    mask = msg.param(0, "*")
    room = chat.find_room(mask)
    if room is not None:
        members = list(room.members.items())
        chat.send_later(user, _who_lines(chat, user, mask, room.name, members))
    else:
        peer = chat.find_user(mask)
        chat.send_later(user, _who_lines(chat, user, mask, "*", [(peer, False)] if peer else []))


def _who_lines(chat, user, mask, room_name, members):
    server = chat.settings.server_name
    for member, is_op in members:
        flags = ("G" if member.away else "H") + ("@" if is_op else "")
        yield format_line(server, irc.RPL_WHOREPLY, user.nick, room_name, member.username, member.host,
                          server, member.nick, flags, f"0 {member.realname}")
    yield format_line(server, irc.RPL_ENDOFWHO, user.nick, mask, "End of /WHO list")


def do_whois(chat, user, msg):
    if not msg.params:
        return chat.reply(user, irc.ERR_NONICKNAMEGIVEN, "No nickname given")
    nick = msg.params[-1]
    peer = chat.find_user(nick)
    if peer is None:
        chat.reply(user, irc.ERR_NOSUCHNICK, nick, "No such nick/room")
    else:
        chat.reply(user, irc.RPL_WHOISUSER, peer.nick, peer.username, peer.host, "*", peer.realname)
        if peer.rooms:
            rooms = " ".join(("@" if r.members[peer] else "") + r.name for r in peer.rooms.values())
            chat.reply(user, irc.RPL_WHOISCHANNELS, peer.nick, rooms)
        chat.reply(user, irc.RPL_WHOISSERVER, peer.nick, chat.settings.server_name, "selectchat")
        if peer.away:
            chat.reply(user, irc.RPL_AWAY, peer.nick, peer.away)
    chat.reply(user, irc.RPL_ENDOFWHOIS, nick, "End of /WHOIS list")


def do_userhost(chat, user, msg):
    # "-" marks a user who is away, "+" one who is here (RFC 2812 5.1).
    found = [peer for nick in msg.params[:5] if (peer := chat.find_user(nick))]
    chat.reply(user, irc.RPL_USERHOST,
               " ".join(f"{p.nick}={'-' if p.away else '+'}{p.username}@{p.host}" for p in found))


def do_ison(chat, user, msg):
    nicks = " ".join(msg.params).split(" ")
    online = [peer for nick in nicks if nick and (peer := chat.find_user(nick))]
    chat.reply(user, irc.RPL_ISON, " ".join(p.nick for p in online))


def do_motd(chat, user, msg):
    send_motd(chat, user)


def do_lusers(chat, user, msg):
    send_lusers(chat, user)


COMMANDS = {"LIST": do_list, "NAMES": do_names, "WHO": do_who, "WHOIS": do_whois,
            "USERHOST": do_userhost, "ISON": do_ison, "MOTD": do_motd, "LUSERS": do_lusers}
