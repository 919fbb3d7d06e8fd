"""``selectchat client`` driven as a person would: in a pseudo-terminal, and through a pipe.

In a pseudo-terminal (pexpect) the client's output is fed to a terminal
emulator (pyte), so the tests look at the *screen* a person would see: the
half-typed line must still read right after a message arrived in the middle
of it.  The terminal's settings are read with ``stty -g`` in the same
terminal before and after the client ran, by a small bash wrapper.

Through a pipe (stdin not a terminal) the same flows must work line by line,
with no escape code in the output, whatever the peers send.
"""

import os
import re
import signal
import socket
import sys
import termios
import time
from contextlib import contextmanager

import pexpect
import pexpect.popen_spawn
import pyte
import pytest

from selectchat.client import session as terminal
from selectchat.client import terminal as terminal_client
from selectchat.client import Client
from selectchat.launch import PACKAGE_PARENT, start_server

ENV = dict(os.environ, PYTHONPATH=PACKAGE_PARENT, TERM="xterm")
ENV.pop("NO_COLOR", None)
TIMEOUT = 10          # generous bound for any one wait; a pass takes far less
SGR = re.compile(rb"\x1b\[[0-9;]*m")   # a colour/bold escape code

# Run the client in bash so that the terminal's settings can be read before
# and after it, in the same terminal; bash must survive a Ctrl-C meant for it.
WRAPPER = """trap : INT
echo "TTY-BEFORE:$(stty -g)"
"$0" -m selectchat client "$@"
echo "CLIENT-EXIT:$?"
echo "TTY-AFTER:$(stty -g)"
"""


def client_args(server, *extra):
    return ["--host", server.host, "--port", str(server.port), *extra]


# --- a client in a pseudo-terminal, and the screen it draws -------------------------

class Screen:
    """pexpect's ``logfile_read``: everything the client writes, on an emulated screen."""

    def __init__(self, columns=80, rows=24):
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()

    def write(self, data):
        self.raw += data
        self.stream.feed(data)

    def flush(self):
        pass

    def rows(self):
        return [row.rstrip() for row in self.screen.display]

    def cursor_row(self):
        return self.screen.display[self.screen.cursor.y].rstrip()

    def text(self):
        return "\n".join(row for row in self.rows() if row)


class TerminalUser:
    """A person at a terminal running ``selectchat client``."""

    def __init__(self, args, env=ENV, columns=80, rows=24):
        self.screen = Screen(columns, rows)
        self.child = pexpect.spawn("bash", ["-c", WRAPPER, sys.executable, *args], env=env,
                                   dimensions=(rows, columns), timeout=TIMEOUT)
        self.child.logfile_read = self.screen

    def wait_for(self, predicate, what):
        """Read output until ``predicate()`` holds; fail with the screen after TIMEOUT."""
        deadline = time.monotonic() + TIMEOUT
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"waited for {what}; the screen:\n{self.screen.text()}")
            try:
                self.child.read_nonblocking(4096, timeout=0.05)
            except pexpect.TIMEOUT:
                pass

    def wait_text(self, text):
        self.wait_for(lambda: text in self.screen.text(), repr(text))

    def wait_cursor_row(self, text):
        self.wait_for(lambda: self.screen.cursor_row() == text.rstrip(), f"the typed line {text!r}")

    def type(self, keys):
        self.child.send(keys)

    def resize(self, rows, columns):
        """Resize the window: the emulated screen, and the pseudo-terminal (SIGWINCH)."""
        self.screen.screen.resize(rows, columns)
        self.child.setwinsize(rows, columns)

    def terminal_settings(self):
        return termios.tcgetattr(self.child.child_fd)   # the master shares the terminal's settings

    def finish(self):
        """Wait for the client's exit; return (its exit code, stty before, stty after)."""
        self.wait_text("TTY-AFTER:")
        self.child.expect(pexpect.EOF)
        raw = self.screen.raw.decode(errors="replace")
        code = int(re.search(r"CLIENT-EXIT:(\d+)", raw).group(1))
        before = re.search(r"TTY-BEFORE:(\S+)", raw).group(1)
        after = re.search(r"TTY-AFTER:(\S+)", raw).group(1)
        return code, before, after

    def close(self):
        self.child.close(force=True)


