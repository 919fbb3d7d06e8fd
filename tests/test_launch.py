"""The launcher: a server on a free port, its console, and no process left behind -- ever.

"Gone" means: no /proc/PID, or a zombie (state Z: it has exited and only
waits for its parent to collect the exit code).  Each test that starts a
process by other means than ``with start_server`` kills it by PID at the end.
"""

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from selectchat.client import Client
from selectchat.launch import PACKAGE_PARENT, ServerError, ServerProcess, start_server

ENV = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)


def process_state(pid):
    """The one-letter state of a process (R, S, Z...), or None if there is none."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("State:"):
                    return line.split()[1]
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def gone(pid):
    return process_state(pid) in (None, "Z")


def wait_gone(pid, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return gone(pid)


def living_children():
    """PIDs of this process's children that have not exited."""
    me, found = str(os.getpid()), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":   # fields after "(name)": state, ppid, ...
            found.add(int(entry))
    return found


def test_start_reads_the_address_and_with_exit_stops_cleanly():
    with start_server("--room", "lobby:3") as server:
        assert server.host == "127.0.0.1" and server.port > 0
        assert server.address == (server.host, server.port)
        assert server.running() and not gone(server.pid)
        with Client(*server.address, "alice") as alice:
            assert alice.join("#lobby") == ["alice"]
    assert server.process.returncode == 0          # EOF on its stdin: a clean shutdown
    assert gone(server.pid)
    assert server.stop() == 0                      # stopping again is harmless


def test_no_process_left_when_the_code_using_it_raises():
    before = living_children()
    with pytest.raises(ZeroDivisionError):
        with start_server() as server:
            pid = server.pid
            assert pid in living_children()
            1 / 0
    assert gone(pid)
    assert living_children() == before


def test_no_process_left_when_the_server_cannot_start():
    before = living_children()
    with pytest.raises(ServerError, match="bad --room"):
        start_server("--room", ":5")               # a room without a name: the server refuses
    assert living_children() == before


def test_no_console_is_refused_because_it_would_outlive_us():
    before = living_children()
    with pytest.raises(ValueError, match="--no-console"):
        start_server("--no-console")
    assert living_children() == before


HELPER = """
import sys, time
from selectchat.launch import start_server
server = start_server(*sys.argv[1:])
print(server.pid, server.port, flush=True)
time.sleep(60)   # killed long before
"""


@pytest.mark.parametrize("options", [[], ["--console-thread"]], ids=["stdin", "console-thread"])
def test_server_goes_when_its_starter_is_killed_with_sigkill(options, tmp_path):
    """No finally, no atexit runs on SIGKILL; the closed stdin pipe is what stops the server."""
    log = tmp_path / "server.log"     # (its stderr pipe dies with the helper: log to a file)
    helper = subprocess.Popen([sys.executable, "-c", HELPER, *options, "--log", str(log)],
                              stdout=subprocess.PIPE, env=ENV)
    server_pid = None
    try:
        ready, _, _ = select.select([helper.stdout], [], [], 15)
        assert ready, "the helper did not start a server"
        server_pid, port = map(int, helper.stdout.readline().split())
        with Client("127.0.0.1", port, "alice") as alice:    # it is really serving
            assert alice.ping() >= 0
        os.kill(helper.pid, signal.SIGKILL)
        helper.wait(10)
        assert wait_gone(server_pid), f"server {server_pid} outlived its starter (state {process_state(server_pid)})"
        assert "shutting down (console closed)" in log.read_text()   # a clean shutdown, not a crash
    finally:
        if helper.poll() is None:
            helper.kill()
            helper.wait()
        helper.stdout.close()
        if server_pid is not None and not gone(server_pid):
            os.kill(server_pid, signal.SIGKILL)


def test_console_round_trip_and_the_log():
    with start_server() as server:
        assert server.console("create lab 3 sesame") == ["created #lab, limit 3 (private)"]
        assert server.console("bogus") == ["unknown command 'bogus'; type help for the list"]
        with Client(*server.address, "alice") as alice:
            lab = next(room for room in alice.rooms() if room.name == "#lab")
            assert (lab.limit, lab.private) == (3, True)
            alice.join("#lab", "sesame")
            assert server.wait_for_log("alice joined #lab")
            rows = server.console("rooms")
            assert any(row.startswith("#lab") and "1/3" in row and "yes" in row for row in rows)
            assert server.console("who lab") == ["#lab (1/3): alice"]
        assert server.wait_for_log("no such log line", timeout=0.2) is None
        assert any("room-created" in line for line in server.log)
        assert server.console("shutdown") == ["shutting down"]
        assert server.process.wait(10) == 0


def test_console_does_not_hang_when_the_server_is_gone():
    server = ServerProcess()
    try:
        os.kill(server.pid, signal.SIGKILL)
        server.process.wait(10)
        with pytest.raises(ServerError, match="not running"):
            server.console("rooms")
    finally:
        assert server.stop() == -signal.SIGKILL
    assert gone(server.pid)
    with pytest.raises(ServerError, match="not running"):   # after stop() too
        server.console("rooms")


def test_the_console_still_answers_after_ten_thousand_lines_of_output():
    with start_server() as server:
        for start in range(0, 10_500, 1500):  # the launcher keeps the last 10,000 lines
            assert len(server.console("\n".join(f"echo {n}" for n in range(start, start + 1500)))) == 1500
        assert server.console("echo still here") == ["still here"]
