"""Grading tests for lab 07: the port to selectors, and the measurement.  Run them: python -m pytest"""

import json
import re
import socket
import subprocess
import sys
import threading

import pytest

import bench
from conftest import LAB

port = pytest.mark.category("port")
beyond_1024 = pytest.mark.category("beyond-1024")
measure = pytest.mark.category("measure")

BACKENDS = ["poll", "epoll"]


@pytest.fixture
def server(start):
    def run(backend, *options):
        program = start("server_selectors.py", "--backend", backend, *options)
        program.address = program.wait_ready()
        return program
    return run


def ask(peer, line):
    peer.send(line + "\n")
    return peer.recv_line()


@port
@pytest.mark.parametrize("backend", BACKENDS)
def test_answers_in_capitals(server, connect, backend):
    peer = connect(server(backend).address)
    assert ask(peer, "hello, selectors") == "HELLO, SELECTORS"


@port
@pytest.mark.parametrize("backend", BACKENDS)
def test_twenty_clients_and_split_lines(server, connect, backend):
    program = server(backend)
    peers = [connect(program.address) for _ in range(20)]
    for n, peer in enumerate(peers):
        peer.send(f"client {n} says")
    for n, peer in enumerate(peers):
        peer.send(f" hi\nand bye {n}\n")
    for n, peer in enumerate(peers):
        assert peer.recv_line() == f"CLIENT {n} SAYS HI"
        assert peer.recv_line() == f"AND BYE {n}"


@port
@pytest.mark.parametrize("backend", BACKENDS)
def test_clients_leave_and_the_server_goes_on(server, connect, backend):
    program = server(backend)
    for n in range(5):
        leaving = connect(program.address)
        assert ask(leaving, f"round {n}") == f"ROUND {n}"
        leaving.close()
    assert ask(connect(program.address), "still here") == "STILL HERE"
    before = program.cpu_seconds()
    threading.Event().wait(0.5)
    assert program.cpu_seconds() - before < 0.2, "the idle server is spinning: is a closed socket still registered?"


@beyond_1024
@pytest.mark.parametrize("backend", BACKENDS)
def test_serves_descriptors_above_fd_setsize(server, connect, backend):
    """With 1100 descriptors taken first, every client socket is numbered above 1024."""
    program = server(backend, "--reserve-fds", "1100")
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


@measure
def test_round_trips_times_each_answer():
    listener = echo_upper_server()
    with listener, socket.create_connection(listener.getsockname()[:2], timeout=5) as sock:
        samples = bench.round_trips(sock, 50)
        assert len(samples) == 50
        assert all(isinstance(s, float) and 0 < s < 5 for s in samples)
        sock.sendall(b"after\n")   # every answer was read: the next one is this one
        assert sock.recv(100) == b"AFTER\n"


@measure
def test_summarize_median_and_nearest_rank_p99():
    samples = [float(n) for n in range(100, 0, -1)]   # 100 .. 1, unsorted
    assert bench.summarize(samples) == {"count": 100, "median": 50.5, "p99": 99.0, "max": 100.0}
    assert bench.summarize([3.0, 1.0, 2.0]) == {"count": 3, "median": 2.0, "p99": 3.0, "max": 3.0}
    assert bench.summarize([0.5] * 199 + [9.0]) == {"count": 200, "median": 0.5, "p99": 0.5, "max": 9.0}


@measure
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
