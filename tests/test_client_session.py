"""The terminal client's session alone: lines in, effects out (no socket, no terminal).

Each test walks the state machine of ``selectchat.client.states`` through a
path a person (or a clumsy script) takes, and checks what would be sent and shown.
"""

import pytest

from selectchat import irc
from selectchat.client.commands import fold, split_command, split_text
from selectchat.client.session import Connect, Exit, Prompt, Send, Session, Show
from selectchat.client.states import TRANSITIONS, State
from selectchat.net.framing import TOO_LONG

LIST_LOBBY_STAFF = [b":srv 322 alice #lobby 1 :[+l 5] chat here", b":srv 322 alice #staff 0 :[+kl 3]",
                    b":srv 323 alice :End of /LIST"]


def shown(effects):
    return [e.text for e in effects if isinstance(e, Show)]


def sent(effects):
    return [e.data for e in effects if isinstance(e, Send)]


def prompts(effects):
    return [e for e in effects if isinstance(e, Prompt)]


def feed(session, *lines):
    effects = []
    for line in lines:
        effects += session.server_line(line)
    return effects


def registered_session(**kwargs):
    session = Session("127.0.0.1", 6667, "alice", **kwargs)
    effects = session.start()
    assert shown(effects)[0] == "Type /help for the commands."          # the hint at start
    assert any(isinstance(e, Connect) for e in effects) and sent(effects)[0] == b"NICK alice\r\n"
    assert session.state is State.REGISTERING
    return session, feed(session, b":srv 001 alice :Welcome", b":srv 376 alice :End of /MOTD command.")


def at_room_question():
    session, effects = registered_session()
    assert sent(effects) == [b"LIST\r\n"] and session.state is State.LISTING
    effects = feed(session, *LIST_LOBBY_STAFF)
    assert session.state is State.ASK_ROOM and prompts(effects)[-1].question
    assert any("#lobby" in line and "chat here" in line for line in shown(effects))   # topics listed
    return session


def in_lobby():
    session, _ = registered_session(room="#lobby")
    feed(session, b":alice!alice@127.0.0.1 JOIN #lobby", b":srv 353 alice = #lobby :@alice bob",
         b":srv 366 alice #lobby :End of /NAMES list")
    assert session.state is State.CHATTING and session.room == "#lobby"
    return session


def test_every_state_has_a_row_and_every_move_stays_in_the_table():
    assert set(TRANSITIONS) == set(State)
    session = in_lobby()
    with pytest.raises(RuntimeError):       # CHATTING -> ASK_HOST is no legal move
        session._go(State.ASK_HOST)


def test_typed_lines_wait_for_the_reply_they_depend_on():
    session, effects = registered_session()
    assert session.user_line("lobby") == [] and session.user_line("hi") == []   # waiting for the list
    effects = feed(session, *LIST_LOBBY_STAFF)
    assert sent(effects) == [b"JOIN #lobby\r\n"]                  # "hi" still waits: for the JOIN
    effects = feed(session, b":alice!a@h JOIN #lobby", b":srv 353 alice = #lobby :@alice",
                   b":srv 366 alice #lobby :End of /NAMES list")
    assert sent(effects) == [b"PRIVMSG #lobby hi\r\n"]


@pytest.mark.parametrize("typed", ["LIST", "list", "JOIN #lobby", "join lobby", "NAMES"])
def test_the_room_question_never_makes_a_room_from_an_irc_command(typed):
    session = at_room_question()
    effects = session.user_line(typed)
    assert sent(effects) == [] and session.state is State.ASK_ROOM
    assert "is an IRC command" in shown(effects)[0]


def test_the_room_question_asks_before_making_a_room_and_keeps_its_key():
    session = at_room_question()
    effects = session.user_line("newroom sesame")
    assert sent(effects) == [] and session.state is State.CONFIRM_CREATE
    assert prompts(effects)[-1].text == "There is no #newroom in the list. Make it? (y/n) "
    effects = session.user_line("n")                              # no: nothing made, asked again
    assert sent(effects) == [] and session.state is State.ASK_ROOM
    session.user_line("newroom sesame")
    assert sent(session.user_line("y")) == [b"JOIN #newroom\r\n"]
    effects = feed(session, b":alice!alice@h JOIN #newroom", b":srv 353 alice = #newroom :@alice",
                   b":srv 366 alice #newroom :End")
    assert sent(effects) == [b"MODE #newroom +k sesame\r\n"]      # the key is not dropped


