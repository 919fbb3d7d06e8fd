"""How many terminal columns a piece of text takes.

A terminal draws most characters in one column, but East Asian wide and
fullwidth characters (日本語, most emoji) take two, and combining marks
(the accent of ``e`` + U+0301) take none: they sit on the character before.
Counting characters instead of columns puts the cursor in the wrong place as
soon as someone types 日本語, so every position on screen is measured here.
"""

import unicodedata


def char_width(char):
    """Columns one character takes: 0 (combining, zero-width), 1, or 2 (wide)."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 2
    return 1


def text_width(text):
    """Columns ``text`` takes on one row."""
    return sum(char_width(char) for char in text)


def fits(text, columns):
    """Does ``text`` fit in ``columns``?  Stops counting as soon as it cannot (a long paste stays cheap)."""
    used = 0
    for char in text:
        used += char_width(char)
        if used > columns:
            return False
    return True


def fit_end(text, columns):
    """The longest tail of ``text`` that fits in ``columns`` (whole characters)."""
    used, start = 0, len(text)
    while start > 0 and used + char_width(text[start - 1]) <= columns:
        start -= 1
        used += char_width(text[start])
    return text[start:]


def fit_start(text, columns):
    """The longest head of ``text`` that fits in ``columns`` (whole characters)."""
    used, end = 0, 0
    while end < len(text) and used + char_width(text[end]) <= columns:
        used += char_width(text[end])
        end += 1
    return text[:end]
