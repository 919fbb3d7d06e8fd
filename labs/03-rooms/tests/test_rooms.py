"""Grading tests for lab 03: rooms with limits.  Run them: python -m pytest"""

import socket
import struct

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


@pytest.fixture
def server(start):
    program = start("server.py", "--room", "lobby:10", "--room", "tiny:2")
    program.address = program.wait_ready()
    return program


@pytest.fixture
def user(server, connect):
    """``user("ann")``: a connection that has set its nick."""
    def make(nick):
        peer = connect(server.address)
        peer.send(f"NICK {nick}\n")
        assert peer.recv_line() == f"OK NICK {nick}"
        return peer
    return make


@server_
def test_two_clients_chat_through_the_server(user):
    ann, bob = user("ann"), user("bob")
    ann.send("JOIN lobby\n")
    assert ann.recv_line() == "OK JOIN lobby ann"
    bob.send("JOIN lobby\n")
    assert bob.recv_line() == "OK JOIN lobby ann bob"
    assert ann.recv_line() == "JOINED lobby bob"
    ann.send("SAY lobby hi bob\n")
    assert bob.recv_line() == "MSG lobby ann hi bob"
    assert ann.nothing_more()


@server_
def test_commands_split_and_merged_over_tcp(user):
    """Two commands in one send, and one command in three sends."""
    ann = user("ann")
    ann.send("JOIN lobby\nLI")
    assert ann.recv_line() == "OK JOIN lobby ann"
    ann.send("S")
    ann.send("T\n")
    assert [ann.recv_line() for _ in range(3)] == ["ROOM lobby 1 10", "ROOM tiny 0 2", "OK LIST"]


@server_
def test_a_vanished_client_frees_its_seat_and_the_server_goes_on(user):
    """A client reset mid-chat: the others hear PARTED, the seat is free, the server serves on."""
    ann, bob = user("ann"), user("bob")
    for peer, expected in ((ann, "OK JOIN tiny ann"), (bob, "OK JOIN tiny ann bob")):
        peer.send("JOIN tiny\n")
        assert peer.recv_line() == expected
    assert ann.recv_line() == "JOINED tiny bob"
    cy = user("cy")
    cy.send("JOIN tiny\n")
    assert cy.recv_line() == "ERR FULL tiny"
    bob.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    bob.close()                                          # a reset, not a polite QUIT
    assert ann.recv_line() == "PARTED tiny bob"
    cy.send("JOIN tiny\n")
    assert cy.recv_line() == "OK JOIN tiny ann cy"
    assert user("bob").nothing_more()                    # the nick is free again
