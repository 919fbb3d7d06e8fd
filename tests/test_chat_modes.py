"""Room modes in the sans-I/O core: +n +t +m +v +i/INVITE/+I +s +b/+e, 324/329, and the console's ``mode``.

Each rule is checked both ways: what it forbids is refused (with the right
numeric, and nothing reaches anyone else), and what it allows still works.
"""

import random
import re

import pytest

from selectchat import irc
from selectchat.chat import ChatError, Settings, operator
from selectchat.chat.masks import full_mask, glob_match
from selectchat.chat.modes import MAX_LIST, ROOM_MODES, chanmodes
from selectchat.server.console import Console
from test_chat import HOST, Harness, in_room

UNIX_START = 1_700_000_000   # the Unix time the "server" gives the core at start


@pytest.fixture
def h():
    harness = Harness()
    harness.chat = type(harness.chat)(Settings(), now=0.0, unix_now=UNIX_START)
    return harness


def params(h, conn, command):
    return h.reply(conn, command).params


# --- the table, 004/005 ------------------------------------------------------------

def test_the_table_is_what_isupport_advertises():
    assert chanmodes() == "beI,k,l,imnst"
    assert set(ROOM_MODES) == set("beIklimnstov")
    assert all(mode.meaning for mode in ROOM_MODES.values())


# --- 324 / 329 -----------------------------------------------------------------

def test_new_room_is_plus_nt_with_its_creation_time(h):
    h.now = 25.0
    in_room(h, "#r", "alice")
    h.send("alice", "MODE #r")
    (modeis, created) = h.take("alice")
    assert modeis.params == ("alice", "#r", "+nt")
    assert (created.command, created.params) == (irc.RPL_CREATIONTIME, ("alice", "#r", str(UNIX_START + 25)))


def test_a_flag_already_set_is_not_echoed_and_unknown_letters_are_472(h):
    in_room(h, "#r", "alice", "bob")
    h.send("alice", "MODE #r +nz")
    assert h.commands("alice") == [irc.ERR_UNKNOWNMODE]
    assert h.take("bob") == []
    h.send("alice", "MODE #r -n+ms")
    assert params(h, "bob", "MODE") == ("#r", "-n+ms")
    assert h.chat.rooms["#r"].flags == {"t", "m", "s"}


# --- +n -------------------------------------------------------------------------

def test_plus_n_refuses_outsiders_and_minus_n_lets_them_speak(h):
    in_room(h, "#r", "alice", "bob")
    h.register("carol")
    h.send("carol", "PRIVMSG #r :from outside")
    assert params(h, "carol", irc.ERR_CANNOTSENDTOCHAN)[1] == "#r"
    h.send("carol", "NOTICE #r :quietly from outside")
    assert h.take("carol") == [] and h.take("alice") == [] and h.take("bob") == []
    h.send("alice", "MODE #r -n")
    h.take("alice"), h.take("bob")
    h.send("carol", "PRIVMSG #r :now I may")
    for member in ("alice", "bob"):
        assert params(h, member, "PRIVMSG") == ("#r", "now I may")
    assert h.take("carol") == []
    assert h.events[-1].recipients == 2   # both members; the outsider is not one of them


# --- +m and +v --------------------------------------------------------------------

def test_plus_m_lets_only_operators_and_voiced_members_speak(h):
    in_room(h, "#r", "alice", "bob", "carol")
    h.send("alice", "MODE #r +m")
    for conn in ("alice", "bob", "carol"):
        h.take(conn)
    h.send("bob", "PRIVMSG #r :may I?")
    assert h.commands("bob") == [irc.ERR_CANNOTSENDTOCHAN]
    assert h.take("alice") == [] and h.take("carol") == []
    h.send("alice", "PRIVMSG #r :operators may")
    assert params(h, "bob", "PRIVMSG") == ("#r", "operators may")
    h.send("alice", "MODE #r +v bob")
    assert params(h, "carol", "MODE") == ("#r", "+v", "bob")
    h.send("bob", "PRIVMSG #r :thanks")
    assert params(h, "carol", "PRIVMSG") == ("#r", "thanks")
    h.send("alice", "MODE #r -v bob")
    h.take("bob")
    h.send("bob", "PRIVMSG #r :again?")
    assert h.commands("bob") == [irc.ERR_CANNOTSENDTOCHAN]


