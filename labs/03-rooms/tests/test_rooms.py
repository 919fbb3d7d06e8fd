"""Grading tests for lab 03: rooms with limits.  Run them: python -m pytest"""

import socket
import struct
import time

import pytest

from rooms import Rooms

rooms_ = pytest.mark.category("rooms")
limits = pytest.mark.category("limits")
server_ = pytest.mark.category("server")


def core(**limits_):
    """A Rooms with these rooms, and clients 'a', 'b', 'c', 'd' named ann, bob, cy, dee."""
    rooms = Rooms(limits_)
    for client, nick in zip("abcd", ("ann", "bob", "cy", "dee")):
        rooms.handle(client, f"NICK {nick}")
    return rooms


def lines_for(replies, client):
    return [line for to, line in replies if to == client]


@rooms_
def test_join_answers_with_the_members_and_tells_the_others():
    rooms = core(lobby=5)
    assert rooms.handle("a", "JOIN lobby") == [("a", "OK JOIN lobby ann")]
    replies = rooms.handle("b", "JOIN lobby")
    assert lines_for(replies, "b") == ["OK JOIN lobby ann bob"]
    assert lines_for(replies, "a") == ["JOINED lobby bob"]


@rooms_
def test_join_errors():
    rooms = core(lobby=5)
    assert rooms.handle("a", "JOIN nowhere") == [("a", "ERR NO_ROOM nowhere")]
    rooms.handle("a", "JOIN lobby")
    assert rooms.handle("a", "JOIN lobby") == [("a", "ERR ALREADY_IN lobby")]
    assert Rooms({"lobby": 5}).handle("x", "JOIN lobby") == [("x", "ERR NEED_NICK")]


@rooms_
def test_say_reaches_the_other_members_only():
    """The sender gets nothing back; non-members and other rooms hear nothing."""
    rooms = core(lobby=5, other=5)
    for client in "abc":
        rooms.handle(client, "JOIN lobby")
    rooms.handle("d", "JOIN other")
    replies = rooms.handle("a", "SAY lobby hello, room with } and spaces")
    assert sorted(replies) == [("b", "MSG lobby ann hello, room with } and spaces"),
                               ("c", "MSG lobby ann hello, room with } and spaces")]


@rooms_
def test_say_and_part_need_membership():
    rooms = core(lobby=5)
    assert rooms.handle("a", "SAY lobby hi") == [("a", "ERR NOT_IN lobby")]
    assert rooms.handle("a", "PART lobby") == [("a", "ERR NOT_IN lobby")]


@rooms_
def test_part_tells_the_others():
    rooms = core(lobby=5)
    rooms.handle("a", "JOIN lobby")
    rooms.handle("b", "JOIN lobby")
    replies = rooms.handle("a", "PART lobby")
    assert lines_for(replies, "a") == ["OK PART lobby"]
    assert lines_for(replies, "b") == ["PARTED lobby ann"]
    assert rooms.handle("b", "SAY lobby anyone?") == []


@rooms_
def test_disconnect_leaves_every_room_and_frees_the_nick():
    rooms = core(one=5, two=5)
    for room in ("one", "two"):
        rooms.handle("a", f"JOIN {room}")
        rooms.handle("b", f"JOIN {room}")
    replies = rooms.disconnect("a")
    assert sorted(replies) == [("b", "PARTED one ann"), ("b", "PARTED two ann")]
    assert rooms.handle("z", "NICK ann") == [("z", "OK NICK ann")]
    assert ("b", "ROOM one 1 5") in rooms.handle("b", "LIST")


@limits
def test_a_full_room_refuses():
    rooms = core(tiny=2)
    rooms.handle("a", "JOIN tiny")
    rooms.handle("b", "JOIN tiny")
    assert rooms.handle("c", "JOIN tiny") == [("c", "ERR FULL tiny")]
    assert ("c", "ROOM tiny 2 2") in rooms.handle("c", "LIST")


@limits
def test_a_part_frees_a_seat():
    rooms = core(tiny=2)
    rooms.handle("a", "JOIN tiny")
    rooms.handle("b", "JOIN tiny")
    rooms.handle("a", "PART tiny")
    assert lines_for(rooms.handle("c", "JOIN tiny"), "c") == ["OK JOIN tiny bob cy"]
    assert rooms.handle("d", "JOIN tiny") == [("d", "ERR FULL tiny")]


@limits
def test_a_disconnect_frees_a_seat():
    rooms = core(tiny=1)
    rooms.handle("a", "JOIN tiny")
    assert rooms.handle("b", "JOIN tiny") == [("b", "ERR FULL tiny")]
    rooms.disconnect("a")
    assert rooms.handle("b", "JOIN tiny") == [("b", "OK JOIN tiny bob")]


# --- through the server, over real sockets -------------------------------------------
#
# Each command is sent in two pieces, as a slow network may deliver it, and every
# scenario checks what each client receives: exactly its lines, nothing more.


@pytest.fixture
def server(start):
    program = start("server.py", "--room", "lobby:10", "--room", "tiny:2")
    program.address = program.wait_ready()
    return program