@pytest.fixture
def rooms_server():
    with start_server("--room", "lobby:5", "--room", "small:1", "--room", "staff:3:s3cret") as server:
        yield server


@contextmanager
def starting(kind):
    """A function that starts ``kind(args, **kwargs)``; every one started is closed at the end."""
    started = []

    def start(args, **kwargs):
        started.append(kind(args, **kwargs))
        return started[-1]

    try:
        yield start
    finally:
        for user in started:
            user.close()


@pytest.fixture
def person():
    """Start ``selectchat client`` in a pseudo-terminal: ``alice = person(args)``."""
    with starting(TerminalUser) as start:
        yield start


def test_terminal_pick_chat_while_typing_leave_rejoin_quit(rooms_server, person):
    with Client(*rooms_server.address, "carol") as carol, Client(*rooms_server.address, "bob") as bob:
        carol.join("#small")                       # #small (limit 1) is now full
        alice = person(client_args(rooms_server, "--nick", "alice"), env=dict(ENV, NO_COLOR="1"))
        alice.wait_text("Which room?")
        rows = alice.screen.text()
        assert re.search(r"#lobby +0/5", rows) and re.search(r"#small +1/1 +full", rows)
        assert re.search(r"#staff +0/3 +private", rows)
        settings = alice.terminal_settings()       # cbreak while it runs: no echo, keys one by one
        assert not settings[3] & termios.ICANON and not settings[3] & termios.ECHO

        alice.type("small\r")                      # a full room: told so, asked again
        alice.wait_text("#small is full.")
        alice.wait_for(lambda: alice.screen.text().count("Which room?") == 2, "the question again")
        alice.type("LOBBY\r")
        alice.wait_cursor_row("#lobby> ")
        bob.join("#lobby")
        alice.wait_text("bob joined #lobby")

        alice.type("hello wor")                    # half a line, then a message arrives
        alice.wait_cursor_row("#lobby> hello wor")
        bob.say("#lobby", "a message while you type")
        alice.wait_for(lambda: any(row.endswith("<bob> a message while you type")
                                   for row in alice.screen.rows()), "bob's message")
        alice.wait_cursor_row("#lobby> hello wor")  # redrawn under it, intact
        assert sum("hello wor" in row for row in alice.screen.rows()) == 1
        alice.type("ld\r")
        message = bob.expect("PRIVMSG")
        assert (message.nick, message.params) == ("alice", ("#lobby", "hello world"))
        alice.wait_for(lambda: any(row.endswith("<alice> hello world") for row in alice.screen.rows()),
                       "our own line, shown as sent")
        assert re.search(r"\d\d:\d\d <bob> a message while you type", alice.screen.text())

        alice.type("/Leave\r")                     # commands are case-insensitive
        alice.wait_text("You left #lobby.")
        assert bob.expect("PART").nick == "alice"
        alice.wait_for(lambda: alice.screen.cursor_row().startswith("Which room?"), "the room question")
        alice.type("1\r")                          # by its number in the list
        alice.wait_cursor_row("#lobby> ")
        assert bob.expect("JOIN").nick == "alice"

        alice.type("/quit see you\r")
        quit_message = bob.expect("QUIT")
        assert quit_message.nick == "alice" and "see you" in quit_message.params[0]
        code, before, after = alice.finish()
    assert code == 0
    assert after == before                         # the terminal is as it was
    assert not SGR.search(alice.screen.raw), "colour despite NO_COLOR"