def test_voice_shows_as_plus_in_names_who_and_whois(h):
    in_room(h, "#r", "alice", "bob")
    h.send("alice", "MODE #r +v bob")
    h.take("alice")
    h.send("alice", "NAMES #r")
    assert h.take("alice")[0].params[3] == "@alice +bob"
    h.send("alice", "WHO #r")
    flags = [m.params[6] for m in h.take("alice") if m.command == irc.RPL_WHOREPLY]
    assert flags == ["H@", "H+"]
    h.send("alice", "WHOIS bob")
    assert params(h, "alice", irc.RPL_WHOISCHANNELS)[2] == "+#r"


def test_op_and_voice_together_and_a_repeated_plus_o_is_not_echoed(h):
    in_room(h, "#r", "alice", "bob")
    h.send("alice", "MODE #r +ov bob bob")
    assert params(h, "bob", "MODE") == ("#r", "+ov", "bob", "bob")
    assert h.chat.rooms["#r"].members[h.chat.users["bob"]] == "ov"
    h.send("alice", "MODE #r +o bob")
    assert h.take("bob") == []
    h.send("alice", "MODE #r -o bob")
    assert h.chat.rooms["#r"].members[h.chat.users["bob"]] == "v"
    h.take("bob")
    h.send("bob", "MODE #r +m")                    # voice is not operator
    assert h.commands("bob") == [irc.ERR_CHANOPRIVSNEEDED]


# --- +t ---------------------------------------------------------------------------

def test_plus_t_is_on_by_default_and_minus_t_lets_members_set_the_topic(h):
    in_room(h, "#r", "alice", "bob")
    h.register("carol")
    h.send("bob", "TOPIC #r :mine")
    assert h.commands("bob") == [irc.ERR_CHANOPRIVSNEEDED]
    h.send("alice", "MODE #r -t")
    h.take("bob")
    h.send("bob", "TOPIC #r :mine now")
    assert params(h, "alice", "TOPIC") == ("#r", "mine now")
    h.send("carol", "TOPIC #r :an outsider's")
    assert h.commands("carol") == [irc.ERR_NOTONCHANNEL]
    assert h.chat.rooms["#r"].topic == "mine now"


def test_topic_query_says_who_set_it_and_when(h):
    in_room(h, "#r", "alice")
    h.now = 7.0
    h.send("alice", "TOPIC #r :news")
    h.take("alice")
    h.send("alice", "TOPIC #r")
    topic, whotime = h.take("alice")
    assert topic.params == ("alice", "#r", "news")
    assert whotime.params == ("alice", "#r", f"alice!alice@{HOST}", str(UNIX_START + 7))


# --- +i, INVITE, +I --------------------------------------------------------------------

def test_invite_only_room_needs_an_invitation_used_once(h):
    in_room(h, "#r", "alice")
    h.register("bob")
    h.send("alice", "MODE #r +i")
    h.take("alice")
    h.send("bob", "JOIN #r")
    assert h.commands("bob") == [irc.ERR_INVITEONLYCHAN]
    h.send("alice", "INVITE bob #r")
    assert params(h, "alice", irc.RPL_INVITING) == ("alice", "bob", "#r")
    invite = h.reply("bob", "INVITE")
    assert invite.prefix == f"alice!alice@{HOST}" and invite.params == ("bob", "#r")
    h.send("bob", "JOIN #r")
    assert "JOIN" in h.commands("bob")
    h.send("bob", "PART #r")
    h.send("bob", "JOIN #r")
    assert h.commands("bob")[-1] == irc.ERR_INVITEONLYCHAN   # the invitation was used up


