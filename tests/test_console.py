"""The operator's console (the server's stdin), shutdown, signals and the log file.

Most tests type commands through :meth:`ServerProcess.console`, which writes
to the server subprocess's stdin exactly as an operator would.  The launcher
always passes ``--exit-on-eof``; the tests about other stdin set-ups (EOF
that must *not* stop the server, ``--no-console``, a closed stdin) start the
subprocess themselves with :class:`Spawned` and always kill it at the end.
"""

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from selectchat.client import Client, JoinRefused
from selectchat.launch import PACKAGE_PARENT, READY_PREFIX, start_server


# --- helpers ------------------------------------------------------------------

@pytest.fixture
def served():
    """A server with its console, and a ``client(nick)`` maker; all closed at the end."""
    with start_server() as server:
        clients = []

        def client(nick):
            c = Client(*server.address, nick)
            clients.append(c)
            return c

        server.client = client
        try:
            yield server
        finally:
            for c in clients:
                c.close()


def wait_until(predicate, timeout=5.0, interval=0.02):
    """Poll ``predicate`` until it is true; return its last value."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(interval)
    return value


def until_eof(client):
    """Read until the server closes ``client``'s connection; return what came."""
    received = []
    with pytest.raises(EOFError):
        while True:
            message = client.recv()
            assert message is not None, f"{client.nick}: the connection stayed open"
            received.append(message)
    return received


def rows(console_lines):
    """``rooms`` output as {room: (members, private)}."""
    return {fields[0]: (fields[1], fields[2]) for fields in (l.split() for l in console_lines[1:])}


def cpu_seconds(pid):
    """User + system CPU time a process has used so far (from /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(pid, seconds=1.0):
    """CPU time the process uses while nobody talks to it for ``seconds``."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - before


class Spawned:
    """``selectchat server --port 0 OPTIONS`` with stdin as we choose; killed for sure in :meth:`stop`."""

    def __init__(self, *options, stdin=subprocess.PIPE, preexec_fn=None):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")])))
        command = [sys.executable, "-m", "selectchat", "server", "--port", "0", "--quiet", *options]
        self.process = subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env, preexec_fn=preexec_fn)
        try:
            ready, _, _ = select.select([self.process.stdout], [], [], 15)
            line = self.process.stdout.readline().decode() if ready else ""
            assert line.startswith(READY_PREFIX), f"first line {line!r}"
            self.port = int(line.strip().rpartition(":")[2])
        except BaseException:
            self.stop()
            raise

    def client(self, nick):
        return Client("127.0.0.1", self.port, nick)

    def close_stdin(self):
        self.process.stdin.close()

    def stdout_waiting(self):
        return bool(select.select([self.process.stdout], [], [], 0)[0])

    def stop(self, signum=signal.SIGTERM):
        """Signal the server, wait for it (kill it if it hangs); its exit code."""
        process = self.process
        if process.poll() is None:
            process.send_signal(signum)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream:
                stream.close()
        return process.returncode


def assert_chat_works(server):
    """Two fresh clients meet in a room and exchange a message."""
    with server.client("ann") as ann, server.client("ben") as ben:
        ann.join("#check")
        ben.join("#check")
        ann.say("#check", "are you there?")
        assert ben.expect("PRIVMSG").params == ("#check", "are you there?")


# --- the commands -------------------------------------------------------------

def test_help_lists_every_command(served):
    lines = served.console("help")
    listed = {line.split()[0] for line in lines[1:]}
    for command in ("rooms", "create", "who", "users", "limit", "key", "kick", "disconnect",
                    "close", "say", "log", "shutdown", "help"):
        assert command in listed, f"help does not list {command}"


def test_mistakes_get_a_clear_answer_and_change_nothing(served):
    assert served.console("frobnicate") == ["unknown command 'frobnicate'; type help for the list"]
    assert served.console("create")[0].startswith("usage: create ROOM [LIMIT [KEY]]")
    assert served.console("create lobby x") == ["error: 'x' is not a number"]
    assert served.console("create lobby -2") == ["error: a limit cannot be negative"]
    assert served.console("who nowhere") == ["error: no room called #nowhere"]
    assert served.console("kick nowhere bob") == ["error: no room called #nowhere"]
    assert served.console("create 'unbalanced") == ["error: No closing quotation"]
    assert served.console("rooms") == ["no rooms yet (create ROOM LIMIT, or a client JOINs one)"]
    assert served.console("create lobby") == ["created #lobby, limit none"]
    assert served.console("create LOBBY") == ["error: #LOBBY already exists"]
    assert_chat_works(served)


def test_create_rooms_and_list_them(served):
    assert served.console("create lobby 3") == ["created #lobby, limit 3"]
    assert served.console("create #vault 2 s3cret") == ["created #vault, limit 2 (private)"]
    alice = served.client("alice")
    alice.join("#lobby")
    alice.join("#vault", "s3cret")
    alice.join("#own")
    listing = served.console("rooms")
    assert listing[0].split()[:3] == ["ROOM", "MEMBERS", "PRIVATE"]
    assert rows(listing) == {"#lobby": ("1/3", "no"), "#vault": ("1/2", "yes"), "#own": ("1/-", "no")}
    with pytest.raises(JoinRefused) as refused:
        served.client("bob").join("#vault", "guess")
    assert refused.value.numeric == "475"


