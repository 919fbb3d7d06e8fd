"""IRC messages: parse a line into a :class:`Message`, format one back into bytes.

An IRC line looks like this (RFC 1459 section 2.3.1, RFC 2812 section 2.3)::

    [":" prefix " "] command {" " param} [" :" trailing]

for example ``:alice!alice@127.0.0.1 PRIVMSG #lobby :hello there``.
The last parameter may contain spaces only if it is written after a colon.

This module knows the shape of lines and the names of the replies; it knows
nothing of sockets or rooms.  Every numeric reply the server can send is a
named constant here, so the chat core never writes a bare number.
"""

from dataclasses import dataclass

MAX_LINE = 512  # bytes on the wire, "\r\n" included

# Numeric replies (https://modern.ircdocs.horse/ lists them with their meaning).
RPL_WELCOME = "001"
RPL_YOURHOST = "002"
RPL_CREATED = "003"
RPL_MYINFO = "004"
RPL_ISUPPORT = "005"
RPL_UMODEIS = "221"
RPL_LUSERCLIENT = "251"
RPL_LUSERCHANNELS = "254"
RPL_LUSERME = "255"
RPL_USERHOST = "302"
RPL_ISON = "303"
RPL_UNAWAY = "305"
RPL_NOWAWAY = "306"
RPL_WHOISUSER = "311"
RPL_WHOISSERVER = "312"
RPL_ENDOFWHO = "315"
RPL_ENDOFWHOIS = "318"
RPL_WHOISCHANNELS = "319"
RPL_LISTSTART = "321"
RPL_LIST = "322"
RPL_LISTEND = "323"
RPL_CHANNELMODEIS = "324"
RPL_NOTOPIC = "331"
RPL_TOPIC = "332"
RPL_WHOREPLY = "352"
RPL_NAMREPLY = "353"
RPL_ENDOFNAMES = "366"
RPL_ENDOFBANLIST = "368"
RPL_MOTD = "372"
RPL_MOTDSTART = "375"
RPL_ENDOFMOTD = "376"
ERR_NOSUCHNICK = "401"
ERR_NOSUCHCHANNEL = "403"
ERR_CANNOTSENDTOCHAN = "404"
ERR_TOOMANYCHANNELS = "405"
ERR_NOORIGIN = "409"
ERR_NORECIPIENT = "411"
ERR_NOTEXTTOSEND = "412"
ERR_INPUTTOOLONG = "417"
ERR_UNKNOWNCOMMAND = "421"
ERR_NOMOTD = "422"
ERR_NONICKNAMEGIVEN = "431"
ERR_ERRONEUSNICKNAME = "432"
ERR_NICKNAMEINUSE = "433"
ERR_USERNOTINCHANNEL = "441"
ERR_NOTONCHANNEL = "442"
ERR_USERONCHANNEL = "443"
ERR_NOTREGISTERED = "451"
ERR_NEEDMOREPARAMS = "461"
ERR_ALREADYREGISTERED = "462"
ERR_PASSWDMISMATCH = "464"
ERR_CHANNELISFULL = "471"
ERR_UNKNOWNMODE = "472"
ERR_BADCHANNELKEY = "475"
ERR_BADCHANMASK = "476"
ERR_CHANOPRIVSNEEDED = "482"
ERR_UMODEUNKNOWNFLAG = "501"
ERR_USERSDONTMATCH = "502"


class ProtocolError(ValueError):
    """A line that is not an IRC message at all (e.g. empty, or only a prefix)."""


@dataclass(frozen=True)
class Message:
    """One IRC message. ``command`` is upper case; ``params`` holds every parameter."""

    command: str
    params: tuple = ()
    prefix: str = ""

    @property
    def nick(self):
        """The nickname in a ``nick!user@host`` prefix (or the whole prefix)."""
        return self.prefix.split("!", 1)[0]

    def param(self, index, default=""):
        """The parameter at ``index``, or ``default`` when the client left it out."""
        return self.params[index] if index < len(self.params) else default


def parse(line):
    """Parse one line (``str``, without its terminator) into a :class:`Message`."""
    prefix = ""
    if line.startswith(":"):
        prefix, _, line = line[1:].partition(" ")
    line = line.lstrip(" ")
    head, sep, trailing = line.partition(" :")
    params = head.split()
    if line.startswith(":"):  # the trailing parameter comes right after the prefix
        raise ProtocolError("missing command")
    if not params:
        raise ProtocolError("empty line")
    if sep:
        params.append(trailing)
    return Message(params[0].upper(), tuple(params[1:]), prefix)


def format_line(prefix, command, *params):
    """Format a message as bytes ready for the wire, ``\\r\\n`` included.

    The last parameter is always sent as a trailing one (after ``:``) when it
    could need it: when it is empty, holds a space, or starts with ``:``.
    A parameter before it can be none of these, so one that is (a nickname a
    client sent as ``NICK :a b``, say) is made safe rather than shifting the
    parameters the receiver sees.
    Lines longer than 512 bytes are cut, on a UTF-8 character boundary, so a
    relayed message can never break the receiver's framing.
    """
    parts = [f":{prefix}", command] if prefix else [command]
    if params:
        *middle, last = params
        parts.extend(p if p and " " not in p and p[0] != ":" else _safe_middle(p) for p in middle)
        if not last or " " in last or last.startswith(":"):
            last = ":" + last
        parts.append(last)
    data = " ".join(parts).encode("utf-8", "replace")
    if len(data) > MAX_LINE - 2:
        data = data[: MAX_LINE - 2].decode("utf-8", "ignore").encode()
    return data + b"\r\n"


def _safe_middle(param):
    """A middle parameter that holds no space, does not start with ``:`` and is not empty."""
    return param.replace(" ", "_").lstrip(":") or "*"
