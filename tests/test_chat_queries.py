"""WHO with masks, LUSERS, TIME, WHOWAS, and server operators (OPER, KILL, WALLOPS) in the core."""

import argparse

import pytest

from selectchat import irc
from selectchat.chat import Chat, Settings
from selectchat.chat.queries import time_text
from selectchat.server.command import oper_credentials
from test_chat import HOST, SERVER, Harness, in_room

UNIX_START = 1_700_000_000   # 2023-11-14 22:13:20 UTC, a Tuesday


def harness(**settings):
    h = Harness()
    h.chat = Chat(Settings(**settings), now=0.0, unix_now=UNIX_START)
    return h


@pytest.fixture
def h():
    return harness(operators=(("root", "s3cret pass"),), whowas_length=3)


def who(h, asker, *words):
    h.send(asker, " ".join(("WHO", *words)))
    replies = h.take(asker)
    assert replies[-1].command == irc.RPL_ENDOFWHO
    return [(m.params[5], m.params[6]) for m in replies[:-1]]


# --- WHO ------------------------------------------------------------------------------

def test_who_masks_match_nick_user_host_or_realname_and_keep_invisible_strangers_out(h):
    in_room(h, "#r", "alice", "bob")
    h.register("carol")
    h.register("dave")
    h.send("dave", "MODE dave +i")
    h.take("dave")
    assert sorted(who(h, "carol", "*")) == [("alice", "H"), ("bob", "H"), ("carol", "H")]
    assert who(h, "carol", "0") == who(h, "carol", "*")
    assert who(h, "carol", "b?b") == [("bob", "H")]
    assert who(h, "carol", "*Real*alice") == [("alice", "H")]     # the real name "The Real alice"
    assert len(who(h, "carol", HOST)) == 3
    assert who(h, "carol", "dave") == [("dave", "H")]             # an exact nick finds the invisible
    assert ("dave", "H") in who(h, "dave", "*")                    # and one always sees oneself
    h.send("carol", "WHO nobody*")
    assert [(m.command, m.params[1]) for m in h.take("carol")] == [(irc.RPL_ENDOFWHO, "nobody*")]


def test_who_shows_away_oper_and_status(h):
    in_room(h, "#r", "alice", "bob")
    h.send("bob", "AWAY :lunch", "OPER root :s3cret pass")
    h.take("bob")
    assert who(h, "alice", "#r") == [("alice", "H@"), ("bob", "G*")]
    assert who(h, "alice", "bob") == [("bob", "G*")]
    assert who(h, "alice", "*", "o") == [("bob", "G*")]            # "o": operators only


def test_whox_gives_the_fields_asked_for_in_their_fixed_order(h):
    in_room(h, "#r", "alice", "bob")
    h.now = 5.0
    h.send("bob", "AWAY :out")
    h.now = 12.0
    h.take("bob")
    h.send("alice", "WHO #r %rnft,42")             # asked in any order, answered as t c u i h s n f d l a o r
    replies = h.take("alice")
    assert [(m.command, m.params) for m in replies[:-1]] == [
        (irc.RPL_WHOSPCRPL, ("alice", "42", "alice", "H@", "The Real alice")),
        (irc.RPL_WHOSPCRPL, ("alice", "42", "bob", "G", "The Real bob"))]
    assert replies[-1].command == irc.RPL_ENDOFWHO
    h.send("alice", "WHO bob %tcuihsnfdlaor")
    (full,) = [m.params for m in h.take("alice") if m.command == irc.RPL_WHOSPCRPL]
    assert full == ("alice", "0", "*", "bob", HOST, HOST, SERVER, "bob", "G", "0", "7", "0", "n/a", "The Real bob")
    h.send("alice", "WHO * o%n")                    # flags before the %: operators only
    assert [m.command for m in h.take("alice")] == [irc.RPL_ENDOFWHO]


# --- LIST with conditions (ELIST=MNU) ------------------------------------------------------

@pytest.mark.parametrize("line, listed", [
    ("LIST", {"#lab1", "#lab2", "#test"}),
    ("LIST >1", {"#lab2"}), ("LIST <2", {"#lab1", "#test"}), ("LIST <1", set()),
    ("LIST *lab*", {"#lab1", "#lab2"}), ("LIST !*lab*", {"#test"}), ("LIST #LAB?", {"#lab1", "#lab2"}),
    ("LIST *lab*,>1", {"#lab2"}), ("LIST #lab1,#test", {"#lab1", "#test"}), ("LIST #nope", set()),
    ("LIST #lab1,#lab2 <2", {"#lab1"}),
])
def test_list_conditions(h, line, listed):
    in_room(h, "#lab1", "alice")
    in_room(h, "#lab2", "alice", "bob")
    in_room(h, "#test", "bob")
    h.register("carol")
    h.send("carol", line)
    assert {m.params[1] for m in h.take("carol") if m.command == irc.RPL_LIST} == listed


# --- LUSERS and TIME ---------------------------------------------------------------------

