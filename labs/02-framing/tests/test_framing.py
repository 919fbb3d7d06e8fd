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
    """A full recv() of lines and the start of one more: those lines now, the last one later."""
    buffer = LineBuffer()
    lines = [b"line %04d " % n + b"." * 30 for n in range(150)]      # 6 KB, more than max_line
    assert buffer.feed(b"\n".join(lines) + b"\nthe start of") == lines
    assert buffer.feed(b" the next\n") == [b"the start of the next"]


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


def stream_of(count, rng):
    """``count`` JSON lines of 20 to 3000 bytes (each under the 4096-byte limit)."""
    messages = [dict(MESSAGES[n % len(MESSAGES)], pad="x" * rng.randint(0, 2900)) for n in range(count)]
    return b"".join(json.dumps(m).encode() + b"\n" for m in messages)


@split_and_merged
def test_any_cutting_gives_the_same_lines():
    """200 ways to cut the same 60 KB into recv()s (1 byte to 8 KB each) all give the same lines."""
    rng = random.Random(2)
    stream = stream_of(40, rng)
    expected = stream.split(b"\n")[:-1]
    for _ in range(200):
        cuts = rng.sample(range(1, len(stream)), rng.randint(8, 60))
        assert feed_in_pieces(stream, cuts) == expected, f"cut at {sorted(cuts)}"


@split_and_merged
def test_many_short_lines_in_one_recv():
    """1000 short lines in one recv() (10 KB in all, each line far under the limit): all come out."""
    lines = [b"%d" % n for n in range(1000)]
    assert LineBuffer(max_line=100).feed(b"\n".join(lines) + b"\n") == lines


@split_and_merged
def test_a_character_cut_between_two_recvs():
    """UTF-8 characters are several bytes; a recv() may end in the middle of one."""
    data = "unicode: café, 日本語, 🙂\n".encode()
    for cut in range(1, len(data)):
        buffer = LineBuffer()
        assert buffer.feed(data[:cut]) + buffer.feed(data[cut:]) == [data[:-1]], f"cut at byte {cut}"


@json_
def test_encode_is_one_line_and_decodes_back():
    """encode() gives exactly one line (one b'\\n', at the end); decode() undoes it."""
    for message in MESSAGES:
        line = encode(message)
        assert isinstance(line, bytes) and line.endswith(b"\n") and line.count(b"\n") == 1, \
            f"encode({message!r}) is not one line ending with b'\\n': {line!r}"
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
    """Finished or not: 100 bytes is a line, 101 bytes is LineTooLong."""
    buffer = LineBuffer(max_line=100)
    assert buffer.feed(b"x" * 100 + b"\n") == [b"x" * 100]
    assert LineBuffer(max_line=100).feed(b"y" * 100) == []
    with pytest.raises(LineTooLong):
        LineBuffer(max_line=100).feed(b"y" * 101 + b"\n")
    with pytest.raises(LineTooLong):
        LineBuffer(max_line=100).feed(b"y" * 101)      # no end yet, and already too long


@limits
def test_the_limit_is_per_line_not_per_recv():
    """A recv() of many lines under the limit, and the start of one more: nothing is too long."""
    buffer = LineBuffer(max_line=100)
    lines = [b"%02d " % n + b"z" * 90 for n in range(40)]
    assert buffer.feed(b"\n".join(lines) + b"\n" + b"w" * 95) == lines
    assert buffer.feed(b"\n") == [b"w" * 95]
    assert buffer.feed(b"v" * 95) == []
    with pytest.raises(LineTooLong):
        buffer.feed(b"v" * 10)                         # that line is now 105 bytes, and no end yet


@limits
def test_an_endless_line_is_refused_early():
    """A line with no newline, 1000 bytes per recv(): LineTooLong as soon as it passes the limit."""
    buffer = LineBuffer(max_line=4096)
    fed = 0
    try:
        while fed < 200_000:
            buffer.feed(b"z" * 1000)
            fed += 1000
    except LineTooLong:
        pass
    assert fed <= 4096, f"{fed} bytes of one line without an end were kept, with no LineTooLong " \
                        "(the limit is 4096): a peer that never sends a newline fills your memory"


@limits
def test_a_too_long_line_after_good_ones():
    """Good lines (more than the limit in all) and the start of a long one; then it passes the limit."""
    buffer = LineBuffer(max_line=100)
    good = [b"fine %d" % n for n in range(30)]
    assert buffer.feed(b"\n".join(good) + b"\n" + b"q" * 60) == good
    with pytest.raises(LineTooLong):
        buffer.feed(b"q" * 60)


@pytest.fixture
def server(start):
    program = start("server.py")
    program.address = program.wait_ready()
    return program


def replies(peer, count):
    return [json.loads(peer.recv_line()) for _ in range(count)]


@end_to_end
def test_server_messages_split_into_small_sends(server, connect):
    """Messages sent a few bytes at a time, with pauses, then two in one send: every echo is whole."""
    peer = connect(server.address)
    peer.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = b"".join(json.dumps(m).encode() + b"\n" for m in MESSAGES[:3])
    for start in range(0, len(stream), 7):
        peer.send(stream[start:start + 7])
        time.sleep(0.002)
    assert [r["echo"] for r in replies(peer, 3)] == MESSAGES[:3]
    peer.send(b"".join(json.dumps(m).encode() + b"\n" for m in MESSAGES[3:5]))
    assert [r["echo"] for r in replies(peer, 2)] == MESSAGES[3:5]


@end_to_end
def test_server_many_messages_in_one_send(server, connect):
    """300 messages (12 KB) in one sendall(): 300 echoes, numbered 1 to 300."""
    peer = connect(server.address)
    peer.send(b"".join(json.dumps({"i": i, "text": "}{ " * 8}).encode() + b"\n" for i in range(300)))
    got = replies(peer, 300)
    assert [r["n"] for r in got] == list(range(1, 301))
    assert [r["echo"]["i"] for r in got] == list(range(300))


@end_to_end
def test_server_refuses_an_endless_line(server, connect):
    """A good message, then 6000 bytes without a newline (the limit is 4096): an error, then the close."""
    peer = connect(server.address)
    peer.send(b'{"text": "first"}\n')
    assert json.loads(peer.recv_line()) == {"echo": {"text": "first"}, "n": 1}
    peer.send(b"{" + b"a" * 6000)
    assert json.loads(peer.recv_line()) == {"error": "line too long"}
    peer.expect_closed()
