"""Masks: ``nick!user@host`` patterns with ``*`` and ``?``, for bans, exceptions and WHO.

Matching folds case the way names do (:func:`~selectchat.irc.irc_lower`).
It is not done with ``fnmatch``, which reads ``[`` and ``]`` (legal in
nicknames) as a character class, nor with one regular expression, which
can take exponential time on a mask like ``*a*a*a*a*b`` -- and any user can
make a room and set such a ban.  Instead, the mask is cut at its ``*``: the
first piece must begin the text, the last must end it, and each piece in
between is found at its leftmost place after the one before (leftmost is
never worse: it leaves the most text for what follows).  Each search runs
in C (``str.find``, or ``re`` for a piece with ``?``), so a mask costs
microseconds whatever it holds.
"""

import re
from functools import lru_cache

from ..irc import irc_lower


def glob_match(mask, text):
    """Does ``text`` match ``mask`` (``*``: any run of characters, ``?``: any one)?"""
    mask, text = irc_lower(mask), irc_lower(text)
    first, *middle = mask.split("*")
    if not middle:                       # no "*": the whole text, character for character
        return len(text) == len(first) and _fits(first, text)
    last = middle.pop()
    end = len(text) - len(last)
    if end < len(first) or not (_fits(first, text[:len(first)]) and _fits(last, text[end:])):
        return False
    position = len(first)
    for piece in middle:
        if piece:
            found = _find(piece, text, position, end)
            if found < 0:
                return False
            position = found + len(piece)
    return True


def _fits(piece, chunk):
    """Does ``chunk`` (as long as ``piece``) match ``piece``, where ``?`` matches anything?"""
    return all(p == "?" or p == c for p, c in zip(piece, chunk))


def _find(piece, text, start, end):
    """Where ``piece`` first matches in ``text[start:end]``, or -1."""
    if "?" not in piece:
        return text.find(piece, start, end)
    found = _pattern(piece).search(text, start, end)
    return found.start() if found else -1


@lru_cache(maxsize=256)
def _pattern(piece):
    return re.compile("".join("." if c == "?" else re.escape(c) for c in piece), re.S)


def full_mask(mask):
    """Complete a short mask as servers do: ``bob`` -> ``bob!*@*``, ``*@host`` -> ``*!*@host``."""
    if "!" not in mask and "@" not in mask:
        return f"{mask}!*@*"
    if "!" not in mask:
        return f"*!{mask}"
    if "@" not in mask:
        return f"{mask}@*"
    return mask


def matches_user(mask, user):
    """Does ``user`` (its ``nick!user@host``) match ``mask``?"""
    return glob_match(mask, user.mask)
