"""Looking things up: LIST, NAMES, WHOIS, USERHOST, ISON, MOTD, LUSERS, TIME, INFO (WHO: :mod:`.who`).

A secret room (+s) is seen only by its members: outsiders do not find it
in LIST, NAMES, WHO or WHOIS.

A reply that can be long (``LIST`` of every room, ``NAMES`` of every room,
``WHO`` of a crowded room) is a generator handed to
:meth:`~.core.Chat.send_later`: the server pulls its lines as the asker's
socket drains, so asking can never overflow the asker's output queue, and
a packet of a thousand ``LIST`` lines cannot make the server build a
thousand lists at once.
"""

from datetime import datetime, timezone

from .. import __version__, irc
from ..irc import format_line, list_topic
from .masks import glob_match
from .registration import send_lusers, send_motd
from .rooms import names_lines


def visible(room, user):
    """May ``user`` see ``room`` in listings? Everyone, unless it is secret and ``user`` an outsider."""
    return "s" not in room.flags or user in room.members


def do_list(chat, user, msg):
    """``LIST``, ``LIST #a,#b``, or with conditions (ELIST=MNU): ``>N`` or ``<N`` members,
    a mask (``*lab*``), a mask not to match (``!*test*``); several must all hold."""
    names, tests = [], []
    for item in ",".join(msg.params[:2]).split(",") if msg.params else []:
        test = list_condition(item)
        if test is not None:
            tests.append(test)
        elif item:
            names.append(item)
    if names:
        rooms = [room for name in names if (room := chat.find_room(name))]
    else:
        rooms = list(chat.rooms.values())  # the rooms now: later changes do not disturb the reply
    chat.send_later(user, _list_lines(chat, user, rooms, tests))


def list_condition(item):
    """An ELIST condition as a test of a room, or None if ``item`` is a room name."""
    if item[:1] in ("<", ">") and item[1:].isascii() and item[1:].isdigit():
        count = int(item[1:])
        if item[0] == ">":
            return lambda room: len(room.members) > count
        return lambda room: len(room.members) < count
    if item.startswith("!"):
        return lambda room: not glob_match(item[1:], room.name)
    if "*" in item or "?" in item:
        return lambda room: glob_match(item, room.name)
    return None


def _list_lines(chat, user, rooms, tests):
    # The tests run as the asker's socket drains: a flood of LIST costs no more than one.
    server = chat.settings.server_name
    yield format_line(server, irc.RPL_LISTSTART, user.nick, "Room", "Users  Name")
    for room in rooms:
        if visible(room, user) and all(test(room) for test in tests):
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
        if room is not None and visible(room, user):
            yield from names_lines(chat, user, room)
        else:
            yield format_line(chat.settings.server_name, irc.RPL_ENDOFNAMES, user.nick, name, "End of /NAMES list")


def _names_of_all(chat, user, rooms):
    for room in rooms:
        if visible(room, user):
            yield from names_lines(chat, user, room, end=False)
    yield format_line(chat.settings.server_name, irc.RPL_ENDOFNAMES, user.nick, "*", "End of /NAMES list")


def do_whois(chat, user, msg):
    if not msg.params:
        return chat.reply(user, irc.ERR_NONICKNAMEGIVEN, "No nickname given")
    nick = msg.params[-1]
    peer = chat.find_user(nick)
    if peer is None:
        chat.reply(user, irc.ERR_NOSUCHNICK, nick, "No such nick/room")
    else:
        chat.reply(user, irc.RPL_WHOISUSER, peer.nick, peer.username, peer.host, "*", peer.realname)
        # An invisible (+i) user's rooms are shown only to those who share them.
        rooms = [r.prefix(peer) + r.name for r in peer.rooms.values()
                 if peer is user or user in r.members or (visible(r, user) and not peer.invisible)]
        if rooms:
            chat.reply(user, irc.RPL_WHOISCHANNELS, peer.nick, " ".join(rooms))
        chat.reply(user, irc.RPL_WHOISSERVER, peer.nick, chat.settings.server_name, "selectchat")
        if peer.oper:
            chat.reply(user, irc.RPL_WHOISOPERATOR, peer.nick, "is an IRC operator")
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


def do_info(chat, user, msg):
    chat.reply(user, irc.RPL_INFO, f"selectchat {__version__}: a select() chat server for learning")
    chat.reply(user, irc.RPL_INFO, "One thread, one select() loop; the rules in a sans-I/O core.")
    chat.reply(user, irc.RPL_ENDOFINFO, "End of INFO list")


def do_time(chat, user, msg):
    # The time of day, from the clocks the server passed in (RFC 2812 3.4.6;
    # modern IRC adds the Unix time as a parameter before the text).
    now = chat.unix_time()
    text = time_text(now)
    chat.reply(user, irc.RPL_TIME, chat.settings.server_name, str(now), "0", text)


def time_text(unix_time):
    """``Thursday December 3 2026 -- 14:05:09 +00:00``: a conversion, not a clock read."""
    moment = datetime.fromtimestamp(unix_time, timezone.utc)
    weekday = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[moment.weekday()]
    month = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")[moment.month - 1]
    # Spelled out rather than strftime("%A"), which follows the process's locale.
    return f"{weekday} {month} {moment.day} {moment.year} -- {moment:%H:%M:%S} +00:00"


COMMANDS = {"LIST": do_list, "NAMES": do_names, "WHOIS": do_whois,
            "USERHOST": do_userhost, "ISON": do_ison, "MOTD": do_motd, "LUSERS": do_lusers,
            "TIME": do_time, "INFO": do_info}
