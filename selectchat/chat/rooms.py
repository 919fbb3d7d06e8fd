"""Rooms: joining (bans, invite only, key, limit), leaving, kicking, topics.

A room is created by the operator (it stays when empty) or, unless the
operator forbids it, by the first ``JOIN`` (it goes when its last member
leaves; its creator is its first room operator).  What a room allows is
set with its modes (:mod:`.modes`).
"""

from .. import irc
from ..irc import format_line, irc_lower
from .events import Joined, Kicked, Parted, RoomCreated, RoomGone, TopicChanged
from .masks import matches_user
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
    elif not may_join(chat, user, room, key):
        return
    # Whoever makes a room is its operator (unless the server operator made it).
    room.add_member(user, "o" if not room.members and not room.persistent else "")
    user.rooms[irc_lower(room.name)] = room
    user.invited_to.discard(irc_lower(room.name))  # an invitation lets one in once
    chat.send_to_room(room, format_line(user.mask, "JOIN", room.name))
    if room.topic:
        send_topic(chat, user, room)
    # The names of a crowded room (1,000 members of 30 letters: 31 KB), twenty
    # rooms in one JOIN: produced as the socket drains, like any long reply.
    chat.send_later(user, names_lines(chat, user, room))
    chat.event(Joined(user.nick, room.name, len(room.members)))


def may_join(chat, user, room, key):
    """Check the room's bans, +i, key and limit; if one says no, refuse with its numeric."""
    invited = irc_lower(room.name) in user.invited_to  # an INVITE beats a ban, +i and +l
    if not invited and listed(room, "b", user) and not listed(room, "e", user):
        chat.refuse(user, irc.ERR_BANNEDFROMCHAN, room.name, "Cannot join room (+b) - you are banned")
    elif not invited and "i" in room.flags and not listed(room, "I", user):
        chat.refuse(user, irc.ERR_INVITEONLYCHAN, room.name, "Cannot join room (+i) - you must be invited")
    elif room.key is not None and key != room.key:
        chat.refuse(user, irc.ERR_BADCHANNELKEY, room.name, "Cannot join room (+k) - wrong key")
    elif room.is_full and not invited:
        chat.refuse(user, irc.ERR_CHANNELISFULL, room.name,
                    f"Cannot join room (+l) - room is full ({room.limit} max)")
    else:
        return True
    return False


def listed(room, letter, user):
    """Does ``user`` match a mask of the room's list ``letter`` (b, e or I)?"""
    return any(matches_user(entry.mask, user) for entry in room.masks[letter])


def create(chat, name, limit=0, key=None, persistent=False):
    room = Room(name, limit, key, persistent, created=chat.unix_time())
    chat.rooms[irc_lower(name)] = room
    return room


def names_lines(chat, user, room, end=True):
    """The ``353`` lines of ``room`` (each under 512 bytes), then ``366``.

    ``=`` marks a public room, ``@`` a secret one (+s), as RFC 2812 says.
    """
    server, me = chat.settings.server_name, user.nick or "*"
    kind = "@" if "s" in room.flags else "="
    names = [room.prefix(member) + member.nick for member in room.members]
    chunk = []
    for name in names:
        chunk.append(name)
        if sum(len(n) + 1 for n in chunk) > 350:
            yield format_line(server, irc.RPL_NAMREPLY, me, kind, room.name, " ".join(chunk))
            chunk = []
    if chunk or not names:
        yield format_line(server, irc.RPL_NAMREPLY, me, kind, room.name, " ".join(chunk))
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
    room.remove_member(user)
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
    if not room.is_operator(user):
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
            return send_topic(chat, user, room)
        return chat.reply(user, irc.RPL_NOTOPIC, room.name, "No topic is set")
    # +t (on in new rooms): only operators set the topic; -t: any member.
    allowed = require_op(chat, user, room) if "t" in room.flags else member_room(chat, user, room.name)
    if allowed:
        set_topic(chat, room, msg.params[1], user.nick, user.mask)


def send_topic(chat, user, room):
    """332 (the topic), then 333 (who set it, and when)."""
    chat.reply(user, irc.RPL_TOPIC, room.name, room.topic)
    chat.reply(user, irc.RPL_TOPICWHOTIME, room.name, room.topic_set_by, str(room.topic_set_at))


def set_topic(chat, room, topic, by, by_mask):
    room.topic = topic[: chat.settings.topic_length]
    room.topic_set_by = by_mask   # shown in 333: nick!user@host, or the server for the console
    room.topic_set_at = chat.unix_time()
    chat.send_to_room(room, format_line(by_mask, "TOPIC", room.name, text=room.topic))
    chat.event(TopicChanged(by, room.name))


def do_kick(chat, user, msg):
    """``KICK #r a,b`` removes both from #r; ``KICK #r,#s a,b`` removes a from #r and b from #s."""
    if len(msg.params) < 2:
        return chat.need_more_params(user, msg)
    names = msg.params[0].split(",")
    nicks = msg.params[1].split(",")[: chat.settings.max_targets]
    if len(names) not in (1, len(nicks)):
        return chat.need_more_params(user, msg)
    for name, nick in zip(names * len(nicks) if len(names) == 1 else names, nicks):
        room = chat.find_room(name)
        if room is None:
            chat.reply(user, irc.ERR_NOSUCHCHANNEL, name, "No such room")
        elif require_op(chat, user, room):
            target = chat.nicks.get(irc_lower(nick))
            if target is None or target not in room.members:
                chat.reply(user, irc.ERR_USERNOTINCHANNEL, nick, room.name, "They aren't in that room")
            else:
                kick(chat, user.mask, room, target, msg.param(2) or user.nick)


def kick(chat, by_mask, room, target, reason):
    chat.send_to_room(room, format_line(by_mask, "KICK", room.name, target.nick, text=reason))
    leave(chat, target, room)
    chat.event(Kicked(target.nick, room.name, reason))


COMMANDS = {"JOIN": do_join, "PART": do_part, "TOPIC": do_topic, "KICK": do_kick}
