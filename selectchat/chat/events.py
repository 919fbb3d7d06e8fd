"""Events: facts the core reports for the log and the trace, one class each.

The server logs every event as ``kind`` and ``text``; the trace records
``kind`` and :meth:`Event.fields`; code that reacts to one (the server names
a descriptor after its user on :class:`Registered`) tests its class.
"""

from dataclasses import dataclass, fields


class Event:
    """Something that happened. Subclasses are frozen dataclasses."""

    __slots__ = ()
    kind = "event"

    @property
    def text(self):
        """One sentence for the operator's log."""
        raise NotImplementedError

    def fields(self):
        """The facts by name, for the trace (what was said stays in ``text``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "said"}


def _event(kind):
    def decorate(cls):
        cls = dataclass(frozen=True, slots=True)(cls)
        cls.kind = kind
        return cls
    return decorate


@_event("connect")
class Connected(Event):
    host: str

    @property
    def text(self):
        return f"connection from {self.host}"


@_event("register")
class Registered(Event):
    nick: str
    host: str

    @property
    def text(self):
        return f"{self.nick} registered from {self.host}"


@_event("nick")
class NickChanged(Event):
    old: str
    new: str

    @property
    def text(self):
        return f"{self.old} is now known as {self.new}"


@_event("refused")
class Refused(Event):
    """A numeric error worth logging: someone asked for something and was told no."""

    nick: str | None
    who: str
    numeric: str
    reason: str

    @property
    def text(self):
        return f"{self.who} refused: {self.reason}"


@_event("error")
class LineTooLong(Event):
    who: str

    @property
    def text(self):
        return f"{self.who} sent an overlong line"


@_event("quit")
class Quit(Event):
    nick: str | None
    who: str
    reason: str

    @property
    def text(self):
        return f"{self.who} disconnected ({self.reason})"


@_event("room-created")
class RoomCreated(Event):
    room: str
    by: str  # a nick, or "operator"

    @property
    def text(self):
        return f"{'the operator' if self.by == 'operator' else self.by} created {self.room}"


@_event("room-closed")
class RoomClosed(Event):
    room: str

    @property
    def text(self):
        return f"the operator closed {self.room}"


@_event("room-gone")
class RoomGone(Event):
    room: str

    @property
    def text(self):
        return f"{self.room} is empty and was removed"


@_event("join")
class Joined(Event):
    nick: str
    room: str
    members: int

    @property
    def text(self):
        return f"{self.nick} joined {self.room}"


@_event("part")
class Parted(Event):
    nick: str
    room: str

    @property
    def text(self):
        return f"{self.nick} left {self.room}"


@_event("kick")
class Kicked(Event):
    nick: str
    room: str
    reason: str

    @property
    def text(self):
        return f"{self.nick} was kicked from {self.room} ({self.reason})"


@_event("topic")
class TopicChanged(Event):
    by: str
    room: str

    @property
    def text(self):
        return f"{self.by} set the topic of {self.room}"


@_event("mode")
class ModeChanged(Event):
    by: str
    room: str
    modes: str
    args: tuple = ()

    @property
    def text(self):
        return f"{self.by} set {self.room} {' '.join((self.modes, *self.args))}"


@_event("message")
class RoomMessage(Event):
    sender: str
    room: str
    recipients: int
    bytes: int
    said: str

    @property
    def text(self):
        return f"<{self.sender}> {self.room}: {self.said}"


@_event("private")
class PrivateMessage(Event):
    sender: str
    to: str
    length: int

    @property
    def text(self):  # private messages are logged without their text
        return f"{self.sender} -> {self.to} (private, {self.length} chars)"


@_event("invite")
class Invited(Event):
    by: str
    nick: str
    room: str

    @property
    def text(self):
        return f"{self.by} invited {self.nick} to {self.room}"


@_event("oper")
class BecameOperator(Event):
    nick: str
    name: str   # the operator name of the credentials used

    @property
    def text(self):
        return f"{self.nick} is now a server operator (as {self.name})"


@_event("kill")
class Killed(Event):
    by: str
    nick: str
    reason: str

    @property
    def text(self):
        return f"{self.by} killed {self.nick} ({self.reason})"


# How each event is told without any text a user wrote (a shared screen, the
# live view): names and numbers only, from the fields of a trace's app record.
WITHOUT_TEXT = {
    "connect": "connection from {host}",
    "register": "{nick} registered",
    "nick": "{old} is now known as {new}",
    "join": "{nick} joined {room}",
    "part": "{nick} left {room}",
    "kick": "{nick} was kicked from {room}",
    "quit": "{who} left the chat",
    "message": "{sender} \u2192 {room}: a message ({bytes} bytes)",
    "private": "{sender} \u2192 {to}: a private message",
    "refused": "{who} refused ({numeric})",
    "room-created": "{room} created by {by}",
    "room-gone": "{room} is empty and was removed",
    "room-closed": "the operator closed {room}",
    "mode": "{by} changed the modes of {room}",
    "topic": "{by} set the topic of {room}",
    "error": "{who} sent an overlong line",
    "invite": "{by} invited {nick} to {room}",
    "oper": "{nick} is now a server operator",
    "kill": "{by} killed {nick}",
}


class _Unknown(dict):
    def __missing__(self, key):
        return "?"


def told_without_text(fields):
    """One line for an event's fields (``event`` is its kind), with no text a user wrote."""
    template = WITHOUT_TEXT.get(fields.get("event"), "{event}")
    if fields.get("event") == "message" and fields.get("count", 1) > 1:   # a trace's burst
        template = "{sender} \u2192 {room}: {count} messages ({bytes} bytes)"
    return template.format_map(_Unknown((key, value) for key, value in fields.items() if value is not None))