def test_terminal_ctrl_c_sends_quit_and_restores_the_terminal(rooms_server, person):
    with Client(*rooms_server.address, "bob") as bob:
        bob.join("#lobby")
        alice = person(client_args(rooms_server, "--nick", "alice", "--room", "lobby"))
        alice.wait_cursor_row("#lobby> ")
        bob.say("#lobby", "colour me")
        alice.wait_text("<bob> colour me")
        alice.type("never sent")
        alice.wait_cursor_row("#lobby> never sent")
        alice.child.sendintr()
        assert "Interrupted" in bob.expect("QUIT").params[0]
        code, before, after = alice.finish()
        assert not any(m.command == "PRIVMSG" for m in bob.messages(timeout=0.2))
    assert code == 0
    assert after == before
    assert re.search(rb"\x1b\[\d+m<bob>", alice.screen.raw), "on a terminal, names are in colour"


def test_terminal_server_gone_is_a_clear_error_and_the_terminal_is_restored(person):
    with start_server() as server:
        alice = person(client_args(server, "--nick", "alice", "--room", "lobby"))
        alice.wait_cursor_row("#lobby> ")
        alice.type("half a line")
        alice.wait_cursor_row("#lobby> half a line")
    alice.wait_text("The server closed the connection")
    code, before, after = alice.finish()
    assert code == 1
    assert after == before
    assert "Traceback" not in alice.screen.text()


def children_of(pid):
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if stat.read().rpartition(")")[2].split()[1] == str(pid):
                    found.append(int(entry))
        except OSError:
            pass
    return found


def test_terminal_sigterm_restores_the_terminal(person):
    with start_server() as server:
        alice = person(client_args(server, "--nick", "alice", "--room", "lobby"))
        alice.wait_cursor_row("#lobby> ")
        (client_pid,) = children_of(alice.child.pid)            # bash's one child: the client
        os.kill(client_pid, signal.SIGTERM)
        code, before, after = alice.finish()
    assert code == 128 + signal.SIGTERM and after == before


def test_terminal_asks_for_what_is_missing_and_hides_the_password(person, monkeypatch):
    monkeypatch.setenv("CLASS_PASSWORD", "letmein")
    with start_server("--password-env", "CLASS_PASSWORD", "--room", "lobby") as server, \
            Client(server.host, server.port, "bob", password="letmein") as bob:
        alice = person([])                          # nothing given: everything is asked
        alice.wait_cursor_row("Server address [127.0.0.1]:")
        alice.type("\r")                            # Enter takes the default
        alice.wait_cursor_row("Port [6667]:")
        alice.type(f"{server.port}\r")
        alice.wait_cursor_row("Nickname:")
        alice.type("bob\r")                         # taken: said so, asked again
        alice.wait_text("The nickname bob is taken.")
        alice.wait_cursor_row("Nickname:")
        alice.type("alice\r")
        alice.wait_text("The server needs a password.")
        alice.wait_cursor_row("Server password:")
        alice.type("letmein")
        alice.wait_cursor_row("Server password: *******")
        alice.type("\r")
        alice.wait_text("Which room?")
        assert "letmein" not in alice.screen.text()
        alice.type("\x04")                          # Ctrl-D: QUIT, exit 0
        assert server.wait_for_log("alice disconnected (Quit: Leaving)")
        code, before, after = alice.finish()
    assert code == 0 and after == before


def test_terminal_wide_line_in_a_40x10_window_scrolls_sideways_and_messages_leave_no_stale_row(
        rooms_server, person):
    with Client(*rooms_server.address, "bob") as bob:
        bob.join("#lobby")
        alice = person(client_args(rooms_server, "--nick", "alice", "--room", "lobby"), columns=40, rows=10)
        alice.wait_cursor_row("#lobby> ")
        text = "日本語のテキスト" * 4 + "end"                  # 64 + 3 columns: wider than the window
        alice.type(text)
        alice.wait_for(lambda: alice.screen.cursor_row().endswith("トend"), "the end of the typed line")
        for i in range(12):                                 # more messages than the window has rows
            bob.say("#lobby", f"message {i}")
        alice.wait_text("<bob> message 11")
        alice.wait_for(lambda: alice.screen.cursor_row().endswith("トend"), "the line redrawn")
        rows = alice.screen.rows()
        assert alice.screen.screen.cursor.y == 9                      # the typed line: the last row only
        assert sum("日本語" in row or "テキスト" in row for row in rows) == 1   # no stale copy above
        assert any(row.endswith("<bob> message 10") for row in rows)  # the messages stay visible
        assert alice.screen.cursor_row().startswith("#lobby> <")       # scrolled, marked
        alice.type("\x01")                                  # Ctrl-A: the start shows
        alice.wait_for(lambda: alice.screen.cursor_row().startswith("#lobby> 日本語"), "the line's start")
        alice.type("\x05\x15")                              # Ctrl-E, Ctrl-U: the row empties, nothing else
        alice.wait_cursor_row("#lobby> ")
        assert any(row.endswith("<bob> message 11") for row in alice.screen.rows())
        alice.type("short\r")
        assert bob.expect("PRIVMSG").params[1] == "short"
        alice.type(text + "\r")                             # sent whole
        assert bob.expect("PRIVMSG").params[1] == text


