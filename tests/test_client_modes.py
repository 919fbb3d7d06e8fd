"""The terminal client and the room modes: /invite, /mode, /topic, and what MODE, 324, INVITE, 404 mean in words."""

import pytest

from selectchat.client.modes import mode_sentences
from selectchat.client.states import State
from selectchat.launch import start_server
from selectchat.client import Client
from test_client_session import feed, in_lobby, sent, shown


def test_invite_sends_the_room_we_are_in_and_says_what_came_back():
    session = in_lobby()
    assert sent(session.user_line("/invite carol")) == [b"INVITE carol #lobby\r\n"]
    assert shown(session.user_line("/invite")) == ["Usage: /invite NICK"]
    assert shown(feed(session, b":srv 341 alice carol #lobby")) == ["You invited carol to #lobby."]
    assert shown(feed(session, b":srv 443 alice carol #lobby :is already in that room")) == ["is already in that room"]


def test_an_invitation_says_how_to_accept_it():
    session = in_lobby()
    assert shown(feed(session, b":bob!b@h INVITE alice #secret")) == [
        "bob invites you to #secret: /join #secret to go there."]


def test_mode_and_topic_for_room_operators():
    session = in_lobby()
    assert sent(session.user_line("/mode +mv bob bob")) == [b"MODE #lobby +mv bob bob\r\n"]
    assert sent(session.user_line("/mode #other +b spam")) == [b"MODE #other +b spam\r\n"]
    assert sent(session.user_line("/topic rules: be kind")) == [b"TOPIC #lobby :rules: be kind\r\n"]


@pytest.mark.parametrize("line, said", [
    (b":srv 324 alice #lobby +ntl 5",
     "#lobby is: only members may talk, only operators set the topic, limit 5."),
    (b":srv 324 alice #lobby +",
     "#lobby is: public, no limit."),
    (b":bob!b@h MODE #lobby +mv alice",
     "#lobby now: moderated: only operators and voiced members talk, "
     "alice is allowed to talk when moderated (voice) (set by bob)"),
    (b":bob!b@h MODE #lobby -t+ib carol!*@*",
     "#lobby now: anyone in it may set the topic, invite only, carol!*@* is banned (set by bob)"),
    (b":srv MODE #lobby +s-I x!*@*",
     "#lobby now: secret, x!*@* needs an invitation again (set by the operator)"),
    (b":srv 367 alice #lobby spam!*@* bob!b@h 1700000000", "#lobby bans spam!*@*."),
])
def test_modes_are_said_in_words(line, said):
    assert shown(feed(in_lobby(), line)) == [said]


def test_refused_in_a_moderated_room_is_not_told_it_is_outside():
    session = in_lobby()
    assert "moderated" in shown(feed(session, b":srv 404 alice #lobby :Cannot send to room (+m)"))[0]
    assert "You are not in #elsewhere" in shown(feed(session, b":srv 404 alice #elsewhere :Cannot send"))[0]


@pytest.mark.parametrize("numeric, words", [(b"473", "invite only"), (b"474", "banned")])
def test_a_join_refused_by_invite_only_or_a_ban_goes_back_to_the_room(numeric, words):
    session = in_lobby()
    session.user_line("/join #closed")
    assert session.state is State.JOINING
    effects = feed(session, b":srv " + numeric + b" alice #closed :Cannot join")
    assert words in shown(effects)[0]
    assert session.state is State.CHATTING and session.room == "#lobby"


def test_unknown_letters_are_shown_as_they_are():
    assert mode_sentences("+Z-q", []) == ["+Z", "-q"]


def test_names_of_the_blocking_client_drop_the_voice_prefix():
    with start_server() as server, Client(*server.address, "alice") as alice, \
            Client(*server.address, "bob") as bob:
        alice.join("#r")
        bob.join("#r")
        alice.send("MODE #r +v bob")
        alice.expect("MODE")
        assert sorted(alice.names("#r")) == ["alice", "bob"]
