"""The limit checked with > instead of >=: a full room lets one more in."""


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
        if room not in self.limits:
            return [(client, f"ERR NO_ROOM {room}")]
        members = self.members[room]
        if client in members:
            return [(client, f"ERR ALREADY_IN {room}")]
        if len(members) > self.limits[room]:        # the bug: > instead of >=, one member too many
            return [(client, f"ERR FULL {room}")]
        nick = self.nicks[client]
        replies = [(other, f"JOINED {room} {nick}") for other in members]
        members.append(client)
        names = " ".join(self.nicks[member] for member in members)
        return replies + [(client, f"OK JOIN {room} {names}")]

    def part(self, client, room):
        """``client`` leaves ``room``; its seat is free at once."""
        members = self.members.get(room, [])
        if client not in members:
            return [(client, f"ERR NOT_IN {room}")]
        members.remove(client)
        return [(other, f"PARTED {room} {self.nicks[client]}") for other in members] + [
            (client, f"OK PART {room}")]

    def say(self, client, room, text):
        """``client`` says ``text`` in ``room``: every other member hears it."""
        members = self.members.get(room, [])
        if client not in members:
            return [(client, f"ERR NOT_IN {room}")]
        nick = self.nicks[client]
        return [(other, f"MSG {room} {nick} {text}") for other in members if other != client]

    def disconnect(self, client):
        """``client`` is gone: it leaves every room, and its nick is free."""
        replies = []
        nick = self.nicks.pop(client, None)
        for room, members in self.members.items():
            if client in members:
                members.remove(client)
                replies += [(other, f"PARTED {room} {nick}") for other in members]
        return replies