def test_the_room_question_takes_numbers_names_in_any_case_and_commands():
    session = at_room_question()
    assert shown(session.user_line("3")) == ["There is no room number 3 in the list."]
    assert sent(session.user_line("/list")) == [b"LIST\r\n"]      # a command at the question
    feed(session, *LIST_LOBBY_STAFF)
    assert sent(session.user_line("LOBBY")) == [b"JOIN #lobby\r\n"]


def test_a_private_room_gets_a_masked_key_question_and_the_key_never_shows():
    session = at_room_question()
    effects = session.user_line("2")                              # #staff: private in the list
    assert prompts(effects) == [Prompt("#staff is private. Its key: ", question=True, secret=True)]
    assert sent(session.user_line("s3cret")) == [b"JOIN #staff s3cret\r\n"]


def test_475_without_the_list_asks_for_the_key_masked():
    session = in_lobby()
    assert sent(session.user_line("/join #hidden")) == [b"JOIN #hidden\r\n"]   # not in any list seen
    effects = feed(session, b":srv 475 alice #hidden :Cannot join channel (+k)")
    assert shown(effects) == ["#hidden is private."]
    assert prompts(effects) == [Prompt("#hidden is private. Its key: ", question=True, secret=True)]
    assert session.state is State.ASK_KEY
    effects = session.user_line("wrong")                          # the answer is the key, not a chat line
    assert sent(effects) == [b"JOIN #hidden wrong\r\n"]
    effects = feed(session, b":srv 475 alice #hidden :Cannot join channel (+k)")
    assert shown(effects) == ["#hidden is private, and that key is not the right one."]
    effects = session.user_line("")                               # give up: back in the room
    assert session.state is State.CHATTING and prompts(effects)[-1] == Prompt("#lobby> ")
    assert sent(session.user_line("still here")) == [b"PRIVMSG #lobby :still here\r\n"]


def test_refused_join_lists_the_rooms_again():
    session, _ = registered_session(room="#small")
    effects = feed(session, b":srv 471 alice #small :Cannot join room (+l)")
    assert shown(effects) == ["#small is full."] and sent(effects) == [b"LIST\r\n"]
    assert feed(session, TOO_LONG, b"", b":srv 322 alice #x notanumber :") == []   # ignored
    assert session.state is State.LISTING


def test_long_text_is_cut_so_each_relayed_line_fits_512_bytes():
    session = in_lobby()
    prefix = session.prefix
    assert prefix == "alice!alice@127.0.0.1"                      # learnt from our JOIN
    text = "é" * 500 + " " + "word " * 60
    lines = sent(session.user_line(text))
    assert len(lines) >= 3
    pieces = [irc.parse(line.decode().rstrip("\r\n")).params[1] for line in lines]
    assert "".join(pieces) == text
    for piece in pieces:        # as relayed: :prefix PRIVMSG #lobby :piece\r\n
        assert len(irc.format_line(prefix, "PRIVMSG", "#lobby", piece)) <= 512
    assert len(irc.format_line(prefix, "PRIVMSG", "#lobby", pieces[0])) > 500    # and not much less


@pytest.mark.parametrize("command,target,wrap", [("/msg bob ", "bob", ""), ("/me ", "#lobby", "ACTION ")])
def test_msg_and_me_are_cut_like_room_messages(command, target, wrap):
    session = in_lobby()
    text = "日本語" * 200                                          # 1800 bytes
    lines = sent(session.user_line(command + text))
    params = [irc.parse(line.decode().rstrip("\r\n")).params for line in lines]
    assert len(lines) == 4 and all(p[0] == target for p in params)
    assert "".join(p[1].removeprefix("\x01ACTION ").removesuffix("\x01") for p in params) == text
    assert all(len(irc.format_line(session.prefix, "PRIVMSG", target, p[1])) <= 512 for p in params)
    assert all(p[1].startswith("\x01" + wrap) for p in params) if wrap else True


def test_before_our_prefix_is_known_the_cut_assumes_the_longest_host():
    session = in_lobby()
    session.prefix = None
    longest = f"alice!alice@{'h' * 63}"
    for line in sent(session.user_line("/msg bob " + "x" * 1000)):
        piece = irc.parse(line.decode().rstrip("\r\n")).params[1]
        assert len(irc.format_line(longest, "PRIVMSG", "bob", piece)) <= 512


