"""The wire protocol, byte for byte, against RFC 1459/2812 and the modern IRC docs.

These tests talk to a real server over raw sockets, the way an IRC client
or a conformance suite does, and check what the documents say a server
sends: which numerics, with which parameters, in which order, with which
prefixes.  (https://modern.ircdocs.horse/ gives each numeric's parameter
shape; RFC 2812 section 5 is the older list.)

Two things make them stricter than a client would be:

* the lines are parsed here by a few lines of code of our own, not by
  ``selectchat.irc``, so a bug there cannot hide a bug in the server;
* every line read is checked for the framing rules: at most 512 bytes with
  its ``\\r\\n``, no stray ``\\r`` or ``\\n`` inside, valid UTF-8, no empty
  middle parameter.

There are no sleeps: "nothing else arrived" is checked with a PING barrier
(the server handles one client's lines in order, so once the PONG is back,
every reply to the lines before it is back too).
"""

import itertools
import os
import socket
import time
from dataclasses import dataclass

import pytest

from selectchat.launch import start_server

SERVER_NAME = "selectchat.local"   # the default --server-name
OPER_NAME, OPER_PASSWORD = "teacher", "correct horse"   # given to the server through the environment
ANY = object()                     # in an expected parameter list: any non-empty text


# --- a client that shows the bytes ---------------------------------------------

@dataclass
class Line:
    """One line from the server, split by the rules of RFC 1459 section 2.3.1."""

    prefix: str
    command: str
    params: list
    raw: bytes

    @property
    def nick(self):
        return self.prefix.split("!", 1)[0]

    def __repr__(self):
        return repr(self.raw)


def parse(raw):
    """Split a raw line (no terminator); fail on anything a client could choke on."""
    assert len(raw) + 2 <= 512, f"line of {len(raw) + 2} bytes: {raw[:80]!r}..."
    assert b"\r" not in raw and b"\n" not in raw and b"\0" not in raw, f"control byte in {raw!r}"
    text = raw.decode("utf-8")   # strict: the server must send valid UTF-8
    prefix = ""
    if text.startswith(":"):
        prefix, _, text = text[1:].partition(" ")
    middle, colon, trailing = text.partition(" :")
    words = middle.split(" ")
    assert "" not in words, f"empty middle parameter (double space?) in {raw!r}"
    params = words[1:] + ([trailing] if colon else [])
    return Line(prefix, words[0], params, raw)


class Wire:
    """One raw TCP connection to the server: send text lines, read parsed lines."""

    _tokens = itertools.count()

    def __init__(self, address):
        self.sock = socket.create_connection(address, timeout=5)
        # Small lines, sent one by one: without this, Nagle's algorithm meets
        # delayed ACKs and each exchange can wait 40 ms.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.nick = "*"

    def send(self, *lines):
        self.sock.sendall(b"".join(line.encode() + b"\r\n" for line in lines))

    def send_bytes(self, data):
        self.sock.sendall(data)

    def read(self, timeout=5.0):
        """The next line; AssertionError if none arrives in time, EOFError at EOF."""
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.nick}: no complete line within {timeout} s "
                                     f"(holding {self.buffer[:200]!r})")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                raise EOFError(f"{self.nick}: connection closed (holding {self.buffer!r})")
            self.buffer += data
        raw, self.buffer = self.buffer.split(b"\r\n", 1)
        return parse(raw)

    def until(self, *commands):
        """Read up to and including the first line whose command is one of ``commands``."""
        lines = [self.read()]
        while lines[-1].command not in commands:
            lines.append(self.read())
        return lines

    def sync(self):
        """Everything the server sent before answering a fresh PING (the PONG excluded)."""
        token = f"sync-{next(self._tokens)}"
        self.send(f"PING {token}")
        lines = [self.read()]
        while not (lines[-1].command == "PONG" and lines[-1].params[-1] == token):
            lines.append(self.read())
        return lines[:-1]

    def read_to_eof(self, timeout=5.0):
        """Every line until the server closes the connection."""
        lines = []
        try:
            while True:
                lines.append(self.read(timeout))
        except EOFError:
            return lines

    def close(self):
        self.sock.close()


def register(wire, nick, username=None, realname="A Tester"):
    """NICK/USER, then read the welcome burst up to the end of the MOTD."""
    wire.send(f"NICK {nick}", f"USER {username or nick[:10]} 0 * :{realname}")
    wire.nick = nick
    return wire.until("376", "422")


def assert_shape(line, command, params):
    """``line`` is ``command`` with exactly these parameters (``ANY``: any non-empty text)."""
    assert line.command == command, f"expected {command}, got {line}"
    assert len(line.params) == len(params), f"expected {len(params)} parameters: {line}"
    for got, want in zip(line.params, params):
        assert got if want is ANY else got == want, f"parameter {got!r} should be {want!r}: {line}"


def commands(lines):
    return [line.command for line in lines]


# --- fixtures ------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared_server():
    """One server for this module's tests; each test uses fresh nicknames and rooms."""
    os.environ["SELECTCHAT_TEST_OPERS"] = f"{OPER_NAME}:{OPER_PASSWORD}"
    try:
        server = start_server("--oper-env", "SELECTCHAT_TEST_OPERS")
    finally:
        del os.environ["SELECTCHAT_TEST_OPERS"]
    with server:
        yield server


_serial = itertools.count(1)


def fresh(stem):
    """A name no other test in this module uses: ``fresh("alice")`` -> ``alice17``."""
    return f"{stem}{next(_serial)}"


@pytest.fixture
def wires(shared_server):
    """Open raw connections to the shared server: ``alice = wires("alice")`` (registered)
    or ``wires()`` (not registered). All are closed after the test."""
    opened = []

    def open_wire(nick=None, server=None):
        wire = Wire((server or shared_server).address)
        opened.append(wire)
        if nick:
            register(wire, nick)
        return wire

    yield open_wire
    for wire in opened:
        wire.close()


