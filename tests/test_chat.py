"""The chat core, driven without sockets: lines in, effects out.

Connections are plain strings ("alice", "bob", ...).  :class:`Harness`
plays the server's part: it feeds lines to :class:`~selectchat.chat.Chat`,
collects what each connection would receive (parsed back into messages),
and notes which connections the core asked to close.  It also checks, for
every line the core produces, what the wire needs: one line, ``\\r\\n``
ended, at most 512 bytes, no NUL or stray CR/LF inside.
"""

from collections import defaultdict

import pytest

from selectchat import irc
from selectchat.chat import Chat, ChatError, Close, Event, Send, SendLater, Settings, operator
from selectchat.irc import parse
from selectchat.net.framing import TOO_LONG

HOST = "10.0.0.1"
SERVER = Settings().server_name


class Harness:
    """A chat core and the mailboxes of its connections."""

    def __init__(self, **settings):
        self.chat = Chat(Settings(**settings))
        self.now = 0.0
        self.inbox = defaultdict(list)   # conn -> [Message] not yet taken
        self.closed = []                 # conns the core asked to close, in order
        self.events = []                 # every Event, in order

    def apply(self, effects):
        for effect in effects:
            if isinstance(effect, SendLater):  # a long reply: all of it, as a client that reads gets it
                effect = Send((effect.conn,), b"".join(effect.lines))
            if isinstance(effect, Send):
                for data in effect.data.splitlines(keepends=True):
                    assert data.endswith(b"\r\n") and len(data) <= irc.MAX_LINE, data
                    assert not any(c in data[:-2] for c in b"\r\n\0"), data
                    for conn in effect.to:
                        if conn == effect.exclude:
                            continue
                        assert conn not in self.closed, f"{conn} was sent {data!r} after its Close"
                        self.inbox[conn].append(parse(data[:-2].decode("utf-8")))
            elif isinstance(effect, Close):
                self.closed.append(effect.conn)
            else:
                assert isinstance(effect, Event)
                self.events.append(effect)
        return effects

    # --- inputs ---------------------------------------------------------------

    def connect(self, conn):
        self.apply(self.chat.connect(conn, HOST, self.now))

    def send(self, conn, *lines):
        for line in lines:
            self.apply(self.chat.receive(conn, line.encode() if isinstance(line, str) else line, self.now))

    def register(self, conn, nick=None):
        """Connect and register ``conn`` (nickname ``nick``, default ``conn``); drop the welcome."""
        self.connect(conn)
        self.send(conn, f"NICK {nick or conn}", f"USER {nick or conn} 0 * :The Real {nick or conn}")
        assert irc.RPL_WELCOME in self.commands(conn)

    def tick(self, now):
        self.now = now
        self.apply(self.chat.tick(now))

    # --- outputs --------------------------------------------------------------

    def take(self, conn):
        """What ``conn`` received since the last take."""
        return self.inbox.pop(conn, [])

    def commands(self, conn):
        return [m.command for m in self.take(conn)]

    def reply(self, conn, command):
        """The one message ``command`` that ``conn`` received (the rest is dropped)."""
        found = [m for m in self.take(conn) if m.command == command]
        assert len(found) == 1, f"{conn} got {len(found)} {command} messages"
        return found[0]

    def event_kinds(self):
        return [e.kind for e in self.events]


def in_room(h, room, *nicks):
    """Register ``nicks`` and put them in ``room`` (the first one creates it); clear inboxes."""
    for nick in nicks:
        if nick not in h.chat.users:
            h.register(nick)
        h.send(nick, f"JOIN {room}")
    for nick in nicks:
        h.take(nick)


@pytest.fixture
def h():
    return Harness()


# --- registration ------------------------------------------------------------

WELCOME = [irc.RPL_WELCOME, irc.RPL_YOURHOST, irc.RPL_CREATED, irc.RPL_MYINFO, irc.RPL_ISUPPORT, irc.RPL_ISUPPORT,
           irc.RPL_LUSERCLIENT, irc.RPL_LUSERCHANNELS, irc.RPL_LUSERME, irc.RPL_LOCALUSERS, irc.RPL_GLOBALUSERS,
           irc.RPL_MOTDSTART, irc.RPL_MOTD, irc.RPL_MOTD, irc.RPL_ENDOFMOTD]


def test_nick_then_user_registers_with_the_welcome_burst(h):
    h.connect("c")
    h.send("c", "NICK alice")
    assert h.take("c") == []
    h.send("c", "USER al 0 * :Alice Liddell")
    messages = h.take("c")
    assert [m.command for m in messages] == WELCOME
    welcome = messages[0]
    assert welcome.prefix == SERVER
    assert welcome.params == ("alice", f"Welcome to the selectchat IRC network alice!al@{HOST}")
    isupport = messages[4].params + messages[5].params
    assert "CASEMAPPING=ascii" in isupport and "CHANMODES=beI,k,l,imnst" in isupport and "CHANTYPES=#" in isupport
    assert "PREFIX=(ov)@+" in isupport
    user = h.chat.users["c"]
    assert user.registered and user.nick == "alice" and user.username == "al" and user.realname == "Alice Liddell"
    assert "register" in h.event_kinds()


def test_user_then_nick_registers_too(h):
    h.connect("c")
    h.send("c", "USER al 0 * :Alice", "NICK alice")
    assert h.commands("c") == WELCOME


def test_no_motd_gives_422(h):
    h = Harness(motd=())
    h.connect("c")
    h.send("c", "NICK a", "USER a 0 * :a")
    assert irc.ERR_NOMOTD in h.commands("c")


def test_cap_negotiation_holds_registration_until_cap_end(h):
    h.connect("c")
    h.send("c", "CAP LS 302")
    cap = h.reply("c", "CAP")
    assert cap.params == ("*", "LS", "")
    h.send("c", "NICK alice", "USER alice 0 * :A")
    assert h.take("c") == []  # still negotiating
    h.send("c", "CAP REQ :multi-prefix")
    assert h.reply("c", "CAP").params == ("alice", "NAK", "multi-prefix")
    h.send("c", "CAP END")
    assert h.commands("c") == WELCOME


