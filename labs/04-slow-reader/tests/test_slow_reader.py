"""Grading tests for lab 04: output buffers and write-readiness.  Run them: python -m pytest"""

import threading
import time

import pytest

delivery = pytest.mark.category("delivery")
slow_reader = pytest.mark.category("slow-reader")
no_spin = pytest.mark.category("no-spin")


def numbered(count, width=100):
    """``count`` distinct lines of ``width`` bytes each (newline included)."""
    return [f"{n:08d} ".encode().ljust(width - 1, b"x") + b"\n" for n in range(count)]


def pump(sender, reader, payload, window=32768, timeout=25):
    """Send ``payload`` from ``sender`` while ``reader`` reads it; return what ``reader`` got.

    The sender keeps at most ``window`` bytes ahead of the reader, so a reader
    that keeps up never has more than that waiting for it in the server.
    """
    deadline = time.monotonic() + timeout
    sent = 0
    while len(reader.received) < len(payload):
        if sent < len(payload) and sent - len(reader.received) < window:
            sender.send(payload[sent:sent + 8192])
            sent = min(len(payload), sent + 8192)
            continue
        if not reader._fill(min(deadline, time.monotonic() + 0.5)) and time.monotonic() >= deadline:
            pytest.fail(f"the reader got {len(reader.received)} of {len(payload)} bytes in {timeout} s")
    got = bytes(reader.received[:len(payload)])
    del reader.received[:len(payload)]
    return got


@pytest.fixture
def server(start):
    def run(*options):
        program = start("server.py", *options)
        program.address = program.wait_ready()
        return program
    return run


def connected(server, connect, count, **kwargs):
    """``count`` connections, each seen by the server (its log says 'connected')."""
    peers = []
    for n in range(count):
        peers.append(connect(server.address, **kwargs))
        server.wait_for(lambda: sum("connected" in line for line in server.stderr) >= n + 1,
                        what=f"the server to log {n + 1} connections")
    return peers


@delivery
def test_a_line_reaches_every_other_client(server, connect):
    program = server()
    a, b, c = connected(program, connect, 3)
    a.send(b"hello, everyone\n")
    assert b.recv_line() == "hello, everyone"
    assert c.recv_line() == "hello, everyone"
    assert a.nothing_more()


@delivery
def test_a_big_burst_arrives_whole_and_in_order(server, connect):
    """400 KB in one go: more than the kernel takes at once, so send() sends part of it."""
    program = server()
    a, b = connected(program, connect, 2)
    lines = numbered(4000)
    sender = threading.Thread(target=a.send, args=(b"".join(lines),), daemon=True)
    sender.start()
    got = b.recv_exactly(len(lines) * 100, timeout=20)
    assert got == b"".join(lines)


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
def test_a_reader_that_never_reads_does_not_stall_the_others(server, connect):
    """One client never reads.  Another must still get all 2 MB that a third one sends."""
    program = server("--max-buffer", "200000")
    sender, reader = connected(program, connect, 2)
    stalled = connected(program, connect, 1, rcvbuf=4096)[0]   # never reads
    payload = b"".join(numbered(20000))
    assert pump(sender, reader, payload) == payload, "the reading client did not get every line, in order"
    program.wait_for_line("dropped", stream="stderr")
    stalled.close()


@slow_reader
def test_the_slow_reader_is_dropped_and_the_rest_goes_on(server, connect):
    """Past --max-buffer the stalled client is closed; the others keep chatting."""
    program = server("--max-buffer", "65536")
    a, b = connected(program, connect, 2)
    stalled = connected(program, connect, 1, rcvbuf=4096)[0]
    payload = b"".join(numbered(3000))   # 300 KB: far more than 64 KiB + the kernel buffers
    assert pump(a, b, payload) == payload
    line = program.wait_for_line("dropped", stream="stderr")
    assert "client 3" in line, f"the wrong client was dropped: {line!r}"
    b.send(b"still here\n")
    assert a.recv_line() == "still here"
    stalled.sock.settimeout(5)
    stalled.expect_closed(timeout=10)   # reads what was in flight, then sees the close


@slow_reader
def test_a_client_that_resets_mid_burst_is_dropped_quietly(server, connect):
    """A reader that vanishes while its buffer is full: dropped, the server goes on."""
    import socket
    import struct

    program = server()
    a, b = connected(program, connect, 2)
    gone = connected(program, connect, 1, rcvbuf=4096)[0]
    threading.Thread(target=a.send, args=(b"".join(numbered(2000)),), daemon=True).start()
    assert len(b.recv_exactly(100 * 1000, timeout=20)) == 100 * 1000
    gone.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    gone.close()
    b.recv_exactly(100 * 1000, timeout=20)
    program.wait_for(lambda: any("client 3" in line and ("left" in line or "dropped" in line)
                                 for line in program.stderr), what="the server to let client 3 go")
    b.send(b"after the reset\n")
    assert a.recv_line() == "after the reset"


def idle_cpu(program, seconds=0.6):
    before = program.cpu_seconds()
    time.sleep(seconds)
    return program.cpu_seconds() - before


@no_spin
def test_idle_clients_cost_no_cpu(server, connect):
    """Sockets are almost always writable: watching them for writing with nothing to send spins."""
    program = server()
    connected(program, connect, 3)
    used = idle_cpu(program)
    assert used < 0.2, (f"the idle server used {used:.2f} s of CPU in 0.6 s: does it watch sockets "
                        "for writing while their output buffer is empty?")


@no_spin
def test_no_cpu_after_a_burst_is_delivered(server, connect):
    """Once a buffer is empty again, write interest must go off again."""
    program = server()
    a, b = connected(program, connect, 2)
    payload = b"".join(numbered(2000))
    threading.Thread(target=a.send, args=(payload,), daemon=True).start()
    assert b.recv_exactly(len(payload), timeout=20) == payload
    used = idle_cpu(program)
    assert used < 0.2, f"after the burst the idle server used {used:.2f} s of CPU in 0.6 s"
