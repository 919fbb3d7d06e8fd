"""WHO: who is in a room, or who matches a mask -- in the classic form (352) or WHOX (354).

``WHO #room`` lists its members, ``WHO nick`` one user (invisible or not),
``WHO mask`` everyone whose nick, user name, host, real name or
``nick!user@host`` matches (``*`` and ``?``), leaving out invisible users
who share no room with the asker; ``o`` after the mask keeps only server
operators.  With ``%`` fields after the mask (WHOX: ``WHO #lab %tnf,42``)
each reply is a ``354`` with only the fields asked for, in the fixed order
of :data:`WHOX_FIELDS`.  Replies are produced as the asker's socket drains.
"""

from .. import irc
from ..irc import format_line
from .masks import glob_match
from .queries import visible

# token, channel, user, ip, host, server, nick, flags, hops, idle (since its last line), account, op level, real name
WHOX_FIELDS = "tcuihsnfdlaor"


def do_who(chat, user, msg):
    mask = msg.param(0, "*") or "*"
    options, percent, whox = msg.param(1).partition("%")
    asked, _, token = whox.partition(",")
    fields = "".join(c for c in WHOX_FIELDS if c in asked) if percent else None   # None: classic 352
    if mask.startswith("#"):
        room = chat.find_room(mask)
        found = [(m, room.prefix(m)) for m in room.members] if room and visible(room, user) else []
        room_name = room.name if found else "*"
    elif (peer := chat.find_user(mask)) is not None:   # a plain nick finds its user, invisible or not
        found, room_name = [(peer, "")], "*"
    else:
        found, room_name = _matching(chat, user, "*" if mask == "0" else mask, "o" in options), "*"
    chat.send_later(user, _who_lines(chat, user, mask, room_name, found, fields, token[:3]))


def _matching(chat, user, pattern, opers_only):
    """The users ``pattern`` finds, as a generator: matched as the reply is sent ("WHO 0" = everyone)."""
    shared = set(chat.peers(user)) | {user}
    return ((u, "") for u in list(chat.users.values())
            if u.registered and (not u.invisible or u in shared) and (u.oper or not opers_only)
            and any(glob_match(pattern, field) for field in (u.nick, u.username, u.host, u.realname, u.mask)))


def _who_lines(chat, user, mask, room_name, members, fields, token):
    server = chat.settings.server_name
    for member, prefix in members:
        flags = ("G" if member.away else "H") + ("*" if member.oper else "") + prefix
        if fields is None:
            yield format_line(server, irc.RPL_WHOREPLY, user.nick, room_name, member.username, member.host,
                              server, member.nick, flags, f"0 {member.realname}")
        else:
            values = {"t": token or "0", "c": room_name, "u": member.username, "i": member.host,
                      "h": member.host, "s": server, "n": member.nick, "f": flags, "d": "0",
                      "l": str(max(0, int(chat.now - member.last_seen))), "a": "0", "o": "n/a",
                      "r": member.realname}
            yield format_line(server, irc.RPL_WHOSPCRPL, user.nick, *(values[c] for c in fields))
    yield format_line(server, irc.RPL_ENDOFWHO, user.nick, mask, "End of /WHO list")


COMMANDS = {"WHO": do_who}
