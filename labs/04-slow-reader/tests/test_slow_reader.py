"""Grading tests for lab 04: output buffers and write-readiness.  Run them: python -m pytest

The server is started with small kernel buffers (its given ``SNDBUF``), and a
client that never reads gets a small receive buffer too: a few tens of KB
fill them, and every further byte must wait in the server's output buffer.
"""

import socket
import struct
import threading
import time

import pytest

delivery = pytest.mark.category("delivery")
slow_reader = pytest.mark.category("slow-reader")
no_spin = pytest.mark.category("no-spin")

STALL = 2.0      # seconds without a byte: the server is waiting for someone
PROMPT = 0.5     # seconds a line may take to reach a client that reads


def numbered(count, width=100, tag=""):
    """``count`` distinct lines of ``width`` bytes each (newline included)."""
    return [f"{tag}{n:08d} ".encode().ljust(width - 1, b"x") + b"\n" for n in range(count)]


def assert_same_bytes(got, expected, who):
    """Fail with where the bytes first differ (not with two long byte strings)."""
    if got == expected:
        return
    at = next((i for i, (x, y) in enumerate(zip(got, expected)) if x != y), min(len(got), len(expected)))
    pytest.fail(f"{who} got {len(got)} bytes, expected {len(expected)}; they differ from byte {at}: "
                f"expected {expected[at:at + 30]!r}, got {got[at:at + 30]!r} "
                "(bytes lost or sent twice around a partial send?)")


def pump(sender, reader, payload, program=None, window=32768):
    """Send ``payload`` from ``sender`` while ``reader`` reads it; return (what it got, bytes sent when
    ``program`` first logged a drop, or None).

    The sender keeps at most ``window`` bytes ahead of the reader.  Fails if the
    reader gets nothing for ``STALL`` seconds: the server waits for someone.
    """
    sent, dropped_at, last = 0, None, time.monotonic()
    while len(reader.received) < len(payload):
        if dropped_at is None and program is not None and any("dropped" in line for line in program.stderr):
            dropped_at = sent
        if sent < len(payload) and sent - len(reader.received) < window:
            sender.send(payload[sent:sent + 8192])
            sent = min(len(payload), sent + 8192)
            continue
        if reader._fill(time.monotonic() + 0.1):
            last = time.monotonic()
        elif reader.closed:
            pytest.fail(f"a client that reads was disconnected after {len(reader.received)} of {len(payload)} bytes")
        elif time.monotonic() - last > STALL:
            pytest.fail(f"a client that reads got nothing for {STALL:g} s ({len(reader.received)} of "
                        f"{len(payload)} bytes so far): the server is waiting for a client that does not read")
    if dropped_at is None and program is not None and any("dropped" in line for line in program.stderr):
        dropped_at = sent
    got = bytes(reader.received[:len(payload)])
    del reader.received[:len(payload)]
    return got, dropped_at


@pytest.fixture
def server(start):
    def run(*options):
        program = start("server.py", *options)
        program.address = program.wait_ready()
        return program
    return run


def connected(program, connect, count=1, **kwargs):
    """``count`` new connections, each seen by the server (its log says 'connected')."""
    seen = sum("connected" in line for line in program.stderr)
    peers = []
    for _ in range(count):
        peers.append(connect(program.address, **kwargs))
        seen += 1
        program.wait_for(lambda: sum("connected" in line for line in program.stderr) >= seen,
                         what=f"the server to log its connection number {seen} ('client {seen} connected')")
    return peers


def drops(program):
    return [line for line in program.stderr if "dropped" in line]


@delivery
def test_a_line_reaches_every_other_client(server, connect):
    program = server()
    a, b, c = connected(program, connect, 3)
    a.send(b"hello, everyone\n")
    assert b.recv_line() == "hello, everyone"
    assert c.recv_line() == "hello, everyone"
    assert a.nothing_more(), "the sender got its own line back"


@delivery
def test_a_burst_to_a_slow_reader_arrives_whole_and_in_order(server, connect):
    """400 KB to a reader that reads in small sips: send() sends only part, again and again."""
    program = server()
    sender = connected(program, connect)[0]
    reader = connected(program, connect, rcvbuf=4096)[0]
    payload = b"".join(numbered(4000))
    threading.Thread(target=sender.send, args=(payload,), daemon=True).start()
    last = time.monotonic()
    while len(reader.received) < len(payload) and not reader.closed:
        if reader._fill(time.monotonic() + 0.1):
            last = time.monotonic()
            if len(reader.received) % 32768 < 4096:
                time.sleep(0.03)          # a sip, then a pause: the server's sends come up short
        elif time.monotonic() - last > STALL:
            break
    assert not reader.closed, f"the slow reader was disconnected after {len(reader.received)} bytes, " \
                              "though it reads and its backlog stays far under --max-buffer"
    assert_same_bytes(bytes(reader.received), payload, "the slow reader")


