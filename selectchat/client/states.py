"""The states of the terminal client's conversation, and every legal move between them.

Read this file as the map of :class:`~selectchat.client.session.Session`
(as h11's ``_state.py`` is the map of an HTTP/1.1 connection).  What a typed
line means depends on the state: in ``ASK_NICK`` it is a nickname, in
``ASK_ROOM`` the choice of a room, in ``CHATTING`` a message.  A move not in
:data:`TRANSITIONS` is a bug: ``Session._go`` raises.
"""

import enum

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 6667


class State(enum.Enum):
    ASK_HOST = "asking for the server's address"
    ASK_PORT = "asking for the server's port"
    ASK_NICK = "asking for a nickname"
    ASK_PASSWORD = "asking for the server's password"
    REGISTERING = "waiting for the server's welcome"
    LISTING = "waiting for the room list, to ask which room"
    ASK_ROOM = "asking which room"
    CONFIRM_CREATE = "asking whether to make a new room"
    ASK_KEY = "asking for a private room's key"
    JOINING = "waiting for the answer to a JOIN"
    CHECKING = "waiting to learn whether a room to /create exists"
    CHATTING = "in a room: typed lines are messages"
    LEAVING = "waiting for the server to confirm a PART"
    QUITTING = "QUIT sent; waiting for the server to close"


S = State
# Every legal move.  Any state may also go to QUITTING (/quit, Ctrl-C, end of input).
TRANSITIONS = {
    S.ASK_HOST: {S.ASK_PORT, S.ASK_NICK, S.REGISTERING},
    S.ASK_PORT: {S.ASK_PORT, S.ASK_NICK, S.REGISTERING},
    S.ASK_NICK: {S.ASK_NICK, S.REGISTERING, S.ASK_PASSWORD},   # 433 then 464: the server closes
    S.ASK_PASSWORD: {S.REGISTERING},
    S.REGISTERING: {S.ASK_NICK, S.ASK_PASSWORD, S.LISTING, S.JOINING},
    S.LISTING: {S.ASK_ROOM},
    S.ASK_ROOM: {S.ASK_ROOM, S.LISTING, S.CONFIRM_CREATE, S.ASK_KEY, S.JOINING, S.CHECKING},
    S.CONFIRM_CREATE: {S.ASK_ROOM, S.JOINING},
    S.ASK_KEY: {S.JOINING, S.CHATTING, S.LISTING},
    S.JOINING: {S.CHATTING, S.ASK_KEY, S.LISTING},
    S.CHECKING: {S.JOINING, S.ASK_ROOM, S.CHATTING},
    S.CHATTING: {S.JOINING, S.ASK_KEY, S.CHECKING, S.LEAVING, S.LISTING},
    S.LEAVING: {S.LISTING},
    S.QUITTING: set(),
}
# States where typed lines wait for the server's answer.
WAITING = {S.REGISTERING, S.LISTING, S.JOINING, S.CHECKING, S.LEAVING}
QUESTIONS = {
    S.ASK_HOST: f"Server address [{DEFAULT_HOST}]: ",
    S.ASK_PORT: f"Port [{DEFAULT_PORT}]: ",
    S.ASK_NICK: "Nickname: ",
    S.ASK_PASSWORD: "Server password: ",
    S.ASK_ROOM: "Which room? (number or name) ",
}