def test_terminal_history_completion_ctrl_l_escape_paste_and_resize(rooms_server, person):
    with Client(*rooms_server.address, "bob") as bob, Client(*rooms_server.address, "bobby") as bobby:
        bob.join("#lobby")
        alice = person(client_args(rooms_server, "--nick", "alice", "--room", "lobby"), columns=60)
        alice.wait_cursor_row("#lobby> ")
        bobby.join("#lobby")
        alice.wait_text("bobby joined #lobby")
        alice.type("helo\x1b[Dl\x1b[C!")                    # Left, a key in the middle, Right
        alice.wait_cursor_row("#lobby> hello!")
        alice.type("\x1b[H>\x1b[F<")                         # Home, End
        alice.wait_cursor_row("#lobby> >hello!<")
        alice.type("\x15")
        alice.wait_cursor_row("#lobby> ")
        alice.type("first line\r")
        alice.type("second line\r")
        assert [bob.expect("PRIVMSG").params[1] for _ in range(2)] == ["first line", "second line"]
        alice.type("\x1b[A\x1b[A")                          # Up, Up: the older line
        alice.wait_cursor_row("#lobby> first line")
        alice.type("\x1b[B")
        alice.wait_cursor_row("#lobby> second line")
        alice.type("\x15bo\t")                              # two nicks start with "bo": both shown
        alice.wait_text("bob  bobby")
        alice.type("by\t")
        alice.wait_cursor_row("#lobby> bobby:")
        alice.type("hi \x1b")                               # a bare Escape ...
        time.sleep(0.2)
        alice.type("x")                                     # ... does not swallow the next key
        alice.wait_cursor_row("#lobby> bobby: hi x")
        alice.type("\x1b[200~ pasted\r/quit\x1b[201~")      # a paste never runs a command
        alice.wait_cursor_row("#lobby> bobby: hi x pasted /quit")
        alice.type("\r")
        assert bob.expect("PRIVMSG").params[1] == "bobby: hi x pasted /quit"
        alice.type("draft")
        alice.screen.stream.feed(b"\x1b[2J\x1b[Hgarbage")    # the screen got garbled...
        alice.type("\x0c")                                  # ... Ctrl-L draws it again
        alice.wait_for(lambda: "garbage" not in alice.screen.text(), "the repaint")
        assert "<bob> " not in alice.screen.text()          # (only our own lines were said)
        assert any(row.endswith("<alice> bobby: hi x pasted /quit") for row in alice.screen.rows())
        alice.wait_cursor_row("#lobby> draft")
        alice.type("y" * 40)
        alice.resize(24, 30)                                # SIGWINCH: redrawn to the new width
        alice.wait_for(lambda: alice.screen.cursor_row().startswith("#lobby> <"), "the narrower line")
        assert all(len(row) <= 30 for row in alice.screen.rows())
        alice.type("\r")
        assert bob.expect("PRIVMSG").params[1] == "draft" + "y" * 40


