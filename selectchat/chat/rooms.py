"""Rooms: joining (with its limit and key), leaving, kicking, topics.

A room is created by the operator (it stays when empty) or, unless the
operator forbids it, by the first ``JOIN`` (it goes when its last member
leaves; its creator is its first room operator).
"""

from .. import irc
from ..irc import format_line, irc_lower
from .events import Joined, Kicked, Parted, RoomCreated, RoomGone, TopicChanged
from .model import ROOM_RE, Room


def do_join(chat, user, msg):
    if not msg.params:
        return chat.need_more_params(user, msg)
    if msg.params[0] == "0":  # "JOIN 0" leaves every room (RFC 2812 3.2.1)
        for room in list(user.rooms.values()):
            part(chat, user, room, "Left all rooms")
        return
    names = msg.params[0].split(",")
    keys = msg.param(1).split(",")
    for i, name in enumerate(names):
        join(chat, user, name, keys[i] if i < len(keys) else "")


def join(chat, user, name, key):
    if not ROOM_RE.match(name):
        return chat.refuse(user, irc.ERR_BADCHANMASK, name,
                           "Bad room name: it must start with # and hold no spaces or commas")
    room = chat.find_room(name)
    if room is not None and user in room.members:
        return
    if len(user.rooms) >= chat.settings.max_rooms_per_user:
        return chat.refuse(user, irc.ERR_TOOMANYCHANNELS, name, "You have joined too many rooms")
    if room is None:
        if not chat.settings.client_rooms:
            return chat.refuse(user, irc.ERR_NOSUCHCHANNEL, name,
                               "No such room (only the operator creates rooms here)")
        room = create(chat, name)
        chat.event(RoomCreated(name, user.nick))
    elif room.key is not None and key != room.key:
        return chat.refuse(user, irc.ERR_BADCHANNELKEY, room.name, "Cannot join room (+k) - wrong key")
    elif room.is_full:
        return chat.refuse(user, irc.ERR_CHANNELISFULL, room.name,
                           f"Cannot join room (+l) - room is full ({room.limit} max)")
    # Whoever makes a room is its operator (unless the server operator made it).
    room.members[user] = not room.members and not room.persistent
    user.rooms[irc_lower(room.name)] = room
    chat.send_to_room(room, format_line(user.mask, "JOIN", room.name))
    if room.topic:
        chat.reply(user, irc.RPL_TOPIC, room.name, room.topic)
    # The names of a crowded room (1,000 members of 30 letters: 31 KB), twenty
    # rooms in one JOIN: produced as the socket drains, like any long reply.
    chat.send_later(user, names_lines(chat, user, room))
    chat.event(Joined(user.nick, room.name, len(room.members)))


def create(chat, name, limit=0, key=None, persistent=False):
    room = Room(name, limit, key, persistent)
    chat.rooms[irc_lower(name)] = room
    return room


def names_lines(chat, user, room, end=True):
    """The ``353`` lines of ``room`` (each under 512 bytes), then ``366``."""
    server, me = chat.settings.server_name, user.nick or "*"
    names = [("@" if is_op else "") + member.nick for member, is_op in room.members.items()]
    chunk = []
    for name in names:
        chunk.append(name)
        if sum(len(n) + 1 for n in chunk) > 350:
            yield format_line(server, irc.RPL_NAMREPLY, me, "=", room.name, " ".join(chunk))
            chunk = []
    if chunk or not names:
        yield format_line(server, irc.RPL_NAMREPLY, me, "=", room.name, " ".join(chunk))
    if end:
        yield format_line(server, irc.RPL_ENDOFNAMES, me, room.name, "End of /NAMES list")


def do_part(chat, user, msg):
    if not msg.params:
        return chat.need_more_params(user, msg)
    for name in msg.params[0].split(","):
        room = member_room(chat, user, name)
        if room is not None:
            part(chat, user, room, msg.param(1))


def part(chat, user, room, reason):
    if reason:
        chat.send_to_room(room, format_line(user.mask, "PART", room.name, text=reason))
    else:
        chat.send_to_room(room, format_line(user.mask, "PART", room.name))
    leave(chat, user, room)
    chat.event(Parted(user.nick, room.name))


def leave(chat, user, room):
    """Take ``user`` out of ``room``; a room a client made goes when it empties."""
    del room.members[user]
    del user.rooms[irc_lower(room.name)]
    if not room.members and not room.persistent:
        del chat.rooms[irc_lower(room.name)]
        chat.event(RoomGone(room.name))


def member_room(chat, user, name):
    """The room ``name`` if ``user`` is in it; otherwise reply with the error and return None."""
    room = chat.find_room(name)
    if room is None:
        chat.reply(user, irc.ERR_NOSUCHCHANNEL, name, "No such room")
    elif user not in room.members:
        chat.reply(user, irc.ERR_NOTONCHANNEL, room.name, "You're not in that room")
    else:
        return room
    return None


def require_op(chat, user, room):
    """Is ``user`` an operator of ``room``? If not, say why and return False."""
    if user not in room.members:
        chat.reply(user, irc.ERR_NOTONCHANNEL, room.name, "You're not in that room")
        return False
    if not room.members[user]:
        chat.refuse(user, irc.ERR_CHANOPRIVSNEEDED, room.name, "You're not a room operator")
        return False
    return True


def do_topic(chat, user, msg):
    if not msg.params:
        return chat.need_more_params(user, msg)
    room = chat.find_room(msg.params[0])
    if room is None:
        return chat.reply(user, irc.ERR_NOSUCHCHANNEL, msg.params[0], "No such room")
    if len(msg.params) == 1:
        if room.topic:
            return chat.reply(user, irc.RPL_TOPIC, room.name, room.topic)
        return chat.reply(user, irc.RPL_NOTOPIC, room.name, "No topic is set")
    if require_op(chat, user, room):
        set_topic(chat, room, msg.params[1], user.nick, user.mask)


def set_topic(chat, room, topic, by, by_mask):
    room.topic = topic[: chat.settings.topic_length]
    room.topic_set_by = by
    chat.send_to_room(room, format_line(by_mask, "TOPIC", room.name, text=room.topic))
    chat.event(TopicChanged(by, room.name))


def do_kick(chat, user, msg):
    if len(msg.params) < 2:
        return chat.need_more_params(user, msg)
    room = chat.find_room(msg.params[0])
    if room is None:
        return chat.reply(user, irc.ERR_NOSUCHCHANNEL, msg.params[0], "No such room")
    if not require_op(chat, user, room):
        return
    for nick in msg.params[1].split(","):
        target = chat.nicks.get(irc_lower(nick))
        if target is None or target not in room.members:
            chat.reply(user, irc.ERR_USERNOTINCHANNEL, nick, room.name, "They aren't in that room")
            continue
        kick(chat, user.mask, room, target, msg.param(2) or user.nick)


def kick(chat, by_mask, room, target, reason):
    chat.send_to_room(room, format_line(by_mask, "KICK", room.name, target.nick, text=reason))
    leave(chat, target, room)
    chat.event(Kicked(target.nick, room.name, reason))


COMMANDS = {"JOIN": do_join, "PART": do_part, "TOPIC": do_topic, "KICK": do_kick}