def test_cap_end_without_cap_ls_is_harmless(h):
    h.connect("c")
    h.send("c", "CAP END", "NICK a", "USER a 0 * :a")
    assert h.commands("c") == WELCOME


def test_right_password_registers():
    h = Harness(password="s3cret")
    h.connect("c")
    h.send("c", "PASS s3cret", "NICK alice", "USER alice 0 * :A")
    assert h.commands("c") == WELCOME


@pytest.mark.parametrize("lines", [
    ["PASS wrong", "NICK alice", "USER alice 0 * :A"],
    ["NICK alice", "USER alice 0 * :A"],  # no PASS at all
])
def test_wrong_or_missing_password_gets_464_error_and_close(lines):
    h = Harness(password="s3cret")
    h.connect("c")
    h.send("c", *lines)
    assert h.commands("c") == [irc.ERR_PASSWDMISMATCH, "ERROR"]
    assert h.closed == ["c"]
    assert "c" not in h.chat.users and "alice" not in h.chat.nicks
    # The nickname is free again for someone who knows the password.
    h.connect("d")
    h.send("d", "PASS s3cret", "NICK alice", "USER alice 0 * :A")
    assert irc.RPL_WELCOME in h.commands("d")


def test_pass_needs_a_parameter_and_only_before_registration():
    h = Harness(password="pw")
    h.connect("c")
    h.send("c", "PASS")
    assert h.reply("c", irc.ERR_NEEDMOREPARAMS).params[1] == "PASS"
    h.send("c", "PASS pw", "NICK a", "USER a 0 * :a")
    h.take("c")
    h.send("c", "PASS pw")
    assert h.commands("c") == [irc.ERR_ALREADYREGISTERED]


def test_user_twice_is_462(h):
    h.register("alice")
    h.send("alice", "USER x 0 * :x")
    assert h.commands("alice") == [irc.ERR_ALREADYREGISTERED]


def test_user_with_too_few_params_is_461(h):
    h.connect("c")
    h.send("c", "USER onlyone")
    message = h.reply("c", irc.ERR_NEEDMOREPARAMS)
    assert message.params == ("*", "USER", "Not enough parameters")


@pytest.mark.parametrize("line, numeric", [
    ("NICK", irc.ERR_NONICKNAMEGIVEN),
    ("NICK :", irc.ERR_NONICKNAMEGIVEN),
    ("NICK 9lives", irc.ERR_ERRONEUSNICKNAME),
    ("NICK #room", irc.ERR_ERRONEUSNICKNAME),
    ("NICK :two words", irc.ERR_ERRONEUSNICKNAME),
    ("NICK " + "n" * 31, irc.ERR_ERRONEUSNICKNAME),
])
def test_bad_nicknames(h, line, numeric):
    h.connect("c")
    h.send("c", line)
    assert h.commands("c") == [numeric]
    assert h.chat.users["c"].nick is None


def test_nickname_in_use_case_insensitively(h):
    h.register("alice")
    for taken in ("alice", "ALICE", "Alice"):
        h.connect("c")
        h.send("c", f"NICK {taken}")
        assert h.reply("c", irc.ERR_NICKNAMEINUSE).params[1] == taken
    assert h.chat.nicks["alice"].conn == "alice"


def test_a_nick_held_by_an_unregistered_connection_is_taken(h):
    h.connect("c")
    h.send("c", "NICK alice")
    h.connect("d")
    h.send("d", "NICK alice")
    assert h.commands("d") == [irc.ERR_NICKNAMEINUSE]


def test_nick_change_is_told_to_self_and_room_peers_only(h):
    in_room(h, "#r", "alice", "bob")
    h.register("carol")  # shares no room with alice
    h.send("alice", "NICK alicia")
    for conn in ("alice", "bob"):
        message = h.reply(conn, "NICK")
        assert message.prefix == f"alice!alice@{HOST}" and message.params == ("alicia",)
    assert h.take("carol") == []
    assert "alice" not in h.chat.nicks and h.chat.nicks["alicia"].conn == "alice"
    h.send("alice", "NICK Alicia")  # a change of case only is a change too
    assert h.reply("alice", "NICK").params == ("Alicia",)
    h.register("alice")  # the old nick is free
    h.send("carol", "NICK alicia")
    assert h.commands("carol") == [irc.ERR_NICKNAMEINUSE]


@pytest.mark.parametrize("line", ["JOIN #r", "PRIVMSG bob :hi", "LIST", "NAMES", "FOO", "MODE #r"])
def test_commands_before_registration_get_451(h, line):
    h.connect("c")
    h.send("c", line)
    message = h.reply("c", irc.ERR_NOTREGISTERED)
    assert message.params == ("*", "You have not registered")
    assert h.chat.rooms == {}


def test_ping_pong_and_quit_work_before_registration(h):
    h.connect("c")
    h.send("c", "PING :abc")
    assert h.reply("c", "PONG").params == (SERVER, "abc")
    h.send("c", "PONG :x")
    assert h.take("c") == []
    h.send("c", "QUIT")
    assert h.commands("c") == ["ERROR"] and h.closed == ["c"]


def test_unknown_command_is_421(h):
    h.register("alice")
    h.send("alice", "FROBNICATE now")
    assert h.reply("alice", irc.ERR_UNKNOWNCOMMAND).params == ("alice", "FROBNICATE", "Unknown command")


@pytest.mark.parametrize("line", ["", "   ", ":onlyprefix", ":prefix ", b"\x00\x00", b"\r"])
def test_junk_lines_are_ignored_silently(h, line):
    h.register("alice")
    h.send("alice", line)
    assert h.take("alice") == []
    assert h.chat.users["alice"].registered