def test_terminal_room_question_refuses_irc_commands_and_475_asks_the_key_masked(rooms_server, person):
    with Client(*rooms_server.address, "bob") as bob:
        bob.join("#lobby")
        alice = person(client_args(rooms_server, "--nick", "alice"))
        alice.wait_text("Which room?")
        alice.type("LIST\r")                                # what the server's welcome says to type
        alice.wait_text("LIST is an IRC command; here it is /list")
        alice.type("JOIN #lobby\r")
        alice.wait_text("JOIN is an IRC command; here it is /join")
        alice.type("/help\r")                               # commands work at the question
        alice.wait_text("/kick NICK [REASON]")
        alice.type("/join #staff\r")                        # listed as private: the key, masked
        alice.wait_cursor_row("#staff is private. Its key:")
        alice.type("s3cret")
        alice.wait_cursor_row("#staff is private. Its key: ******")
        alice.type("\r")
        alice.wait_cursor_row("#staff> ")
        assert "s3cret" not in alice.screen.text()
        alice.type("\x1b[A")                                # the key is not in the history either
        time.sleep(0.3)
        alice.wait_cursor_row("#staff> /join #staff")
        alice.type("\x15/quit\r")
        code, before, after = alice.finish()
    assert code == 0 and after == before


def test_terminal_475_for_a_room_never_listed_asks_for_the_key(person):
    with start_server("--room", "lobby") as server, Client(*server.address, "op") as op:
        op.join("#lobby")
        alice = person(client_args(server, "--nick", "alice", "--room", "lobby"))
        alice.wait_cursor_row("#lobby> ")
        server.console("create hidden 3 sesame")              # made after alice saw any list
        alice.type("/join hidden\r")
        alice.wait_text("#hidden is private.")
        alice.wait_cursor_row("#hidden is private. Its key:")
        alice.type("sesame")
        alice.wait_cursor_row("#hidden is private. Its key: ******")
        alice.type("\r")
        alice.wait_cursor_row("#hidden> ")
        assert "sesame" not in alice.screen.text()
        assert op.expect("PART").params[0] == "#lobby"       # one room at a time
        alice.type("/quit\r")
        code, before, after = alice.finish()
    assert code == 0 and after == before


# --- a client whose stdin is a pipe --------------------------------------------------

class PipeUser:
    """``selectchat client`` with stdin and stdout as pipes (as from a script)."""

    def __init__(self, args, env=ENV):
        self.child = pexpect.popen_spawn.PopenSpawn([sys.executable, "-m", "selectchat", "client", *args],
                                                    env=env, timeout=TIMEOUT)
        self.output = bytearray()
        self.child.logfile_read = self

    def write(self, data):
        self.output += data

    def flush(self):
        pass

    def wait_for(self, predicate, what):
        deadline = time.monotonic() + TIMEOUT
        while not predicate(self.text()):
            if time.monotonic() > deadline:
                raise AssertionError(f"waited for {what}; the output:\n{self.text()}")
            try:
                self.child.read_nonblocking(4096, timeout=0.05)
            except pexpect.TIMEOUT:
                pass

    def wait_text(self, text, count=1):
        self.wait_for(lambda output: output.count(text) >= count, repr(text))

    def wait_match(self, pattern):
        self.wait_for(lambda output: re.search(pattern, output), pattern)

    def line(self, text):
        self.child.sendline(text)

    def finish(self):
        """Wait for the exit; return its code."""
        self.child.expect(pexpect.EOF)
        return self.child.wait()

    def text(self):
        return self.output.decode(errors="replace")

    def close(self):
        if self.child.proc.poll() is None:
            self.child.kill(signal.SIGKILL)
            self.child.proc.wait()


@pytest.fixture
def scripted():
    """Start ``selectchat client`` with stdin and stdout as pipes."""
    with starting(PipeUser) as start:
        yield start


