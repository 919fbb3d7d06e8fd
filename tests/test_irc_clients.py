"""Clients we did not write, against our server: the ``irc`` package, irssi and weechat.

Our own :class:`~selectchat.client.Client` could share a misunderstanding
with the server; real clients cannot.  Each test runs the issue's scenario:
connect, list the rooms, join, exchange messages with a scripted peer (our
Client), part, quit.

* The ``irc`` package (PyPI, in the ``test`` extra) is driven in this process
  with ``reactor.process_once(timeout)`` in bounded loops -- itself a
  ``select()`` loop, like our server's.
* irssi (Debian package) runs headless in a detached tmux session on a private
  tmux socket, with a throwaway home and a config written here; we type with
  ``send-keys`` and read the screen with ``capture-pane``.  When a step
  fails, irssi's raw log (every line it sent and received) and the screen are
  attached to the failure.  Without irssi or tmux the test is skipped -- but
  fails when ``CI`` is set, since ``.ci/run`` installs both.
* weechat (Debian package ``weechat-headless``) runs without a terminal, in a
  throwaway directory: we give it commands through its FIFO and read what it
  showed from its log files.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import time

import irc.client
import pytest

from selectchat.client import Client
from selectchat.launch import start_server

TIMEOUT = 10.0   # bound on every wait; a healthy run needs a fraction of a second per step


def require_tools(*names):
    """Skip (or, under CI, fail) when a program this test drives is not installed."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        reason = (f"needs {' and '.join(missing)} on PATH (Debian packages irssi, tmux, weechat-headless; "
                  f".ci/run installs them)")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


# --- the irc package -------------------------------------------------------------

class Recorder:
    """Keep every event the irc package reports; wait for one that matches."""

    def __init__(self, reactor):
        self.reactor = reactor
        self.events = []
        reactor.add_global_handler("all_events", lambda connection, event: self.events.append(event))

    def wait_for(self, event_type, predicate=lambda event: True):
        """Run the reactor until an event of ``event_type`` matching ``predicate`` arrived."""
        deadline = time.monotonic() + TIMEOUT
        seen = 0
        while time.monotonic() < deadline:
            for event in self.events[seen:]:
                if event.type == event_type and predicate(event):
                    return event
            seen = len(self.events)
            self.reactor.process_once(timeout=0.05)
        raise AssertionError(f"no {event_type!r} event within {TIMEOUT} s; "
                             f"saw {[(e.type, e.arguments) for e in self.events[-15:]]}")

    def of_type(self, event_type):
        return [event for event in self.events if event.type == event_type]


def test_irc_package_connects_lists_joins_talks_parts_and_quits():
    with start_server("--room", "lobby:5") as server:
        reactor = irc.client.Reactor()
        events = Recorder(reactor)
        connection = reactor.server().connect(server.host, server.port, "pyirc",
                                              username="pyirc", ircname="The irc package")
        try:
            welcome = events.wait_for("welcome")
            assert welcome.target == "pyirc"
            events.wait_for("endofmotd")
            # It parsed our ISUPPORT (005) into its FeatureSet.
            features = connection.features
            assert features.chantypes == "#" and dict(features.prefix) == {"@": "o", "+": "v"}
            assert features.chanmodes == ["beI", "k", "l", "imnst"]
            assert features.network == "selectchat"

            # LIST before joining: the operator's room, its occupancy and limit.
            connection.list()
            events.wait_for("listend")
            [entry] = [e.arguments for e in events.of_type("list") if e.arguments[0] == "#lobby"]
            assert entry[1] == "0" and "+l 5" in entry[2]

            with Client(server.host, server.port, "bob") as bob:
                bob.join("#lobby")
                connection.join("#lobby")
                events.wait_for("join", lambda e: e.source.nick == "pyirc" and e.target == "#lobby")
                names = events.wait_for("namreply", lambda e: e.arguments[1] == "#lobby")
                assert sorted(names.arguments[2].split()) == ["bob", "pyirc"]
                joined = bob.expect("JOIN")
                assert joined.nick == "pyirc" and joined.prefix == "pyirc!pyirc@127.0.0.1"

                # Both directions, in the room and privately.
                bob.say("#lobby", "hello pyirc, { } and : are fine")
                said = events.wait_for("pubmsg")
                assert (said.source.nick, said.target, said.arguments) == (
                    "bob", "#lobby", ["hello pyirc, { } and : are fine"])
                connection.privmsg("#lobby", "hi bob")
                assert bob.expect("PRIVMSG").params == ("#lobby", "hi bob")
                connection.privmsg("bob", "just you")
                private = bob.expect("PRIVMSG")
                assert (private.nick, private.params) == ("pyirc", ("bob", "just you"))
                bob.say("pyirc", "just you too")
                said = events.wait_for("privmsg")
                assert (said.source.nick, said.arguments) == ("bob", ["just you too"])

                # irc 20.5's part() sends its reason as-is, so a reason with a space
                # needs the colon from us (privmsg() and quit() add it themselves).
                connection.part("#lobby", ":moving on")
                events.wait_for("part", lambda e: e.source.nick == "pyirc")
                parted = bob.expect("PART")
                assert (parted.nick, parted.params) == ("pyirc", ("#lobby", "moving on"))
                assert bob.names("#lobby") == ["bob"]

                connection.quit("done here")
                events.wait_for("disconnect")
                assert server.wait_for_log("pyirc disconnected (Quit: done here)")
                assert bob.ping() >= 0     # the server still serves the others
        finally:
            connection.close()


