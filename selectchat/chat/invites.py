"""INVITE: asking someone into a room (RFC 2812 section 3.2.7).

Any member may invite into a room, but into an invite-only room (+i) only
its operators may.  An invitation lets its target in once, past +i and
past a ban (+b), as most servers do; the other members are not told.
``INVITE`` alone lists the rooms one is invited to.
"""

from .. import irc
from ..irc import format_line, irc_lower
from .events import Invited


def do_invite(chat, user, msg):
    if not msg.params:
        return list_invitations(chat, user)
    if len(msg.params) < 2:
        return chat.need_more_params(user, msg)
    nick, name = msg.params[0], msg.params[1]
    target = chat.find_user(nick)
    if target is None:
        return chat.reply(user, irc.ERR_NOSUCHNICK, nick, "No such nick/room")
    room = chat.find_room(name)
    if room is not None:  # a room that does not exist yet may be invited to (RFC 2812)
        if user not in room.members:
            return chat.reply(user, irc.ERR_NOTONCHANNEL, room.name, "You're not in that room")
        if "i" in room.flags and not room.is_operator(user):
            return chat.refuse(user, irc.ERR_CHANOPRIVSNEEDED, room.name, "You're not a room operator")
        if target in room.members:
            return chat.reply(user, irc.ERR_USERONCHANNEL, target.nick, room.name, "is already in that room")
        target.invited_to.add(irc_lower(room.name))
        name = room.name
    chat.reply(user, irc.RPL_INVITING, target.nick, name)
    chat.send(target, format_line(user.mask, "INVITE", target.nick, name))
    if target.away:
        chat.reply(user, irc.RPL_AWAY, target.nick, target.away)
    chat.event(Invited(user.nick, target.nick, name))


def list_invitations(chat, user):
    for folded in sorted(user.invited_to):
        room = chat.rooms.get(folded)
        if room is not None:
            chat.reply(user, irc.RPL_INVITELIST, room.name)
    chat.reply(user, irc.RPL_ENDOFINVITELIST, "End of INVITE list")


COMMANDS = {"INVITE": do_invite}
