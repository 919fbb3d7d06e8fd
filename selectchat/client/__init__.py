"""The clients: a blocking one for scripts, and the full-duplex terminal client.

* :class:`Client` (:mod:`.blocking`) -- for notebooks, labs, tests and bots:
  it blocks, with timeouts, so that a script reads top to bottom;
* ``selectchat client`` (:mod:`.terminal`) -- for people: one ``select()``
  over the keyboard and the socket.  Its parts, each readable alone:
  :mod:`.states` (the map of the conversation), :mod:`.session` (lines in,
  effects out), :mod:`.commands` (the slash commands), :mod:`.replies` (the
  server's lines), :mod:`.keys` and :mod:`.editor` (keys in, a line out),
  :mod:`.width` (columns), :mod:`.display` (the screen).
"""

from .blocking import Client, IRCError, JoinRefused, RegistrationFailed, RoomInfo

__all__ = ["Client", "IRCError", "JoinRefused", "RegistrationFailed", "RoomInfo"]
