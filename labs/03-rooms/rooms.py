"""Lab 03: chat rooms with participant limits -- the rules, with no sockets (sans-I/O).

:class:`Rooms` never touches a socket.  Each method takes the *client* that
acted (any object: the server passes its connection, the tests pass
strings) and returns the replies as a list of ``(client, line)`` pairs: who
must receive which line.  The server sends them.  So every rule here is
tested without a network, and the server stays a thin layer of wiring.

The protocol, one command per line:

==================  ==================================================================
``NICK name``       ``OK NICK name``, or ``ERR NICK_TAKEN name``
``LIST``            ``ROOM name members limit`` for each room, then ``OK LIST``
``JOIN room``       ``OK JOIN room nick1 nick2 ...`` (the members, the joiner last);
                    every other member gets ``JOINED room nick``.  Errors:
                    ``ERR NEED_NICK``, ``ERR NO_ROOM room``, ``ERR ALREADY_IN room``,
                    ``ERR FULL room``
``PART room``       ``OK PART room``; every other member gets ``PARTED room nick``.
                    Error: ``ERR NOT_IN room``
``SAY room text``   every *other* member gets ``MSG room nick text``; nothing to the
                    sender.  Error: ``ERR NOT_IN room``
==================  ==================================================================

When a client disconnects, it leaves every room it was in (the others get
``PARTED room nick``) and its nick becomes free.
"""


class Rooms:
    """Every room, its limit and its members; every client's nick."""

    def __init__(self, limits):
        self.limits = dict(limits)                      # room -> most members allowed
        self.members = {room: [] for room in limits}    # room -> [client], in join order
        self.nicks = {}                                 # client -> nick

    def handle(self, client, line):
        """One line from ``client``: the replies, as ``[(client, line), ...]``."""
        command, _, rest = line.strip().partition(" ")
        command = command.upper()
        if command == "NICK" and rest:
            return self.nick(client, rest.strip())
        if command == "LIST":
            return self.list_rooms(client)
        if command in ("JOIN", "PART") and rest:
            if client not in self.nicks:
                return [(client, "ERR NEED_NICK")]
            room = rest.strip()
            return self.join(client, room) if command == "JOIN" else self.part(client, room)
        if command == "SAY" and " " in rest.strip():
            room, _, text = rest.strip().partition(" ")
            return self.say(client, room, text)
        return [(client, f"ERR UNKNOWN {command or '-'}")]

    def nick(self, client, name):
        if any(nick == name for other, nick in self.nicks.items() if other != client):
            return [(client, f"ERR NICK_TAKEN {name}")]
        self.nicks[client] = name
        return [(client, f"OK NICK {name}")]

    def list_rooms(self, client):
        replies = [(client, f"ROOM {room} {len(self.members[room])} {self.limits[room]}")
                   for room in sorted(self.limits)]
        return replies + [(client, "OK LIST")]

    def join(self, client, room):
        """``client`` (who has a nick) asks to enter ``room``."""
        ### BEGIN SOLUTION
        # TODO: refuse an unknown room, a second join, a full room; else add the
        #       client and tell it (with the member list) and the others.
        if room not in self.limits:
            return [(client, f"ERR NO_ROOM {room}")]
        members = self.members[room]
        if client in members:
            return [(client, f"ERR ALREADY_IN {room}")]
        if len(members) >= self.limits[room]:
            return [(client, f"ERR FULL {room}")]
        nick = self.nicks[client]
        replies = [(other, f"JOINED {room} {nick}") for other in members]
        members.append(client)
        names = " ".join(self.nicks[member] for member in members)
        return replies + [(client, f"OK JOIN {room} {names}")]
        ### END SOLUTION

    def part(self, client, room):
        """``client`` leaves ``room``; its seat is free at once."""
        ### BEGIN SOLUTION
        # TODO: refuse if the client is not in the room; else remove it and tell everyone.
        members = self.members.get(room, [])
        if client not in members:
            return [(client, f"ERR NOT_IN {room}")]
        members.remove(client)
        return [(other, f"PARTED {room} {self.nicks[client]}") for other in members] + [
            (client, f"OK PART {room}")]
        ### END SOLUTION

    def say(self, client, room, text):
        """``client`` says ``text`` in ``room``: every other member hears it."""
        ### BEGIN SOLUTION
        # TODO: only a member may speak; the message goes to the others, not back.
        members = self.members.get(room, [])
        if client not in members:
            return [(client, f"ERR NOT_IN {room}")]
        nick = self.nicks[client]
        return [(other, f"MSG {room} {nick} {text}") for other in members if other != client]
        ### END SOLUTION

    def disconnect(self, client):
        """``client`` is gone: it leaves every room, and its nick is free."""
        ### BEGIN SOLUTION
        # TODO: leave every room (telling the others), then forget the nick.
        replies = []
        nick = self.nicks.pop(client, None)
        for room, members in self.members.items():
            if client in members:
                members.remove(client)
                replies += [(other, f"PARTED {room} {nick}") for other in members]
        return replies
        ### END SOLUTION
