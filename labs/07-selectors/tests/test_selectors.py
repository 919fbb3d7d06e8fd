"""Grading tests for lab 07: the port to selectors, and the measurement.  Run them: python -m pytest"""

import json
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

import bench
from conftest import LAB

port = pytest.mark.category("port")
beyond_1024 = pytest.mark.category("beyond-1024")
measure = pytest.mark.category("measure")
bench_ = pytest.mark.category("bench")

BACKENDS = ["poll", "epoll"]


@pytest.fixture
def server(start):
    """A busy server: 1100 descriptors are taken first, so every client's is numbered above 1024."""
    def run(backend):
        program = start("server_selectors.py", "--backend", backend, "--reserve-fds", "1100")
        program.address = program.wait_ready()
        return program
    return run


def ask(peer, line):
    """Send a line in two pieces (two recv()s on the server's side); return the answer."""
    data = (line + "\n").encode()
    peer.send(data[:len(data) // 2])
    time.sleep(0.01)
    peer.send(data[len(data) // 2:])
    return peer.recv_line()


def still_serves(program, connect, n=0):
    """A new client, likely given the descriptor number of one that left, is served."""
    assert ask(connect(program.address), f"newcomer {n}") == f"NEWCOMER {n}"


@port
@pytest.mark.parametrize("backend", BACKENDS)
def test_answers_in_capitals(server, connect, backend):
    program = server(backend)
    peer = connect(program.address)
    assert ask(peer, "hello, selectors") == "HELLO, SELECTORS"
    peer.close()
    still_serves(program, connect)


@port
@pytest.mark.parametrize("backend", BACKENDS)
def test_twenty_clients_and_split_lines(server, connect, backend):
    program = server(backend)
    peers = [connect(program.address) for _ in range(20)]
    for n, peer in enumerate(peers):
        peer.send(f"client {n} says")
    time.sleep(0.05)
    for n, peer in enumerate(peers):
        peer.send(f" hi\nand bye {n}\n")
    for n, peer in enumerate(peers):
        assert peer.recv_line() == f"CLIENT {n} SAYS HI"
        assert peer.recv_line() == f"AND BYE {n}"
    for peer in peers[:10]:
        peer.close()
    for n, peer in enumerate(peers[10:]):
        assert ask(peer, f"still {n}") == f"STILL {n}"
    still_serves(program, connect)


@port
@pytest.mark.parametrize("backend", BACKENDS)
def test_clients_leave_and_the_server_goes_on(server, connect, backend):
    program = server(backend)
    for n in range(5):
        leaving = connect(program.address)
        assert ask(leaving, f"round {n}") == f"ROUND {n}"
        leaving.close()
    still_serves(program, connect)
    program.assert_idle(what="the idle server (is a closed socket still registered?)")


@beyond_1024
@pytest.mark.parametrize("backend", BACKENDS)
def test_serves_descriptors_above_fd_setsize(server, connect, backend):
    """With 1100 descriptors taken first, every client socket is numbered above 1024."""
    program = server(backend)
    descriptor = int(re.search(r"descriptor (\d+)", program.stdout[0]).group(1))
    assert descriptor > 1024
    peers = [connect(program.address) for _ in range(5)]
    for n, peer in enumerate(peers):
        assert ask(peer, f"high number {n}") == f"HIGH NUMBER {n}"


def echo_upper_server():
    """A tiny in-test server for bench.round_trips: answers each line in capitals."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn:
            pending = b""
            while data := conn.recv(4096):
                *lines, pending = (pending + data).split(b"\n")
                for line in lines:
                    conn.sendall(line.upper() + b"\n")
    threading.Thread(target=serve, daemon=True).start()
    return listener


def slow_once_server(slow_round, delay):
    """A tiny in-test server: each line back in capitals, in two pieces; round ``slow_round`` ``delay`` s late."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # two small pieces, sent at once
        with conn:
            pending, count = b"", 0
            while data := conn.recv(4096):
                *lines, pending = (pending + data).split(b"\n")
                for line in lines:
                    if count == slow_round:
                        time.sleep(delay)
                    count += 1
                    answer = line.upper() + b"\n"
                    conn.sendall(answer[:2])
                    conn.sendall(answer[2:])
    threading.Thread(target=serve, daemon=True).start()
    return listener


@measure
def test_round_trips_and_their_summary():
    """round_trips() times each whole answer; summarize() gives the median and p99 by nearest rank."""
    problems = []
    for samples, expected in (
            ([float(n) for n in range(100, 0, -1)], {"count": 100, "median": 50.5, "p99": 99.0, "max": 100.0}),
            ([3.0, 1.0, 2.0], {"count": 3, "median": 2.0, "p99": 3.0, "max": 3.0}),
            ([0.5] * 199 + [9.0], {"count": 200, "median": 0.5, "p99": 0.5, "max": 9.0})):
        got = bench.summarize(samples)
        if got != expected:
            problems.append(f"summarize() of {len(samples)} samples: expected {expected}, got {got}")
    listener = slow_once_server(slow_round=60, delay=0.05)
    with listener, socket.create_connection(listener.getsockname()[:2], timeout=5) as sock:
        samples = bench.round_trips(sock, 100)
        if len(samples) != 100 or not all(isinstance(s, float) and 0 < s < 5 for s in samples):
            problems.append(f"round_trips(sock, 100) must return 100 times in seconds, got {samples[:5]}...")
        elif max(samples) < 0.05:
            problems.append(f"one answer came 0.05 s late, but the longest round trip measured was "
                            f"{max(samples):.4f} s: is the wait for the whole answer timed?")
        else:
            summary = bench.summarize(samples)
            if summary.get("max") != max(samples) or summary.get("p99") >= 0.05:
                problems.append(f"one slow round in 100: p99 (nearest rank) is the 99th of the sorted times, "
                                f"not the slow one; got {summary}")
        sock.sendall(b"after\n")     # every answer was read: the next one is this one
        sock.settimeout(2)
        answer = sock.recv(100)
        if answer not in (b"AFTER\n", b"AF"):
            problems.append(f"an answer was left unread by round_trips(): after it, recv() got {answer!r}")
    assert not problems, "\n".join(problems)


@bench_
def test_bench_prints_a_row_per_server():
    """A small run of bench.py: each server (select, poll, epoll) measured, nothing failed."""
    result = subprocess.run([sys.executable, "bench.py", "--idle", "20", "--rounds", "30", "--json"],
                            cwd=LAB, capture_output=True, text=True, timeout=25)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(result.stdout)
    assert [row["server"] for row in rows] == ["select", "poll", "epoll"]
    for row in rows:
        assert "error" not in row, row
        assert row["idle"] == 20 and row["count"] == 30
        assert 0 < row["median"] <= row["p99"] <= row["max"]