@pytest.fixture
def cast(wires):
    """alice made #room (so she is its operator), bob joined it, carol is elsewhere."""
    alice, bob, carol = wires(fresh("alice")), wires(fresh("bob")), wires(fresh("carol"))
    room = fresh("#room")
    alice.send(f"JOIN {room}")
    alice.until("366")
    bob.send(f"JOIN {room}")
    bob.until("366")
    alice.sync()
    return alice, bob, carol, room


# --- registration ---------------------------------------------------------------

def test_welcome_burst_order_and_shapes(wires):
    nick = fresh("wendy")
    burst = register(wires(), nick, username="wendyuser", realname="Wendy W")
    welcome = burst[: commands(burst).index("375")]
    assert commands(welcome)[:5] == ["001", "002", "003", "004", "005"]
    assert all(line.prefix == SERVER_NAME and line.params[0] == nick for line in burst)
    # 001 <client> :Welcome to the <networkname> Network, <nick>[!<user>@<host>]
    assert_shape(welcome[0], "001", [nick, ANY])
    assert f"{nick}!wendyuser@127.0.0.1" in welcome[0].params[1]
    assert_shape(welcome[1], "002", [nick, ANY])
    assert_shape(welcome[2], "003", [nick, ANY])
    # 004 <client> <servername> <version> <user modes> <channel modes> <channel modes with a parameter>
    assert_shape(welcome[3], "004", [nick, SERVER_NAME, ANY, "iow", ANY, ANY])
    assert set(welcome[3].params[4]) == set("beIklimnstov")   # every room mode
    assert set(welcome[3].params[5]) == set("beIklov")        # those that take a parameter
    # LUSERS: 251 and 255 are a MUST; 251 carries three numbers in its text.
    lusers = {line.command: line for line in welcome if line.command in ("251", "254", "255")}
    assert set(lusers) >= {"251", "255"}
    assert len([w for w in lusers["251"].params[1].split() if w.isdigit()]) == 3
    # MOTD: 375, one or more 372 (each "- text"), 376.
    motd = burst[commands(burst).index("375"):]
    assert commands(motd) == ["375"] + ["372"] * (len(motd) - 2) + ["376"]
    assert len(motd) >= 3 and all(line.params[1].startswith("- ") for line in motd[1:-1])
    assert_shape(motd[-1], "376", [nick, ANY])


def isupport(burst):
    """The 005 tokens as a dict (``TOKEN`` alone maps to ``""``)."""
    tokens = {}
    for line in burst:
        if line.command == "005":
            assert line.params[0] != "" and line.params[-1] == "are supported by this server"
            assert len(line.params) <= 15    # at most 13 tokens per line
            for token in line.params[1:-1]:
                assert token.isascii() and token[:1].isupper(), token
                name, _, value = token.partition("=")
                tokens[name] = value
    return tokens


def test_isupport_tokens_say_what_the_server_does(wires):
    """Each advertised token is checked against what the server then does."""
    alice = wires()
    tokens = isupport(register(alice, fresh("tok")))
    assert tokens["CHANTYPES"] == "#"
    assert tokens["PREFIX"] == "(ov)@+"
    assert tokens["CASEMAPPING"] == "ascii"
    # CHANMODES=A,B,C,D: the mask lists, k always takes a parameter, l only when set, the flags.
    assert tokens["CHANMODES"].split(",") == ["beI", "k", "l", "imnst"]
    assert tokens["NETWORK"]
    nicklen, channellen, topiclen = (int(tokens[t]) for t in ("NICKLEN", "CHANNELLEN", "TOPICLEN"))
    targmax = dict(item.split(":") for item in tokens["TARGMAX"].split(","))
    assert set(targmax) == {"PRIVMSG", "NOTICE", "KICK"}

    # NICKLEN: a nickname that long is taken, one character more is refused.
    longest = "n" + "x" * (nicklen - 1 - 3) + str(next(_serial) % 1000).zfill(3)
    alice.send(f"NICK {longest}")
    assert_shape(alice.read(), "NICK", [longest])
    alice.nick = longest
    alice.send(f"NICK {longest}y")
    assert_shape(alice.read(), "432", [longest, longest + "y", ANY])

    # CHANNELLEN: a room name that long can be joined, one more is refused.
    room = fresh("#c")
    room += "r" * (channellen - len(room))
    alice.send(f"JOIN {room}")
    assert_shape(alice.read(), "JOIN", [room])
    alice.until("366")
    alice.send(f"JOIN {room}r")
    assert alice.read().command in ("403", "476", "479")

    # TOPICLEN: a longer topic is cut to that length.
    alice.send(f"TOPIC {room} :" + "t" * (topiclen + 20))
    assert_shape(alice.read(), "TOPIC", [room, "t" * topiclen])

    # CASEMAPPING=ascii: A-Z fold, but [ and { are different rooms.
    assert alice.sync() == []
    alice.send(f"JOIN {room.upper()}")
    assert alice.sync() == []            # already in it: no second JOIN
    serial = next(_serial)
    upper, lower = f"#case{serial}B[", f"#case{serial}b{{"   # the same room under rfc1459 rules
    alice.send(f"JOIN {upper}", f"JOIN {lower}")
    joined = [line.params[0] for line in alice.sync() if line.command == "JOIN"]
    assert joined == [upper, lower]

    # TARGMAX: that many targets in one PRIVMSG each get the message.
    count = int(targmax["PRIVMSG"])
    peers = [wires(fresh("t")) for _ in range(count)]
    alice.send(f"PRIVMSG {','.join(peer.nick for peer in peers)} :to each of you")
    alice.sync()
    for peer in peers:
        assert_shape(peer.read(), "PRIVMSG", [peer.nick, "to each of you"])


