"""Bad input, end to end: a real server, real sockets, clients that misbehave.

Each test starts a server with two well-behaved clients, alice and bob, in
the room #r, then lets a third client misbehave on a raw socket.  Each test
ends with :meth:`World.check_still_serving`: a fresh client can connect,
register and join, and alice and bob still receive each other's messages.
One bad client must never hurt anybody else.
"""

import itertools
import socket
import struct
import time

import pytest

from selectchat.client import Client, RegistrationFailed
from selectchat.net.framing import TOO_LONG, LineBuffer
from selectchat.launch import start_server
from selectchat.irc import parse

ROOM = "#r"
_fresh_names = itertools.count()


class Raw:
    """A client on a bare socket that sends exactly the bytes it is told to."""

    def __init__(self, address, nick=None, timeout=5.0, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connect, so that the TCP window starts small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self.lines = LineBuffer(max_line=1 << 20)
        self.received = []   # every complete line, raw bytes, in order
        self.unread = []     # lines not yet returned by next_line()
        self.eof = False
        if nick:
            self.register(nick)

    def send(self, data):
        self.sock.sendall(data)

    def register(self, nick):
        self.send(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n".encode())
        self.expect(b"376")

    def _read(self, timeout):
        """One recv (or nothing within ``timeout``); False at EOF."""
        if self.eof:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, socket.timeout, BlockingIOError):
            return True
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        for line in self.lines.feed(data):
            assert line is not TOO_LONG, "the server sent a line longer than our huge limit"
            self.received.append(line)
            self.unread.append(line)
        return True

    def next_line(self, timeout=5.0):
        """The next line (bytes, terminator removed); None at EOF; TimeoutError if none comes."""
        deadline = time.monotonic() + timeout
        while not self.unread:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no line from the server")
            if not self._read(left):
                return None
        return self.unread.pop(0)

    def expect(self, command, timeout=5.0):
        """Skip lines until one whose command is ``command`` (bytes); return it."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise EOFError(f"closed while waiting for {command!r}")
            if command_of(line) == command:
                return line

    def poll(self, timeout=0.01):
        """Take what has arrived, waiting at most ``timeout``; False once at EOF."""
        return self._read(timeout)

    def drain(self):
        """Take everything that has already arrived, without waiting."""
        before = -1
        while len(self.received) != before and not self.eof:
            before = len(self.received)
            self._read(0.0)

    def read_to_eof(self, timeout=5.0):
        """Every line until the server closes; TimeoutError if it does not."""
        lines = []
        while (line := self.next_line(timeout)) is not None:
            lines.append(line)
        return lines

    def close(self):
        self.sock.close()


def connect_when_accepted(address, nick, timeout=5.0):
    """A registered Client, retrying (bounded) while the server answers "full"."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return Client(*address, nick)
        except (RegistrationFailed, OSError, EOFError) as refusal:
            if time.monotonic() > deadline:
                raise AssertionError(f"no place for {nick} within {timeout} s: {refusal}") from refusal
            time.sleep(0.05)


def command_of(line):
    return line.split(b" ", 2)[1] if line.startswith(b":") else line.split(b" ", 1)[0]


def collect_until(client, predicate, timeout=5.0):
    """Every message ``client`` receives up to and including the first that matches."""
    seen = []
    deadline = time.monotonic() + timeout
    while not seen or not predicate(seen[-1]):
        message = client.recv(max(0.0, deadline - time.monotonic()))
        assert message is not None, f"{client.nick}: nothing matching arrived"
        seen.append(message)
    return seen


def vm_rss_kib(pid):
    """The resident memory of process ``pid`` in KiB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS line")


class World:
    """A server, alice and bob in #r, and the raw sockets a test opens."""

    def __init__(self, *options):
        self.server = start_server(*options)
        self.raws = []
        self.clients = []
        try:
            self.alice = self.client("alice")
            self.bob = self.client("bob")
            self.alice.join(ROOM)
            self.bob.join(ROOM)
            self.alice.expect(lambda m: m.command == "JOIN" and m.nick == "bob")
        except BaseException:
            self.close()
            raise

    def client(self, nick, **kwargs):
        client = Client(*self.server.address, nick, **kwargs)
        self.clients.append(client)
        return client

    def raw(self, nick=None, **kwargs):
        raw = Raw(self.server.address, nick, **kwargs)
        self.raws.append(raw)
        return raw

    def check_still_serving(self, wait_for_a_place=False):
        """A fresh client gets in, and alice and bob still hear each other.

        ``wait_for_a_place``: the server may be full for a moment (a client just
        left and the server has not yet seen its socket close); poll, bounded.
        """
        assert self.server.running(), "the server died"
        nick = f"fresh{next(_fresh_names)}"
        fresh = connect_when_accepted(self.server.address, nick) if wait_for_a_place \
            else Client(*self.server.address, nick)
        with fresh:
            assert fresh.join("#elsewhere") == [nick]
            fresh.ping()
            fresh.quit()
        for sender, receiver in ((self.alice, self.bob), (self.bob, self.alice)):
            token = f"still here {next(_fresh_names)}"
            sender.say(ROOM, token)
            message = receiver.expect(lambda m: m.command == "PRIVMSG" and m.params[-1] == token)
            assert message.nick == sender.nick

    def close(self):
        for conn in self.raws + self.clients:
            conn.close()
        self.server.stop()


@pytest.fixture
def world_with():
    """``world = world_with("--max-sendq", "4096")``: a World, stopped after the test."""
    worlds = []

    def make(*options):
        worlds.append(World(*options))
        return worlds[-1]

    yield make
    for world in worlds:
        world.close()


@pytest.fixture
def world(world_with):
    return world_with()


# --- malformed lines -------------------------------------------------------------

def test_overlong_line_gets_417_its_rest_is_discarded_and_the_next_line_works(world):
    raw = world.raw("longo")
    raw.send(b"JOIN #r\r\n")
    world.bob.expect("JOIN")
    # The tail of the long line holds a command; it must not run.
    line = b"PRIVMSG #r :" + b"x" * 700 + b" QUIT :smuggled"
    raw.send(line[:300])
    raw.send(line[300:] + b"\r\nPING :after\r\n")
    assert raw.expect(b"417")
    assert raw.expect(b"PONG").endswith(b"after")
    raw.send(b"PRIVMSG #r :short and fine\r\n")
    message = world.bob.expect("PRIVMSG", "QUIT")
    assert (message.command, message.nick, message.params) == ("PRIVMSG", "longo", (ROOM, "short and fine"))
    world.check_still_serving()


def test_a_line_of_exactly_512_bytes_is_accepted(world):
    raw = world.raw("edge")
    raw.send(b"JOIN #r\r\n")
    world.bob.expect("JOIN")
    head = b"PRIVMSG #r :"
    text = b"y" * (512 - 2 - len(head))
    raw.send(head + text + b"\r\n" + b"PING :done\r\n")
    raw.expect(b"PONG")
    assert not any(command_of(line) == b"417" for line in raw.received)
    message = world.bob.expect("PRIVMSG")
    # Relayed with a longer prefix, so cut to 512 bytes, but not refused.
    assert message.nick == "edge" and set(message.params[1]) == {"y"} and len(message.params[1]) > 400
    world.check_still_serving()


def test_invalid_utf8_is_relayed_with_replacement_characters(world):
    sender = world.raw("bytes")
    receiver = world.raw("reader")
    for raw in (sender, receiver):
        raw.send(b"JOIN #r\r\n")
        raw.expect(b"366")
    sender.send(b"PRIVMSG #r :caf\xe9 \xff\xfe\xc3 ok\r\nPRIVMSG reader :\x80\r\n")
    room_line = receiver.expect(b"PRIVMSG")
    private_line = receiver.expect(b"PRIVMSG")
    for line in (room_line, private_line):
        line.decode("utf-8")  # strict: what the server sends is valid UTF-8
    assert parse(room_line.decode()).params == (ROOM, "caf\ufffd \ufffd\ufffd\ufffd ok")
    assert parse(private_line.decode()).params == ("reader", "\ufffd")
    assert world.bob.expect("PRIVMSG").params == (ROOM, "caf\ufffd \ufffd\ufffd\ufffd ok")
    world.check_still_serving()


def test_a_bare_cr_ends_a_line_and_nul_cannot_break_the_receivers_framing(world):
    # "\r", "\n" and "\r\n" all end a line (as ngIRCd); a NUL is removed.
    sender = world.raw("sneaky")
    receiver = world.raw("victim")
    for raw in (sender, receiver):
        raw.send(b"JOIN #r\r\n")
        raw.expect(b"366")
    sender.send(b"PRIVMSG #r :one\rPRIVMSG #r :two\x00three\rPRIVMSG #r :last\r\n")
    got = [receiver.expect(b"PRIVMSG") for _ in range(3)]
    assert all(b"\r" not in line and b"\x00" not in line for line in got)
    assert [parse(line.decode()).params[1] for line in got] == ["one", "twothree", "last"]
    # Nothing between them: each arrived as one whole line.
    lines = receiver.received
    assert lines.index(got[2]) == lines.index(got[0]) + 2
    world.check_still_serving()


@pytest.mark.parametrize("garbage", [
    b":onlyprefix\r\n", b"\r\n", b"\n\n\n", b"   \r\n", b":\r\n", b": :x\r\n", b"\x00\r\n", b"\r\r\n",
])
def test_garbage_lines_are_ignored(world, garbage):
    raw = world.raw()
    raw.send(garbage)  # before registration
    raw.register("junky")
    assert command_of(raw.received[0]) == b"001"  # nothing answered the garbage before it
    raw.send(garbage * 3 + b"PING :after\r\n")  # and after
    line = raw.next_line()
    assert command_of(line) == b"PONG" and line.endswith(b"after")  # no reply to the garbage
    world.check_still_serving()


def test_unknown_commands_get_421(world):
    raw = world.raw("curious")
    raw.send(b"FROBNICATE\r\nfoo bar :baz\r\nPING :after\r\n")
    assert [raw.next_line().split(b" ")[1:4] for _ in range(2)] == [
        [b"421", b"curious", b"FROBNICATE"], [b"421", b"curious", b"FOO"]]
    assert command_of(raw.next_line()) == b"PONG"
    world.check_still_serving()


def test_commands_before_registration_get_451_then_registration_works(world):
    raw = world.raw()
    raw.send(b"JOIN #r\r\nPRIVMSG bob :psst\r\nLIST\r\nWHATEVER\r\n")
    assert [command_of(raw.next_line()) for _ in range(4)] == [b"451"] * 4
    raw.register("late")
    raw.send(b"JOIN #r\r\n")
    seen = collect_until(world.bob, lambda m: m.command == "JOIN" and m.nick == "late")
    assert not any(m.command == "PRIVMSG" for m in seen)  # bob never got "psst"
    world.check_still_serving()


# --- misbehaving connections ----------------------------------------------------

def test_half_a_line_then_a_stall_blocks_nobody(world):
    raw = world.raw("staller")
    raw.send(b"JOIN #r\r\n")
    world.bob.expect("JOIN")
    raw.send(b"PRIVMSG #r :half")
    world.check_still_serving()  # while the half line waits in the server
    raw.send(b" and the rest\r\n")
    message = world.bob.expect(lambda m: m.command == "PRIVMSG" and m.nick == "staller")
    assert message.params == (ROOM, "half and the rest")
    world.check_still_serving()


def test_a_flood_in_one_write_gets_bounded_turns(world):
    """A flooder's lines are read a slice at a time, so others are served in between.

    The flooder sends 200,000 lines (1.6 MB) in one write, then PING :end.  Right
    after that write, alice sends PING :alice.  If the server read a client's
    input until it ran dry, alice's PONG would come after the whole flood; with a
    bounded amount of work per client per pass it comes long before the end.
    """
    flooder = world.raw("flooder")
    rss_before = vm_rss_kib(world.server.pid)
    flooder.send(b"PONG x\r\n" * 200_000 + b"PING :end\r\n")
    world.alice.send("PING :alice")
    world.alice.expect(lambda m: m.command == "PONG" and m.params[-1] == "alice", timeout=10)
    flooder.drain()  # had the server already answered PING :end?  Then it is here by now.
    alice_first = not any(command_of(line) == b"PONG" for line in flooder.received)
    assert flooder.expect(b"PONG", timeout=30).endswith(b"end")  # the whole flood was read
    assert alice_first, "alice had to wait for the whole flood: the flooder's turn is not bounded"
    assert vm_rss_kib(world.server.pid) - rss_before < 50_000  # KiB; generous, not a timing test
    world.check_still_serving()


def test_thousands_of_room_messages_in_one_write_arrive_complete_and_in_order(world):
    flooder = world.raw("chatty")
    flooder.send(b"JOIN #r\r\n")
    world.bob.expect("JOIN")
    count = 3000
    flooder.send(b"".join(b"PRIVMSG #r :line %d\r\n" % i for i in range(count)))
    for i in range(count):
        message = world.bob.expect("PRIVMSG")
        assert message.params == (ROOM, f"line {i}")
    world.check_still_serving()


def test_abrupt_disconnect_with_rst(world):
    raw = world.raw("rude")
    raw.send(b"JOIN #r\r\n")
    world.bob.expect("JOIN")
    raw.send(b"PRIVMSG #r :half a li")
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close()  # linger 0: the kernel sends RST instead of FIN
    quit_message = world.bob.expect("QUIT")
    assert quit_message.nick == "rude"
    assert world.bob.names(ROOM) == ["alice", "bob"]
    world.check_still_serving()


def test_rst_while_the_server_has_output_pending(world):
    raw = world.raw("gone")
    raw.send(b"JOIN #r\r\n")
    world.bob.expect("JOIN")
    raw.send(b"LIST\r\nNAMES #r\r\n" * 200)  # lots of replies on the way, never read
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close()
    world.bob.expect(lambda m: m.command == "QUIT" and m.nick == "gone")
    world.check_still_serving()


def test_a_client_that_never_reads_is_dropped_once_its_sendq_is_full():
    sendq = 32768
    world = World("--max-sendq", str(sendq))
    try:
        lazy = world.raw("lazy", rcvbuf=4096)
        lazy.send(b"JOIN #r\r\n")
        world.bob.expect("JOIN")
        rss_before = vm_rss_kib(world.server.pid)
        text = "x" * 400
        dropped = None
        for batch in range(2000):  # bounded: at most 20,000 messages of 400 bytes
            for i in range(10):  # 10 x ~430 bytes at once stays under bob's sendq
                world.alice.say(ROOM, f"{batch}.{i} {text}")
            for i in range(10):  # bob reads everything: only lazy falls behind
                message = world.bob.expect("PRIVMSG", "QUIT")
                if message.command == "QUIT":
                    dropped = message
                    break
                assert message.params[1] == f"{batch}.{i} {text}"
            if dropped:
                break
        assert dropped is not None, "the client that never reads was never dropped"
        assert dropped.nick == "lazy" and "SendQ exceeded" in dropped.params[0]
        assert vm_rss_kib(world.server.pid) - rss_before < 50_000  # KiB
        # What lazy finds when it finally reads: complete lines, then ERROR, then the end.
        lines = lazy.read_to_eof()
        assert command_of(lines[-1]) == b"ERROR" and b"SendQ exceeded" in lines[-1]
        world.check_still_serving()
    finally:
        world.close()


def test_ping_then_quit_in_one_write_gets_the_pong_before_the_error(world):
    raw = world.raw("hasty")
    raw.send(b"JOIN #r\r\n")
    raw.expect(b"366")
    world.bob.expect("JOIN")
    raw.send(b"PING :last-words\r\nQUIT :bye\r\nPRIVMSG #r :after quit\r\n")
    lines = raw.read_to_eof()
    assert [command_of(line) for line in lines] == [b"PONG", b"ERROR"]
    assert lines[0].endswith(b"last-words") and b"Quit: bye" in lines[1]
    quit_message = world.bob.expect("QUIT", "PRIVMSG")
    assert (quit_message.command, quit_message.nick) == ("QUIT", "hasty")  # "after quit" never came
    world.check_still_serving()


# --- limits and timeouts ----------------------------------------------------------

def test_max_clients_refuses_the_next_connection_then_accepts_after_one_leaves(world_with):
    world = world_with("--max-clients", "3")   # alice, bob, and one more
    third = world.raw("third")
    extra = world.raw()
    line = extra.next_line()
    assert command_of(line) == b"ERROR" and b"full" in line
    assert extra.next_line() is None  # then closed
    third.send(b"QUIT :making room\r\n")
    third.read_to_eof()
    third.close()
    # The server frees the place once it sees third's socket close: poll, bounded.
    newcomer = connect_when_accepted(world.server.address, "newcomer")
    assert newcomer.join(ROOM) == ["alice", "bob", "newcomer"]
    newcomer.quit()
    world.check_still_serving(wait_for_a_place=True)  # its fresh client takes the third place


def test_silent_clients_are_pinged_and_dropped_while_answering_ones_stay(world_with):
    # A generous timeout, so that alice and bob answer in time even on a loaded machine.
    world = world_with("--ping-interval", "0.5", "--ping-timeout", "1.5")
    silent = world.raw("silent")
    silent.send(b"JOIN #r\r\n")
    unregistered = world.raw()  # never even registers
    # alice and bob answer PINGs (Client.recv does) as long as they read: keep them reading.
    seen_by_bob = []
    deadline = time.monotonic() + 10
    while not (silent.eof and unregistered.eof):
        assert time.monotonic() < deadline, "the silent clients were never dropped"
        for client, sink in ((world.alice, []), (world.bob, seen_by_bob)):
            message = client.recv(timeout=0.02)
            if message is not None:
                sink.append(message)
        silent.poll()
        unregistered.poll()
    silent_commands = [command_of(line) for line in silent.received]
    assert b"PING" in silent_commands and silent_commands[-1] == b"ERROR"
    assert silent_commands.index(b"PING") < silent_commands.index(b"ERROR")
    assert b"Ping timeout" in silent.received[-1]
    assert b"Registration timeout" in unregistered.received[-1]
    quits = [m for m in seen_by_bob + list(world.bob.pending) if m.command == "QUIT"]
    assert [m.nick for m in quits] == ["silent"]
    world.check_still_serving()  # alice and bob, who answered, are still here


def test_many_misbehaving_clients_at_once(world):
    """All of the above at the same time, on one loop."""
    raws = [world.raw(f"bad{i}") for i in range(6)]
    raws[0].send(b"PRIVMSG #r :never finished")
    raws[1].send(b"\xff\xfe" * 2000 + b"\r\n")
    raws[2].send(b"PONG x\r\n" * 20_000)
    raws[3].send(b"NAMES #r\r\n" * 500)  # and never reads the replies
    raws[4].sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raws[4].close()
    raws[5].send(b":x\r\n\x00\r\nFOO\r\n")
    world.check_still_serving()
    world.check_still_serving()
