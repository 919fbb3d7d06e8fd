"""Every user-facing feature of the server, end to end through real sockets.

Each test starts its own ``selectchat server --port 0`` (through
:func:`selectchat.launch.start_server`) and talks to it with the scriptable
:class:`~selectchat.client.Client`, or with raw IRC lines where the client has
no helper.  After a refusal or an error, the test checks that the server still
serves a fresh client: a bad input must hurt nobody else.

How "nothing else arrived" is checked without sleeping: the server handles
one client's lines in order, so everything that client caused has been queued
before the server answers its PING.  ``sync(actor)`` waits for that answer;
``drain(observer)`` then returns what reached the observer, up to its own PONG.
"""

import os

import pytest

from selectchat.client import Client, JoinRefused, RegistrationFailed
from selectchat.launch import start_server


class Served:
    """A server subprocess and the clients a test opened on it."""

    def __init__(self, *options):
        self.server = start_server(*options)
        self.clients = []

    def client(self, nick, **kwargs):
        client = Client(*self.server.address, nick, **kwargs)
        self.clients.append(client)
        return client

    def console(self, command):
        return self.server.console(command)

    def stop(self):
        for client in self.clients:
            client.close()
        return self.server.stop()


@pytest.fixture
def serve():
    """``serve(*options)`` starts a server; all are stopped (and must exit 0) at the end."""
    started = []

    def start(*options):
        served = Served(*options)
        started.append(served)
        return served

    yield start
    codes = [served.stop() for served in started]
    assert codes == [0] * len(codes), f"server exit codes {codes}"


# --- helpers ------------------------------------------------------------------

def sync(client, token="sync"):
    """Wait until the server has handled everything ``client`` sent so far."""
    client.send(f"PING {token}")
    client.expect(lambda m: m.command == "PONG" and m.params[-1] == token)


def drain(client, token="drain"):
    """Everything that reached ``client`` before the server answered a new PING."""
    client.send(f"PING {token}")
    received = []
    while True:
        message = client.recv()
        assert message is not None, f"{client.nick}: no PONG for {token}"
        if message.command == "PONG" and message.params[-1] == token:
            return received
        received.append(message)


def commands(messages):
    return [m.command for m in messages]


def still_serves(served, room=None):
    """A fresh client registers, joins a room (a fresh one by default) and gets a PONG."""
    index = len(served.clients)
    fresh = served.client(f"fresh{index}")
    assert f"fresh{index}" in fresh.join(room or f"#check{index}")
    assert fresh.ping() < 5.0
    fresh.quit()


def raw_names(client, room):
    """The 353 names of ``room`` exactly as sent, ``@`` for operators included."""
    client.send(f"NAMES {room}")
    names = []
    while (reply := client.expect("353", "366")).command == "353":
        names += reply.params[-1].split()
    return names


def room_list(client):
    return {info.name: info for info in client.rooms()}


# --- creating rooms ---------------------------------------------------------

def test_rooms_from_the_command_line(serve):
    served = serve("--room", "lobby:10", "--room", "staff:5:s3cret", "--room", "open")
    alice = served.client("alice")
    rooms = room_list(alice)
    assert set(rooms) == {"#lobby", "#staff", "#open"}
    assert (rooms["#lobby"].members, rooms["#lobby"].limit, rooms["#lobby"].private) == (0, 10, False)
    assert (rooms["#staff"].limit, rooms["#staff"].private) == (5, True)
    assert (rooms["#open"].limit, rooms["#open"].private) == (0, False)
    with pytest.raises(JoinRefused) as refused:
        alice.join("#staff")
    assert refused.value.numeric == "475"
    assert alice.join("#staff", "s3cret") == ["alice"]
    # Nobody is operator of a room the server's operator made.
    assert raw_names(alice, "#staff") == ["alice"]


def test_room_from_the_console(serve):
    served = serve()
    assert served.console("create games 2 dice") == ["created #games, limit 2 (private)"]
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    info = room_list(alice)["#games"]
    assert (info.members, info.limit, info.private) == (0, 2, True)
    assert alice.join("#games", "dice") == ["alice"]
    assert bob.join("#games", "dice") == ["alice", "bob"]
    with pytest.raises(JoinRefused) as refused:
        carol.join("#games", "dice")
    assert refused.value.numeric == "471"
    still_serves(served)