def test_lusers_counts_now_and_the_most_there_have_been(h):
    for nick in ("a", "b", "c"):
        h.register(nick)
    h.send("c", "QUIT")
    h.connect("stranger")                                         # not registered: "unknown"
    h.send("a", "LUSERS")
    replies = {m.command: m.params for m in h.take("a")}
    assert replies[irc.RPL_LOCALUSERS][1:3] == ("2", "3")
    assert replies[irc.RPL_GLOBALUSERS][1:3] == ("2", "3")
    assert replies[irc.RPL_LUSERUNKNOWN][1] == "1"
    assert irc.RPL_LUSEROP not in replies
    assert "There are 2 users and 0 invisible" in replies[irc.RPL_LUSERCLIENT][1]


def test_time_is_the_servers_clock_not_the_cores(h):
    h.register("alice")
    h.now = 3600.0
    h.send("alice", "TIME")
    reply = h.reply("alice", irc.RPL_TIME)
    assert reply.params == ("alice", SERVER, str(UNIX_START + 3600), "0", "Tuesday November 14 2023 -- 23:13:20 +00:00")


@pytest.mark.parametrize("unix, text", [(0, "Thursday January 1 1970 -- 00:00:00 +00:00"),
                                        (951782400, "Tuesday February 29 2000 -- 00:00:00 +00:00")])
def test_time_text(unix, text):
    assert time_text(unix) == text


# --- WHOWAS --------------------------------------------------------------------------------

def test_whowas_finds_gone_and_renamed_nicks_newest_first(h):
    h.register("alice")
    h.register("bob")
    h.send("bob", "QUIT :bye")
    h.connect("bob2")
    h.send("bob2", "NICK bob", "USER second 0 * :Second Bob", "NICK robert")
    h.send("alice", "WHOWAS BOB")
    replies = [(m.command, m.params[1:3]) for m in h.take("alice")]
    assert replies == [(irc.RPL_WHOWASUSER, ("bob", "second")), (irc.RPL_WHOISSERVER, ("bob", SERVER)),
                       (irc.RPL_WHOWASUSER, ("bob", "bob")), (irc.RPL_WHOISSERVER, ("bob", SERVER)),
                       (irc.RPL_ENDOFWHOWAS, ("BOB", "End of WHOWAS"))]
    h.send("alice", "WHOWAS bob 1")
    assert [m.command for m in h.take("alice")] == [irc.RPL_WHOWASUSER, irc.RPL_WHOISSERVER, irc.RPL_ENDOFWHOWAS]
    h.send("alice", "WHOWAS bob -1")
    assert len(h.take("alice")) == 5                   # not a positive count: all of them


def test_whowas_unknown_missing_and_bounded(h):
    h.register("alice")
    h.send("alice", "WHOWAS ghost", "WHOWAS")
    assert h.commands("alice") == [irc.ERR_WASNOSUCHNICK, irc.RPL_ENDOFWHOWAS, irc.ERR_NONICKNAMEGIVEN]
    for i in range(5):                                 # whowas_length=3: the oldest are forgotten
        h.register(f"gone{i}")
        h.send(f"gone{i}", "QUIT")
    assert [was.nick for was in h.chat.gone.entries] == ["gone2", "gone3", "gone4"]
    h.send("alice", "WHOWAS gone0")
    assert h.commands("alice")[0] == irc.ERR_WASNOSUCHNICK


def test_unregistered_clients_leave_no_history(h):
    h.connect("x")
    h.send("x", "NICK halfway", "QUIT")
    assert list(h.chat.gone.entries) == []


# --- OPER, KILL, WALLOPS ------------------------------------------------------------------------

@pytest.mark.parametrize("line, numeric", [("OPER root wrong", irc.ERR_PASSWDMISMATCH),
                                           ("OPER nobody x", irc.ERR_NOOPERHOST),
                                           ("OPER root", irc.ERR_NEEDMOREPARAMS),
                                           ("OPER root :s3cret", irc.ERR_PASSWDMISMATCH)])
def test_oper_refusals(h, line, numeric):
    h.register("alice")
    h.send("alice", line)
    assert h.commands("alice") == [numeric]
    assert not h.chat.users["alice"].oper


def test_a_third_wrong_oper_closes_the_connection(h):
    in_room(h, "#r", "alice", "bob")
    h.send("alice", "OPER root a", "OPER nobody b")
    assert h.commands("alice") == [irc.ERR_PASSWDMISMATCH, irc.ERR_NOOPERHOST]
    h.send("alice", "OPER root c")
    assert [m.command for m in h.take("alice")] == [irc.ERR_PASSWDMISMATCH, "ERROR"]
    assert h.closed == ["alice"]
    assert h.reply("bob", "QUIT").params == ("Too many failed OPER attempts",)


def test_without_credentials_nobody_is_an_operator():
    h = harness()
    h.register("alice")
    h.send("alice", "OPER root s3cret")
    assert h.commands("alice") == [irc.ERR_NOOPERHOST]