def command(peer, line):
    """Send one command line in two pieces (two recv()s on the server's side)."""
    data = line.encode() + b"\n"
    half = max(1, len(data) // 2)
    peer.send(data[:half])
    time.sleep(0.01)
    peer.send(data[half:])


@pytest.fixture
def user(server, connect):
    """``user("ann")``: a connection that has set its nick."""
    def make(nick):
        peer = connect(server.address)
        peer.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        command(peer, f"NICK {nick}")
        assert peer.recv_line() == f"OK NICK {nick}"
        return peer
    return make


def joined(peer, room, members):
    command(peer, f"JOIN {room}")
    assert peer.recv_line() == f"OK JOIN {room} {members}"


def nothing_more(**peers):
    for nick, peer in peers.items():
        assert peer.nothing_more(), f"{nick} got a line it should not: {bytes(peer.received)!r}"


@server_
def test_two_clients_chat_and_one_leaves(user):
    """ann and bob chat; each hears the other, not themself; bob closes: ann hears PARTED, his seat is free."""
    ann, bob = user("ann"), user("bob")
    joined(ann, "lobby", "ann")
    joined(bob, "lobby", "ann bob")
    assert ann.recv_line() == "JOINED lobby bob"
    command(ann, "SAY lobby hi bob")
    assert bob.recv_line() == "MSG lobby ann hi bob"
    command(bob, "SAY lobby hi ann, with } and spaces")
    assert ann.recv_line() == "MSG lobby bob hi ann, with } and spaces"
    nothing_more(ann=ann, bob=bob)
    bob.close()                                          # an EOF, not a PART
    assert ann.recv_line() == "PARTED lobby bob"
    command(ann, "LIST")
    assert [ann.recv_line() for _ in range(3)] == ["ROOM lobby 1 10", "ROOM tiny 0 2", "OK LIST"]


@server_
def test_commands_split_and_merged_over_tcp(user):
    """Two commands in one send, and one command in three sends."""
    ann, bob = user("ann"), user("bob")
    ann.send("JOIN lobby\nLI")
    assert ann.recv_line() == "OK JOIN lobby ann"
    ann.send("S")
    ann.send("T\n")
    assert [ann.recv_line() for _ in range(3)] == ["ROOM lobby 1 10", "ROOM tiny 0 2", "OK LIST"]
    bob.send("JOIN lobby\nSAY lobby one\nSAY lob")
    bob.send("by two\n")
    assert [ann.recv_line() for _ in range(3)] == ["JOINED lobby bob", "MSG lobby bob one", "MSG lobby bob two"]
    assert bob.recv_line() == "OK JOIN lobby ann bob"
    nothing_more(ann=ann, bob=bob)


@server_
def test_a_full_room_frees_seats_on_part_and_on_a_reset(user):
    """tiny holds 2: a third is refused; a PART frees a seat, a vanished client (reset) another."""
    ann, bob, cy, dee = user("ann"), user("bob"), user("cy"), user("dee")
    joined(ann, "tiny", "ann")
    joined(bob, "tiny", "ann bob")
    assert ann.recv_line() == "JOINED tiny bob"
    command(cy, "JOIN tiny")
    assert cy.recv_line() == "ERR FULL tiny"
    command(ann, "PART tiny")
    assert ann.recv_line() == "OK PART tiny"
    assert bob.recv_line() == "PARTED tiny ann"
    joined(cy, "tiny", "bob cy")
    assert bob.recv_line() == "JOINED tiny cy"
    command(dee, "JOIN tiny")
    assert dee.recv_line() == "ERR FULL tiny"
    bob.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    bob.close()                                          # a reset, not a polite PART
    assert cy.recv_line() == "PARTED tiny bob"
    joined(dee, "tiny", "cy dee")
    assert cy.recv_line() == "JOINED tiny dee"
    command(cy, "SAY tiny welcome")
    assert dee.recv_line() == "MSG tiny cy welcome"
    nothing_more(ann=ann, cy=cy, dee=dee)
    assert user("bob").nothing_more()                    # the nick is free again


@server_
def test_a_client_in_two_rooms_leaves_both(user):
    """bob closes while in lobby and in a full tiny: ann hears both PARTs, and cy gets his seat in tiny."""
    ann, bob, cy = user("ann"), user("bob"), user("cy")
    for room in ("lobby", "tiny"):
        joined(ann, room, "ann")
        joined(bob, room, "ann bob")
        assert ann.recv_line() == f"JOINED {room} bob"
    command(cy, "JOIN tiny")
    assert cy.recv_line() == "ERR FULL tiny"
    command(bob, "SAY tiny bye")
    assert ann.recv_line() == "MSG tiny bob bye"
    nothing_more(bob=bob)
    bob.close()
    assert sorted([ann.recv_line(), ann.recv_line()]) == ["PARTED lobby bob", "PARTED tiny bob"]
    joined(cy, "tiny", "ann cy")
    assert ann.recv_line() == "JOINED tiny cy"
    nothing_more(ann=ann, cy=cy)
    assert user("bob").nothing_more()                    # the nick is free again