def test_double_slash_sends_a_line_starting_with_a_slash():
    session = in_lobby()
    assert sent(session.user_line("//etc/passwd is a file")) == [b"PRIVMSG #lobby :/etc/passwd is a file\r\n"]
    assert split_command("//x") is None and split_command("/WHO #a") == ("names", "#a")


def test_operator_commands_topic_names_kick_mode():
    session = in_lobby()
    assert sent(session.user_line("/topic")) == [b"TOPIC #lobby\r\n"]
    assert sent(session.user_line("/topic quiz friday")) == [b"TOPIC #lobby :quiz friday\r\n"]
    assert sent(session.user_line("/kick bob too loud")) == [b"KICK #lobby bob :too loud\r\n"]
    assert sent(session.user_line("/mode +o bob")) == [b"MODE #lobby +o bob\r\n"]
    assert sent(session.user_line("/mode")) == [b"MODE #lobby\r\n"]
    assert sent(session.user_line("/names")) == [b"NAMES #lobby\r\n"]
    effects = feed(session, b":srv 353 alice = #lobby :@alice bob", b":srv 366 alice #lobby :End")
    assert shown(effects) == ["In #lobby: @alice, bob."]          # operators marked
    assert shown(feed(session, b":srv 324 alice #lobby +l 5")) == ["#lobby is: limit 5."]
    assert shown(feed(session, b":srv 482 alice #lobby :You're not channel operator")) == \
        ["Only an operator of #lobby may do that."]


def test_notice_is_shown_apart_from_a_message():
    session = in_lobby()
    (notice,) = [e for e in feed(session, b":bob!b@h NOTICE alice :heads up") if isinstance(e, Show)]
    (message,) = [e for e in feed(session, b":bob!b@h PRIVMSG alice :heads up") if isinstance(e, Show)]
    assert (notice.kind, message.kind) == ("notice", "private")


def test_help_lists_every_command():
    session = in_lobby()
    text = "\n".join(shown(session.user_line("/HELP")))
    for name in ("list", "join", "part", "names", "topic", "msg", "me", "nick", "create", "kick", "mode",
                 "quit", "help"):
        assert f"/{name}" in text
    assert "//TEXT" in text


def test_completion_candidates_follow_the_room():
    session = in_lobby()
    assert {"alice", "bob"} <= set(session.completions())
    feed(session, b":carol!c@h JOIN #lobby")
    feed(session, b":bob!b@h PART #lobby")
    candidates = session.completions()
    assert "carol" in candidates and "bob" not in candidates and "#lobby" in candidates


def test_case_is_folded_the_irc_way_not_the_unicode_way():
    assert fold("ALICE[]") == "alice[]" and fold("Ä") == "Ä" and fold("\u212a") == "\u212a"  # Kelvin sign stays
    session = in_lobby()
    effects = feed(session, b":srv KICK #LOBBY ALICE :bye")          # A-Z only: this is us
    assert "You were removed from #LOBBY" in shown(effects)[0] and session.state is State.LISTING


def test_split_text_never_cuts_a_character():
    for piece in split_text("ü" * 301, 101):
        assert len(piece.encode()) <= 101
    assert split_text("", 40) == [""]


def test_ping_is_answered_ctrl_c_quits_and_end_of_input_waits_for_answers():
    session = in_lobby()
    assert sent(session.server_line(b"PING :srv")) == [b"PONG srv\r\n"]
    assert sent(session.user_line("/names")) == [b"NAMES #lobby\r\n"]
    assert sent(session.end_of_input()) == [b"PING end-of-input\r\n"]      # not yet QUIT
    effects = feed(session, b":srv 366 alice #lobby :End", b":srv PONG srv end-of-input")
    assert sent(effects) == [b"QUIT Leaving\r\n"] and effects[-1] == Exit(0)
    other = in_lobby()
    effects = other.interrupted()
    assert sent(effects) == [b"QUIT Interrupted\r\n"] and effects[-1] == Exit(0)


def test_a_broken_connection_is_said_with_its_reason():
    session = in_lobby()
    effects = session.server_closed("Connection reset by peer")
    assert shown(effects) == ["The server closed the connection: Connection reset by peer"]
    assert effects[-1] == Exit(1)


