"""Moved: selectchat.net.loop (this alias goes once every user is updated)."""
from .net.loop import *  # noqa: F401,F403
from .net.loop import BACKENDS, FD_SETSIZE, EventLoop, fileno  # noqa: F401
