"""IRC, the protocol spoken on the wire: lines, numerics, case, shared replies.

* ``message``  -- parse a line into a :class:`Message`, format one into bytes;
* ``numerics`` -- every numeric reply by name;
* ``casemap``  -- ``irc_lower``: the one case folding used everywhere;
* ``replies``  -- replies written by the server and read by the clients.

``from selectchat import irc`` then ``irc.parse``, ``irc.RPL_WELCOME``.
"""

from .casemap import irc_lower
from .message import MAX_LINE, Message, ProtocolError, format_line, parse
from .numerics import *  # noqa: F403 -- the numerics are this package's vocabulary
from .replies import JOIN_REFUSALS, closing_link, list_topic, parse_list_topic