def test_invite_errors(h):
    in_room(h, "#r", "alice", "bob")
    h.register("carol")
    h.register("dave")
    cases = [("alice", "INVITE ghost #r", irc.ERR_NOSUCHNICK),
             ("alice", "INVITE bob #r", irc.ERR_USERONCHANNEL),
             ("carol", "INVITE dave #r", irc.ERR_NOTONCHANNEL),
             ("alice", "INVITE carol", irc.ERR_NEEDMOREPARAMS)]
    for who, line, numeric in cases:
        h.send(who, line)
        assert h.commands(who) == [numeric], line
    h.send("alice", "MODE #r +i")
    h.take("alice"), h.take("bob")
    h.send("bob", "INVITE carol #r")               # +i: only operators invite
    assert h.commands("bob") == [irc.ERR_CHANOPRIVSNEEDED]
    assert h.take("carol") == [] and "#r" not in h.chat.users["carol"].invited_to


def test_members_invite_into_a_room_that_is_not_invite_only_and_others_are_not_told(h):
    in_room(h, "#r", "alice", "bob")
    h.register("carol")
    h.send("bob", "INVITE carol #r")
    assert params(h, "bob", irc.RPL_INVITING) == ("bob", "carol", "#r")
    assert params(h, "carol", "INVITE") == ("carol", "#r")
    assert h.take("alice") == []


def test_invite_alone_lists_ones_invitations(h):
    in_room(h, "#r", "alice")
    h.register("bob")
    h.send("alice", "INVITE bob #r")
    h.send("bob", "INVITE")
    listed = h.take("bob")[1:]                      # after the INVITE itself
    assert [(m.command, m.params) for m in listed] == [(irc.RPL_INVITELIST, ("bob", "#r")),
                                                       (irc.RPL_ENDOFINVITELIST, ("bob", "End of INVITE list"))]


def test_an_invite_exception_mask_lets_in_without_invitation(h):
    in_room(h, "#r", "alice")
    h.register("bob")
    h.register("carol")
    h.send("alice", "MODE #r +iI bo?!*@*")
    assert params(h, "alice", "MODE") == ("#r", "+iI", "bo?!*@*")
    h.send("bob", "JOIN #r")
    h.send("carol", "JOIN #r")
    assert "JOIN" in h.commands("bob")
    assert h.commands("carol") == [irc.ERR_INVITEONLYCHAN]


def test_an_invitation_also_lets_one_past_the_limit_but_not_past_the_key(h):
    in_room(h, "#r", "alice")
    h.register("bob")
    h.send("alice", "MODE #r +lk 1 sesame", "INVITE bob #r")
    h.send("bob", "JOIN #r")
    assert h.commands("bob")[-1] == irc.ERR_BADCHANNELKEY
    h.send("bob", "JOIN #r sesame")
    assert "JOIN" in h.commands("bob") and len(h.chat.rooms["#r"].members) == 2


def test_kick_takes_several_nicks_or_pairs_of_room_and_nick(h):
    in_room(h, "#r", "alice", "bob", "carol")
    in_room(h, "#s", "alice", "dave")
    h.send("alice", "KICK #r,#s bob,dave :out")
    assert [(m.params[0], m.params[1]) for m in h.take("alice") if m.command == "KICK"] == [
        ("#r", "bob"), ("#s", "dave")]
    h.send("alice", "KICK #r,#s carol")                    # two rooms, one nick: which is meant?
    assert h.commands("alice") == [irc.ERR_NEEDMOREPARAMS]
    in_room(h, "#r", "bob", "dave")
    h.send("alice", "KICK #r bob,carol,dave")
    assert [m.params[1] for m in h.take("alice") if m.command == "KICK"] == ["bob", "carol", "dave"]


# --- +s -------------------------------------------------------------------------------

def test_secret_room_is_hidden_from_outsiders_only(h):
    in_room(h, "#hidden", "alice")
    in_room(h, "#open", "alice")
    h.register("bob")
    h.send("alice", "MODE #hidden +s")
    h.take("alice")
    for line in ("LIST", "NAMES", "WHOIS alice", "WHO #hidden", "NAMES #hidden"):
        h.send("bob", line)
        assert not any("#hidden" in m.params[1:-1] or "#hidden" in m.params[-1].split()
                       for m in h.take("bob") if m.command not in (irc.RPL_ENDOFNAMES, irc.RPL_ENDOFWHO)), line
    h.send("alice", "LIST")
    assert "#hidden" in [m.params[1] for m in h.take("alice") if m.command == irc.RPL_LIST]
    h.send("alice", "NAMES #hidden")
    assert h.take("alice")[0].params[1:3] == ("@", "#hidden")   # 353's "@": a secret room
    h.send("bob", "WHOIS alice")
    assert params(h, "bob", irc.RPL_WHOISCHANNELS)[2] == "@#open"


