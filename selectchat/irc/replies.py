"""Replies that the server writes and the clients read: one definition for both.

Each pair here is a format and its reading, kept side by side so that they
cannot drift apart: the ``ERROR :Closing Link`` line, the room row of
``LIST`` (``322``), and what each refusal of a ``JOIN`` means.
"""

import re

from .message import format_line
from .numerics import (ERR_BADCHANMASK, ERR_BADCHANNELKEY, ERR_BANNEDFROMCHAN, ERR_CHANNELISFULL,
                       ERR_INVITEONLYCHAN, ERR_NOSUCHCHANNEL, ERR_TOOMANYCHANNELS)


def closing_link(host, reason):
    """The last line a server sends before it closes a connection (RFC 2812 3.1.7)."""
    return format_line("", "ERROR", text=f"Closing Link: {host} ({reason})")


# Why a JOIN was refused, by numeric: the sentence a client shows its user.
JOIN_REFUSALS = {
    ERR_CHANNELISFULL: "{room} is full.",
    ERR_BADCHANNELKEY: "{room} is private, and that key is not the right one.",
    ERR_NOSUCHCHANNEL: "There is no room called {room}, and on this server only the operator creates rooms.",
    ERR_BADCHANMASK: "{room} is not a possible room name: no spaces, commas or colons, at most 50 characters.",
    ERR_TOOMANYCHANNELS: "You are in too many rooms to join {room}.",
    ERR_INVITEONLYCHAN: "{room} is invite only: ask one of its operators for an /invite.",
    ERR_BANNEDFROMCHAN: "You are banned from {room}.",
}


def list_topic(limit, has_key, topic):
    """The text of a ``322`` room row: ``[+kl 10] the topic``.

    Standard clients show it as the room's topic; our clients read the
    modes in brackets back with :func:`parse_list_topic`.
    """
    flags = ("k" if has_key else "") + ("l" if limit else "")
    modes = f"[+{flags} {limit}]" if limit else f"[+{flags}]"
    return f"{modes} {topic}".rstrip()


_LIST_TOPIC = re.compile(r"\[\+(?P<flags>[a-z]*)(?: (?P<limit>\d+))?\] ?(?P<topic>.*)\Z", re.S)


def parse_list_topic(text):
    """``(limit, has_key, topic)`` from a ``322`` row's text; ``(0, False, text)`` if not ours."""
    match = _LIST_TOPIC.match(text)
    if match is None:
        return 0, False, text
    return int(match["limit"] or 0), "k" in match["flags"], match["topic"]