def test_a_client_join_creates_a_room_and_makes_its_operator(serve):
    served = serve()
    alice, bob = served.client("alice"), served.client("bob")
    assert "#new" not in room_list(bob)
    assert alice.join("#new") == ["alice"]
    assert bob.join("#new") == ["alice", "bob"]
    assert raw_names(bob, "#new") == ["@alice", "bob"]
    assert room_list(bob)["#new"].members == 2


def test_no_client_rooms_refuses_unknown_rooms_with_403(serve):
    served = serve("--no-client-rooms", "--room", "lobby")
    alice = served.client("alice")
    with pytest.raises(JoinRefused) as refused:
        alice.join("#elsewhere")
    assert refused.value.numeric == "403"
    assert "#elsewhere" not in room_list(alice)
    assert alice.join("#lobby") == ["alice"]
    served.console("create later")
    assert alice.join("#later") == ["alice"]
    still_serves(served, "#lobby")


def test_operator_rooms_stay_when_empty_client_rooms_vanish(serve):
    served = serve("--room", "lobby")
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")
    alice.part("#lobby")
    assert "#lobby" in room_list(alice)

    alice.join("#mine")
    bob.join("#mine")
    alice.part("#mine")
    assert room_list(bob)["#mine"].members == 1   # one member left: the room stays
    bob.part("#mine")
    assert "#mine" not in room_list(bob)

    # ... and when the last member disconnects instead of leaving.
    alice.join("#brief")
    alice.quit()
    assert "#brief" not in room_list(bob)
    assert "#lobby" in room_list(bob)


# --- looking around ---------------------------------------------------------

def test_list_before_joining_shows_occupancy_limit_and_privacy(serve):
    served = serve("--room", "lobby:3", "--room", "vault:2:k3y")
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")
    bob.join("#lobby")
    bob.join("#vault", "k3y")
    alice.join("#chat")
    carol = served.client("carol")  # in no room at all
    rooms = room_list(carol)
    assert [(r.name, r.members, r.limit, r.private) for r in rooms.values()] == [
        ("#lobby", 2, 3, False), ("#vault", 1, 2, True), ("#chat", 1, 0, False)]


def test_names_of_a_room_and_of_a_room_that_does_not_exist(serve):
    served = serve()
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    alice.join("#lobby")
    bob.join("#lobby")
    assert carol.names("#lobby") == ["alice", "bob"]   # without joining
    assert carol.names("#ghost") == []
    assert "#ghost" not in room_list(carol)            # asking never creates a room


def test_who_lists_members_with_their_flags(serve):
    served = serve()
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")
    bob.join("#lobby")
    bob.send("WHO #lobby")
    replies = []
    while (reply := bob.expect("352", "315")).command == "352":
        replies.append(reply)
    assert reply.params[1] == "#lobby"
    # 352 me room user host server nick flags :hops realname
    assert [(r.params[1], r.params[5], r.params[6]) for r in replies] == [
        ("#lobby", "alice", "H@"), ("#lobby", "bob", "H")]
    assert replies[0].params[3] == "127.0.0.1"


# --- joining: the refusals ---------------------------------------------------

def test_join_refused_when_full_then_admitted_when_a_place_frees(serve):
    served = serve("--room", "pair:2")
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    alice.join("#pair")
    bob.join("#pair")
    with pytest.raises(JoinRefused) as refused:
        carol.join("#pair")
    assert refused.value.numeric == "471"
    assert room_list(carol)["#pair"].members == 2
    bob.part("#pair")
    assert carol.join("#pair") == ["alice", "carol"]
    still_serves(served)


def test_join_refused_with_a_wrong_or_missing_key(serve):
    served = serve("--room", "vault:0:right")
    alice = served.client("alice")
    for key in (None, "wrong", "RIGHT"):
        with pytest.raises(JoinRefused) as refused:
            alice.join("#vault", key)
        assert refused.value.numeric == "475"
    assert alice.names("#vault") == []
    assert alice.join("#vault", "right") == ["alice"]
    still_serves(served)


