"""Moved: selectchat.irc (this alias goes once every user is updated)."""
from .irc import *  # noqa: F401,F403
from .irc import Message, ProtocolError, format_line, parse  # noqa: F401