def test_an_overlong_line_is_417_and_the_client_stays(h):
    h.register("alice")
    h.send("alice", TOO_LONG)
    assert h.reply("alice", irc.ERR_INPUTTOOLONG).params == ("alice", "Input line was too long")
    assert h.closed == []
    h.send("alice", "PING x")
    assert h.commands("alice") == ["PONG"]


def test_invalid_utf8_is_relayed_with_replacement_characters(h):
    in_room(h, "#r", "alice", "bob")
    h.send("alice", b"PRIVMSG #r :caf\xe9 \xff ok")
    assert h.reply("bob", "PRIVMSG").params == ("#r", "caf\ufffd \ufffd ok")


def test_nul_and_cr_inside_a_line_cannot_break_the_receivers_framing(h):
    in_room(h, "#r", "alice", "bob")
    h.send("alice", b"PRIVMSG #r :one\rQUIT\x00two")
    # The harness already checked the relayed bytes: no CR, LF or NUL inside.
    assert h.reply("bob", "PRIVMSG").params == ("#r", "one QUITtwo")
    assert "alice" in h.chat.users


@pytest.mark.parametrize("line", ["JOIN", "PART", "KICK #r", "MODE", "TOPIC"])
def test_missing_parameters_are_461(h, line):
    h.register("alice")
    h.send("alice", line)
    assert h.reply("alice", irc.ERR_NEEDMOREPARAMS).params == ("alice", line.split()[0], "Not enough parameters")


# --- joining and leaving --------------------------------------------------------

def test_join_creates_a_room_and_its_creator_is_operator(h):
    h.register("alice")
    h.send("alice", "JOIN #lobby")
    joined, names, end = h.take("alice")
    assert (joined.command, joined.prefix, joined.params) == ("JOIN", f"alice!alice@{HOST}", ("#lobby",))
    assert (names.command, names.params) == (irc.RPL_NAMREPLY, ("alice", "=", "#lobby", "@alice"))
    assert (end.command, end.params[:2]) == (irc.RPL_ENDOFNAMES, ("alice", "#lobby"))
    room = h.chat.rooms["#lobby"]
    assert room.members == {h.chat.users["alice"]: "o"} and not room.persistent
    assert "room-created" in h.event_kinds() and "join" in h.event_kinds()


def test_second_member_is_announced_and_not_operator(h):
    in_room(h, "#lobby", "alice")
    h.register("bob")
    h.send("bob", "JOIN #LOBBY")  # room names are case-insensitive
    assert h.reply("alice", "JOIN").prefix.startswith("bob!")
    messages = h.take("bob")
    assert [m.command for m in messages] == ["JOIN", irc.RPL_NAMREPLY, irc.RPL_ENDOFNAMES]
    assert messages[0].params == ("#lobby",)  # the room keeps its first spelling
    assert messages[1].params[-1] == "@alice bob"


def test_joining_a_room_twice_does_nothing(h):
    in_room(h, "#r", "alice", "bob")
    h.send("bob", "JOIN #r")
    assert h.take("bob") == [] and h.take("alice") == []


def test_join_a_comma_list_with_keys_by_position(h):
    operator.create_room(h.chat, "#a", key="ka")
    operator.create_room(h.chat, "#b", key="kb")
    h.register("bob")
    h.send("bob", "JOIN #a,#b kb,ka")
    assert h.commands("bob") == [irc.ERR_BADCHANNELKEY, irc.ERR_BADCHANNELKEY]
    h.send("bob", "JOIN #a,#b,#c ka,kb")
    assert [m.params[0] for m in h.take("bob") if m.command == "JOIN"] == ["#a", "#b", "#c"]
    assert set(h.chat.users["bob"].rooms) == {"#a", "#b", "#c"}


def test_wrong_or_missing_key_is_475_right_key_joins(h):
    operator.create_room(h.chat, "#vault", key="s3cret")
    h.register("bob")
    for line in ("JOIN #vault", "JOIN #vault nope"):
        h.send("bob", line)
        message = h.reply("bob", irc.ERR_BADCHANNELKEY)
        assert message.params[:2] == ("bob", "#vault")
    h.send("bob", "JOIN #vault s3cret")
    assert "JOIN" in h.commands("bob")
    assert "refused" in h.event_kinds()


def test_full_room_is_471(h):
    operator.create_room(h.chat, "#small", limit=2)
    in_room(h, "#small", "a", "b")
    h.register("c")
    h.send("c", "JOIN #small")
    message = h.reply("c", irc.ERR_CHANNELISFULL)
    assert message.params[:2] == ("c", "#small") and "2" in message.params[2]
    assert len(h.chat.rooms["#small"].members) == 2
    h.send("a", "PART #small")
    h.send("c", "JOIN #small")
    assert "JOIN" in h.commands("c")


@pytest.mark.parametrize("name", ["lobby", "#", "#a:b", "#" + "x" * 50, "#bell\x07"])
def test_bad_room_names_are_476(h, name):
    h.register("alice")
    h.send("alice", f"JOIN {name}")
    assert h.commands("alice") == [irc.ERR_BADCHANMASK]
    assert h.chat.rooms == {}


def test_too_many_rooms_is_405():
    h = Harness(max_rooms_per_user=2)
    h.register("alice")
    h.send("alice", "JOIN #a,#b,#c")
    assert h.commands("alice").count(irc.ERR_TOOMANYCHANNELS) == 1
    assert set(h.chat.users["alice"].rooms) == {"#a", "#b"}


def test_join_0_leaves_every_room(h):
    in_room(h, "#a", "alice", "bob")
    in_room(h, "#b", "alice")
    h.send("alice", "JOIN 0")
    parts = [m for m in h.take("alice") if m.command == "PART"]
    assert sorted(m.params[0] for m in parts) == ["#a", "#b"]
    assert h.reply("bob", "PART").prefix.startswith("alice!")
    assert h.chat.users["alice"].rooms == {}
    assert set(h.chat.rooms) == {"#a"}  # #b had only alice: gone