def test_pipe_same_flows_and_no_escape_codes(rooms_server, scripted):
    with Client(*rooms_server.address, "carol") as carol, Client(*rooms_server.address, "bob") as bob:
        carol.join("#small")
        alice = scripted(client_args(rooms_server, "--nick", "alice"))
        alice.wait_text("Which room?")
        assert re.search(r"#small +1/1 +full", alice.text())     # the list comes before the question
        alice.line("small")
        alice.wait_text("#small is full.")
        alice.wait_text("Which room?", count=2)
        alice.line("lobby")
        alice.wait_text("You are in #lobby.")
        bob.join("#lobby")
        alice.wait_text("bob joined #lobby")
        bob.say("#lobby", "\x1b[2J\x1b[31mred\x07 and \u202ereversed")   # escape codes from a peer
        alice.wait_text("red")
        alice.line("hello from a pipe")
        assert bob.expect("PRIVMSG").params == ("#lobby", "hello from a pipe")
        alice.line("/leave")
        alice.wait_text("You left #lobby.")
        alice.wait_text("Which room?", count=3)
        alice.line("lobby")
        alice.wait_text("You are in #lobby.", count=2)
        assert bob.expect("JOIN").nick == "alice"
        alice.line("/QUIT")
        assert bob.expect("QUIT").nick == "alice"
        assert alice.finish() == 0
    out = bytes(alice.output)
    assert b"\x1b" not in out and b"\x07" not in out and "\u202e" not in out.decode()
    assert re.search(rb"\d\d:\d\d <bob> .*red.* and .*reversed", out)
    assert b"Traceback" not in out


def test_pipe_script_all_at_once_then_eof(rooms_server, scripted):
    """Lines typed ahead wait for the reply they depend on; EOF is a clean QUIT."""
    with Client(*rooms_server.address, "bob") as bob:
        bob.join("#lobby")
        alice = scripted(client_args(rooms_server, "--nick", "alice"))
        alice.child.send("lobby\none\n/leave\nlobby\ntwo\n/msg bob three\n")
        alice.child.sendeof()
        seen = []
        while not seen or seen[-1][0] != "QUIT":
            message = bob.expect(lambda m: m.nick == "alice", timeout=TIMEOUT)
            seen.append((message.command, message.params))
        assert alice.finish() == 0
    assert seen == [("JOIN", ("#lobby",)), ("PRIVMSG", ("#lobby", "one")), ("PART", ("#lobby",)),
                    ("JOIN", ("#lobby",)), ("PRIVMSG", ("#lobby", "two")), ("PRIVMSG", ("bob", "three")),
                    ("QUIT", ("Quit: Leaving",))]


def test_pipe_refusals_are_sentences_and_the_client_stays(scripted):
    with start_server("--room", "lobby", "--room", "staff:3:s3cret", "--no-client-rooms") as server, \
            Client(*server.address, "bob") as bob:
        bob.join("#lobby")
        alice = scripted(client_args(server, "--nick", "bob"))
        alice.wait_text("The nickname bob is taken.")
        alice.wait_text("Nickname:")
        alice.line("alice")
        alice.wait_text("Which room?")
        alice.line("nowhere")                                    # not listed: asked first
        alice.wait_text("There is no #nowhere in the list. Make it? (y/n)")
        alice.line("y")                                          # 403: no client rooms here
        alice.wait_text("There is no room called #nowhere")
        alice.line("LIST")                                       # never a room called #LIST
        alice.wait_text("LIST is an IRC command; here it is /list")
        alice.line("staff")                                      # private: the key is asked
        alice.wait_text("#staff is private. Its key:")
        alice.line("wrong")                                      # 475: asked again
        alice.wait_text("that key is not the right one.")
        alice.wait_text("#staff is private. Its key:", count=2)
        alice.line("s3cret")
        alice.wait_text("You are in #staff.")
        alice.line("/join #lobby")                               # switch rooms
        alice.wait_text("You are in #lobby.")
        alice.wait_text("You left #staff.")
        alice.line("/who")
        alice.wait_text("In #lobby: bob, alice.")
        alice.line("/join staff")                                # known to be private: key asked
        alice.wait_text("#staff is private. Its key:", count=3)
        alice.line("wrong")
        alice.wait_text("that key is not the right one.", count=2)
        alice.line("")                                           # no key: stay
        alice.wait_text("You are still in #lobby.")
        alice.line("/nick bob")                                  # 433 once registered: stays
        alice.wait_text("You are still alice.")
        bob.say("alice", "a private word")
        alice.wait_text("*bob* a private word")
        alice.line("/msg bob private reply")
        assert bob.expect("PRIVMSG").params == ("bob", "private reply")
        alice.line("/msg nobody hello")
        alice.wait_text("There is no one called nobody here.")
        alice.line("/create #mine 3")
        alice.wait_text("There is no room called #mine")             # no client rooms on this server
        alice.line("/frobnicate")
        alice.wait_text("There is no command /frobnicate.")
        server.console("kick lobby alice being rude")                # kicked: told why, asked again
        alice.wait_text("You were removed from #lobby by the operator: being rude")
        alice.wait_text("Which room?", count=4)
        alice.line("lobby")
        alice.wait_text("You are in #lobby.", count=2)
        server.console("close lobby")                                # the room closes: same
        alice.wait_text("You were removed from #lobby by the operator: Room closed by the operator")
        alice.wait_text("Which room?", count=5)
        server.console("say maintenance at noon")
        alice.wait_text("-- the server: maintenance at noon")
        alice.line("/quit")
        assert alice.finish() == 0
    assert "Traceback" not in alice.text()