def test_chanlimit_is_enforced_with_405(wires):
    alice = wires()
    limit = int(isupport(register(alice, fresh("many")))["CHANLIMIT"].split(":")[1])
    stem = fresh("#many")
    alice.send(*(f"JOIN {stem}-{i}" for i in range(limit)))
    assert commands(alice.sync()).count("JOIN") == limit
    alice.send(f"JOIN {stem}-over")
    assert_shape(alice.read(), "405", [alice.nick, f"{stem}-over", ANY])


def test_what_real_clients_send_on_connect_does_not_break_registration(wires):
    """irssi, weechat and hexchat open with CAP LS 302 and often a JOIN probe,
    then MODE on their own nick, USERHOST, and WHO/MODE/MODE b after each JOIN."""
    client, nick, room = wires(), fresh("irssi"), fresh("#first")
    client.nick = nick
    client.send("CAP LS 302", "JOIN :", f"NICK {nick}", f"USER {nick} {nick} 127.0.0.1 :A client")
    assert_shape(client.read(), "CAP", ["*", "LS", ""])   # no capabilities offered
    assert_shape(client.read(), "451", ["*", ANY])        # the early JOIN: not registered yet
    client.send("CAP REQ :multi-prefix sasl")
    assert_shape(client.read(), "CAP", [nick, "NAK", "multi-prefix sasl"])
    assert client.sync() == []                            # no 001 until CAP END
    client.send("CAP END")
    burst = client.until("376")
    assert commands(burst)[0] == "001"

    client.send(f"MODE {nick} +i")
    assert_shape(client.read(), "MODE", [nick, "+i"])
    assert client.sync() == []
    client.send(f"MODE {nick}")
    assert_shape(client.read(), "221", [nick, "+i"])
    client.send(f"USERHOST {nick}")
    line = client.read()
    assert line.command == "302" and line.params[1].startswith(f"{nick}=+{nick[:10]}@")

    client.send(f"JOIN {room}")
    client.until("366")
    client.send(f"MODE {room}", f"WHO {room}", f"MODE {room} b")
    assert_shape(client.read(), "324", [nick, room, "+nt"])   # new rooms are +n and +t
    created = client.read()
    assert_shape(created, "329", [nick, room, ANY])
    assert abs(int(created.params[2]) - time.time()) < 60    # when the room was made, Unix time
    # 352 <client> <channel> <username> <host> <server> <nick> <flags> :<hopcount> <realname>
    who = client.read()
    assert_shape(who, "352", [nick, room, nick[:10], "127.0.0.1", SERVER_NAME, nick, "H@", "0 A client"])
    assert_shape(client.read(), "315", [nick, room, ANY])
    assert_shape(client.read(), "368", [nick, room, ANY])
    assert client.sync() == []


def test_cap_ls_without_version_and_cap_list(wires):
    client = wires()
    client.send("CAP LS")
    line = client.read()
    assert line.params[:2] == ["*", "LS"] and line.params[2] != "*"   # not multi-line
    client.send("CAP LIST")
    assert_shape(client.read(), "CAP", ["*", "LIST", ""])


def test_pass_after_nick_and_user_is_too_late(wires):
    with start_server("--password", "opensesame") as locked:
        client = wires(server=locked)
        client.send("NICK late", "USER late 0 * :Late", "PASS opensesame")
        lines = client.read_to_eof()
        assert "001" not in commands(lines)
        assert commands(lines)[-1] == "ERROR"


def test_two_clients_racing_for_one_nick_before_registration(wires):
    first, second, nick = wires(), wires(), fresh("race")
    first.send(f"NICK {nick}")
    first.sync()
    second.send(f"NICK {nick}")
    assert_shape(second.read(), "433", ["*", nick, ANY])
    first.send(f"USER {nick} 0 * :First")
    assert commands(first.until("376"))[0] == "001"


# --- error numerics: each one's parameters, and the server keeps serving ----------