def test_part_tells_the_room_with_the_reason(h):
    in_room(h, "#r", "alice", "bob")
    h.send("bob", "PART #r :off to lunch")
    for conn in ("alice", "bob"):
        message = h.reply(conn, "PART")
        assert message.prefix.startswith("bob!") and message.params == ("#r", "off to lunch")
    assert h.chat.users["bob"].rooms == {}


def test_part_a_comma_list_and_a_room_one_is_not_in(h):
    in_room(h, "#a", "alice")
    in_room(h, "#b", "bob")
    h.send("alice", "PART #a,#b")
    messages = h.take("alice")
    assert [m.command for m in messages] == ["PART", irc.ERR_NOTONCHANNEL]
    assert "bob" in [m.nick for m in h.chat.rooms["#b"].members]


def test_client_rooms_vanish_when_the_last_member_leaves(h):
    in_room(h, "#tmp", "alice", "bob")
    h.send("alice", "PART #tmp")
    assert "#tmp" in h.chat.rooms
    h.send("bob", "QUIT")
    assert "#tmp" not in h.chat.rooms
    assert "room-gone" in h.event_kinds()


def test_operator_rooms_persist_empty_and_nobody_is_their_operator(h):
    operator.create_room(h.chat, "#keep", limit=5)
    in_room(h, "#keep", "alice", "bob")
    room = h.chat.rooms["#keep"]
    assert set(room.members.values()) == {""}
    h.send("alice", "PART #keep")
    h.send("bob", "QUIT")
    assert h.chat.rooms["#keep"] is room and room.members == {} and room.limit == 5


def test_without_client_rooms_join_of_an_unknown_room_is_403():
    h = Harness(client_rooms=False)
    operator.create_room(h.chat, "#lobby")
    h.register("alice")
    h.send("alice", "JOIN #new")
    assert h.reply("alice", irc.ERR_NOSUCHCHANNEL).params[:2] == ("alice", "#new")
    assert set(h.chat.rooms) == {"#lobby"}
    h.send("alice", "JOIN #lobby")
    assert "JOIN" in h.commands("alice")


@pytest.mark.parametrize("line", ["MODE #nope", "MODE #nope +l 3", "TOPIC #nope", "TOPIC #nope :x",
                                  "PART #nope", "KICK #nope bob"])
def test_asking_about_an_unknown_room_is_403_and_never_creates_it(h, line):
    h.register("alice")
    h.send("alice", line)
    assert h.reply("alice", irc.ERR_NOSUCHCHANNEL).params[:2] == ("alice", "#nope")
    assert h.chat.rooms == {}


def test_names_and_list_of_an_unknown_room_do_not_create_it(h):
    h.register("alice")
    h.send("alice", "NAMES #nope")
    assert [(m.command, m.params[1]) for m in h.take("alice")] == [(irc.RPL_ENDOFNAMES, "#nope")]
    h.send("alice", "LIST #nope")
    assert h.commands("alice") == [irc.RPL_LISTSTART, irc.RPL_LISTEND]
    assert h.chat.rooms == {}


# --- talking -----------------------------------------------------------------

def test_privmsg_to_a_room_reaches_every_other_member_once(h):
    in_room(h, "#r", "alice", "bob", "carol")
    h.register("dave")  # not in the room
    h.send("alice", "PRIVMSG #r :hello :) everyone")
    for conn in ("bob", "carol"):
        message = h.reply(conn, "PRIVMSG")
        assert message.prefix == f"alice!alice@{HOST}" and message.params == ("#r", "hello :) everyone")
    assert h.take("alice") == [] and h.take("dave") == []
    event = next(e for e in h.events if e.kind == "message")
    assert event.sender == "alice" and event.recipients == 2


def test_room_messages_keep_their_order(h):
    in_room(h, "#r", "alice", "bob")
    for i in range(20):
        h.send("alice", f"PRIVMSG #r :message {i}")
    assert [m.params[1] for m in h.take("bob")] == [f"message {i}" for i in range(20)]


def test_private_message_reaches_only_its_target(h):
    in_room(h, "#r", "alice", "bob", "carol")
    h.send("alice", "PRIVMSG BOB :just for you")
    assert h.reply("bob", "PRIVMSG").params == ("bob", "just for you")
    assert h.take("carol") == [] and h.take("alice") == []
    private = next(e for e in h.events if e.kind == "private")
    assert "just for you" not in private.text  # private text stays out of the log


def test_privmsg_to_several_targets_is_capped(h):
    for nick in "abcdef":
        h.register(nick)
    h.send("a", "PRIVMSG b,c,d,e,f :hi all")
    assert [nick for nick in "bcdef" if h.take(nick)] == ["b", "c", "d", "e"]


@pytest.mark.parametrize("line, numeric", [
    ("PRIVMSG", irc.ERR_NORECIPIENT),
    ("PRIVMSG bob", irc.ERR_NOTEXTTOSEND),
    ("PRIVMSG bob :", irc.ERR_NOTEXTTOSEND),
    ("PRIVMSG ghost :hi", irc.ERR_NOSUCHNICK),
    ("PRIVMSG #nowhere :hi", irc.ERR_NOSUCHNICK),
    ("PRIVMSG #other :hi", irc.ERR_CANNOTSENDTOCHAN),
    ("PRIVMSG pending :hi", irc.ERR_NOSUCHNICK),  # a nick not yet registered
])
def test_privmsg_errors(h, line, numeric):
    in_room(h, "#other", "bob")
    h.connect("p")
    h.send("p", "NICK pending")
    h.register("alice")
    h.send("alice", line)
    assert h.commands("alice") == [numeric]
    assert h.take("bob") == [] and h.take("p") == []


