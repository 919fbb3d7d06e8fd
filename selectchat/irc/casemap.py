"""Names that differ only in case are the same name: ``#Lobby`` is ``#lobby``.

The server advertises ``CASEMAPPING=ascii`` (005): only ``A``-``Z`` fold.
``str.lower()`` would also fold ``É`` to ``é``, so a client or a trace that
used it would think ``#Été`` and ``#été`` are one room when the server
says they are two.  Everything in selectchat folds with :func:`irc_lower`.
"""

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def irc_lower(name):
    """Fold case the way we advertise (CASEMAPPING=ascii): only A-Z change."""
    if name.isascii():
        return name.lower()  # the same fold for ASCII, and five times faster (a room name, per message)
    return name.translate(_ASCII_LOWER)