def test_nickname_in_use_is_refused_and_another_one_works(serve):
    served = serve()
    alice = served.client("alice")
    alice.join("#lobby")
    impostor = Client(*served.server.address, register=False)
    served.clients.append(impostor)
    with pytest.raises(RegistrationFailed) as refused:
        impostor.register("ALICE")   # nicknames are case-insensitive
    assert refused.value.numeric == "433"
    # The refused connection stays open and may pick another nickname.
    impostor.register("alice2")
    assert impostor.join("#lobby") == ["alice", "alice2"]
    alice.say("#lobby", "still here")
    assert impostor.expect("PRIVMSG").params == ("#lobby", "still here")


# --- leaving ----------------------------------------------------------------

def test_part_then_join_another_room_without_reconnecting(serve):
    served = serve()
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    alice.join("#one")
    bob.join("#one")
    carol.join("#two")
    bob.send("PART #one :off to two")
    assert bob.join("#two") == ["carol", "bob"]
    part = alice.expect("PART")
    assert (part.nick, part.params) == ("bob", ("#one", "off to two"))
    assert carol.expect("JOIN").nick == "bob"
    bob.say("#two", "hi two")
    assert carol.expect("PRIVMSG").params == ("#two", "hi two")
    sync(bob)
    assert "PRIVMSG" not in commands(drain(alice))   # alice is no longer in bob's rooms


def test_quit_tells_the_others_with_the_reason(serve):
    served = serve()
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    alice.join("#lobby")
    bob.join("#lobby")
    carol.join("#lobby")
    bob.send("QUIT :gone home")
    assert bob.expect("ERROR").params[-1].endswith("(Quit: gone home)")
    with pytest.raises(EOFError):
        while True:
            bob.recv()
    for other in (alice, carol):
        quit_line = other.expect("QUIT")
        assert (quit_line.nick, quit_line.params) == ("bob", ("Quit: gone home",))
    assert alice.names("#lobby") == ["alice", "carol"]
    still_serves(served)


# --- talking ----------------------------------------------------------------

def test_two_hundred_messages_reach_every_other_member_in_order(serve):
    served = serve()
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    for client in (alice, bob, carol):
        client.join("#lobby")
    sent = [f"message {n:03d} of 200" for n in range(200)]
    for text in sent:
        alice.say("#lobby", text)
    for receiver in (bob, carol):
        got = []
        while len(got) < len(sent):
            message = receiver.expect("PRIVMSG")
            assert message.nick == "alice" and message.params[0] == "#lobby"
            got.append(message.params[1])
        assert got == sent
    assert "PRIVMSG" not in commands(drain(alice))   # no echo to the sender


def test_private_messages_go_to_one_nickname_only(serve):
    served = serve()
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    for client in (alice, bob, carol):
        client.join("#lobby")
    alice.say("BOB", "just for you")   # nicknames are case-insensitive
    message = bob.expect("PRIVMSG")
    assert (message.nick, message.params) == ("alice", ("bob", "just for you"))
    sync(alice)
    assert "PRIVMSG" not in commands(drain(carol))
    alice.say("nobody", "hello?")
    assert alice.expect("401").params[1] == "nobody"
    alice.say("#elsewhere", "hello?")
    assert alice.expect("401").params[1] == "#elsewhere"
    carol.send("PART #lobby")
    carol.say("#lobby", "from outside")
    assert carol.expect("404").params[1] == "#lobby"
    still_serves(served)


def test_notice_to_a_room_and_a_nick_and_never_an_error_reply(serve):
    served = serve()
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")
    bob.join("#lobby")
    drain(alice)
    alice.send("NOTICE #lobby :room notice")
    alice.send("NOTICE bob :private notice")
    first, second = bob.expect("NOTICE"), bob.expect("NOTICE")
    assert first.params == ("#lobby", "room notice") and first.nick == "alice"
    assert second.params == ("bob", "private notice")
    alice.send("NOTICE nobody :into the void")
    alice.send("NOTICE #ghost :into the void")
    assert drain(alice) == []   # NOTICE is never answered with an error


# --- private rooms, topic, modes, kick -------------------------------------