def test_notice_is_delivered_like_privmsg(h):
    in_room(h, "#r", "alice", "bob")
    h.send("alice", "NOTICE #r :room notice", "NOTICE bob :private notice")
    assert [(m.command, m.params) for m in h.take("bob")] == [
        ("NOTICE", ("#r", "room notice")), ("NOTICE", ("bob", "private notice"))]


@pytest.mark.parametrize("line", ["NOTICE", "NOTICE bob", "NOTICE ghost :x", "NOTICE #nowhere :x", "NOTICE #other :x"])
def test_notice_is_never_answered_with_an_error(h, line):
    in_room(h, "#other", "bob")
    h.register("alice")
    h.send("alice", line)
    assert h.take("alice") == []


# --- looking around --------------------------------------------------------------

def test_names_of_a_room_marks_operators(h):
    in_room(h, "#r", "alice", "bob")
    h.register("carol")
    h.send("carol", "NAMES #r")  # no need to be a member
    names, end = h.take("carol")
    assert names.params == ("carol", "=", "#r", "@alice bob")
    assert end.command == irc.RPL_ENDOFNAMES


def test_names_without_a_room_lists_every_room_then_one_end(h):
    in_room(h, "#a", "alice")
    in_room(h, "#b", "bob")
    h.send("alice", "NAMES")
    messages = h.take("alice")
    assert [(m.command, m.params[2] if m.command == irc.RPL_NAMREPLY else m.params[1]) for m in messages] == [
        (irc.RPL_NAMREPLY, "#a"), (irc.RPL_NAMREPLY, "#b"), (irc.RPL_ENDOFNAMES, "*")]


def test_names_of_a_big_room_is_split_into_short_lines(h):
    nicks = [f"user{i:02d}_{'x' * 20}" for i in range(40)]
    in_room(h, "#big", *nicks)
    h.send(nicks[0], "NAMES #big")
    replies = [m for m in h.take(nicks[0]) if m.command == irc.RPL_NAMREPLY]
    assert len(replies) > 1
    assert [n.lstrip("@") for m in replies for n in m.params[-1].split()] == nicks


def test_list_shows_occupancy_limit_key_and_topic(h):
    operator.create_room(h.chat, "#both", limit=10, key="k")
    operator.create_room(h.chat, "#limited", limit=5)
    operator.create_room(h.chat, "#private", key="k")
    in_room(h, "#plain", "alice", "bob")
    h.send("alice", "TOPIC #plain :the topic")
    h.register("carol")
    h.send("carol", "LIST")
    messages = h.take("carol")
    assert messages[0].command == irc.RPL_LISTSTART and messages[-1].command == irc.RPL_LISTEND
    rows = {m.params[1]: m.params[2:] for m in messages[1:-1]}
    assert rows == {"#both": ("0", "[+kl 10]"), "#limited": ("0", "[+l 5]"),
                    "#private": ("0", "[+k]"), "#plain": ("2", "[+] the topic")}
    assert all(m.command == irc.RPL_LIST for m in messages[1:-1])


def test_list_of_some_rooms(h):
    operator.create_room(h.chat, "#a")
    operator.create_room(h.chat, "#b", limit=3)
    h.register("alice")
    h.send("alice", "LIST #B,#nope")
    messages = h.take("alice")
    assert [(m.command, m.params[1:]) for m in messages[1:-1]] == [(irc.RPL_LIST, ("#b", "0", "[+l 3]"))]


def test_who_of_a_room_and_of_a_nick(h):
    in_room(h, "#r", "alice", "bob")
    h.send("bob", "WHO #r")
    messages = h.take("bob")
    assert [m.command for m in messages] == [irc.RPL_WHOREPLY, irc.RPL_WHOREPLY, irc.RPL_ENDOFWHO]
    assert messages[0].params == ("bob", "#r", "alice", HOST, SERVER, "alice", "H@", "0 The Real alice")
    assert messages[1].params[5:7] == ("bob", "H")
    h.send("bob", "WHO alice")
    messages = h.take("bob")
    assert [m.command for m in messages] == [irc.RPL_WHOREPLY, irc.RPL_ENDOFWHO]
    assert messages[0].params[1] == "*"
    h.send("bob", "WHO ghost")
    assert h.commands("bob") == [irc.RPL_ENDOFWHO]


def test_whois(h):
    in_room(h, "#r", "alice", "bob")
    h.send("bob", "WHOIS alice")
    messages = h.take("bob")
    assert [m.command for m in messages] == [irc.RPL_WHOISUSER, irc.RPL_WHOISCHANNELS,
                                             irc.RPL_WHOISSERVER, irc.RPL_ENDOFWHOIS]
    assert messages[0].params == ("bob", "alice", "alice", HOST, "*", "The Real alice")
    assert messages[1].params == ("bob", "alice", "@#r")
    h.send("bob", "WHOIS ghost")
    assert h.commands("bob") == [irc.ERR_NOSUCHNICK, irc.RPL_ENDOFWHOIS]
    h.send("bob", "WHOIS")
    assert h.commands("bob") == [irc.ERR_NONICKNAMEGIVEN]


def test_userhost_lists_registered_users_only(h):
    h.register("alice")
    h.register("bob")
    h.connect("p")
    h.send("p", "NICK pending")  # has a nick but no USER yet
    h.send("alice", "USERHOST bob ghost pending")
    assert h.reply("alice", irc.RPL_USERHOST).params == ("alice", f"bob=+bob@{HOST}")
    h.send("alice", "ISON bob pending ghost")
    assert h.reply("alice", irc.RPL_ISON).params == ("alice", "bob")


# --- topics, modes, operators ----------------------------------------------------