def test_pipe_create_a_room_with_a_limit_and_key(rooms_server, scripted):
    with Client(*rooms_server.address, "bob") as bob:
        alice = scripted(["--port", str(rooms_server.port), "--nick", "alice", "--room", "lobby"])
        alice.wait_text("You are in #lobby.")
        assert "Server address" not in alice.text()            # --port alone: this machine
        alice.line("/create lobby 2")
        alice.wait_text("#lobby exists already")
        alice.line("/create #lab 2 sesame")
        alice.wait_text("#lab now: limit 2, private")
        lab = next(room for room in bob.rooms() if room.name == "#lab")
        assert (lab.members, lab.limit, lab.private) == (1, 2, True)
        alice.line("/rooms")
        alice.wait_match(r"#lab +1/2 +private")
        alice.line("/me waves")
        alice.wait_text("* alice waves")
        alice.child.sendeof()
        assert alice.finish() == 0


def test_pipe_server_gone_and_server_unreachable(scripted):
    with start_server("--room", "lobby") as server:
        alice = scripted(client_args(server, "--nick", "alice", "--room", "lobby"))
        alice.wait_text("You are in #lobby.")
    alice.wait_text("The server closed the connection: Server shutting down")
    assert alice.finish() == 1

    with socket.socket() as placeholder:    # a port where no one listens
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    nobody = scripted(["--host", "127.0.0.1", "--port", str(port), "--nick", "alice"])
    nobody.wait_text(f"Cannot connect to 127.0.0.1:{port}")
    assert nobody.finish() == 1


def test_pipe_password_from_the_environment(scripted, monkeypatch):
    monkeypatch.setenv("CLASS_PASSWORD", "letmein")     # for the server
    env = dict(ENV, CLASS_PASSWORD="letmein")
    with start_server("--password-env", "CLASS_PASSWORD", "--room", "lobby") as server:
        ok = scripted(client_args(server, "--nick", "alice", "--room", "lobby",
                                  "--password-env", "CLASS_PASSWORD"), env=env)
        ok.wait_text("You are in #lobby.")
        wrong = scripted(client_args(server, "--nick", "eve", "--password-env", "CLASS_PASSWORD"),
                         env=dict(ENV, CLASS_PASSWORD="guess"))
        wrong.wait_text("The server refused that password.")
        wrong.wait_text("Server password:")
        wrong.line("letmein")
        wrong.wait_text("Which room?")
        for user in (ok, wrong):
            user.child.sendeof()
            assert user.finish() == 0
    missing = scripted(["--password-env", "NOT_SET_ANYWHERE"])
    assert missing.finish() == 2
    assert "NOT_SET_ANYWHERE is not set" in missing.text()


# --- the loop, in this process: one select() over the keyboard and the socket ----------

class Records:
    """An observer for the loop: keeps every record."""

    def __init__(self):
        self.records = []

    def record(self, kind, **fields):
        self.records.append((kind, fields))