# --- +b, +e ----------------------------------------------------------------------------

def test_ban_masks_refuse_join_and_the_list_can_be_read(h):
    in_room(h, "#r", "alice")
    h.register("bob")
    h.register("Bobby")
    h.now = 3.0
    h.send("alice", "MODE #r +b BOB")                 # completed to BOB!*@*
    assert params(h, "alice", "MODE") == ("#r", "+b", "BOB!*@*")
    h.send("bob", "JOIN #r")
    assert params(h, "bob", irc.ERR_BANNEDFROMCHAN)[1] == "#r"
    h.send("Bobby", "JOIN #r")                        # the mask is the whole nick, not a prefix
    assert "JOIN" in h.commands("Bobby")
    h.send("Bobby", "MODE #r b")                      # anyone may read the list
    entry, end = h.take("Bobby")
    assert (entry.command, entry.params) == (irc.RPL_BANLIST, ("Bobby", "#r", "BOB!*@*", f"alice!alice@{HOST}",
                                                               str(UNIX_START + 3)))
    assert end.command == irc.RPL_ENDOFBANLIST
    h.send("alice", "MODE #r -b bob!*@*")             # removal folds case too
    assert params(h, "alice", "MODE") == ("#r", "-b", "BOB!*@*")
    h.send("bob", "JOIN #r")
    assert "JOIN" in h.commands("bob")


def test_ban_exception_and_invitation_beat_a_ban(h):
    in_room(h, "#r", "alice")
    h.register("bob")
    h.register("bert")
    h.send("alice", "MODE #r +bb b*!*@* *!*@10.0.0.*", "MODE #r +e bert", "INVITE bob #r")
    h.send("bob", "JOIN #r")
    h.send("bert", "JOIN #r")
    assert "JOIN" in h.commands("bob") and "JOIN" in h.commands("bert")


def test_a_duplicate_mask_is_not_echoed_and_the_lists_are_bounded(h):
    in_room(h, "#r", "alice", "bob")
    h.send("alice", "MODE #r +b x!*@*", "MODE #r +b X!*@*")
    assert [m.params for m in h.take("bob")] == [("#r", "+b", "x!*@*")]
    for i in range(MAX_LIST - 1):
        h.send("alice", f"MODE #r +b n{i}")
    h.take("alice")
    h.send("alice", "MODE #r +b onetoomany")
    assert h.commands("alice") == [irc.ERR_BANLISTFULL]
    assert len(h.chat.rooms["#r"].masks["b"]) == MAX_LIST


def test_list_queries_do_not_need_an_operator_but_changes_do(h):
    in_room(h, "#r", "alice", "bob")
    h.send("bob", "MODE #r +b")
    assert h.commands("bob") == [irc.RPL_ENDOFBANLIST]
    h.send("bob", "MODE #r eI")
    assert h.commands("bob") == [irc.RPL_ENDOFEXCEPTLIST, irc.RPL_ENDOFINVEXLIST]
    h.send("bob", "MODE #r +b x")
    assert h.commands("bob") == [irc.ERR_CHANOPRIVSNEEDED]
    assert h.chat.rooms["#r"].masks["b"] == []


@pytest.mark.parametrize("mask, text, expected", [
    ("*", "", True), ("*", "a!b@c", True), ("a?c", "abc", True), ("a?c", "ac", False),
    ("bob!*@*", "BOB!u@h", True), ("[x]!*@*", "[X]!u@h", True), ("[x]!*@*", "x!u@h", False),
    ("*!*@10.0.0.*", "n!u@10.0.0.7", True), ("*!*@10.0.0.*", "n!u@10.0.1.7", False),
    ("*a*a*a*a*a*a*a*a*b", "a" * 200, False), ("a*", "b", False), ("**", "xy", True),
])
def test_glob_match(mask, text, expected):
    assert glob_match(mask, text) is expected