def test_topic_query_set_and_shown_on_join(h):
    in_room(h, "#r", "alice", "bob")
    h.send("bob", "TOPIC #r")
    assert h.reply("bob", irc.RPL_NOTOPIC).params[1] == "#r"
    h.send("alice", "TOPIC #r :today: select()")
    for conn in ("alice", "bob"):
        assert h.reply(conn, "TOPIC").params == ("#r", "today: select()")
    h.send("bob", "TOPIC #r")
    assert h.reply("bob", irc.RPL_TOPIC).params == ("bob", "#r", "today: select()")
    h.register("carol")
    h.send("carol", "JOIN #r")
    assert [m.command for m in h.take("carol")] == ["JOIN", irc.RPL_TOPIC, irc.RPL_TOPICWHOTIME,
                                                      irc.RPL_NAMREPLY, irc.RPL_ENDOFNAMES]


def test_topic_is_cut_to_topic_length():
    h = Harness(topic_length=10)
    in_room(h, "#r", "alice")
    h.send("alice", "TOPIC #r :0123456789abcdef")
    assert h.chat.rooms["#r"].topic == "0123456789"


def test_only_operators_set_the_topic(h):
    in_room(h, "#r", "alice", "bob")
    h.register("carol")
    h.send("bob", "TOPIC #r :mine")
    assert h.reply("bob", irc.ERR_CHANOPRIVSNEEDED).params[:2] == ("bob", "#r")
    h.send("carol", "TOPIC #r :mine")
    assert h.commands("carol") == [irc.ERR_NOTONCHANNEL]
    assert h.chat.rooms["#r"].topic == ""


def test_mode_query_hides_the_key_from_non_members(h):
    in_room(h, "#r", "alice")
    h.register("carol")
    h.send("alice", "MODE #r")
    assert h.reply("alice", irc.RPL_CHANNELMODEIS).params == ("alice", "#r", "+nt")
    h.send("alice", "MODE #r +kl s3cret 5")
    h.take("alice")
    h.send("alice", "MODE #r")
    assert h.reply("alice", irc.RPL_CHANNELMODEIS).params == ("alice", "#r", "+ntkl", "s3cret", "5")
    h.send("carol", "MODE #r")
    assert h.reply("carol", irc.RPL_CHANNELMODEIS).params == ("carol", "#r", "+ntkl", "*", "5")


def test_mode_plus_l_is_told_to_the_room_and_enforced(h):
    in_room(h, "#r", "alice", "bob")
    h.send("alice", "MODE #r +l 2")
    for conn in ("alice", "bob"):
        message = h.reply(conn, "MODE")
        assert message.prefix.startswith("alice!") and message.params == ("#r", "+l", "2")
    h.register("carol")
    h.send("carol", "JOIN #r")
    assert h.commands("carol") == [irc.ERR_CHANNELISFULL]
    h.send("alice", "MODE #r -l")
    assert h.reply("bob", "MODE").params == ("#r", "-l")
    h.send("carol", "JOIN #r")
    assert "JOIN" in h.commands("carol")


def test_mode_plus_k_then_minus_k(h):
    in_room(h, "#r", "alice")
    h.send("alice", "MODE #r +k s3cret")
    assert h.reply("alice", "MODE").params == ("#r", "+k", "s3cret")
    h.register("bob")
    h.send("bob", "JOIN #r")
    assert h.commands("bob") == [irc.ERR_BADCHANNELKEY]
    h.send("alice", "MODE #r -k s3cret")
    assert h.reply("alice", "MODE").params == ("#r", "-k", "*")
    h.send("bob", "JOIN #r")
    assert "JOIN" in h.commands("bob")


def test_several_modes_in_one_command(h):
    in_room(h, "#r", "alice")
    h.send("alice", "MODE #r +lk 3 key")
    assert h.reply("alice", "MODE").params == ("#r", "+lk", "3", "key")
    room = h.chat.rooms["#r"]
    assert (room.limit, room.key) == (3, "key")
    h.send("alice", "MODE #r -lk")
    assert h.reply("alice", "MODE").params == ("#r", "-lk", "*")
    assert (room.limit, room.key) == (0, None)


@pytest.mark.parametrize("line", ["MODE #r +l", "MODE #r +l zero", "MODE #r +l 0", "MODE #r +l -3", "MODE #r +k"])
def test_invalid_mode_arguments_change_nothing(h, line):
    in_room(h, "#r", "alice", "bob")
    h.send("alice", line)
    assert "MODE" not in h.commands("bob")
    room = h.chat.rooms["#r"]
    assert (room.limit, room.key) == (0, None)


def test_plus_o_makes_another_operator_and_minus_o_undoes_it(h):
    in_room(h, "#r", "alice", "bob")
    h.send("alice", "MODE #r +o bob")
    assert h.reply("bob", "MODE").params == ("#r", "+o", "bob")
    h.send("bob", "TOPIC #r :bob may")
    assert "TOPIC" in h.commands("bob")
    h.send("bob", "NAMES #r")
    assert h.reply("bob", irc.RPL_NAMREPLY).params[-1] == "@alice @bob"
    h.send("alice", "MODE #r -o bob")
    h.take("bob")
    h.send("bob", "MODE #r +l 5")
    assert h.commands("bob") == [irc.ERR_CHANOPRIVSNEEDED]


def test_plus_o_for_someone_not_in_the_room_is_441(h):
    in_room(h, "#r", "alice")
    h.register("bob")
    h.send("alice", "MODE #r +o bob")
    assert h.reply("alice", irc.ERR_USERNOTINCHANNEL).params[1:3] == ("bob", "#r")


def test_mode_changes_need_an_operator(h):
    in_room(h, "#r", "alice", "bob")
    h.register("carol")
    h.send("bob", "MODE #r +l 1")
    assert h.commands("bob") == [irc.ERR_CHANOPRIVSNEEDED]
    h.send("carol", "MODE #r +l 1")
    assert h.commands("carol") == [irc.ERR_NOTONCHANNEL]
    assert h.chat.rooms["#r"].limit == 0
    assert any(e.kind == "refused" and e.numeric == irc.ERR_CHANOPRIVSNEEDED for e in h.events)