def test_who_and_users(served):
    served.console("create lobby")
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    alice.join("#mine")
    bob.join("#mine")
    bob.join("#lobby")
    assert served.console("who mine") == ["#mine (2/-): @alice bob"]
    assert served.console("who #lobby") == ["#lobby (1/-): bob"]
    served.console("create empty 4")
    assert served.console("who empty") == ["#empty (0/4): (empty)"]
    users = {line.split()[0]: line.split()[1:] for line in served.console("users")}
    assert users == {"alice": ["127.0.0.1", "#mine"], "bob": ["127.0.0.1", "#mine", "#lobby"],
                     "carol": ["127.0.0.1"]}


def test_limit_changes_a_rooms_limit(served):
    served.console("create lobby 5")
    alice, bob, carol = served.client("alice"), served.client("bob"), served.client("carol")
    alice.join("#lobby")
    bob.join("#lobby")
    assert served.console("limit lobby 2") == ["limit of #lobby is now 2"]
    for member in (alice, bob):
        assert member.expect("MODE").params == ("#lobby", "+l", "2")
    assert {r.name: r.limit for r in carol.rooms()}["#lobby"] == 2
    with pytest.raises(JoinRefused) as refused:
        carol.join("#lobby")
    assert refused.value.numeric == "471"
    assert served.console("limit lobby 0") == ["limit of #lobby is now none"]
    assert bob.expect("MODE").params == ("#lobby", "-l")
    assert carol.join("#lobby") == ["alice", "bob", "carol"]


def test_key_makes_a_room_private_and_public_again(served):
    served.console("create lobby")
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")
    assert served.console("key lobby sesame") == ["#lobby is now private"]
    assert alice.expect("MODE").params == ("#lobby", "+k", "sesame")
    assert {r.name: r.private for r in bob.rooms()}["#lobby"] is True
    with pytest.raises(JoinRefused) as refused:
        bob.join("#lobby")
    assert refused.value.numeric == "475"
    assert served.console("key lobby") == ["#lobby is now public"]
    assert alice.expect("MODE").params == ("#lobby", "-k", "*")
    assert bob.join("#lobby") == ["alice", "bob"]


def test_kick_removes_from_the_room_and_the_connection_stays(served):
    served.console("create lobby")
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")
    bob.join("#lobby")
    assert served.console("kick lobby bob too loud") == ["kicked bob"]
    for member in (alice, bob):
        kick = member.expect("KICK")
        assert kick.params == ("#lobby", "bob", "too loud")
    assert served.console("who lobby") == ["#lobby (1/-): alice"]
    assert bob.ping() >= 0
    assert bob.join("#lobby") == ["alice", "bob"]
    assert served.console("kick lobby nobody") == ["error: nobody is not in #lobby"]


def test_disconnect_closes_a_users_connection(served):
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")
    bob.join("#lobby")
    assert served.console("disconnect bob spamming") == ["disconnected bob"]
    received = until_eof(bob)
    assert received[-1].command == "ERROR" and received[-1].params[-1].endswith("(spamming)")
    quit_line = alice.expect("QUIT")
    assert (quit_line.nick, quit_line.params) == ("bob", ("spamming",))
    assert [line.split()[0] for line in served.console("users")] == ["alice"]
    assert served.console("disconnect bob") == ["error: no user called bob"]
    assert_chat_works(served)


def test_close_kicks_everyone_and_deletes_the_room(served):
    served.console("create lobby")
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")
    bob.join("#lobby")
    alice.join("#other")
    assert served.console("close lobby maintenance") == ["closed #lobby"]
    # Members go one by one: each is told of its own removal (and of those before it).
    for member in (alice, bob):
        kick = member.expect(lambda m: m.command == "KICK" and m.params[1] == member.nick)
        assert kick.params == ("#lobby", member.nick, "maintenance")
        assert member.ping() >= 0            # still connected
    assert set(rows(served.console("rooms"))) == {"#other"}
    assert "#lobby" not in {r.name for r in bob.rooms()}
    assert alice.names("#other") == ["alice"]  # other rooms are untouched
    assert served.console("close lobby") == ["error: no room called #lobby"]


def test_say_sends_a_notice_to_every_user(served):
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")   # bob is in no room: he hears it too
    assert served.console("say the server restarts at noon") == ["sent"]
    for user in (alice, bob):
        notice = user.expect("NOTICE")
        assert notice.params == (user.nick, "the server restarts at noon")


def test_log_shows_joins_leaves_and_messages(served):
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")
    bob.join("#lobby")
    alice.say("#lobby", "hello, log")
    bob.expect("PRIVMSG")
    bob.part("#lobby")
    bob.quit("done")
    alice.ping()
    wait_until(lambda: served.wait_for_log("bob disconnected"))
    log = "\n".join(served.console("log"))
    for text in ("alice joined #lobby", "bob joined #lobby", "<alice> #lobby: hello, log",
                 "bob left #lobby", "bob disconnected (Quit: done)"):
        assert text in log
    assert len(served.console("log 2")) == 2
    assert served.console("log 2")[-1] == served.console("log")[-1]