@delivery
def test_lines_from_two_senders_are_not_mixed(server, connect):
    """Lines from two clients may interleave, but each line arrives whole."""
    program = server()
    a, b, reader = connected(program, connect, 3)
    a.send(b"".join(b"from a %d\n" % n for n in range(200)))
    b.send(b"".join(b"from b %d\n" % n for n in range(200)))
    got = [reader.recv_line() for _ in range(400)]
    assert [line for line in got if line.startswith("from a")] == [f"from a {n}" for n in range(200)]
    assert [line for line in got if line.startswith("from b")] == [f"from b {n}" for n in range(200)]


@slow_reader
def test_a_stalled_reader_under_the_cap_stalls_no_one_and_loses_nothing(server, connect):
    """A client stops reading: the others' lines still arrive at once; it is kept (its backlog is
    under --max-buffer) and gets every byte when it reads again; stalled again past the cap, it is dropped."""
    program = server("--max-buffer", "300000")
    sender, reader = connected(program, connect, 2)
    stalled = connected(program, connect, rcvbuf=4096)[0]
    backlog = b"".join(numbered(1500))         # 150 KB: its kernel buffers are full, the rest waits
    got, _ = pump(sender, reader, backlog)
    assert_same_bytes(got, backlog, "the client that reads")
    slowest = 0.0
    for n in range(10):
        line = f"line {n}, while one client does not read"
        began = time.monotonic()
        sender.send(line + "\n")
        assert reader.recv_line() == line
        slowest = max(slowest, time.monotonic() - began)
    assert slowest < PROMPT, (f"a line took {slowest:.2f} s to reach a client that reads: the server "
                              "waited for the client that does not read")
    assert not drops(program), (f"the client that does not read was dropped, though its backlog was under "
                                f"--max-buffer (300000 bytes): {drops(program)[0]!r}")
    expected = backlog + b"".join(f"line {n}, while one client does not read\n".encode() for n in range(10))
    got = stalled.recv_exactly(len(expected), timeout=10)
    assert_same_bytes(got, expected, "the client that reads again")
    more = b"".join(numbered(6000, tag="again "))     # 600 KB more, unread: past the cap
    pump(sender, reader, more, program)
    program.wait_for_line("dropped", stream="stderr", timeout=STALL)
    program.assert_idle(what="the server, with every buffer delivered or dropped,")


@slow_reader
def test_a_reader_that_never_reads_is_dropped_past_the_cap_not_before(server, connect):
    """Past --max-buffer the stalled client is closed (not earlier); the others keep chatting."""
    cap = 150000
    program = server("--max-buffer", str(cap))
    a, b = connected(program, connect, 2)
    stalled = connected(program, connect, rcvbuf=4096)[0]
    payload = b"".join(numbered(6000))   # 600 KB: far more than the cap and the kernel buffers
    got, dropped_at = pump(a, b, payload, program)
    assert_same_bytes(got, payload, "the client that reads")
    line = program.wait_for_line("dropped", stream="stderr", timeout=STALL)
    assert "client 3" in line, f"the wrong client was dropped: {line!r}"
    assert dropped_at is None or dropped_at > cap, (
        f"the client that does not read was dropped when only {dropped_at} bytes had been sent in all: "
        f"before its backlog could pass --max-buffer ({cap})")
    b.send(b"still here\n")
    assert a.recv_line() == "still here"
    stalled.expect_closed(timeout=10)   # reads what was in flight, then sees the close
    program.assert_idle(what="the server, after the drop,")


@slow_reader
def test_a_client_that_resets_mid_burst_is_dropped_quietly(server, connect):
    """A reader that vanishes while its buffer is full: dropped, the server goes on."""
    program = server()
    a = connected(program, connect)[0]
    b = connected(program, connect, rcvbuf=8192)[0]         # small buffers: the server's sends come up short
    gone = connected(program, connect, rcvbuf=4096)[0]
    payload = b"".join(numbered(2000))
    threading.Thread(target=a.send, args=(payload,), daemon=True).start()
    first = b.recv_exactly(100 * 1000, timeout=STALL * 2)
    gone.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    gone.close()
    rest = b.recv_exactly(100 * 1000, timeout=STALL * 2)
    assert_same_bytes(first + rest, payload, "the client that reads")
    program.wait_for(lambda: any("client 3" in line and ("left" in line or "dropped" in line)
                                 for line in program.stderr), what="the server to let client 3 go")
    b.send(b"after the reset\n")
    assert a.recv_line() == "after the reset"
    program.assert_idle(what="the server, after the reset,")


@no_spin
def test_idle_clients_cost_no_cpu(server, connect):
    """Sockets are almost always writable: watching them for writing with nothing to send spins."""
    program = server()
    connected(program, connect, 3)
    program.assert_idle(what="the server, with three idle clients,")


@no_spin
def test_no_cpu_after_a_burst_is_delivered(server, connect):
    """Once a buffer is empty again, write interest must go off again."""
    program = server()
    a = connected(program, connect)[0]
    b = connected(program, connect, rcvbuf=8192)[0]
    payload = b"".join(numbered(2000))
    threading.Thread(target=a.send, args=(payload,), daemon=True).start()
    assert_same_bytes(b.recv_exactly(len(payload), timeout=10), payload, "the reader")
    program.assert_idle(what="the server, after the burst was delivered,")
