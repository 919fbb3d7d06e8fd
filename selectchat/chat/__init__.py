"""The chat core: users, rooms and every IRC rule, with no I/O (sans-I/O).

* ``core``         -- :class:`Chat`: inputs in (connect, receive, disconnect,
                      tick), effects out; the table of every command;
* ``model``        -- :class:`Settings`, :class:`User`, :class:`Room`, valid names;
* ``effects``      -- what the server must do: :class:`Send`, :class:`SendLater`, :class:`Close`;
* ``events``       -- what happened, one class each, for the log and the trace;
* ``registration``, ``rooms``, ``modes``, ``invites``, ``messaging``, ``queries``, ``who``,
  ``history`` (WHOWAS), ``opers`` (OPER, KILL, WALLOPS), ``manual`` (HELP)
                   -- the rules, by subject;
* ``masks``        -- ``nick!user@host`` patterns with ``*`` and ``?`` (bans, WHO);
* ``operator``     -- the console's actions (``operator.create_room(chat, ...)``).
"""

from . import events, operator
from .core import COMMANDS, Chat
from .effects import Close, Send, SendLater
from .events import Event
from .model import Room, Settings, User
from .operator import ChatError