def test_our_new_nick_keeps_the_prefix_length_right():
    session = in_lobby()
    feed(session, b":alice!alice@127.0.0.1 NICK :alexandra_the_great")
    assert session.nick == "alexandra_the_great" and session.prefix == "alexandra_the_great!alice@127.0.0.1"
    for line in sent(session.user_line("x" * 600)):
        piece = irc.parse(line.decode().rstrip("\r\n")).params[1]
        assert len(irc.format_line(session.prefix, "PRIVMSG", "#lobby", piece)) <= 512


def test_a_part_we_did_not_ask_for_still_leads_to_the_room_question():
    session = in_lobby()
    effects = feed(session, b":alice!alice@127.0.0.1 PART #lobby :gone")
    assert session.room is None and session.state is State.LISTING and sent(effects) == [b"LIST\r\n"]


TYPED = ["", "lobby", "2", "9", "LIST", "JOIN #lobby", "y", "n", "newroom k", "s3cret", "hello", "/list",
         "/join #staff", "/join lobby", "/part", "/names", "/topic t", "/msg bob hi", "/me waves", "/nick bo b",
         "/nick carol", "/create #lab 2 key", "/create x", "/kick bob", "/mode +l 3", "/mode", "//x", "/frob",
         "/help", "/quit"]
FROM_SERVER = [b":srv 001 alice :hi", b":srv 376 alice :end", b":srv 433 * alice :taken", b":srv 464 * :pw",
               *LIST_LOBBY_STAFF, b":srv 323 alice :End", b":alice!a@h JOIN #lobby", b":alice!a@h JOIN #staff",
               b":srv 353 alice = #lobby :@alice bob", b":srv 366 alice #lobby :End",
               b":srv 366 alice #staff :End", b":srv 366 alice #lab :End", b":srv 471 alice #lobby :full",
               b":srv 475 alice #staff :key", b":srv 403 alice #x :no", b":alice!a@h PART #lobby",
               b":srv KICK #lobby alice :out", b":srv 442 alice #lobby :not on", b"PING :x",
               b":srv PONG srv end-of-input", b":bob!b@h PRIVMSG #lobby :\x01ACTION x\x01",
               b":bob!b@h NOTICE alice :n", b":srv 324 alice #lobby +kl 3", b":srv MODE #lobby +o bob",
               b":srv 482 alice #lobby :no", b"ERROR :Closing Link: x (bye)", b":x 322 alice", b":", b"001"]


@pytest.mark.parametrize("seed", range(40))
def test_no_order_of_typed_and_server_lines_leaves_the_state_table(seed):
    """A clumsy person and an odd server, in any order: never an illegal move, never a crash."""
    import random
    chance = random.Random(seed)
    session = Session(None, None, None)
    session.start()
    for _ in range(300):
        roll = chance.random()
        if roll < 0.45:
            session.user_line(chance.choice(TYPED + ["127.0.0.1", "6667", "alice"]))
        elif roll < 0.97:
            line = chance.choice(FROM_SERVER)
            if chance.random() < 0.3:                 # cut short: a server we do not know
                line = line[:chance.randrange(len(line) + 1)]
            session.server_line(line)
        elif roll < 0.98:
            session.end_of_input()
        elif session.connected:                   # (only a connection can close)
            session.server_closed("reset")
        assert session.state in TRANSITIONS


def test_an_absurdly_long_target_is_refused_not_looped_on():
    session = in_lobby()
    effects = session.user_line("/msg " + "n" * 600 + " hello")
    assert sent(effects) == [] and "too long a name" in shown(effects)[0]
    with pytest.raises(ValueError):
        split_text("abc", 3)


def test_every_command_in_the_table_has_a_method_and_every_method_a_row():
    from selectchat.client.commands import ALIASES, COMMANDS
    methods = {name[4:] for name in dir(Session) if name.startswith("cmd_")}
    assert methods == {command.name for command in COMMANDS}
    assert set(ALIASES.values()) <= methods


def test_docs_client_md_maps_every_state_and_its_moves():
    import pathlib
    docs = (pathlib.Path(__file__).parent.parent / "docs" / "client.md").read_text()
    for state in State:
        row = next(line for line in docs.splitlines() if line.startswith(f"| `{state.name}` |"))
        moves = row.rstrip(" |").rsplit("|", 1)[1]
        assert {m.strip() for m in moves.split(",") if m.strip() != "—"} == {s.name for s in TRANSITIONS[state]}
