"""Property-based tests (hypothesis): random byte streams into the framer and the core.

1. LineBuffer: whatever the bytes and wherever TCP splits them, the lines that
   come out are those of the whole stream, and the buffer never holds a full
   line's worth of bytes.
2. Chat: several connections send random mixes of valid IRC commands and junk,
   cut at random points, while the clock ticks and the operator acts.  Nothing
   may raise, every line the core emits must be well formed, and after every
   single line the state must be consistent (see :meth:`ChatMachine.check`).
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from selectchat import irc
from selectchat.chat import Chat, ChatError, Close, Event, Send, SendLater, Settings, operator
from selectchat.irc import irc_lower
from selectchat.net.framing import TOO_LONG, LineBuffer

# --- the framer -------------------------------------------------------------------


def model_lines(stream, max_line):
    """What LineBuffer must produce for ``stream``, computed on the whole stream at once."""
    # "\r\n", "\n" and a bare "\r" each end a line; a line holds at most max_line - 2 bytes.
    *complete, _tail = stream.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    return [TOO_LONG if len(line) + 2 > max_line else line for line in complete]


def cut(data, points):
    """``data`` cut at ``points`` (any integers, taken modulo the length): the pieces, in order."""
    if not data:
        return []
    edges = sorted({p % len(data) for p in points} | {0, len(data)})
    return [data[a:b] for a, b in zip(edges, edges[1:])]


stream_piece = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\r\n", b"\n", b"\r", b"PRIVMSG #a :hi\r\n", b"\x00", b"\xff\xfe"]),
    st.integers(0, 1200).map(lambda n: b"L" * n),  # around and far past the limit
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(stream_piece, max_size=30),
       points=st.lists(st.integers(0, 1 << 16), max_size=20),
       max_line=st.sampled_from([irc.MAX_LINE, 16]))
def test_line_buffer_output_does_not_depend_on_where_the_stream_is_cut(pieces, points, max_line):
    stream = b"".join(pieces)
    buffer = LineBuffer(max_line)
    lines = []
    for chunk in cut(stream, points):
        lines += buffer.feed(chunk)
        assert buffer.pending < max_line  # memory stays bounded
    assert lines == model_lines(stream, max_line)
    for line in lines:
        assert line is TOO_LONG or (b"\n" not in line and len(line) < max_line)


# --- the chat core ----------------------------------------------------------------

NICKS = ["alice", "Alice", "ALICE", "bob", "Bob", "carol", "d", "x[1]"]
ROOMS = ["#a", "#A", "#b", "#c", "#lobby"]
KEYS = ["k1", "k2"]

nick = st.sampled_from(NICKS)
room = st.sampled_from(ROOMS)
rooms = st.lists(room, min_size=1, max_size=3).map(",".join)
text = st.sampled_from(["hi", "hello there", ":)", "", "caf\u00e9", "long " * 100])
target = st.one_of(nick, room, st.lists(st.one_of(nick, room), min_size=2, max_size=5).map(",".join))
mode_change = st.one_of(
    st.builds("+l {}".format, st.integers(0, 4)),
    st.just("-l"),
    st.builds("+k {}".format, st.sampled_from(KEYS)),
    st.just("-k"),
    st.builds("+o {}".format, nick),
    st.builds("-o {}".format, nick),
    st.builds("+lk {} {}".format, st.integers(1, 3), st.sampled_from(KEYS)),
    st.just(""),  # a query
    st.just("+xb"),
)


def command(template, *strategies):
    return st.tuples(*strategies).map(lambda values: template.format(*values))


irc_command = st.one_of(
    command("NICK {}", nick),
    st.just("USER u 0 * :Real Name"),
    st.just("USER u"),
    command("JOIN {}", rooms),
    command("JOIN {} {}", rooms, st.lists(st.sampled_from(KEYS), min_size=1, max_size=3).map(",".join)),
    st.just("JOIN 0"),
    command("PART {}", rooms),
    command("PART {} :{}", room, text),
    command("PRIVMSG {} :{}", target, text),
    command("NOTICE {} :{}", target, text),
    command("MODE {} {}", room, mode_change),
    command("MODE {} +i", nick),
    command("KICK {} {} :{}", room, nick, text),
    command("TOPIC {}", room),
    command("TOPIC {} :{}", room, text),
    command("QUIT :{}", text),
    command("NAMES {}", st.one_of(st.just(""), rooms)),
    command("LIST {}", st.one_of(st.just(""), rooms)),
    command("WHO {}", st.one_of(nick, room)),
    command("WHOIS {}", nick),
    command("USERHOST {} {}", nick, nick),
    command("ISON {} {}", nick, nick),
    st.sampled_from(["CAP LS 302", "CAP REQ :sasl", "CAP END", "PASS pw", "PASS wrong", "PING :t",
                     "PONG :t", "AWAY :lunch", "AWAY", "MOTD", "LUSERS", "FOO bar", ":onlyprefix", ""]),
)
junk = st.one_of(
    st.binary(max_size=30),
    st.integers(500, 900).map(lambda n: b"PRIVMSG #a :" + b"z" * n),  # an overlong line
)
piece = st.one_of(irc_command.map(str.encode), irc_command.map(str.encode), junk)
terminator = st.sampled_from([b"\r\n", b"\r\n", b"\n", b"", b"\r"])
byte_stream = st.lists(st.tuples(piece, terminator).map(b"".join), min_size=1, max_size=8).map(b"".join)


class ChatMachine(RuleBasedStateMachine):
    """Connections feed random bytes; the operator and the clock act; the state must hold."""

    def __init__(self):
        super().__init__()
        self.chat = None
        self.now = 0.0
        self.buffers = {}     # conn -> LineBuffer, for connections still open
        self.closed = set()   # conns the core asked to close
        self.count = 0
        self.limits = {}      # Room -> (limit seen, most members the room may now hold)

    @initialize(password=st.sampled_from([None, None, "pw"]), client_rooms=st.booleans(),
                conns=st.integers(2, 4), points=st.lists(st.integers(0, 1 << 12), max_size=3))
    def start(self, password, client_rooms, conns, points):
        self.chat = Chat(Settings(password=password, client_rooms=client_rooms, max_rooms_per_user=3,
                                  ping_interval=60, ping_timeout=30, register_timeout=90))
        if not client_rooms:
            self.apply(operator.create_room(self.chat, "#a", limit=2))
            self.apply(operator.create_room(self.chat, "#lobby"))
        for i in range(conns):  # start with a few registered users, so that rooms fill
            self.connect()
            self.register(i, ["alice", "bob", "carol", "d"][i], points)

    # --- driving the core -----------------------------------------------------

    def apply(self, effects):
        """Check the effects as the server would meet them; remember closes."""
        live = set(self.buffers)
        for effect in effects:
            if isinstance(effect, SendLater):  # a long reply: every line of it is checked
                effects_of_reply = [Send((effect.conn,), line) for line in effect.lines]
                self.apply(effects_of_reply)
                continue
            if isinstance(effect, Send):
                data = effect.data
                assert data.endswith(b"\r\n") and len(data) <= irc.MAX_LINE, data
                assert not any(c in data[:-2] for c in b"\r\n\0"), data
                irc.parse(data[:-2].decode("utf-8"))  # valid UTF-8, and a message
                for conn in effect.to:
                    assert conn in live, f"{data!r} sent to {conn}, which is not connected"
                    assert conn not in self.closed, f"{data!r} sent to {conn} after its Close"
            elif isinstance(effect, Close):
                assert effect.conn in live
                self.closed.add(effect.conn)
                self.buffers.pop(effect.conn)  # the server stops reading it...
            else:
                assert isinstance(effect, Event)
        for conn in list(self.closed):
            if conn not in self.chat.users:
                # ... and calls disconnect once the socket is closed: nothing more to do.
                assert self.chat.disconnect(conn) == []
        self.check()

    def connect(self):
        conn = f"c{self.count}"
        self.count += 1
        self.buffers[conn] = LineBuffer()
        self.apply(self.chat.connect(conn, "127.0.0.1", self.now))

    def pick(self, index):
        conns = sorted(self.buffers)
        return conns[index % len(conns)] if conns else None

    @rule()
    def new_connection(self):
        if len(self.buffers) < 6:
            self.connect()

    @rule(index=st.integers(0, 5), stream=byte_stream, points=st.lists(st.integers(0, 1 << 12), max_size=4))
    def receive(self, index, stream, points):
        """Anything: commands and junk, any terminators, cut at random points."""
        conn = self.pick(index)
        if conn is not None:
            self.feed(conn, stream, points)

    def feed(self, conn, stream, points):
        """Feed ``stream`` to ``conn`` cut at ``points``, line by line, as the server does."""
        for chunk in cut(stream, points):
            if conn not in self.buffers:
                return  # it was closed by a line in this very stream
            for line in self.buffers[conn].feed(chunk):
                if conn not in self.buffers:
                    break
                self.apply(self.chat.receive(conn, line, self.now))

    @rule(index=st.integers(0, 5), name=nick, points=st.lists(st.integers(0, 1 << 12), max_size=3))
    def register(self, index, name, points):
        """A well-behaved client: PASS (if needed), NICK and USER, cut anywhere."""
        conn = self.pick(index)
        if conn is not None:
            password = b"PASS pw\r\n" if self.chat.settings.password else b""
            self.feed(conn, password + f"NICK {name}\r\nUSER u 0 * :R\r\n".encode(), points)

    @rule(index=st.integers(0, 5), names=rooms, keys=st.sampled_from(["", " k1", " k2,k1"]))
    def join(self, index, names, keys):
        conn = self.pick(index)
        if conn is not None:
            self.feed(conn, f"JOIN {names}{keys}\r\n".encode(), [])

    @rule(index=st.integers(0, 5), lines=st.lists(irc_command, min_size=1, max_size=4))
    def speak(self, index, lines):
        """Well-formed commands, one line each."""
        conn = self.pick(index)
        if conn is not None:
            self.feed(conn, "".join(line + "\r\n" for line in lines).encode(), [])

    @rule(index=st.integers(0, 5))
    def connection_lost(self, index):
        conn = self.pick(index)
        if conn is not None:
            self.buffers.pop(conn)
            self.apply(self.chat.disconnect(conn, "Connection reset by peer"))
            assert conn not in self.chat.users

    @rule(seconds=st.sampled_from([1.0, 5.0, 20.0, 40.0]))
    def time_passes(self, seconds):
        self.now += seconds
        self.apply(self.chat.tick(self.now))

    @rule(name=st.sampled_from(["a", "#b", "c", "#lobby", "bad name"]), limit=st.integers(-1, 3),
          key=st.sampled_from([None, "k1"]))
    def operator_creates(self, name, limit, key):
        try:
            self.apply(operator.create_room(self.chat, name, limit, key))
        except ChatError:
            pass

    @rule(action=st.sampled_from(["close", "limit", "key", "kick", "disconnect", "announce", "shutdown"]),
          name=room, who=nick, number=st.integers(0, 3))
    def operator_acts(self, action, name, who, number):
        chat = self.chat
        calls = {
            "close": lambda: operator.close_room(chat, name),
            "limit": lambda: operator.set_limit(chat, name, number),
            "key": lambda: operator.set_key(chat, name, "k1" if number else ""),
            "kick": lambda: operator.kick(chat, name, who),
            "disconnect": lambda: operator.disconnect_user(chat, who),
            "announce": lambda: operator.announce(chat, "hello all"),
            "shutdown": lambda: operator.shutdown(chat, ) if number == 3 else [],  # rarely: it ends everything
        }
        try:
            self.apply(calls[action]())
        except ChatError:
            pass
        if action == "shutdown" and number == 3:
            assert self.chat.users == {} and self.buffers == {}

    # --- the state must hold ------------------------------------------------------

    @invariant()
    def check(self):
        chat = self.chat
        if chat is None:
            return
        assert set(chat.users) == set(self.buffers)  # one User per open connection
        for conn, user in chat.users.items():
            assert user.conn == conn
            if not user.registered:
                assert user.rooms == {}, "an unregistered user is in a room"
        # A nickname belongs to exactly one connection, and nicks are unique case-insensitively.
        for key, user in chat.nicks.items():
            assert key == irc_lower(user.nick) and chat.users.get(user.conn) is user
        named = [u for u in chat.users.values() if u.nick is not None]
        assert len({irc_lower(u.nick) for u in named}) == len(named)
        assert all(chat.nicks[irc_lower(u.nick)] is u for u in named)
        for key, room in chat.rooms.items():
            assert key == irc_lower(room.name)
            # No empty room remains unless the operator made it.
            assert room.members or room.persistent, f"empty client room {room.name} remains"
            for member in room.members:
                # Every member is a registered user, still connected ...
                assert member.registered and chat.users.get(member.conn) is member
                # ... whose own list of rooms agrees with the room's list of members.
                assert member.rooms.get(key) is room
            self.check_limit(room)
        for user in chat.users.values():
            for key, room in user.rooms.items():
                assert chat.rooms.get(key) is room and user in room.members
            assert len(user.rooms) <= chat.settings.max_rooms_per_user
        self.limits = {room: seen for room, seen in self.limits.items() if room in chat.rooms.values()}

    def check_limit(self, room):
        """Occupancy never exceeds a limit that was set before the joins.

        A limit may be set below the current occupancy (as in IRC): then nobody
        new gets in until the room has shrunk below it.  So we track the most
        members the room may hold: when the limit changes, max(limit, members);
        after that it can only shrink towards the limit.
        """
        members = len(room.members)
        seen = self.limits.get(room)
        if seen is None or seen[0] != room.limit:
            self.limits[room] = (room.limit, max(room.limit, members) if room.limit else None)
            return
        limit, most = seen
        if limit:
            assert members <= most, f"{room.name} holds {members}, more than its limit {limit}"
            self.limits[room] = (limit, max(limit, min(most, members)))


ChatMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
test_chat_core_stays_consistent = ChatMachine.TestCase
