"""Moved: selectchat.net.framing (this alias goes once every user is updated)."""
from .net.framing import MAX_LINE, TOO_LONG, LineBuffer  # noqa: F401
