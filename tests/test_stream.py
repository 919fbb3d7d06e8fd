"""The one buffered connection (``selectchat.net.stream.Stream``) on real socket pairs.

Each test drives a real loop over a real ``socket.socketpair()`` and a
protocol object that records what the stream told it.
"""

import socket

import pytest

from selectchat.net.loop import EventLoop
from selectchat.net.stream import TRANSITIONS, State, Stream


class Recorder:
    """A protocol that remembers every call."""

    def __init__(self, keep_open_at_eof=False):
        self.lines, self.lost, self.calls = [], [], []
        self.keep_open_at_eof = keep_open_at_eof

    def lines_received(self, lines):
        self.lines += lines

    def eof_received(self):
        self.calls.append("eof")
        return self.keep_open_at_eof

    def connection_lost(self, reason):
        self.lost.append(reason)

    def output_overflow(self):
        self.calls.append("overflow")

    def output_drained(self):
        self.calls.append("drained")


@pytest.fixture
def pair():
    loop = EventLoop()
    ours, theirs = socket.socketpair()
    protocol = Recorder()
    stream = Stream(loop, ours, protocol, label="test", max_output=1 << 20)
    yield loop, stream, protocol, theirs
    loop.close()
    theirs.close()
    if stream.state is not State.CLOSED:
        ours.close()


def run(loop, passes=5):
    for _ in range(passes):
        loop.run_once(timeout=0.2)


def test_lines_in_and_write_interest_only_while_bytes_wait(pair):
    loop, stream, protocol, theirs = pair
    theirs.sendall(b"one\r\ntwo\rthr")
    run(loop, 1)
    assert protocol.lines == [b"one", b"two"]
    assert stream.fd not in loop.writers
    stream.write(b"hello\r\n")
    assert stream.fd in loop.writers
    run(loop, 1)
    assert stream.fd not in loop.writers and theirs.recv(100) == b"hello\r\n"


def test_close_drains_what_is_queued_then_tells_the_protocol_once_from_the_loop(pair):
    loop, stream, protocol, theirs = pair
    stream.write(b"last words\r\n")
    stream.close("bye")
    assert stream.state is State.CLOSING and protocol.lost == []   # never from inside close()
    stream.write(b"too late\r\n")                                 # ignored once closing
    theirs.settimeout(2)
    run(loop, 2)
    assert theirs.recv(100) == b"last words\r\n"
    theirs.shutdown(socket.SHUT_WR)                               # the peer answers our EOF
    run(loop, 3)
    assert stream.state is State.CLOSED and protocol.lost == ["bye"]


def test_eof_stops_reading_and_still_sends_what_was_queued(pair):
    loop, stream, protocol, theirs = pair
    stream.write(b"reply\r\n")
    theirs.sendall(b"QUIT\r\n")
    theirs.shutdown(socket.SHUT_WR)
    run(loop, 4)
    theirs.settimeout(2)
    assert protocol.lines == [b"QUIT"] and protocol.calls == ["eof"]
    assert theirs.recv(100) == b"reply\r\n"
    assert stream.state is State.CLOSED and protocol.lost == ["connection closed by peer"]


def test_abort_discards_and_sends_the_farewell_after_the_current_line(pair):
    loop, stream, protocol, theirs = pair
    stream.write(b"half a li")    # queued, not yet sent: as if a send stopped mid-line
    stream.write(b"ne\r\nnever sent\r\n")
    stream.abort("dropped", farewell=b"ERROR :bye\r\n")
    theirs.settimeout(2)
    assert theirs.recv(100) == b"half a line\r\nERROR :bye\r\n"
    assert stream.state is State.CLOSED and protocol.lost == []
    run(loop, 1)
    assert protocol.lost == ["dropped"]


def test_a_full_output_is_reported_to_the_protocol(pair):
    loop, stream, protocol, theirs = pair
    stream.write(b"x" * ((1 << 20) + 1))
    assert protocol.calls == ["overflow"]


def test_output_drained_is_one_shot_when_asked(pair):
    loop, stream, protocol, theirs = pair
    stream.notify_drained = True
    stream.write(b"a" * 1000)
    run(loop, 1)
    assert protocol.calls == ["drained"]
    stream.write(b"b" * 1000)
    run(loop, 1)
    assert protocol.calls == ["drained"]   # not asked again: not told again


def test_the_state_table_allows_no_way_back():
    assert TRANSITIONS[State.CLOSED] == set()
    assert State.OPEN not in TRANSITIONS[State.CLOSING]


def test_an_illegal_move_is_refused(pair):
    loop, stream, protocol, theirs = pair
    stream.abort("gone")
    with pytest.raises(RuntimeError):
        stream._move(State.OPEN)


def tcp_pair():
    """A connected TCP pair on 127.0.0.1 with small buffers: sends stop part-way through chunks."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        theirs = socket.create_connection(listener.getsockname())
        ours, _ = listener.accept()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return ours, theirs


def test_many_chunks_cut_by_partial_sends_arrive_whole_and_in_order():
    """More chunks than one sendmsg() takes, of every size, through a small TCP buffer."""
    loop = EventLoop()
    ours, theirs = tcp_pair()
    protocol = Recorder()
    stream = Stream(loop, ours, protocol, max_output=10 << 20)
    shared = b"the same bytes object, queued many times\r\n"
    chunks = [shared if i % 3 == 0 else (b"%d:" % i) * (i % 97 + 1) + b"\r\n" for i in range(2000)]
    for chunk in chunks:
        stream.write(chunk)
    expected = b"".join(chunks)
    assert stream.buffer_size == len(expected) and len(stream.output) == 2000
    received = bytearray()
    theirs.setblocking(False)
    try:
        for _ in range(5000):
            loop.run_once(timeout=0.05)
            try:
                received += theirs.recv(3000)   # a slow reader: partial sends on our side
            except BlockingIOError:
                pass
            if len(received) == len(expected):
                break
        assert bytes(received) == expected
        assert stream.buffer_size == 0 and not stream.output and stream.bytes_sent == len(expected)
        assert stream.state is State.OPEN and protocol.lost == []
    finally:
        loop.close()
        theirs.close()
        ours.close()


def test_an_empty_write_queues_nothing_and_does_not_watch_for_writing(pair):
    loop, stream, protocol, theirs = pair
    assert stream.write(b"") == 0
    assert not stream.output and stream.fd not in loop.writers