def test_oper_success_shows_in_mode_whois_and_can_be_dropped(h):
    h.register("alice")
    h.register("bob")
    h.send("alice", "MODE alice +o")                  # only OPER makes an operator
    assert not h.chat.users["alice"].oper
    h.take("alice")
    h.send("alice", "OPER root :s3cret pass")
    mode, welcome = h.take("alice")
    assert (mode.command, mode.params) == ("MODE", ("alice", "+o"))
    assert welcome.command == irc.RPL_YOUREOPER
    assert "oper" in h.event_kinds()
    h.send("bob", "WHOIS alice")
    assert irc.RPL_WHOISOPERATOR in h.commands("bob")
    h.send("alice", "MODE alice", "MODE alice -o", "MODE alice")
    assert [m.params[-1] for m in h.take("alice")] == ["+o", "-o", "+"]


def test_kill_needs_an_operator_and_drops_the_target(h):
    in_room(h, "#r", "alice", "bob", "carol")
    h.send("bob", "KILL carol :no")
    assert h.commands("bob") == [irc.ERR_NOPRIVILEGES]
    assert "carol" in h.chat.users
    h.send("alice", "OPER root :s3cret pass", "KILL ghost", f"KILL {SERVER}")
    assert h.commands("alice")[-2:] == [irc.ERR_NOSUCHNICK, irc.ERR_CANTKILLSERVER]
    h.send("alice", "KILL carol :spamming")
    kill, error = h.take("carol")
    assert (kill.command, kill.params) == ("KILL", ("carol", "spamming"))
    assert error.command == "ERROR" and "Killed (alice (spamming))" in error.params[0]
    assert h.closed == ["carol"] and "carol" not in h.chat.users
    assert h.reply("bob", "QUIT").params == ("Killed (alice (spamming))",)


def test_wallops_reaches_only_plus_w_users_and_needs_an_operator(h):
    for nick in ("alice", "bob", "carol"):
        h.register(nick)
    h.send("bob", "MODE bob +w")
    h.take("bob")
    h.send("carol", "WALLOPS :hello")
    assert h.commands("carol") == [irc.ERR_NOPRIVILEGES]
    h.send("alice", "OPER root :s3cret pass")
    h.take("alice")
    h.send("alice", "WALLOPS :the server restarts at noon")
    wallops = h.reply("bob", "WALLOPS")
    assert wallops.prefix.startswith("alice!") and wallops.params == ("the server restarts at noon",)
    assert h.take("alice") == [] and h.take("carol") == []


# --- where the credentials come from -------------------------------------------------------------

def test_oper_credentials_from_a_file_and_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "opers"
    path.write_text("# name password\nroot  hunter2\n\nteacher a pass phrase\n")
    monkeypatch.setenv("OPERS", "ta:two:with:colons and spaces")
    args = argparse.Namespace(oper_file=str(path), oper_env="OPERS")
    assert oper_credentials(args) == (("root", "hunter2"), ("teacher", "a pass phrase"),
                                      ("ta", "two:with:colons and spaces"))


@pytest.mark.parametrize("content", ["onlyaname\n", "  name   \n"])
def test_oper_file_mistakes_stop_the_server_with_a_clear_message(tmp_path, content):
    path = tmp_path / "opers"
    path.write_text(content)
    with pytest.raises(SystemExit, match="line 1: expected a name and a password"):
        oper_credentials(argparse.Namespace(oper_file=str(path), oper_env=None))


def test_oper_env_missing_or_a_missing_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("NOPE", raising=False)
    with pytest.raises(SystemExit, match="NOPE is not set"):
        oper_credentials(argparse.Namespace(oper_file=None, oper_env="NOPE"))
    with pytest.raises(SystemExit, match="cannot read"):
        oper_credentials(argparse.Namespace(oper_file=str(tmp_path / "absent"), oper_env=None))


# --- HELP --------------------------------------------------------------------------------------

def test_every_command_has_its_help_and_no_help_is_for_a_missing_command():
    from selectchat.chat.core import COMMANDS
    from selectchat.chat.manual import HELP
    assert set(HELP) | {"HELPOP"} == set(COMMANDS)


def test_help_lists_the_commands_and_explains_one(h):
    h.register("alice")
    h.send("alice", "HELP")
    replies = h.take("alice")
    assert len(replies) >= 3
    assert [m.command for m in replies] == [irc.RPL_HELPSTART] + [irc.RPL_HELPTXT] * (len(replies) - 2) + [
        irc.RPL_ENDOFHELP]
    assert "PRIVMSG" in " ".join(m.params[2] for m in replies[1:-1])
    h.send("alice", "HELPOP privmsg")
    start, text, end = h.take("alice")
    assert start.params == ("alice", "PRIVMSG", "PRIVMSG <target>{,<target>} :<text>")
    assert text.command == irc.RPL_HELPTXT and end.params[1] == "PRIVMSG"
    h.send("alice", "HELP FROBNICATE")
    assert h.reply("alice", irc.ERR_HELPNOTFOUND).params[1] == "FROBNICATE"