def test_private_room_by_mode_k_and_list_shows_it(serve):
    served = serve()
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    alice.join("#club")
    bob.join("#club")
    assert room_list(carol)["#club"].private is False
    alice.send("MODE #club +k members")
    mode = bob.expect("MODE")
    assert (mode.nick, mode.params) == ("alice", ("#club", "+k", "members"))
    assert room_list(carol)["#club"].private is True
    with pytest.raises(JoinRefused) as refused:
        carol.join("#club")
    assert refused.value.numeric == "475"
    assert carol.join("#club", "members") == ["alice", "bob", "carol"]
    bob.send("MODE #club -k")
    assert bob.expect("482").params[1] == "#club"   # only the room's operator
    alice.send("MODE #club -k")
    assert carol.expect("MODE").params == ("#club", "-k", "*")
    assert room_list(carol)["#club"].private is False


def test_topic_set_by_the_operator_and_refused_to_others(serve):
    served = serve()
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")
    bob.join("#lobby")
    bob.send("TOPIC #lobby :bob was here")
    assert bob.expect("482").params[1] == "#lobby"
    alice.send("TOPIC #lobby :Welcome, all")
    topic = bob.expect("TOPIC")
    assert (topic.nick, topic.params) == ("alice", ("#lobby", "Welcome, all"))
    bob.send("TOPIC #lobby")
    assert bob.expect("332").params[1:] == ("#lobby", "Welcome, all")
    carol = served.client("carol")
    assert room_list(carol)["#lobby"].topic == "Welcome, all"
    carol.send("JOIN #lobby")
    assert carol.expect("332").params[1:] == ("#lobby", "Welcome, all")


def test_mode_l_changes_the_limit(serve):
    served = serve()
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    alice.join("#small")
    bob.join("#small")
    bob.send("MODE #small +l 5")
    assert bob.expect("482").params[1] == "#small"
    alice.send("MODE #small +l 2")
    assert bob.expect("MODE").params == ("#small", "+l", "2")
    assert room_list(carol)["#small"].limit == 2
    alice.send("MODE #small")
    assert alice.expect("324").params[1:] == ("#small", "+ntl", "2")
    with pytest.raises(JoinRefused) as refused:
        carol.join("#small")
    assert refused.value.numeric == "471"
    alice.send("MODE #small -l")
    bob.expect("MODE")
    assert carol.join("#small") == ["alice", "bob", "carol"]


def test_kick_by_the_operator_and_refused_to_others(serve):
    served = serve()
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    for client in (alice, bob, carol):
        client.join("#lobby")
    bob.send("KICK #lobby carol :not you")
    assert bob.expect("482").params[1] == "#lobby"
    alice.send("KICK #lobby bob :too loud")
    for member in (alice, bob, carol):
        kick = member.expect("KICK")
        assert (kick.nick, kick.params) == ("alice", ("#lobby", "bob", "too loud"))
    assert alice.names("#lobby") == ["alice", "carol"]
    assert bob.ping() < 5.0          # kicked from the room, not from the server
    assert bob.join("#lobby") == ["alice", "carol", "bob"]
    alice.send("KICK #lobby nobody")
    assert alice.expect("441").params[1] == "nobody"


# --- the server password ------------------------------------------------------

def assert_refused_and_closed(served, password):
    """Registering with ``password`` (None: no PASS) gets 464, an ERROR line, then EOF."""
    client = Client(*served.server.address, register=False)
    served.clients.append(client)
    with pytest.raises(RegistrationFailed) as refused:
        client.register("mallory", password=password)
    assert refused.value.numeric == "464"
    assert client.expect("ERROR").params[-1].endswith("(Bad password)")
    with pytest.raises(EOFError):
        while client.recv() is not None:
            pass


def test_server_password(serve):
    served = serve("--password", "open sesame")
    alice = served.client("alice", password="open sesame")
    assert alice.join("#lobby") == ["alice"]
    assert_refused_and_closed(served, "open says me")
    assert_refused_and_closed(served, None)
    assert served.client("bob", password="open sesame").join("#lobby") == ["alice", "bob"]


def test_server_password_from_the_environment(serve, monkeypatch):
    monkeypatch.setenv("SELECTCHAT_TEST_PASSWORD", "from-the-env")
    served = serve("--password-env", "SELECTCHAT_TEST_PASSWORD")
    with open(f"/proc/{served.server.pid}/cmdline", "rb") as cmdline:
        assert b"from-the-env" not in cmdline.read()   # not visible in ps
    assert served.client("alice", password="from-the-env").join("#lobby") == ["alice"]
    assert_refused_and_closed(served, "guess")
    assert_refused_and_closed(served, None)
