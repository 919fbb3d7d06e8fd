"""Grading tests for lab 02: framing.  Run them: python -m pytest"""

import json
import random
import socket
import time

import pytest

import broken
from framing import LineBuffer, LineTooLong, breaks_the_brace_reader, decode, encode

split_and_merged = pytest.mark.category("split-and-merged")
json_ = pytest.mark.category("json")
limits = pytest.mark.category("limits")
end_to_end = pytest.mark.category("end-to-end")

MESSAGES = [
    {"text": "hello"},
    {"text": "a } in the middle", "from": "bob"},
    {"text": "braces { } and \"quotes\" and a\nnewline"},
    {"nested": {"deeper": {"list": [1, 2, {"x": "}"}]}}},
    {"text": "unicode: café, 日本語, 🙂"},
    {},
]


def feed_in_pieces(stream, cuts):
    """Feed ``stream`` to a fresh LineBuffer cut at the offsets ``cuts``; all lines out."""
    buffer, lines, start = LineBuffer(), [], 0
    for end in [*sorted(cuts), len(stream)]:
        lines += buffer.feed(stream[start:end])
        start = end
    return lines


@split_and_merged
def test_one_whole_line():
    """One recv() with exactly one line."""
    assert LineBuffer().feed(b"hello\n") == [b"hello"]


@split_and_merged
def test_merged_lines_in_one_recv():
    """Three lines and the start of a fourth in one recv(): three lines now, the fourth later."""
    buffer = LineBuffer()
    assert buffer.feed(b"one\ntwo\nthree\nfou") == [b"one", b"two", b"three"]
    assert buffer.feed(b"r\n") == [b"four"]


@split_and_merged
def test_a_line_one_byte_at_a_time():
    """A line split into single bytes comes out once, whole, at its b'\\n'."""
    buffer, out = LineBuffer(), []
    for byte in b"byte by byte\n":
        out.append(buffer.feed(bytes([byte])))
    assert out[:-1] == [[]] * (len(out) - 1)
    assert out[-1] == [b"byte by byte"]


@split_and_merged
def test_crlf_and_empty_lines():
    """``\\r\\n`` ends a line like ``\\n``; an empty line is a line."""
    assert LineBuffer().feed(b"a\r\n\nb\n") == [b"a", b"", b"b"]


@split_and_merged
def test_nothing_complete_returns_an_empty_list():
    buffer = LineBuffer()
    assert buffer.feed(b"no end yet") == []
    assert buffer.feed(b"") == []
    assert buffer.feed(b"\n") == [b"no end yet"]


@split_and_merged
def test_any_cutting_gives_the_same_lines():
    """200 random ways to cut the same stream into recv()s all give the same lines."""
    stream = b"".join(json.dumps(m).encode() + b"\n" for m in MESSAGES * 3)
    expected = stream.split(b"\n")[:-1]
    rng = random.Random(2)
    for _ in range(200):
        cuts = rng.sample(range(1, len(stream)), rng.randint(1, 40))
        assert feed_in_pieces(stream, cuts) == expected, f"cut at {sorted(cuts)}"


@json_
@pytest.mark.parametrize("message", MESSAGES, ids=range(len(MESSAGES)))
def test_encode_is_one_line_and_decodes_back(message):
    """encode() gives exactly one line (one b'\\n', at the end); decode() undoes it."""
    line = encode(message)
    assert isinstance(line, bytes) and line.endswith(b"\n") and line.count(b"\n") == 1
    [framed] = LineBuffer().feed(line)
    assert decode(framed) == message


@json_
def test_a_message_that_breaks_the_brace_reader():
    """Your example defeats broken.read_until_brace, and your framing reads it right."""
    message = breaks_the_brace_reader()
    assert isinstance(message, dict)
    try:
        brace_result = broken.read_until_brace(bytearray(json.dumps(message).encode()))
    except ValueError:
        brace_result = "an exception"
    assert brace_result != [message], "read_until_brace reads this message correctly: find one it cannot"
    [line] = LineBuffer().feed(encode(message))
    assert decode(line) == message


@limits
def test_a_line_at_the_limit_is_fine_one_more_byte_is_not():
    buffer = LineBuffer(max_line=100)
    assert buffer.feed(b"x" * 100 + b"\n") == [b"x" * 100]
    with pytest.raises(LineTooLong):
        LineBuffer(max_line=100).feed(b"y" * 101 + b"\n")


@limits
def test_an_endless_line_is_refused_early():
    """10 MB with no newline: LineTooLong as soon as the limit is passed, not after buffering it all."""
    buffer = LineBuffer(max_line=4096)
    fed = 0
    with pytest.raises(LineTooLong):
        while fed < 10_000_000:
            buffer.feed(b"z" * 1000)
            fed += 1000
    assert fed <= 4096 + 1000, f"{fed} bytes were buffered before LineTooLong"


@pytest.fixture
def server(start):
    program = start("server.py")
    program.address = program.wait_ready()
    return program


def replies(peer, count):
    return [json.loads(peer.recv_line()) for _ in range(count)]


@end_to_end
def test_server_messages_split_into_small_sends(server, connect):
    """Each message sent a few bytes at a time, with pauses: every echo is whole."""
    peer = connect(server.address)
    peer.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = b"".join(json.dumps(m).encode() + b"\n" for m in MESSAGES[:3])
    for start in range(0, len(stream), 7):
        peer.send(stream[start:start + 7])
        time.sleep(0.002)
    assert [r["echo"] for r in replies(peer, 3)] == MESSAGES[:3]


@end_to_end
def test_server_many_messages_in_one_send(server, connect):
    """Fifty messages in one sendall(): fifty echoes, numbered 1 to 50."""
    peer = connect(server.address)
    peer.send(b"".join(json.dumps({"i": i, "text": "}{"}).encode() + b"\n" for i in range(50)))
    got = replies(peer, 50)
    assert [r["n"] for r in got] == list(range(1, 51))
    assert [r["echo"]["i"] for r in got] == list(range(50))


@end_to_end
def test_server_refuses_an_endless_line(server, connect):
    """6000 bytes without a newline (the limit is 4096): an error, then the connection is closed."""
    peer = connect(server.address)
    peer.send(b"{" + b"a" * 6000)
    assert json.loads(peer.recv_line()) == {"error": "line too long"}
    peer.expect_closed()
