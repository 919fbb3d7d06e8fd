"""WHOWAS: who recently used a nickname (RFC 2812 section 3.6.3).

The history is bounded (``Settings.whowas_length`` entries, the oldest
forgotten first): a server that remembered every quit forever would grow
without end on a busy classroom network.  A user is remembered when it
leaves and when it changes its nickname.
"""

from collections import deque
from dataclasses import dataclass

from .. import irc
from ..irc import irc_lower


@dataclass(frozen=True, slots=True)
class WasUser:
    nick: str
    username: str
    host: str
    realname: str
    left_at: int   # Unix time


class History:
    """The last ``length`` users gone or renamed, newest last."""

    def __init__(self, length):
        self.entries = deque(maxlen=length)

    def remember(self, user, unix_time):
        self.entries.append(WasUser(user.nick, user.username, user.host, user.realname, unix_time))

    def lookup(self, nick, count=0):
        """The entries for ``nick``, newest first; at most ``count`` of them (0: all)."""
        folded = irc_lower(nick)
        found = [was for was in reversed(self.entries) if irc_lower(was.nick) == folded]
        return found[:count] if count > 0 else found


def do_whowas(chat, user, msg):
    if not msg.params or not msg.params[0]:
        return chat.reply(user, irc.ERR_NONICKNAMEGIVEN, "No nickname given")
    # A count that is not a positive number means "all" (RFC 2812 3.6.3).
    count = msg.param(1)
    count = int(count) if count.isascii() and count.isdigit() else 0
    server = chat.settings.server_name
    for nick in msg.params[0].split(",")[: chat.settings.max_targets]:
        found = chat.gone.lookup(nick, count)
        if not found:
            chat.reply(user, irc.ERR_WASNOSUCHNICK, nick, "There was no such nickname")
        for was in found:
            chat.reply(user, irc.RPL_WHOWASUSER, was.nick, was.username, was.host, "*", was.realname)
            chat.reply(user, irc.RPL_WHOISSERVER, was.nick, server, f"left at {was.left_at} (Unix time)")
        chat.reply(user, irc.RPL_ENDOFWHOWAS, nick, "End of WHOWAS")


COMMANDS = {"WHOWAS": do_whowas}
