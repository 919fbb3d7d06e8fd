"""selectchat bench: every scenario runs to completion and its numbers add up.

These are not benchmarks: the loads are tiny and no figure of speed is
asserted (this machine is shared).  What is checked is that each scenario
finishes, and that its counts are consistent: every message reached every
receiver, every client is accounted for, percentiles are ordered.
"""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from selectchat.bench import cli as bench
from selectchat.bench.load import percentile, summarize_ms
from selectchat.cli import build_parser
from selectchat.launch import PACKAGE_PARENT, start_server

BARE = os.path.join(PACKAGE_PARENT, "benchmarks", "bare_fanout.py")


def run_bench(*argv):
    """Parse a ``selectchat bench`` command line and run it here; the report dict."""
    args = build_parser().parse_args(["bench", "--no-progress", *argv])
    for name, default in bench.COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    report = bench.run_scenario(args)
    bench.print_report(report, out=open(os.devnull, "w"))   # the table renders
    return report


def check_latency(summary, count):
    assert summary["count"] == count
    assert 0 <= summary["p50"] <= summary["p90"] <= summary["p99"] <= summary["max"]


def check_server_figures(report):
    assert report["server_cpu_s"] >= 0
    assert report["server_peak_rss_kb"] > 0
    assert report["generator_cpu_s"] >= 0 and report["wall_s"] > 0


def test_fanout_flood_delivers_every_message_to_every_other_member():
    report = run_bench("fanout", "--members", "5", "--senders", "2", "--messages", "60", "--size", "40")
    assert report["complete"], report
    assert report["sent"] == 2 * 60
    assert report["expected_deliveries"] == 2 * 60 * 4   # messages x receivers (not the sender)
    assert report["deliveries"] == report["expected_deliveries"] and report["lost_deliveries"] == 0
    assert report["deliveries_per_s"] > 0 and report["messages_per_s"] > 0
    check_latency(report["latency_ms"], report["deliveries"])   # 5 members <= --timed 10: all timed
    assert report["members_dropped"] == []
    check_server_figures(report)
    assert report["target"]["kind"] == "selectchat" and report["target"]["pid"] > 0


def test_fanout_paced_with_few_timed_members_counts_all_but_times_some():
    report = run_bench("--quickack", "fanout", "--members", "4", "--messages", "30", "--rate", "300",
                       "--timed", "1")
    assert report["complete"], report
    assert report["environment"]["quickack"] is hasattr(socket, "TCP_QUICKACK")
    assert report["deliveries"] == 30 * 3
    check_latency(report["latency_ms"], 30)   # only one receiver timed each delivery
    assert report["params"]["rate"] == 300


def test_idle_clients_stay_and_the_probe_gets_every_pong():
    report = run_bench("idle", "--clients", "25", "--pings", "5", "--duration", "0.3")
    assert report["complete"], report
    assert report["connected"] == report["still_connected"] == 25
    assert report["refused"] == report["failed"] == 0
    assert report["pings_lost"] == 0
    check_latency(report["ping_ms"], 5)
    assert report["server_rss_connected_kb"] > 0
    check_server_figures(report)


def test_slow_reader_runs_both_phases_and_reports_each_slow_member():
    report = run_bench("slow-reader", "--members", "4", "--rate", "200", "--duration", "0.3")
    assert report["complete"], report
    total = 60   # 200 msg/s for 0.3 s
    for phase in ("without", "with"):
        assert report[phase]["sent"] == total
        assert report[phase]["deliveries"] == total * 3   # the readers other than the sender
        check_latency(report[phase]["latency_ms"], total * 3)
    assert report["p99_ratio"] > 0
    for who in ("nonreader", "slow_reader"):
        assert set(report[who]) >= {"nick", "dropped", "after_s", "reason"}
    assert 0 <= report["slow_reader"]["deliveries"] <= total
    assert report["server_rss_series"] and all(kb > 0 for _, _, kb in report["server_rss_series"])
    assert report["params"]["max_sendq"] == 256 * 1024   # selectchat's default, for the bound
    assert report["server_rss_bound_kb"] > report["server_rss_baseline_kb"]


def test_connect_storm_past_the_limit_accounts_for_every_client():
    report = run_bench("connect-storm", "--clients", "30", "--", "--max-clients", "20")
    assert report["complete"], report
    assert report["joined"] == 20   # the server's limit
    assert report["joined"] + report["refused"] + report["failed"] + report["pending"] == 30
    assert report["pending"] == 0 and report["refused"] + report["failed"] == 10
    check_latency(report["join_ms"], 20)
    assert report["time_to_all_joined_s"] > 0
    assert report["target"]["options"] == ["--max-clients", "20"]


def test_fanout_against_the_bare_loop():
    report = run_bench("--server", "bare", "fanout", "--members", "4", "--messages", "50")
    assert report["complete"], report
    assert report["target"]["kind"] == "bare" and report["target"]["protocol"] == "bare"
    assert report["deliveries"] == 50 * 3


def test_idle_refuses_the_bare_protocol():
    with pytest.raises(bench.BenchError):
        run_bench("--server", "bare", "idle", "--clients", "2")