def test_one_select_watches_keyboard_and_socket_and_reports_to_an_observer(rooms_server):
    import io

    from selectchat.client.display import PlainDisplay

    keyboard_end, typing_end = os.pipe()
    out, observer = io.StringIO(), Records()
    session = terminal.Session(rooms_server.host, rooms_server.port, "alice", room="lobby")
    client = terminal_client.TerminalClient(session, PlainDisplay(out), observer=observer, stdin_fd=keyboard_end)
    client.loop.call_later(TIMEOUT, lambda: client.apply([terminal.Exit(99)]))   # a bound, if all fails
    try:
        os.write(typing_end, b"hello\n/who\n")
        os.close(typing_end)                                   # then EOF: QUIT, exit 0
        with Client(*rooms_server.address, "bob") as bob:
            bob.join("#lobby")
            assert client.run() == 0
            assert bob.expect("PRIVMSG").params == ("#lobby", "hello")
    finally:
        os.close(keyboard_end)
    assert "In #lobby: " in out.getvalue()
    labels = {fields["fd"]: fields["label"] for kind, fields in observer.records if kind == "register"}
    assert set(labels.values()) == {"keyboard", "server"}
    both = [fields for kind, fields in observer.records
            if kind == "select" and set(fields["read"]) == set(labels)]
    assert both, "no select() watched the keyboard and the socket together"
    assert any(fields["ready_write"] for kind, fields in observer.records if kind == "select")


def test_pipe_room_key_from_the_environment_never_the_command_line(rooms_server, scripted):
    refused = scripted(client_args(rooms_server, "--nick", "eve", "--room", "staff", "--key", "s3cret"))
    assert refused.finish() == 2 and "unrecognized arguments: --key" in refused.text()
    alice = scripted(client_args(rooms_server, "--nick", "alice", "--room", "staff"),
                     env=dict(ENV, SELECTCHAT_KEY="s3cret"))
    alice.wait_text("You are in #staff.")
    no_key = scripted(client_args(rooms_server, "--nick", "bob", "--room", "staff"))
    no_key.wait_text("#staff is private. Its key:")          # 475: asked, not told to retype it
    no_key.line("s3cret")
    no_key.wait_text("You are in #staff.")
    for user in (alice, no_key):
        user.child.sendeof()
        assert user.finish() == 0


def test_pipe_operator_commands_against_the_real_server(rooms_server, scripted):
    with Client(*rooms_server.address, "bob") as bob:
        alice = scripted(client_args(rooms_server, "--nick", "alice"))
        alice.wait_text("Which room?")
        alice.line("quiz")                                   # not listed: asked before it is made
        alice.wait_text("There is no #quiz in the list. Make it? (y/n)")
        alice.line("yes")
        alice.wait_text("You are in #quiz. Here: @alice.")   # we made it: we are its operator
        bob.join("#quiz")
        alice.wait_text("bob joined #quiz")
        alice.line("/topic quiz on Friday")
        assert bob.expect("TOPIC").params == ("#quiz", "quiz on Friday")
        alice.line("/names")
        alice.wait_text("In #quiz: @alice, bob.")
        alice.line("/list")
        alice.wait_match(r"#quiz +2 \(no limit\) +quiz on Friday")
        alice.line("/mode +l 5")
        alice.wait_text("#quiz now: limit 5 (set by alice)")
        alice.line("/mode")
        alice.wait_text("#quiz is: only members may talk, only operators set the topic, limit 5.")
        alice.line("//slash at the start")
        assert bob.expect("PRIVMSG").params == ("#quiz", "/slash at the start")
        bob.send("NOTICE alice :a notice, not a message")
        alice.wait_match(r"\d\d:\d\d -bob- a notice, not a message")
        alice.line("/kick bob too noisy")
        kick = bob.expect("KICK")
        assert kick.params == ("#quiz", "bob", "too noisy")
        alice.wait_text("bob was removed from #quiz by alice (too noisy)")
        alice.line("/part")
        alice.wait_text("You left #quiz.")
        alice.wait_text("Which room?", count=2)
        alice.child.sendeof()
        assert alice.finish() == 0
