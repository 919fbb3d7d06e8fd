"""Masks: ``nick!user@host`` patterns with ``*`` and ``?``, for bans, exceptions and WHO.

Matching folds case the way names do (:func:`~selectchat.irc.irc_lower`).
It is written out rather than done with ``re`` or ``fnmatch``: ``fnmatch``
reads ``[`` and ``]`` (legal in nicknames) as a character class, and a
regular expression made from ``*a*a*a*a*b`` can take exponential time on a
long name -- the loop below is never worse than len(mask) * len(name) steps.
"""

from ..irc import irc_lower


def glob_match(mask, text):
    """Does ``text`` match ``mask`` (``*``: any run of characters, ``?``: any one)?"""
    mask, text = irc_lower(mask), irc_lower(text)
    m = t = 0
    star, resume = -1, 0     # where the last * was, and where its match would end next
    while t < len(text):
        if m < len(mask) and mask[m] == "*":
            star, resume = m, t
            m += 1
        elif m < len(mask) and mask[m] in ("?", text[t]):
            m += 1
            t += 1
        elif star >= 0:      # let the last * take one more character, and try again
            m, resume = star + 1, resume + 1
            t = resume
        else:
            return False
    while m < len(mask) and mask[m] == "*":
        m += 1
    return m == len(mask)


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
