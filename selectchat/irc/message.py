"""IRC messages: parse a line into a :class:`Message`, format one back into bytes.

An IRC line looks like this (RFC 1459 section 2.3.1, RFC 2812 section 2.3)::

    [":" prefix " "] command {" " param} [" :" trailing]

for example ``:alice!alice@127.0.0.1 PRIVMSG #lobby :hello there``.
The last parameter may contain spaces only if it is written after a colon.

Parameters are separated by ASCII spaces only: a no-break space or a tab
inside ``#ab\u00a0cd`` is part of the name, not a separator.

This module knows the shape of lines; it knows nothing of sockets or rooms.
"""

from typing import NamedTuple

from ..net.framing import MAX_LINE  # 512 bytes on the wire, "\r\n" included


class ProtocolError(ValueError):
    """A line that is not an IRC message at all (e.g. empty, or only a prefix)."""


class Message(NamedTuple):
    """One IRC message. ``command`` is upper case; ``params`` holds every parameter.

    A named tuple: immutable like a frozen dataclass, and made in half the
    time (one is made for every line a server receives).
    """

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
    params = head.split(" ")
    if "" in params:  # spaces in a row, or at the end: they separate nothing
        params = [word for word in params if word]
    if line.startswith(":"):  # the trailing parameter comes right after the prefix
        raise ProtocolError("missing command")
    if not params:
        raise ProtocolError("empty line")
    if sep:
        params.append(trailing)
    return Message(params[0].upper(), tuple(params[1:]), prefix)


def format_line(prefix, command, *params, text=None):
    """Format a message as bytes ready for the wire, ``\\r\\n`` included.

    ``text`` (what a person wrote: a message, a reason, a topic) is always
    sent as the trailing parameter, after ``:``, even when it is one word:
    a client that splits on ``" :"`` must find it there.  Otherwise the last
    parameter is sent as a trailing one only when it needs it: when it is
    empty, holds a space, or starts with ``:``.
    A parameter before it can be none of these, so one that is (a nickname a
    client sent as ``NICK :a b``, say) is made safe rather than shifting the
    parameters the receiver sees.
    Lines longer than 512 bytes are cut, on a UTF-8 character boundary, so a
    relayed message can never break the receiver's framing.
    """
    parts = [f":{prefix}", command] if prefix else [command]
    if text is None and params and not _is_middle(params[-1]):
        *params, text = params
    parts += [p if _is_middle(p) else _made_middle(p) for p in params]
    if text is not None:
        parts.append(":" + text)
    data = " ".join(parts).encode("utf-8", "replace")
    if len(data) > MAX_LINE - 2:
        data = data[: MAX_LINE - 2].decode("utf-8", "ignore").encode()
    return data + b"\r\n"


def _is_middle(param):
    return param and " " not in param and param[0] != ":"


def _made_middle(param):
    """``param`` made a valid middle parameter: no space, no leading ``:``, not empty."""
    return param.replace(" ", "_").lstrip(":") or "*"