def test_a_running_target_is_measured_and_left_running():
    with start_server("--quiet") as server:
        report = run_bench("--target", f"{server.host}:{server.port}", "--target-pid", str(server.pid),
                           "fanout", "--members", "3", "--messages", "20")
        assert report["complete"] and report["deliveries"] == 40
        assert report["target"]["kind"] == "external"
        check_server_figures(report)
        assert server.running()


def test_a_target_that_does_not_listen_is_an_error():
    with socket.socket() as s:   # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(bench.BenchError, match="did not join"):
            run_bench("--target", f"127.0.0.1:{port}", "fanout", "--members", "2", "--messages", "1",
                      "--timeout", "5")


def test_command_line_json_output_parses():
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    result = subprocess.run([sys.executable, "-m", "selectchat", "bench", "--json", "fanout",
                             "--members", "3", "--messages", "10"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["scenario"] == "fanout" and report["deliveries"] == 20
    assert report["environment"]["cpus"] >= 1
    assert "bench fanout" in result.stderr   # the progress line (not a terminal: plain lines)


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99 and percentile(values, 100) == 100
    assert percentile([7], 99) == 7 and percentile([], 50) is None
    assert summarize_ms([3000, 1000, 2000]) == {"count": 3, "p50": 2.0, "p90": 3.0, "p99": 3.0, "max": 3.0}


# --- benchmarks/bare_fanout.py ----------------------------------------------------------

@pytest.fixture
def bare_server():
    process = subprocess.Popen([sys.executable, BARE, "--port", "0", "--exit-on-eof"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        line = process.stdout.readline().decode()
        assert line.startswith("bare_fanout listening on 127.0.0.1:"), line
        yield int(line.rsplit(":", 1)[1])
    finally:
        process.stdin.close()   # --exit-on-eof
        try:
            assert process.wait(5) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()


def read_until(sock, wanted, timeout=5.0):
    data, deadline = b"", time.monotonic() + timeout
    while wanted not in data and time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


def drain(sock):
    sock.settimeout(0.1)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        pass


def test_bare_loop_sends_each_line_to_every_other_client(bare_server):
    clients = [socket.create_connection(("127.0.0.1", bare_server)) for _ in range(3)]
    try:
        # The loop accepts when it gets round to it: say hello until all have heard the others.
        heard = [set() for _ in clients]
        deadline = time.monotonic() + 5
        while any(len(h) < 2 for h in heard) and time.monotonic() < deadline:
            for i, sock in enumerate(clients):
                sock.sendall(b"hi %d\n" % i)
            for i, sock in enumerate(clients):
                for word in read_until(sock, b"\n", timeout=0.1).split():
                    if word.isdigit():
                        heard[i].add(int(word))
        assert heard == [{1, 2}, {0, 2}, {0, 1}]
        for sock in clients:
            drain(sock)
        a, b, c = clients
        a.sendall(b"hel")   # half a line is held back ...
        time.sleep(0.05)
        a.sendall(b"lo\nsecond line\n")   # ... until its end arrives
        for sock in (b, c):
            assert read_until(sock, b"second line\n") == b"hello\nsecond line\n"
        a.settimeout(0.2)
        with pytest.raises(TimeoutError):   # nothing comes back to the sender
            a.recv(4096)
    finally:
        for sock in clients:
            sock.close()


# --- the server's burst path (Server.apply joins the sends of one recv) --------------------

def test_a_burst_in_one_segment_arrives_whole_in_order_and_stops_at_quit():
    from selectchat.client import Client

    with start_server("--quiet") as server:
        with Client(*server.address, "alice") as alice, Client(*server.address, "bob") as bob:
            alice.join("#r")
            bob.join("#r")
            alice.expect(lambda m: m.command == "JOIN" and m.nick == "bob")
            burst = b"".join(b"PRIVMSG #r :line %d\r\n" % i for i in range(200))
            alice.sock.sendall(burst + b"QUIT :done\r\nPRIVMSG #r :after the quit\r\n")
            got = []
            while True:
                message = bob.expect("PRIVMSG", "QUIT")
                if message.command == "QUIT":
                    break
                got.append(message.params[1])
            assert got == [f"line {i}" for i in range(200)]
            assert message.nick == "alice"
            assert all(m.command != "PRIVMSG" for m in bob.messages(timeout=0.3))


def test_quiet_wins_over_the_launchers_log_option():
    # The launcher always passes "--log -"; the bench passes --quiet so that a log
    # line per relayed message is not measured too (a fix in cli.server_config).
    from selectchat.client import Client

    with start_server() as server:   # without --quiet: the log reaches the launcher
        with Client(*server.address, "loud"):
            pass
        assert server.wait_for_log("registered", timeout=5) is not None
    with start_server("--quiet") as server:
        with Client(*server.address, "quiet"):
            pass
        assert server.wait_for_log("registered", timeout=0.5) is None


def test_the_fanout_profile_runs_and_names_the_chat_core():
    """benchmarks/profile_fanout.py (cProfile) profiles a server under a tiny flood, then stops it."""
    script = os.path.join(PACKAGE_PARENT, "benchmarks", "profile_fanout.py")
    result = subprocess.run([sys.executable, script, "--members", "3", "--messages", "50", "--top", "5000"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "deliveries               100 of 100 (lost 0)" in result.stdout
    assert "(do_privmsg)" in result.stdout and "(write)" in result.stdout   # the core and the stream were profiled
