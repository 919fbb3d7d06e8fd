"""The scriptable client (``selectchat.client.Client``) against a real server."""

import socket
import time

import pytest

from selectchat import irc
from selectchat.client import Client, JoinRefused, RegistrationFailed, RoomInfo
from selectchat.launch import start_server


@pytest.fixture(scope="module")
def server():
    with start_server("--room", "lobby:5", "--room", "small:1", "--room", "staff:3:s3cret") as running:
        yield running


def test_join_say_expect_messages_names(server):
    with Client(*server.address, "alice") as alice, Client(*server.address, "bob") as bob:
        assert alice.join("#lobby") == ["alice"]
        assert bob.join("#LOBBY") == ["alice", "bob"]            # room names ignore case
        assert alice.expect("JOIN").nick == "bob"
        alice.say("#lobby", "one")
        alice.say("#lobby", "two")
        alice.say("bob", "just for you")
        first = bob.expect(lambda m: m.command == "PRIVMSG" and m.params[1] == "one")
        assert (first.nick, first.params[0]) == ("alice", "#lobby")
        rest = [(m.params[0], m.params[1]) for m in bob.messages(timeout=0.5) if m.command == "PRIVMSG"]
        assert rest == [("#lobby", "two"), ("bob", "just for you")]
        assert sorted(alice.names("#lobby")) == ["alice", "bob"]
        assert bob.recv(timeout=0.1) is None                     # nothing more: None, not an error
        with pytest.raises(TimeoutError):
            bob.expect("PRIVMSG", timeout=0.1)


def test_rooms_part_raw_lines_and_topic(server):
    with Client(*server.address, "carol") as carol:
        rooms = {room.name: room for room in carol.rooms()}
        assert rooms["#lobby"].limit == 5 and not rooms["#lobby"].private
        assert rooms["#staff"] == RoomInfo("#staff", 0, 3, True, "")
        carol.join("#mine")                                      # made by carol: she is its operator
        carol.send("TOPIC #mine :a topic with spaces")           # a raw line
        assert carol.expect("TOPIC").params == ("#mine", "a topic with spaces")
        mine = next(room for room in carol.rooms() if room.name == "#mine")
        assert (mine.members, mine.limit, mine.topic) == (1, 0, "a topic with spaces")
        assert carol.part("#mine").command == "PART"
        assert "#mine" not in [room.name for room in carol.rooms()]   # empty: gone


def test_join_refusals_carry_the_numeric(server):
    with Client(*server.address, "dave") as dave, Client(*server.address, "erin") as erin:
        dave.join("#small")
        with pytest.raises(JoinRefused) as full:
            erin.join("#small")
        assert full.value.numeric == irc.ERR_CHANNELISFULL and "full" in str(full.value)
        with pytest.raises(JoinRefused) as bad_key:
            erin.join("#staff", "guess")
        assert bad_key.value.numeric == irc.ERR_BADCHANNELKEY
        assert erin.join("#staff", "s3cret") == ["erin"]
        with pytest.raises(JoinRefused) as bad_name:
            erin.join("lobby")                                   # no "#": not a room name
        assert bad_name.value.numeric == irc.ERR_BADCHANMASK
        dave.join("#dave")
        dave.send("MODE #dave +i")
        dave.expect("MODE")
        with pytest.raises(JoinRefused) as invite_only:         # at once, not after a timeout
            erin.join("#dave")
        assert invite_only.value.numeric == irc.ERR_INVITEONLYCHAN
        dave.send("MODE #dave -i+b erin")
        dave.expect("MODE")
        with pytest.raises(JoinRefused) as banned:
            erin.join("#dave")
        assert banned.value.numeric == irc.ERR_BANNEDFROMCHAN


def test_ping_quit_and_the_context_manager_closes(server):
    with Client(*server.address, "frank") as frank, Client(*server.address, "grace") as grace:
        frank.join("#lobby")
        grace.join("#lobby")
        assert frank.ping() < 5.0   # answered, within the client timeout
        frank.quit("gone fishing")
        assert frank.closed and frank.sock.fileno() == -1
        assert grace.expect("QUIT").params == ("Quit: gone fishing",)
        with pytest.raises(ValueError):
            with Client(*server.address, "heidi") as heidi:
                raise ValueError("the code using it fails")
        assert heidi.closed and heidi.sock.fileno() == -1
        assert server.wait_for_log("heidi disconnected")


def test_registration_refused_closes_the_socket(server):
    with Client(*server.address, "ivan"):
        with pytest.raises(RegistrationFailed) as taken:
            Client(*server.address, "ivan")
        assert taken.value.numeric == irc.ERR_NICKNAMEINUSE
        # Nothing holds the refused client, yet its connection must be closed, not leaked:
        assert server.wait_for_log("unregistered client from 127.0.0.1 disconnected")


def test_register_later_and_a_server_password(monkeypatch):
    monkeypatch.setenv("TEST_SERVER_PASSWORD", "letmein")
    with start_server("--password-env", "TEST_SERVER_PASSWORD") as server:
        with pytest.raises(RegistrationFailed) as wrong:
            Client(*server.address, "judy", password="guess")
        assert wrong.value.numeric == irc.ERR_PASSWDMISMATCH
        with Client(*server.address) as judy:                    # no nick: not registered yet
            assert judy.nick is None
            welcome = judy.register("judy", password="letmein")
            assert welcome.command == irc.RPL_WELCOME and judy.nick == "judy"


def test_server_pings_are_answered_and_messages_end_at_eof():
    with start_server("--ping-interval", "0.2", "--ping-timeout", "1") as server:
        raw = socket.create_connection(server.address, timeout=5)
        with raw, Client(*server.address, "kim") as kim:
            raw.sendall(b"NICK raw\r\nUSER raw 0 * :raw\r\n")
            received, deadline = b"", time.monotonic() + 5
            while b"PING" not in received and time.monotonic() < deadline:
                received += raw.recv(4096)
            assert b"PING" in received                            # the server does ping idle clients
            assert [m for m in kim.messages(timeout=1.5) if m.command == "PING"] == []   # answered, hidden
            assert kim.ping() < 5.0                               # and kim is still connected
            server.console("disconnect kim bye")
            last = list(kim.messages(timeout=5))                   # ends at EOF, without an error
            assert last and last[-1].command == "ERROR"