# (id, who sends it, line, numeric, parameters). In the line and the parameters,
# {me} {alice} {bob} {carol} {room} are the names from the `cast` fixture; a
# setup list runs first, as alice.
ERRORS = [
    ("401-nick", "alice", "PRIVMSG ghost :hi", "401", ["{me}", "ghost", ANY], []),
    ("401-room", "alice", "PRIVMSG #ghost-room :hi", "401", ["{me}", "#ghost-room", ANY], []),
    ("401-mode-o", "alice", "MODE {room} +o ghost", "401", ["{me}", "ghost", ANY], []),
    ("401-umode", "alice", "MODE ghost", "401", ["{me}", "ghost", ANY], []),
    ("403-part", "alice", "PART #ghost-room", "403", ["{me}", "#ghost-room", ANY], []),
    ("403-topic", "alice", "TOPIC #ghost-room", "403", ["{me}", "#ghost-room", ANY], []),
    ("403-mode", "alice", "MODE #ghost-room", "403", ["{me}", "#ghost-room", ANY], []),
    ("403-kick", "alice", "KICK #ghost-room {bob}", "403", ["{me}", "#ghost-room", ANY], []),
    ("404", "carol", "PRIVMSG {room} :let me in", "404", ["{me}", "{room}", ANY], []),
    ("409", "alice", "PING", "409", ["{me}", ANY], []),
    ("411", "alice", "PRIVMSG", "411", ["{me}", ANY], []),
    ("412", "alice", "PRIVMSG {bob} :", "412", ["{me}", ANY], []),
    ("421", "alice", "FROBNICATE now", "421", ["{me}", "FROBNICATE", ANY], []),
    ("431", "alice", "NICK", "431", ["{me}", ANY], []),
    ("432-digit", "alice", "NICK 9lives", "432", ["{me}", "9lives", ANY], []),
    ("432-hash", "alice", "NICK #notanick", "432", ["{me}", "#notanick", ANY], []),
    ("433", "alice", "NICK {bob}", "433", ["{me}", "{bob}", ANY], []),
    ("433-case", "alice", "NICK {BOB}", "433", ["{me}", "{BOB}", ANY], []),
    ("441-kick", "alice", "KICK {room} {carol}", "441", ["{me}", "{carol}", "{room}", ANY], []),
    ("441-mode-o", "alice", "MODE {room} +o {carol}", "441", ["{me}", "{carol}", "{room}", ANY], []),
    ("442-part", "carol", "PART {room}", "442", ["{me}", "{room}", ANY], []),
    ("442-topic", "carol", "TOPIC {room} :mine now", "442", ["{me}", "{room}", ANY], []),
    ("461-join", "alice", "JOIN", "461", ["{me}", "JOIN", ANY], []),
    ("461-part", "alice", "PART", "461", ["{me}", "PART", ANY], []),
    ("461-kick", "alice", "KICK {room}", "461", ["{me}", "KICK", ANY], []),
    ("461-topic", "alice", "TOPIC", "461", ["{me}", "TOPIC", ANY], []),
    ("461-mode", "alice", "MODE", "461", ["{me}", "MODE", ANY], []),
    ("462", "alice", "USER again 0 * :Again", "462", ["{me}", ANY], []),
    ("471", "carol", "JOIN {room}", "471", ["{me}", "{room}", ANY], ["MODE {room} +l 2"]),
    ("475-none", "carol", "JOIN {room}", "475", ["{me}", "{room}", ANY], ["MODE {room} +k sesame"]),
    ("475-wrong", "carol", "JOIN {room} sesam", "475", ["{me}", "{room}", ANY], ["MODE {room} +k sesame"]),
    ("472", "alice", "MODE {room} +z", "472", ["{me}", "z", ANY], []),
    ("476", "alice", "JOIN nohash", "476", ["{me}", "nohash", ANY], []),
    ("482-topic", "bob", "TOPIC {room} :bob was here", "482", ["{me}", "{room}", ANY], []),
    ("482-kick", "bob", "KICK {room} {alice}", "482", ["{me}", "{room}", ANY], []),
    ("482-mode", "bob", "MODE {room} +l 9", "482", ["{me}", "{room}", ANY], []),
    ("501", "alice", "MODE {alice} +Z", "501", ["{me}", ANY], []),
    ("502", "alice", "MODE {bob} +i", "502", ["{me}", ANY], []),
    ("473", "carol", "JOIN {room}", "473", ["{me}", "{room}", ANY], ["MODE {room} +i"]),
    ("474", "carol", "JOIN {room}", "474", ["{me}", "{room}", ANY], ["MODE {room} +b {carol}"]),
    ("474-mask", "carol", "JOIN {room}", "474", ["{me}", "{room}", ANY], ["MODE {room} +b *!*@127.0.0.*"]),
    ("401-invite", "alice", "INVITE ghost {room}", "401", ["{me}", "ghost", ANY], []),
    ("442-invite", "carol", "INVITE {bob} {room}", "442", ["{me}", "{room}", ANY], []),
    ("443", "alice", "INVITE {bob} {room}", "443", ["{me}", "{bob}", "{room}", ANY], []),
    ("461-invite", "alice", "INVITE {bob}", "461", ["{me}", "INVITE", ANY], []),
    ("482-invite", "bob", "INVITE {carol} {room}", "482", ["{me}", "{room}", ANY], ["MODE {room} +i"]),
    ("482-voice", "bob", "MODE {room} +v {bob}", "482", ["{me}", "{room}", ANY], []),
    ("461-oper", "bob", "OPER teacher", "461", ["{me}", "OPER", ANY], []),
    ("464-oper", "bob", "OPER teacher :wrong horse", "464", ["{me}", ANY], []),
    ("491", "bob", "OPER principal :correct horse", "491", ["{me}", ANY], []),
    ("481-kill", "bob", "KILL {carol} :go away", "481", ["{me}", ANY], []),
    ("481-wallops", "bob", "WALLOPS :hear me", "481", ["{me}", ANY], []),
    ("431-whowas", "alice", "WHOWAS", "431", ["{me}", ANY], []),
]


