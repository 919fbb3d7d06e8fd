"""Many clients: spreading them over worker processes, and leaving nothing behind.

Tiny loads (tens of clients, forced over several processes with
``--processes``): what is checked is that every client is accounted for,
that the report adds the workers' share to this process's, and that every
process the bench starts -- the server, the workers -- is gone afterwards,
also when a step fails and on Ctrl-C.  No speed is asserted.
"""

import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from selectchat.bench import cli as bench
from selectchat.bench import spread
from selectchat.cli import build_parser
from selectchat.launch import PACKAGE_PARENT


def run_bench(*argv):
    args = build_parser().parse_args(["bench", "--no-progress", *argv])
    for name, default in bench.COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    return bench.run_scenario(args)


def children_of(pid):
    """PIDs whose parent is ``pid`` (Linux /proc), with their command lines."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rpartition(")")[2].split()[1])
            if ppid == pid:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    found[int(name)] = f.read().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def test_shares_split_evenly_and_processes_follow_the_descriptor_limit():
    assert spread.shares(10, 3) == [4, 3, 3] and sum(spread.shares(10_001, 7)) == 10_001
    assert spread.processes_needed(50, asked=3) == 3
    assert spread.processes_needed(2, asked=5) == 2   # never more processes than clients
    cap = spread.capacity()
    assert spread.processes_needed(cap - 1) == 1 and spread.processes_needed(cap) == 2   # + the probe
    assert [spread.room_of("#s", 3, i) for i in range(4)] == ["#s0", "#s1", "#s2", "#s0"]
    assert spread.room_of("#s", 1, 7) == "#s"


def test_idle_spread_over_three_processes_counts_every_client_and_stops_the_workers():
    report = run_bench("idle", "--clients", "30", "--processes", "3", "--pings", "5", "--duration", "0.3")
    assert report["complete"], report
    assert report["params"]["processes"] == 3
    assert report["connected"] == report["still_connected"] == 30
    assert report["refused"] == report["failed"] == 0 and report["pings_lost"] == 0
    assert children_of(os.getpid()) == {}, "a worker or the server was left behind"


def test_connect_storm_spread_over_processes_and_rooms():
    report = run_bench("connect-storm", "--clients", "40", "--rooms", "3", "--processes", "2")
    assert report["complete"], report
    assert report["params"]["processes"] == 2 and report["params"]["rooms"] == 3
    assert report["joined"] == 40 and report["refused"] == report["failed"] == report["pending"] == 0
    assert report["join_ms"]["count"] == 40   # the workers' join times are in the percentiles
    assert children_of(os.getpid()) == {}


def test_the_bench_chooses_epoll_and_room_for_the_probe_past_a_thousand_clients():
    args = build_parser().parse_args(["bench", "idle", "--clients", "10000"])
    assert bench.scale_options(args, ["--quiet"]) == ["--max-clients", "10016", "--backend", "epoll"]
    args = build_parser().parse_args(["bench", "idle", "--clients", "10000", "--", "--backend", "poll"])
    assert bench.scale_options(args, args.server_args) == ["--max-clients", "10016"]   # the user's choice stays
    args = build_parser().parse_args(["bench", "idle", "--clients", "990"])
    assert bench.scale_options(args, []) == []   # the default run stays on select()


def test_a_failed_step_still_stops_the_workers_and_the_server():
    # 20 clients but room for 12: the workers' clients are refused, the probe too.
    with pytest.raises(bench.BenchError, match="probe"):
        run_bench("idle", "--clients", "20", "--processes", "2", "--pings", "2", "--duration", "0.2",
                  "--", "--max-clients", "12")
    assert children_of(os.getpid()) == {}


def test_ctrl_c_stops_the_bench_its_workers_and_its_server():
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    bench_process = subprocess.Popen([sys.executable, "-m", "selectchat", "bench", "--no-progress", "idle",
                                      "--clients", "30", "--processes", "3", "--duration", "60"],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        started = {}
        while time.monotonic() < deadline:   # the server and two workers are up
            started = children_of(bench_process.pid)
            if sum("selectchat.bench.spread" in c for c in started.values()) == 2 and len(started) == 3:
                break
            time.sleep(0.1)
        assert len(started) == 3, started
        time.sleep(0.5)
        bench_process.send_signal(signal.SIGINT)
        assert bench_process.wait(20) == 130
        assert b"interrupted" in bench_process.stderr.read()
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in started if alive(pid)], "left behind after Ctrl-C"
    finally:
        if bench_process.poll() is None:
            bench_process.kill()
            bench_process.wait()
        bench_process.stderr.close()


def test_the_server_says_once_when_it_cannot_raise_its_descriptor_limit():
    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300))

    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    server = subprocess.Popen([sys.executable, "-m", "selectchat", "server", "--port", "0", "--quiet",
                               "--exit-on-eof", "--backend", "epoll", "--max-clients", "5000"],
                              env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              preexec_fn=low_limit)
    try:
        assert server.stdout.readline().startswith(b"selectchat server listening on ")   # it still serves
    finally:
        server.stdin.close()
        server.wait(10)
    errors = server.stderr.read().decode().splitlines()
    server.stdout.close()
    server.stderr.close()
    assert len(errors) == 1, errors
    assert "only 300 open files allowed (hard limit 300)" in errors[0] and "236 clients" in errors[0]
    assert "--max-clients 5000" in errors[0]


def test_the_server_is_silent_about_descriptors_when_the_limit_suffices():
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    result = subprocess.run([sys.executable, "-c", "import resource, sys;"
                             "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096));"
                             "from selectchat.server.server import _allow_descriptors;"
                             "print(repr(_allow_descriptors(2000)), resource.getrlimit(resource.RLIMIT_NOFILE)[0])"],
                            env=env, capture_output=True, text=True, timeout=30)
    assert result.stdout.split() == ["''", "2000"], result   # raised from 256 to what was wanted