def test_glob_match_agrees_with_a_plain_regular_expression_on_random_cases():
    def reference(mask, text):  # right, but exponential on some masks: fine for short ones
        pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in mask.lower())
        return re.fullmatch(pattern, text.lower(), re.S) is not None
    chance = random.Random(19)
    for _ in range(3000):
        mask = "".join(chance.choice("aB*?[") for _ in range(chance.randint(0, 7)))
        text = "".join(chance.choice("Ab[") for _ in range(chance.randint(0, 8)))
        assert glob_match(mask, text) == reference(mask, text), (mask, text)


@pytest.mark.parametrize("short, full", [("bob", "bob!*@*"), ("*@host", "*!*@host"), ("n!u", "n!u@*"),
                                         ("n!u@h", "n!u@h")])
def test_short_masks_are_completed(short, full):
    assert full_mask(short) == full


# --- the console --------------------------------------------------------------------

def test_console_sets_any_mode_and_the_room_sees_the_server_do_it(h):
    in_room(h, "#r", "alice", "bob")
    h.apply(operator.set_modes(h.chat, "r", "+mv", "bob"))
    message = h.reply("bob", "MODE")
    assert message.prefix == h.chat.settings.server_name and message.params == ("#r", "+mv", "bob")
    h.apply(operator.set_modes(h.chat, "#r", "+b", "*!*@10.*"))
    assert h.chat.rooms["#r"].masks["b"][0].set_by == h.chat.settings.server_name


@pytest.mark.parametrize("words, why", [
    (("+z",), "no room mode"), (("+v", "ghost"), "not in"), (("+l", "x"), "limit"),
    (("+k", "a,b"), "bad key"), (("+v",), "needs a parameter"), (("+m", "extra"), "too many"),
    (("+n",), "nothing changed"),
])
def test_console_mode_mistakes_change_nothing(h, words, why):
    in_room(h, "#r", "alice")
    room = h.chat.rooms["#r"]
    before = (set(room.flags), dict(room.members), room.limit, room.key)
    with pytest.raises(ChatError, match=why):
        operator.set_modes(h.chat, "#r", *words)
    assert (room.flags, room.members, room.limit, room.key) == before
    assert h.chat.take_effects() == [] and h.take("alice") == []


def test_console_mode_command_shows_and_changes(h):
    in_room(h, "#r", "alice")
    console = Console(h.chat)
    result = console.execute("mode r +b spammer")
    assert result.output == ["#r +b spammer"]
    h.apply(result.effects)
    assert params(h, "alice", "MODE") == ("#r", "+b", "spammer!*@*")
    shown = console.execute("mode #r").output
    assert shown[0] == "#r +nt" and "spammer!*@*" in shown[1]
    assert console.execute("mode r +q").output[0].startswith("error: no room mode")


# --- STATUSMSG -------------------------------------------------------------------------

def test_status_messages_reach_only_operators_or_operators_and_voiced(h):
    in_room(h, "#r", "alice", "bob", "carol", "dave")
    h.send("alice", "MODE #r +ov bob carol")
    for conn in ("alice", "bob", "carol", "dave"):
        h.take(conn)
    h.send("dave", "PRIVMSG @#r :for the operators")
    assert [m.params for m in h.take("alice")] == [("@#r", "for the operators")]
    assert [m.params for m in h.take("bob")] == [("@#r", "for the operators")]
    assert h.take("carol") == [] and h.take("dave") == []
    h.send("dave", "NOTICE +#r :and the voiced")
    for reader in ("alice", "bob", "carol"):
        assert [m.params for m in h.take(reader)] == [("+#r", "and the voiced")]
    assert h.take("dave") == []
    h.register("erin")
    h.send("erin", "PRIVMSG @#r :from outside", "PRIVMSG @#nowhere :x")  # +n holds here too
    assert h.commands("erin") == [irc.ERR_CANNOTSENDTOCHAN, irc.ERR_NOSUCHNICK]
    assert h.take("alice") == []
