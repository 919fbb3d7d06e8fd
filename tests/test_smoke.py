"""The start-up contract and the most basic chat, end to end."""

from selectchat.client import Client, JoinRefused
from selectchat.launch import start_server


def test_first_line_and_clean_exit_on_eof():
    with start_server() as server:
        assert server.host == "127.0.0.1" and server.port > 0
    assert server.process.returncode == 0


def test_two_clients_chat_in_a_room(connect):
    alice, bob = connect("alice"), connect("bob")
    assert alice.join("#lobby") == ["alice"]
    assert bob.join("#lobby") == ["alice", "bob"]
    alice.say("#lobby", "a message with } and { in it")
    message = bob.expect("PRIVMSG")
    assert message.nick == "alice"
    assert message.params == ("#lobby", "a message with } and { in it")


def test_full_room_refuses_then_other_room_works():
    with start_server("--room", "small:1") as server:
        with Client(*server.address, "a") as a, Client(*server.address, "b") as b:
            a.join("#small")
            try:
                b.join("#small")
            except JoinRefused as refusal:
                assert refusal.numeric == "471"
            else:
                raise AssertionError("a full room let a second member in")
            assert b.join("#other") == ["b"]
