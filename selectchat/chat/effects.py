"""Effects: what the core asks the server to do after each call.

The core never does I/O; each call returns a list of these, and the server
carries them out in order (``Server.apply``).
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Send:
    """Append ``data`` (one formatted line) to the output of every connection in ``to`` but ``exclude``.

    A fan-out to a room is *one* ``Send``: the line is formatted once, ``to`` is
    the room's own tuple of connections, and ``exclude`` the sender, who does
    not get its own message back.
    """

    to: tuple
    data: bytes
    exclude: object = None


@dataclass(frozen=True, slots=True)
class SendLater:
    """A long reply (``LIST`` of 6,000 rooms): ``lines`` yields it line by line.

    The server pulls lines as ``conn``'s socket drains, so a reply is never
    larger in memory than what the client can take, and asking for it never
    gets a client dropped for a full output queue.
    """

    conn: object
    lines: object  # an iterator of formatted lines


@dataclass(frozen=True, slots=True)
class Close:
    """Send what is pending to ``conn``, then close it."""

    conn: object
    reason: str