# --- irssi in tmux -----------------------------------------------------------------

IRSSI_CONFIG = """\
settings = {
  core = {
    real_name = "Irssi Tester";
    user_name = "irssitest";
    nick = "irssitest";
    settings_autosave = "no";
  };
  "irc/core" = {
    cmd_queue_speed = "100msec";
    cmds_max_at_once = "20";
  };
  "fe-text" = { paste_detect_time = "0"; };
};
"""


class TmuxSession:
    """One detached tmux session on a private tmux socket: type keys, read the screen.

    The socket lives in a directory of its own (``TMUX_TMPDIR``), so this tmux
    server is nobody else's, ignores every tmux.conf, and leaves nothing behind.
    """

    def __init__(self, session, home):
        self.socket_dir = tempfile.mkdtemp(prefix="selectchat-tmux-")
        self.tmux = ["tmux", "-L", "irssi-test", "-f", "/dev/null"]
        self.session = session
        self.env = dict(os.environ, TMUX_TMPDIR=self.socket_dir, LANG="C.UTF-8",
                        LC_ALL="C.UTF-8", HOME=str(home))
        self.env.pop("TMUX", None)   # even when the tests run inside someone's tmux

    def run(self, *args, check=True):
        return subprocess.run([*self.tmux, *args], env=self.env, check=check, timeout=TIMEOUT,
                              capture_output=True, text=True)

    def start(self, command):
        self.run("new-session", "-d", "-s", self.session, "-x", "160", "-y", "50", command)

    def type(self, text):
        """Type a line of text (literally) and press Enter."""
        self.run("send-keys", "-t", self.session, "-l", text)
        self.run("send-keys", "-t", self.session, "Enter")

    def screen(self):
        result = self.run("capture-pane", "-p", "-t", self.session, check=False)
        return result.stdout if result.returncode == 0 else ""

    def wait_for(self, text):
        """Poll the screen until ``text`` shows; return the screen."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"irssi never showed {text!r} within {TIMEOUT} s")

    def alive(self):
        return self.run("has-session", "-t", self.session, check=False).returncode == 0

    def kill(self):
        """End the session (irssi gets SIGHUP); the tmux server exits with its last session."""
        self.run("kill-session", "-t", self.session, check=False)
        shutil.rmtree(self.socket_dir, ignore_errors=True)


def irssi_rawlog(session, path):
    """Ask irssi to write its raw log to ``path``; return the text (or why not)."""
    if not session.alive():
        return "(irssi is gone: no raw log)"
    session.type(f"/rawlog save {path}")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            time.sleep(0.1)   # let it finish writing
            return path.read_text(errors="replace")
        time.sleep(0.05)
    return "(irssi wrote no raw log)"


@pytest.mark.irssi
def test_irssi_in_tmux_connects_lists_joins_talks_parts_and_quits(tmp_path):
    require_tools("irssi", "tmux")
    home = tmp_path / "irssi-home"
    home.mkdir()
    (home / "config").write_text(IRSSI_CONFIG)
    session = TmuxSession("irssi", home)
    with start_server("--room", "lobby:5") as server, Client(server.host, server.port, "bob") as bob:
        try:
            session.start(f"irssi --home={home} -c {server.host} -p {server.port} -n irssitest")
            session.wait_for("End of /MOTD command")
            assert server.wait_for_log("irssitest registered")

            session.type("/list -yes")     # irssi asks for -yes before listing a whole server
            screen = session.wait_for("#lobby")
            assert "[+l 5]" in screen

            bob.join("#lobby")
            session.type("/join #lobby")
            session.wait_for("Total of 2 nicks")        # irssi's own count from 353/366
            joined = bob.expect("JOIN")
            assert joined.nick == "irssitest"

            bob.say("#lobby", "hello irssi from bob")
            session.wait_for("hello irssi from bob")
            session.type("hi bob, irssi here")          # plain text goes to the room window
            said = bob.expect("PRIVMSG")
            assert (said.nick, said.params) == ("irssitest", ("#lobby", "hi bob, irssi here"))

            session.type("/part #lobby see you")
            parted = bob.expect("PART")
            assert (parted.nick, parted.params) == ("irssitest", ("#lobby", "see you"))

            session.type("/quit bye now")
            assert server.wait_for_log("irssitest disconnected (Quit: bye now)")
            deadline = time.monotonic() + TIMEOUT
            while session.alive() and time.monotonic() < deadline:
                time.sleep(0.05)           # irssi exits, and with it the tmux session
            assert not session.alive(), "irssi did not exit after /quit"
            assert bob.ping() >= 0
        except Exception as failure:
            rawlog = irssi_rawlog(session, tmp_path / "irssi-raw.log")
            raise AssertionError(f"{failure}\n--- irssi screen ---\n{session.screen()}"
                                 f"\n--- irssi raw log ---\n{rawlog}") from failure
        finally:
            session.kill()


@pytest.mark.irssi
def test_irssi_shows_room_modes_voice_bans_invites_and_the_topic_lock(tmp_path):
    """What a room operator types in irssi, and what irssi draws from our replies."""
    require_tools("irssi", "tmux")
    home = tmp_path / "irssi-home"
    home.mkdir()
    (home / "config").write_text(IRSSI_CONFIG)
    session = TmuxSession("irssi-modes", home)
    with start_server() as server, Client(server.host, server.port, "bob") as bob, \
            Client(server.host, server.port, "carol") as carol:
        try:
            session.start(f"irssi --home={home} -c {server.host} -p {server.port} -n irssitest")
            session.wait_for("End of /MOTD command")
            session.type("/join #modes")
            # The status bar shows the modes irssi read from 324: a new room is +nt.
            session.wait_for("#modes(+nt)")
            session.wait_for("Channel #modes created")          # irssi's words for our 329
            bob.join("#modes")
            session.wait_for("bob [bob@127.0.0.1] has joined #modes")

            session.type("/mode #modes +m")
            assert bob.expect("MODE").params == ("#modes", "+m")
            session.wait_for("#modes(+mnt)")
            bob.say("#modes", "can anyone hear me")
            assert bob.expect("404").params[1] == "#modes"

            session.type("/voice bob")                          # irssi's own command for +v
            assert bob.expect("MODE").params == ("#modes", "+v", "bob")
            session.wait_for("mode/#modes [+v bob] by irssitest")
            bob.say("#modes", "heard at last")
            session.wait_for("heard at last")
            session.type("/names")
            session.wait_for("+bob")                            # irssi's nick list knows the voice

            session.type("/mode #modes +b spammer!*@*")
            assert bob.expect("MODE").params == ("#modes", "+b", "spammer!*@*")
            session.type("/ban")                                # with no mask: list the bans
            session.wait_for("spammer!*@*")

            session.type("/mode #modes +i")
            assert bob.expect("MODE").params == ("#modes", "+i")
            carol.send("JOIN #modes")
            assert carol.expect("473").params[1] == "#modes"
            session.type("/invite carol")
            invite = carol.expect("INVITE")
            assert invite.nick == "irssitest" and invite.params == ("carol", "#modes")
            carol.join("#modes")
            session.wait_for("carol [carol@127.0.0.1] has joined #modes")
            session.type("/window 1")                           # 341 is shown in the status window
            session.wait_for("Inviting carol to #modes")
            session.type("/window 2")

            bob.send("TOPIC #modes :bob's topic")               # +t: bob is not an operator
            assert bob.expect("482").params[1] == "#modes"
            session.type("/topic #modes the room's rules")
            assert bob.expect("TOPIC").params == ("#modes", "the room's rules")
            session.type("/quit done")
            assert server.wait_for_log("irssitest disconnected (Quit: done)")
        except Exception as failure:
            rawlog = irssi_rawlog(session, tmp_path / "irssi-raw.log")
            raise AssertionError(f"{failure}\n--- irssi screen ---\n{session.screen()}"
                                 f"\n--- irssi raw log ---\n{rawlog}") from failure
        finally:
            session.kill()


# --- weechat-headless ------------------------------------------------------------------

class Weechat:
    """weechat-headless in a directory of its own: commands through its FIFO, what it shows from its logs."""

    SETTINGS = ["/set logger.file.flush_delay 0",            # write each log line at once
                "/set irc.server_default.anti_flood_prio_high 0", "/set irc.server_default.anti_flood_prio_low 0",
                "/set irc.server_default.autoreconnect off"]

    def __init__(self, home, host, port, nick):
        self.home = home
        startup = [*self.SETTINGS, f"/server add sc {host}/{port}", f"/set irc.server.sc.nicks {nick}",
                   "/set irc.server.sc.ssl off", "/connect sc"]
        self.process = subprocess.Popen(["weechat-headless", "--dir", str(home), "-r", ";".join(startup)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)

    def command(self, buffer, text):
        """Type ``text`` in ``buffer`` (e.g. ``irc.sc.#room``), one FIFO write per command."""
        deadline = time.monotonic() + TIMEOUT
        while not (pipes := glob.glob(str(self.home / "weechat_fifo_*"))):
            assert time.monotonic() < deadline, "weechat made no FIFO"
            time.sleep(0.05)
        with open(pipes[0], "w") as fifo:
            fifo.write(f"{buffer} *{text}\n")

    def log(self, name):
        path = self.home / "logs" / f"{name}.weechatlog"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for(self, name, text):
        """Poll the log of buffer ``name`` until ``text`` is in it."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if text in self.log(name):
                return
            time.sleep(0.05)
        raise AssertionError(f"weechat never logged {text!r} in {name} within {TIMEOUT} s")

    def stop(self):
        self.process.kill()       # our own child, by its PID
        self.process.wait()


def test_weechat_shows_room_modes_voice_bans_and_topics(tmp_path):
    require_tools("weechat-headless")
    home = tmp_path / "weechat-home"
    home.mkdir()
    room = "irc.sc.#wee"
    with start_server() as server, Client(server.host, server.port, "bob") as bob:
        weechat = Weechat(home, server.host, server.port, "weetest")
        try:
            weechat.wait_for("irc.server.sc", "End of /MOTD command")
            weechat.wait_for("irc.server.sc", "CHANMODES=beI,k,l,imnst PREFIX=(ov)@+")
            weechat.command("irc.server.sc", "/join #wee")
            weechat.wait_for(room, "Channel #wee: 1 nick (1 op, 0 voices, 0 normals)")
            weechat.wait_for(room, "Channel created on")         # weechat's words for our 329
            bob.join("#wee")
            weechat.wait_for(room, "bob (bob@127.0.0.1) has joined #wee")

            weechat.command(room, "/mode +m")
            assert bob.expect("MODE").params == ("#wee", "+m")
            weechat.wait_for(room, "Mode #wee [+m] by weetest")
            weechat.command(room, "/voice bob")
            assert bob.expect("MODE").params == ("#wee", "+v", "bob")
            weechat.command(room, "/names")
            weechat.wait_for(room, "Nicks #wee: [@weetest +bob]")

            weechat.command(room, "/mode +b spam!*@*")
            assert bob.expect("MODE").params == ("#wee", "+b", "spam!*@*")
            weechat.command(room, "/ban")                       # no mask: the list
            weechat.wait_for(room, "[#wee] [1] spam!*@* banned by weetest")

            weechat.command(room, "/topic the rules")
            assert bob.expect("TOPIC").params == ("#wee", "the rules")
            weechat.command(room, "/mode")                      # 324 and 329 again
            weechat.wait_for(room, "Mode #wee [+mnt]")
            weechat.command("irc.server.sc", "/quit done")
            assert server.wait_for_log("weetest disconnected (Quit: done)")
        except Exception as failure:
            raise AssertionError(f"{failure}\n--- weechat's room log ---\n{weechat.log(room)}"
                                 f"\n--- weechat's server log ---\n{weechat.log('irc.server.sc')}") from failure
        finally:
            weechat.stop()