@pytest.mark.parametrize("who, line, numeric, params, setup",
                         [case[1:] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_error_numeric_and_its_parameters(cast, wires, who, line, numeric, params, setup):
    alice, bob, carol, room = cast
    sender = {"alice": alice, "bob": bob, "carol": carol}[who]
    names = dict(alice=alice.nick, bob=bob.nick, carol=carol.nick, BOB=bob.nick.upper(),
                 room=room, me=sender.nick)
    for command in setup:
        alice.send(command.format(**names))
    alice.sync()
    sender.sync()   # what the setup told the sender, if it is in the room
    sender.send(line.format(**names))
    reply = sender.read()
    assert reply.prefix == SERVER_NAME
    assert_shape(reply, numeric, [p if p is ANY else p.format(**names) for p in params])
    assert sender.sync() == []                 # one reply, no more; and still served
    bob.send(f"PRIVMSG {room} :still here")    # the room still works for the others
    assert_shape(alice.read(), "PRIVMSG", [room, "still here"])
    assert commands(register(wires(), fresh("newcomer")))[0] == "001"   # and newcomers still register


def test_not_registered_gets_451_for_everything_but_registration(wires):
    client = wires()
    for line in ("JOIN #x", "PRIVMSG someone :hi", "LIST", "NAMES", "MODE x", "WHO x", "FROBNICATE"):
        client.send(line)
        assert_shape(client.read(), "451", ["*", ANY])
    client.send("PING early")
    assert_shape(client.read(), "PONG", [SERVER_NAME, "early"])
    assert commands(register(client, fresh("late")))[0] == "001"


def test_user_needs_four_parameters_and_a_realname(wires):
    client, nick = wires(), fresh("need")
    client.send(f"NICK {nick}", "USER onlyone")
    assert_shape(client.read(), "461", [nick, "USER", ANY])
    client.send("USER name * * :")
    assert_shape(client.read(), "461", [nick, "USER", ANY])
    client.send("USER name 0 * :Real Name")
    assert client.read().command == "001"


def test_notice_never_gets_an_error_reply(cast):
    alice, _, carol, room = cast
    carol.send("NOTICE ghost :hi", "NOTICE #ghost-room :hi", f"NOTICE {room} :outside", "NOTICE", "NOTICE x")
    assert carol.sync() == []
    assert alice.sync() == []       # and nobody received the outsider's notice


def test_overlong_line_gets_417_and_the_connection_goes_on(cast):
    alice, bob, _, room = cast
    at_limit = "PING " + "x" * (512 - 2 - 5)          # 510 bytes + CRLF: allowed
    alice.send(at_limit)
    pong = alice.read()
    assert pong.command == "PONG" and "x" * 450 in pong.params[-1]
    alice.send("PING " + "x" * (512 - 2 - 5 + 1))     # one byte more: refused
    assert_shape(alice.read(), "417", [alice.nick, ANY])
    alice.send_bytes(b"PRIVMSG " + room.encode() + b" :" + b"y" * 5000 + b"\r\nPRIVMSG "
                     + room.encode() + b" :after\r\n")
    assert_shape(alice.read(), "417", [alice.nick, ANY])
    assert_shape(bob.read(), "PRIVMSG", [room, "after"])   # the overlong one never relayed
    assert bob.sync() == []


# --- JOIN burst and what the room is told ------------------------------------------

def test_join_burst_order_without_and_with_topic(cast, wires):
    alice, bob, _, room = cast
    dave = wires(fresh("dave"))
    dave.send(f"JOIN {room}")
    burst = dave.until("366")
    assert commands(burst) == ["JOIN", "353", "366"]      # no 331 when there is no topic
    join, names, end = burst
    assert join.prefix == f"{dave.nick}!{dave.nick[:10]}@127.0.0.1" and join.params == [room]
    assert_shape(names, "353", [dave.nick, "=", room, ANY])
    assert names.params[3].split() == [f"@{alice.nick}", bob.nick, dave.nick]
    assert_shape(end, "366", [dave.nick, room, ANY])
    for member in (alice, bob):                           # the others see the JOIN
        assert member.read().raw == join.raw

    alice.send(f"TOPIC {room} :the topic")
    for member in (alice, bob, dave):
        topic = member.read()
        assert topic.prefix.startswith(f"{alice.nick}!") and topic.params == [room, "the topic"]
    erin = wires(fresh("erin"))
    erin.send(f"JOIN {room}")
    burst = erin.until("366")
    assert commands(burst) == ["JOIN", "332", "333", "353", "366"]
    assert_shape(burst[1], "332", [erin.nick, room, "the topic"])
    # 333 <client> <channel> <nick> <setat>: who set the topic, and when (Unix time)
    assert_shape(burst[2], "333", [erin.nick, room, ANY, ANY])
    assert burst[2].params[2].split("!")[0] == alice.nick
    assert abs(int(burst[2].params[3]) - time.time()) < 60


def test_names_for_rooms_that_do_not_exist_and_never_creates_them(wires):
    client = wires(fresh("asker"))
    ghost = fresh("#ghost")
    client.send(f"NAMES {ghost}", f"MODE {ghost}", f"TOPIC {ghost}", f"PART {ghost}", f"LIST {ghost}")
    assert_shape(client.read(), "366", [client.nick, ghost, ANY])
    assert [line.command for line in client.sync()] == ["403", "403", "403", "321", "323"]
    client.send("LIST")
    assert ghost not in [line.params[1] for line in client.until("323") if line.command == "322"]


def test_list_shows_members_limit_and_key(cast):
    alice, _, carol, room = cast
    alice.send(f"MODE {room} +l 7", f"TOPIC {room} :come in")
    alice.sync()
    carol.send(f"LIST {room}")
    start, entry, end = carol.read(), carol.read(), carol.read()
    assert start.command == "321"
    # 322 <client> <channel> <client count> :<topic>
    assert_shape(entry, "322", [carol.nick, room, "2", ANY])
    assert entry.params[3].endswith("come in") and "7" in entry.params[3]
    assert_shape(end, "323", [carol.nick, ANY])


def test_part_broadcast_with_and_without_reason(cast):
    alice, bob, _, room = cast
    bob.send(f"PART {room} :see you")
    for member in (alice, bob):
        line = member.read()
        assert line.prefix.startswith(f"{bob.nick}!") and line.params == [room, "see you"]
    bob.send(f"JOIN {room}")
    bob.until("366")
    alice.read()
    bob.send(f"PART {room}")
    for member in (alice, bob):
        line = member.read()
        assert line.command == "PART" and line.params == [room]


def test_quit_broadcast_and_error_to_the_quitter(cast):
    alice, bob, carol, room = cast
    bob.send("QUIT :gone home")
    lines = bob.read_to_eof()
    assert commands(lines) == ["ERROR"] and "gone home" in lines[0].params[0]
    quit_line = alice.read()
    assert quit_line.prefix.startswith(f"{bob.nick}!")
    assert_shape(quit_line, "QUIT", ["Quit: gone home"])
    assert carol.sync() == []             # not in a room with bob: not told
    alice.send("QUIT")                    # no reason: the modern docs' "Quit: "
    assert commands(alice.read_to_eof()) == ["ERROR"]


def test_kick_broadcast_and_default_reason(cast, wires):
    alice, bob, carol, room = cast
    alice.send(f"KICK {room} {bob.nick} :too loud")
    for member in (alice, bob):
        line = member.read()
        assert line.prefix.startswith(f"{alice.nick}!")
        assert_shape(line, "KICK", [room, bob.nick, "too loud"])
    dave = wires(fresh("dave"))
    dave.send(f"JOIN {room}")
    dave.until("366")
    alice.read()
    alice.send(f"KICK {room} {dave.nick}")
    assert_shape(dave.read(), "KICK", [room, dave.nick, alice.nick])   # RFC 2812: kicker's nick
    bob.send(f"PRIVMSG {room} :can I still talk?")
    assert_shape(bob.read(), "404", [bob.nick, room, ANY])


def test_nick_change_is_seen_once_by_each_peer(cast):
    alice, bob, _, room = cast
    second_room = fresh("#second")
    for member in (alice, bob):
        member.send(f"JOIN {second_room}")
        member.until("366")
    alice.sync()
    old, new = bob.nick, fresh("robert")
    bob.send(f"NICK {new}")
    for member in (bob, alice):           # bob's barrier first: then his NICK was handled
        lines = member.sync()
        assert len(lines) == 1, lines     # once, though they share two rooms
        assert lines[0].prefix.startswith(f"{old}!") and lines[0].params == [new]


def test_topic_query_set_and_clear(cast):
    alice, bob, carol, room = cast
    bob.send(f"TOPIC {room}")
    assert_shape(bob.read(), "331", [bob.nick, room, ANY])
    alice.send(f"TOPIC {room} :a topic with spaces")
    for member in (alice, bob):
        assert_shape(member.read(), "TOPIC", [room, "a topic with spaces"])
    carol.send(f"TOPIC {room}")        # reading a topic needs no membership
    assert_shape(carol.read(), "332", [carol.nick, room, "a topic with spaces"])
    alice.send(f"TOPIC {room} :")
    for member in (alice, bob):
        assert_shape(member.read(), "TOPIC", [room, ""])
    bob.send(f"TOPIC {room}")
    assert bob.read().command == "331"


def test_mode_changes_are_broadcast_with_their_parameters(cast):
    alice, bob, carol, room = cast
    alice.send(f"MODE {room} +lk 5 sesame")
    for member in (alice, bob):
        line = member.read()
        assert line.prefix.startswith(f"{alice.nick}!")
        assert_shape(line, "MODE", [room, "+lk", "5", "sesame"])
    bob.send(f"MODE {room}")           # a member sees the key ...
    assert_shape(bob.read(), "324", [bob.nick, room, "+ntkl", "sesame", "5"])
    assert bob.read().command == "329"
    carol.send(f"MODE {room}")         # ... an outsider does not
    line = carol.read()
    assert line.command == "324" and "sesame" not in line.params
    assert carol.read().command == "329"
    alice.send(f"MODE {room} +o {bob.nick}")
    for member in (alice, bob):
        assert_shape(member.read(), "MODE", [room, "+o", bob.nick])
    bob.send(f"MODE {room} -l")        # now bob may
    for member in (alice, bob):
        assert_shape(member.read(), "MODE", [room, "-l"])
    alice.send(f"MODE {room} +l 0", f"MODE {room} +l lots", f"MODE {room} +l")
    assert alice.sync() == [] and bob.sync() == []   # invalid limits are ignored, not echoed


# --- room modes, INVITE, server operators ------------------------------------------------

def test_new_rooms_are_plus_n_and_minus_n_lets_outsiders_speak(cast):
    alice, bob, carol, room = cast
    carol.send(f"PRIVMSG {room} :from outside")
    assert_shape(carol.read(), "404", [carol.nick, room, ANY])
    alice.send(f"MODE {room} -n")
    assert_shape(alice.read(), "MODE", [room, "-n"])
    assert_shape(bob.read(), "MODE", [room, "-n"])
    carol.send(f"PRIVMSG {room} :from outside, allowed")
    for member in (alice, bob):
        line = member.read()
        assert line.nick == carol.nick and line.params == [room, "from outside, allowed"]
    assert carol.sync() == []


def test_moderated_room_and_voice(cast):
    alice, bob, _, room = cast
    alice.send(f"MODE {room} +m")
    assert_shape(bob.read(), "MODE", [room, "+m"])
    bob.send(f"PRIVMSG {room} :may I?")
    assert_shape(bob.read(), "404", [bob.nick, room, ANY])
    alice.send(f"MODE {room} +v {bob.nick}")
    assert_shape(bob.read(), "MODE", [room, "+v", bob.nick])
    bob.send(f"PRIVMSG {room} :thank you")
    assert alice.until("PRIVMSG")[-1].params == [room, "thank you"]
    bob.send(f"NAMES {room}")
    names = bob.read()
    assert_shape(names, "353", [bob.nick, "=", room, ANY])
    assert names.params[3].split() == [f"@{alice.nick}", f"+{bob.nick}"]
    assert bob.read().command == "366"
    bob.send(f"WHO {room}")
    assert [line.params[6] for line in bob.until("315")[:-1]] == ["H@", "H+"]
    alice.send(f"PRIVMSG +{room} :to the voiced", f"PRIVMSG @{room} :to the operators")   # STATUSMSG
    assert_shape(bob.read(), "PRIVMSG", [f"+{room}", "to the voiced"])
    assert bob.sync() == []


def test_topic_lock_is_on_and_minus_t_lifts_it(cast):
    alice, bob, _, room = cast
    bob.send(f"TOPIC {room} :bob's")
    assert_shape(bob.read(), "482", [bob.nick, room, ANY])
    alice.send(f"MODE {room} -t")
    assert_shape(bob.read(), "MODE", [room, "-t"])
    bob.send(f"TOPIC {room} :bob's now")
    assert_shape(alice.until("TOPIC")[-1], "TOPIC", [room, "bob's now"])


def test_invite_into_an_invite_only_room(cast):
    alice, bob, carol, room = cast
    alice.send(f"MODE {room} +i")
    assert_shape(alice.read(), "MODE", [room, "+i"])
    bob.read()
    carol.send(f"JOIN {room}")
    assert_shape(carol.read(), "473", [carol.nick, room, ANY])
    alice.send(f"INVITE {carol.nick} {room}")
    assert_shape(alice.read(), "341", [alice.nick, carol.nick, room])
    invite = carol.read()
    assert invite.prefix.startswith(f"{alice.nick}!")
    assert_shape(invite, "INVITE", [carol.nick, room])
    assert bob.sync() == []                        # the other members are not told
    carol.send(f"JOIN {room}")
    assert_shape(carol.read(), "JOIN", [room])
    carol.send(f"PART {room}", f"JOIN {room}")      # an invitation is used once
    assert carol.until("473")[-1].params[1] == room


def test_secret_room_is_hidden_from_outsiders(cast):
    alice, bob, carol, room = cast
    alice.send(f"MODE {room} +s")
    alice.read()
    carol.send("LIST")
    assert room not in [line.params[1] for line in carol.until("323") if line.command == "322"]
    carol.send(f"NAMES {room}")
    assert_shape(carol.read(), "366", [carol.nick, room, ANY])
    carol.send(f"WHOIS {alice.nick}")
    assert not any(room in line.raw.decode() for line in carol.until("318"))
    bob.until("MODE")
    bob.send(f"NAMES {room}")
    assert_shape(bob.read(), "353", [bob.nick, "@", room, ANY])   # "@": a secret room


def test_ban_list_set_read_and_lifted(cast):
    alice, bob, carol, room = cast
    alice.send(f"MODE {room} +b {carol.nick}")
    assert_shape(alice.read(), "MODE", [room, "+b", f"{carol.nick}!*@*"])
    carol.send(f"JOIN {room}")
    assert_shape(carol.read(), "474", [carol.nick, room, ANY])
    bob.read()
    bob.send(f"MODE {room} +b")
    entry = bob.read()
    # 367 <client> <channel> <mask> [<who> <set-ts>]
    assert_shape(entry, "367", [bob.nick, room, f"{carol.nick}!*@*", ANY, ANY])
    assert entry.params[3].startswith(f"{alice.nick}!") and abs(int(entry.params[4]) - time.time()) < 60
    assert_shape(bob.read(), "368", [bob.nick, room, ANY])
    alice.send(f"MODE {room} -b {carol.nick.upper()}!*@*")
    assert_shape(alice.read(), "MODE", [room, "-b", f"{carol.nick}!*@*"])
    carol.send(f"JOIN {room}")
    assert_shape(carol.read(), "JOIN", [room])


def test_list_with_conditions(cast):
    alice, _, carol, room = cast
    for condition, listed in ((f"*{room[2:]}", True), (f"!*{room[2:]}", False), (">1", True), ("<2", False),
                              (f"*{room[2:]},<2", False)):
        carol.send(f"LIST {condition}")
        rooms = [line.params[1] for line in carol.until("323") if line.command == "322"]
        assert (room in rooms) is listed, condition


def test_who_mask_lusers_time_and_whowas(wires):
    asker, gone = wires(fresh("asker")), wires(fresh("leaver"))
    asker.send(f"WHO {gone.nick[:-1]}*")
    reply = asker.read()
    assert_shape(reply, "352", [asker.nick, "*", gone.nick[:10], "127.0.0.1", SERVER_NAME, gone.nick, "H", ANY])
    assert_shape(asker.read(), "315", [asker.nick, f"{gone.nick[:-1]}*", ANY])
    asker.send(f"WHO {gone.nick} %tnuhr,7")          # WHOX: 354 with the fields asked for, in order t c u i h s n ...
    assert_shape(asker.read(), "354", [asker.nick, "7", gone.nick[:10], "127.0.0.1", gone.nick, "A Tester"])
    assert asker.read().command == "315"
    asker.send("LUSERS")
    lusers = {line.command: line for line in asker.until("266")}
    # 265/266 <client> [<u> <m>] :Current local users <u>, max <m>
    for numeric in ("265", "266"):
        assert_shape(lusers[numeric], numeric, [asker.nick, ANY, ANY, ANY])
        assert 2 <= int(lusers[numeric].params[1]) <= int(lusers[numeric].params[2])
    asker.send("TIME")
    now = asker.read()
    assert_shape(now, "391", [asker.nick, SERVER_NAME, ANY, "0", ANY])
    assert abs(int(now.params[2]) - time.time()) < 60
    gone.send("QUIT :bye")
    gone.read_to_eof()
    asker.send(f"WHOWAS {gone.nick}")
    was = asker.until("369")
    assert_shape(was[0], "314", [asker.nick, gone.nick, gone.nick[:10], "127.0.0.1", "*", "A Tester"])
    assert_shape(was[1], "312", [asker.nick, gone.nick, SERVER_NAME, ANY])
    assert_shape(was[2], "369", [asker.nick, gone.nick, ANY])


def test_oper_kill_and_wallops(cast):
    alice, bob, carol, room = cast
    carol.send(f"MODE {carol.nick} +w")
    assert_shape(carol.read(), "MODE", [carol.nick, "+w"])
    alice.send(f"OPER {OPER_NAME} :{OPER_PASSWORD}")
    assert_shape(alice.read(), "MODE", [alice.nick, "+o"])
    assert_shape(alice.read(), "381", [alice.nick, ANY])
    bob.send(f"WHO {alice.nick}", f"WHOIS {alice.nick}")
    assert bob.read().params[6] == "H*"
    assert "313" in commands(bob.until("318"))
    alice.send("WALLOPS :the server restarts at noon")
    wallops = carol.read()
    assert wallops.prefix.startswith(f"{alice.nick}!")
    assert_shape(wallops, "WALLOPS", ["the server restarts at noon"])
    assert bob.sync() == []                          # bob is not +w
    alice.send(f"KILL {bob.nick} :enough")
    last = bob.read_to_eof()
    assert_shape(last[0], "KILL", [bob.nick, "enough"])
    assert last[-1].command == "ERROR"
    quit_line = alice.until("QUIT")[-1]
    assert quit_line.nick == bob.nick and quit_line.params == [f"Killed ({alice.nick} (enough))"]


def test_the_console_sets_room_modes_and_members_see_the_server_do_it(shared_server, wires):
    alice, bob = wires(fresh("alice")), wires(fresh("bob"))
    room = fresh("#console")
    alice.send(f"JOIN {room}")
    alice.until("366")
    bob.send(f"JOIN {room}")
    bob.until("366")
    alice.sync()
    assert shared_server.console(f"mode {room} +mv {bob.nick}") == [f"{room} +mv {bob.nick}"]
    for member in (alice, bob):
        line = member.read()
        assert line.prefix == SERVER_NAME
        assert_shape(line, "MODE", [room, "+mv", bob.nick])
    assert shared_server.console(f"mode {room} +q")[0].startswith("error: no room mode")
    alice.send("INFO")
    assert commands(alice.until("374"))[0] == "371"
    alice.send("HELP KICK")
    assert commands(alice.until("706")) == ["704", "705", "706"]


# --- lines never longer than 512 bytes -----------------------------------------------

def test_a_maximal_privmsg_relayed_under_a_long_prefix_stays_within_512(wires):
    """The sender's line is 510 bytes; the relay adds ``:nick!user@host `` in front,
    so the server must cut it -- on a character boundary, and no shorter than needed."""
    sender = wires()
    nick = "L" + str(next(_serial)).zfill(29)          # NICKLEN=30
    register(sender, nick, username="u" * 10)
    reader = wires(fresh("reader"))
    room = fresh("#big")
    for member in (sender, reader):
        member.send(f"JOIN {room}")
        member.until("366")
    sender.sync()
    head = f"PRIVMSG {room} :"
    for unit in ("a", "é", "€", "🙂"):                  # 1, 2, 3 and 4 UTF-8 bytes
        text = unit * ((510 - len(head)) // len(unit.encode()))
        assert len((head + text).encode()) <= 510
        sender.send(head + text)
        line = reader.read()                             # read() checks the 512 and UTF-8
        assert line.command == "PRIVMSG" and text.startswith(line.params[1])
        assert len(line.raw) > 510 - 4                   # cut only as much as needed
    # Long parameters elsewhere stay within the limit too: QUIT and ERROR.
    sender.send("QUIT :" + "q" * 490)
    assert commands(sender.read_to_eof()) == ["ERROR"]
    assert reader.read().command == "QUIT"


def test_names_of_a_big_room_are_split_into_lines_within_512(wires):
    room = fresh("#crowd")
    members = []
    for _ in range(20):
        member = wires()
        register(member, "N" + str(next(_serial)).zfill(29))
        member.send(f"JOIN {room}")
        member.until("366")
        members.append(member)
    asker = wires(fresh("asker"))
    asker.send(f"NAMES {room}")
    lines = asker.until("366")
    assert set(commands(lines)) == {"353", "366"} and len(lines) > 2
    names = [name.lstrip("@") for line in lines[:-1] for name in line.params[3].split()]
    assert sorted(names) == sorted(member.nick for member in members)


def test_nul_cr_and_invalid_utf8_cannot_break_another_clients_framing(cast):
    alice, bob, _, room = cast
    # A bare CR ends a line (as ngIRCd): "c ..." is a line of its own, an unknown command.
    alice.send_bytes(f"PRIVMSG {room} :a\0b\rPRIVMSG {room} :c".encode() + b" \xff\xfe end\r\n")
    assert bob.read().params == [room, "ab"]
    assert bob.read().params == [room, "c \ufffd\ufffd end"]


# --- PING and PONG ---------------------------------------------------------------

def test_ping_forms(wires):
    client = wires(fresh("pinger"))
    client.send("PING token123")
    pong = client.read()
    assert pong.prefix == SERVER_NAME
    assert_shape(pong, "PONG", [SERVER_NAME, "token123"])   # PONG <server> <token>
    client.send("PING :two words")
    assert_shape(client.read(), "PONG", [SERVER_NAME, "two words"])
    client.send("PONG :whatever", "PONG")       # an unasked PONG is just ignored
    assert client.sync() == []


def test_server_pings_idle_clients_and_drops_silent_ones(wires):
    with start_server("--ping-interval", "0.5", "--ping-timeout", "1") as server:
        lively, silent = wires(server=server), wires(server=server)
        register(lively, "lively")
        register(silent, "silent")
        room = "#pinged"
        for member in (lively, silent):
            member.send(f"JOIN {room}")
            member.until("366")
        lively.sync()                     # silent's JOIN
        # The server sends "PING <token>"; the lively one answers with the same token.
        ping = lively.read(timeout=10)
        assert ping.command == "PING" and len(ping.params) == 1
        lively.send(f"PONG :{ping.params[0]}")
        # The silent one gets its PING too, then an ERROR, then EOF.
        lines = silent.read_to_eof(timeout=10)
        assert commands(lines) == ["PING", "ERROR"]
        assert "Ping timeout" in lines[-1].params[0]
        # Its room mate is told with a QUIT; PINGs for lively are answered as they come.
        while (line := lively.read(timeout=10)).command == "PING":
            lively.send(f"PONG :{line.params[0]}")
        assert line.command == "QUIT" and line.nick == "silent" and "Ping timeout" in line.params[0]