def test_unknown_mode_letter_is_472_and_ban_list_query_is_368(h):
    in_room(h, "#r", "alice")
    h.send("alice", "MODE #r +x")
    assert h.reply("alice", irc.ERR_UNKNOWNMODE).params[1] == "x"
    h.send("alice", "MODE #r b")
    assert h.commands("alice") == [irc.RPL_ENDOFBANLIST]


@pytest.mark.parametrize("line, numeric", [
    ("MODE alice", irc.RPL_UMODEIS),
    ("MODE ALICE", irc.RPL_UMODEIS),
    ("MODE bob", irc.ERR_USERSDONTMATCH),
    ("MODE bob +i", irc.ERR_USERSDONTMATCH),
    ("MODE ghost", irc.ERR_NOSUCHNICK),
    ("MODE alice +x", irc.ERR_UMODEUNKNOWNFLAG),
])
def test_user_modes(h, line, numeric):
    h.register("alice")
    h.register("bob")
    h.send("alice", line)
    assert h.commands("alice") == [numeric]
    assert not h.chat.users["bob"].invisible


def test_user_mode_plus_i_is_echoed_and_queried(h):
    # Clients send "MODE me +i" on connect; it must not break anything.
    h.register("alice")
    h.send("alice", "MODE alice +i")
    assert h.reply("alice", "MODE").params == ("alice", "+i")
    h.send("alice", "MODE alice")
    assert h.reply("alice", irc.RPL_UMODEIS).params == ("alice", "+i")
    h.send("alice", "MODE alice +i")  # no change: nothing to echo
    assert h.take("alice") == []


def test_kick_removes_a_member_who_stays_connected(h):
    in_room(h, "#r", "alice", "bob", "carol")
    h.send("alice", "KICK #r bob :behave")
    for conn in ("alice", "bob", "carol"):
        message = h.reply(conn, "KICK")
        assert message.prefix.startswith("alice!") and message.params == ("#r", "bob", "behave")
    assert "bob" in h.chat.users and h.chat.users["bob"].rooms == {}
    assert h.closed == []
    h.send("alice", "KICK #r carol")
    assert h.reply("carol", "KICK").params == ("#r", "carol", "alice")  # default reason: the kicker


def test_kick_errors(h):
    in_room(h, "#r", "alice", "bob")
    h.register("carol")
    h.send("bob", "KICK #r alice")
    assert h.commands("bob") == [irc.ERR_CHANOPRIVSNEEDED]
    h.send("alice", "KICK #r carol")
    assert h.commands("alice") == [irc.ERR_USERNOTINCHANNEL]
    h.send("carol", "KICK #r bob")
    assert h.commands("carol") == [irc.ERR_NOTONCHANNEL]
    assert len(h.chat.rooms["#r"].members) == 2


# --- leaving the server ----------------------------------------------------------

def test_quit_says_error_closes_and_tells_the_peers(h):
    in_room(h, "#r", "alice", "bob")
    h.register("carol")
    h.send("bob", "QUIT :gone fishing")
    error = h.reply("bob", "ERROR")
    assert error.params == (f"Closing Link: {HOST} (Quit: gone fishing)",)
    assert h.closed == ["bob"]
    quit_message = h.reply("alice", "QUIT")
    assert quit_message.prefix == f"bob!bob@{HOST}" and quit_message.params == ("Quit: gone fishing",)
    assert h.take("carol") == []
    assert "bob" not in h.chat.users and "bob" not in h.chat.nicks
    assert [m.nick for m in h.chat.rooms["#r"].members] == ["alice"]


def test_lines_after_quit_are_ignored(h):
    h.register("bob")
    h.send("bob", "QUIT", "PING x", "JOIN #r")
    assert h.commands("bob") == ["ERROR"]
    assert h.chat.rooms == {}


def test_disconnect_without_quit_tells_the_peers_once(h):
    in_room(h, "#r", "alice", "bob")
    in_room(h, "#s", "alice", "bob")
    h.apply(h.chat.disconnect("bob", "connection reset"))
    assert [(m.command, m.params) for m in h.take("alice")] == [("QUIT", ("connection reset",))]
    assert h.closed == []  # the connection is already gone: nothing to close
    assert h.apply(h.chat.disconnect("bob")) == []  # a second time is harmless
    assert h.chat.receive("bob", b"PING x", 0) == []


# --- the clock: PINGs and timeouts ------------------------------------------------

def test_idle_client_is_pinged_then_dropped():
    h = Harness(ping_interval=10, ping_timeout=5)
    in_room(h, "#r", "alice", "bob")
    h.tick(9)
    assert h.take("alice") == []
    h.now = 9
    h.send("bob", "PONG :keep me")  # bob is active at 9; alice last spoke at 0
    h.tick(11)
    assert h.reply("alice", "PING").params == (SERVER,)
    assert h.take("bob") == []
    h.tick(16)  # 5 s after the PING: not yet more than the timeout
    assert h.closed == []
    h.tick(16.5)
    assert h.reply("alice", "ERROR").params[0].endswith("(Ping timeout: 5 seconds)")
    assert h.closed == ["alice"]
    assert "alice" not in h.chat.users


def test_answering_the_ping_keeps_the_client():
    h = Harness(ping_interval=10, ping_timeout=5)
    h.register("alice")
    h.tick(11)
    assert h.commands("alice") == ["PING"]
    h.now = 12
    h.send("alice", f"PONG :{SERVER}")
    h.tick(20)
    assert h.take("alice") == [] and h.closed == []
    h.tick(23)  # idle again for more than the interval: a new PING
    assert h.commands("alice") == ["PING"]


def test_any_line_counts_as_alive():
    h = Harness(ping_interval=10, ping_timeout=5)
    h.register("alice")
    for now in range(5, 60, 5):
        h.now = now
        h.send("alice", "LIST")
        h.tick(now + 0.5)
    assert "PING" not in h.commands("alice") and h.closed == []