def test_shutdown_tells_clients_and_exits_0(served):
    alice, bob = served.client("alice"), served.client("bob")
    alice.join("#lobby")
    served.process.stdin.write(b"shutdown back in five minutes\n")
    served.process.stdin.flush()
    for client in (alice, bob):
        received = until_eof(client)
        assert received[-1].command == "ERROR"
        assert received[-1].params[-1].endswith("(back in five minutes)")
        client.close()   # (the server waits a moment for each client's EOF)
    assert served.process.wait(10) == 0
    assert "shutting down" in served.output


# --- stdin: EOF, no console, the thread path ----------------------------------

@pytest.mark.parametrize("options, stdin", [
    ([], subprocess.PIPE),
    (["--console-thread"], subprocess.PIPE),
    (["--backend", "epoll"], subprocess.DEVNULL),   # epoll cannot watch /dev/null itself
], ids=["stdin", "console-thread", "epoll-devnull"])
def test_console_eof_keeps_serving_without_busy_looping(tmp_path, options, stdin):
    log = tmp_path / "server.log"
    server = Spawned("--log", str(log), *options, stdin=stdin)
    try:
        if server.process.stdin:
            server.close_stdin()
        assert wait_until(lambda: log.exists() and "console closed (EOF); still serving" in log.read_text())
        assert idle_cpu(server.process.pid) < 0.5, "the server spins after console EOF"
        assert server.process.poll() is None
        assert_chat_works(server)
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("backend", ["select", "poll", "epoll"])
def test_commands_from_a_file_on_every_backend(tmp_path, backend):
    # `selectchat server < commands.txt`: a regular file is always "ready";
    # epoll refuses to watch one, so the server reads it through the bridge.
    commands = tmp_path / "commands.txt"
    commands.write_text("create lobby 3\nrooms\n")
    with open(commands, "rb") as stdin:
        server = Spawned("--backend", backend, "--exit-on-eof", stdin=stdin)
    try:
        assert server.process.wait(10) == 0
        assert server.process.stderr.read() == b""
        lines = server.process.stdout.read().decode().splitlines()   # (small: fits the pipe)
        assert lines[0] == "created #lobby, limit 3"
        assert rows(lines[1:]) == {"#lobby": ("0/3", "no")}
    finally:
        server.stop()


def test_no_console_ignores_stdin_and_keeps_serving():
    server = Spawned("--no-console")
    try:
        server.process.stdin.write(b"shutdown\nrooms\n")
        server.close_stdin()
        assert_chat_works(server)
        assert idle_cpu(server.process.pid) < 0.5
        assert server.process.poll() is None
        assert not server.stdout_waiting()   # nothing answered the commands
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("options", [[], ["--console-thread"]], ids=["stdin", "console-thread"])
def test_closed_stdin_descriptor_still_serves(options):
    # `selectchat server <&-`: descriptor 0 is not open at all, so the first
    # socket the server makes may get number 0; it must not be taken for stdin.
    server = Spawned(*options, stdin=None, preexec_fn=lambda: os.close(0))
    try:
        assert_chat_works(server)
        assert idle_cpu(server.process.pid, 0.5) < 0.3
    finally:
        assert server.stop() == 0


def test_console_thread_runs_commands_and_exits_on_eof():
    with start_server("--console-thread") as server:
        assert server.console("create lobby 2 key") == ["created #lobby, limit 2 (private)"]
        with Client(*server.address, "alice") as alice:
            alice.join("#lobby", "key")
            assert server.console("who lobby") == ["#lobby (1/2): alice"]
        threads = os.listdir(f"/proc/{server.pid}/task")
        assert len(threads) == 2   # the main loop and the stdin reader
    assert server.process.returncode == 0


# --- signals and the log file -------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signals_shut_down_cleanly(signum):
    with start_server() as server:
        with Client(*server.address, "alice") as alice, Client(*server.address, "bob") as bob:
            alice.join("#lobby")
            bob.join("#lobby")
            server.process.send_signal(signum)
            for client in (alice, bob):
                last = until_eof(client)[-1]
                assert last.command == "ERROR"
                assert f"({signum.name})" in last.params[-1]
        assert server.process.wait(10) == 0


def test_log_file_is_appended(tmp_path):
    log = tmp_path / "chat.log"
    log.write_text("a line from before\n")
    for run, nick in enumerate(("alice", "bob")):
        with start_server("--log", str(log)) as server:
            with Client(*server.address, nick) as client:
                client.join("#lobby")
                client.say("#lobby", f"run {run}")
                client.ping()
        assert server.process.returncode == 0
    lines = log.read_text().splitlines()
    assert lines[0] == "a line from before"
    text = "\n".join(lines)
    assert text.index("alice joined #lobby") < text.index("<alice> #lobby: run 0") < text.index("bob joined #lobby")
    assert "<bob> #lobby: run 1" in text
    assert [line.split()[1] for line in lines[1:]].count("shutdown") == 2   # one per run