def test_registration_timeout():
    h = Harness(register_timeout=20)
    h.connect("slow")
    h.send("slow", "NICK slow")
    h.tick(19)
    assert h.closed == []
    h.tick(21)
    assert h.reply("slow", "ERROR").params[0].endswith("(Registration timeout)")
    assert h.closed == ["slow"] and h.chat.nicks == {}


# --- operator actions (the console) ------------------------------------------------

def test_create_room(h):
    operator.create_room(h.chat, "lobby", limit=3, key="k")
    room = h.chat.rooms["#lobby"]
    assert (room.name, room.limit, room.key, room.persistent) == ("#lobby", 3, "k", True)
    for bad in [("#lobby",), ("#LOBBY",), ("#a b",), ("#x", -1)]:
        with pytest.raises(ChatError):
            operator.create_room(h.chat, *bad)
    assert list(h.chat.rooms) == ["#lobby"]


def test_create_room_logs_an_event(h):
    effects = operator.create_room(h.chat, "#a")
    assert [e.kind for e in effects if isinstance(e, Event)] == ["room-created"]


def test_close_room_tells_and_removes_members_who_stay_connected(h):
    operator.create_room(h.chat, "#class")
    in_room(h, "#class", "alice", "bob")
    h.apply(operator.close_room(h.chat, "class", "lesson over"))
    for conn in ("alice", "bob"):
        kick = next(m for m in h.take(conn) if m.command == "KICK" and m.params[1] == conn)
        assert (kick.prefix, kick.params[0], kick.params[2]) == (SERVER, "#class", "lesson over")
        assert h.chat.users[conn].rooms == {}
    assert h.chat.rooms == {} and h.closed == []
    with pytest.raises(ChatError):
        operator.close_room(h.chat, "#class")


def test_close_a_client_room(h):
    in_room(h, "#r", "alice")
    h.apply(operator.close_room(h.chat, "#r"))
    assert h.chat.rooms == {} and h.chat.users["alice"].rooms == {}


def test_set_limit_is_told_and_enforced(h):
    operator.create_room(h.chat, "#r")
    in_room(h, "#r", "alice")
    h.apply(operator.set_limit(h.chat, "#r", 1))
    assert h.reply("alice", "MODE").params == ("#r", "+l", "1")
    h.register("bob")
    h.send("bob", "JOIN #r")
    assert h.commands("bob") == [irc.ERR_CHANNELISFULL]
    h.apply(operator.set_limit(h.chat, "r", 0))
    assert h.reply("alice", "MODE").params == ("#r", "-l")
    with pytest.raises(ChatError):
        operator.set_limit(h.chat, "#r", -1)
    with pytest.raises(ChatError):
        operator.set_limit(h.chat, "#nope", 3)


def test_set_key_is_told_and_enforced(h):
    operator.create_room(h.chat, "#r")
    in_room(h, "#r", "alice")
    h.apply(operator.set_key(h.chat, "#r", "k1"))
    assert h.reply("alice", "MODE").params == ("#r", "+k", "k1")
    h.register("bob")
    h.send("bob", "JOIN #r")
    assert h.commands("bob") == [irc.ERR_BADCHANNELKEY]
    h.apply(operator.set_key(h.chat, "#r", ""))
    assert h.reply("alice", "MODE").params == ("#r", "-k", "*")
    h.send("bob", "JOIN #r")
    assert "JOIN" in h.commands("bob")


def test_operator_kick(h):
    in_room(h, "#r", "alice", "bob")
    h.apply(operator.kick(h.chat, "#r", "BOB", "spam"))
    assert h.reply("alice", "KICK").params == ("#r", "bob", "spam")
    assert h.chat.users["bob"].rooms == {}
    with pytest.raises(ChatError):
        operator.kick(h.chat, "#r", "bob")
    with pytest.raises(ChatError):
        operator.kick(h.chat, "#nope", "alice")


def test_operator_disconnect_user(h):
    in_room(h, "#r", "alice", "bob")
    h.apply(operator.disconnect_user(h.chat, "bob", "bye now"))
    assert h.reply("bob", "ERROR").params[0].endswith("(bye now)")
    assert h.reply("alice", "QUIT").params == ("bye now",)
    assert h.closed == ["bob"]
    with pytest.raises(ChatError):
        operator.disconnect_user(h.chat, "bob")


def test_announce_reaches_registered_users_only(h):
    h.register("alice")
    h.connect("p")
    h.apply(operator.announce(h.chat, "maintenance at noon"))
    assert h.reply("alice", "NOTICE").params == ("alice", "maintenance at noon")
    assert h.take("p") == []


def test_shutdown_says_error_to_everyone_and_closes_all(h):
    in_room(h, "#r", "alice", "bob")
    h.connect("unregistered")
    h.apply(operator.shutdown(h.chat, "going down"))
    for conn in ("alice", "bob", "unregistered"):
        assert h.commands(conn) == ["ERROR"]  # no QUIT lines about the others
    assert sorted(h.closed) == ["alice", "bob", "unregistered"]
    assert h.chat.users == {} and h.chat.nicks == {} and h.chat.rooms == {}


def test_a_tick_looks_at_a_bounded_slice_of_users_and_a_round_reaches_everyone():
    from selectchat.chat.core import TICK_SLICE
    h = Harness(ping_interval=10)
    users = [f"u{i}" for i in range(TICK_SLICE * 2 + 500)]
    for conn in users:
        h.register(conn)
        h.take(conn)
    pinged_per_tick = []
    for second in (11, 12, 13):
        h.tick(second)
        pinged_per_tick.append(sum(1 for conn in users if "PING" in h.commands(conn)))
    assert pinged_per_tick == [TICK_SLICE, TICK_SLICE, 500]
