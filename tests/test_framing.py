"""LineBuffer: bytes in, complete lines out -- no sockets needed.

TCP hands the server arbitrary slices of the stream, so every test here
feeds the same bytes in different slices and expects the same lines.
"""

import pytest

from selectchat.net.framing import MAX_LINE, TOO_LONG, LineBuffer


def feed_all(chunks, buffer=None):
    """Feed each chunk in turn; return every line produced, in order."""
    buffer = buffer or LineBuffer()
    lines = []
    for chunk in chunks:
        lines += buffer.feed(chunk)
    return lines


def test_one_line_with_crlf():
    assert LineBuffer().feed(b"NICK alice\r\n") == [b"NICK alice"]


def test_bare_newline_is_a_terminator_too():
    # nc sends "\n" only; the line must come out the same.
    assert LineBuffer().feed(b"NICK alice\n") == [b"NICK alice"]


def test_a_line_split_over_many_reads():
    stream = b"PRIVMSG #lobby :hello there\r\n"
    assert feed_all([bytes([b]) for b in stream]) == [b"PRIVMSG #lobby :hello there"]


def test_crlf_split_between_reads():
    assert feed_all([b"PING x\r", b"\nPING y\r", b"\n"]) == [b"PING x", b"PING y"]


def test_many_lines_in_one_read_and_a_partial_tail():
    buffer = LineBuffer()
    assert buffer.feed(b"A\r\nB\nC\r\nD") == [b"A", b"B", b"C"]
    assert buffer.pending == 1
    assert buffer.feed(b"E\r\n") == [b"DE"]
    assert buffer.pending == 0


def test_nothing_until_the_terminator():
    buffer = LineBuffer()
    assert buffer.feed(b"half a line") == []
    assert buffer.pending == len(b"half a line")


def test_empty_lines_are_returned_empty():
    # Blank lines are the core's business (it ignores them); the framer keeps them.
    assert LineBuffer().feed(b"\r\n\n") == [b"", b""]


def test_a_bare_cr_ends_a_line_as_ngircd_accepts():
    assert LineBuffer().feed(b"a\rb\r\r\n") == [b"a", b"b", b""]


@pytest.mark.parametrize("split", range(1, 12))
def test_a_crlf_split_between_two_reads_is_one_line_end(split):
    stream = b"NICK a\r\nPING x\r\n"
    assert feed_all([stream[:split], stream[split:]]) == [b"NICK a", b"PING x"]


def line_of(total):
    """A line of exactly ``total`` bytes on the wire, "\\r\\n" included."""
    return b"x" * (total - 2) + b"\r\n"


def test_exactly_512_bytes_is_accepted():
    assert LineBuffer().feed(line_of(MAX_LINE)) == [b"x" * (MAX_LINE - 2)]


def test_513_bytes_is_too_long():
    assert LineBuffer().feed(line_of(MAX_LINE + 1)) == [TOO_LONG]


@pytest.mark.parametrize("size", [1, 7, 100, 511, 512, 513])
def test_512_boundary_is_the_same_whatever_the_slices(size):
    stream = line_of(MAX_LINE) + line_of(MAX_LINE + 1) + b"ok\r\n"
    chunks = [stream[i:i + size] for i in range(0, len(stream), size)]
    assert feed_all(chunks) == [b"x" * (MAX_LINE - 2), TOO_LONG, b"ok"]


def test_the_limit_is_510_bytes_of_text_whatever_the_line_end():
    for end in (b"\n", b"\r", b"\r\n"):
        assert LineBuffer().feed(b"y" * 510 + end) == [b"y" * 510]
        assert LineBuffer().feed(b"y" * 511 + end) == [TOO_LONG]


@pytest.mark.parametrize("size", [1, 64, 4096, 100_000])
def test_an_overlong_line_then_a_good_one(size):
    stream = b"PRIVMSG #a :" + b"z" * 5000 + b" QUIT\r\nPING :ok\r\n"
    chunks = [stream[i:i + size] for i in range(0, len(stream), size)]
    # The overlong line is reported once, none of its bytes leak into the next line.
    assert feed_all(chunks) == [TOO_LONG, b"PING :ok"]


def test_memory_stays_bounded_while_an_endless_line_arrives():
    buffer = LineBuffer()
    for _ in range(1000):  # 1 MB without a newline
        assert buffer.feed(b"w" * 1024) == []
        assert buffer.pending < MAX_LINE
    assert buffer.feed(b"\nNICK bob\n") == [TOO_LONG, b"NICK bob"]
    assert buffer.pending == 0


def test_the_overlong_state_ends_at_the_next_line_end_only():
    buffer = LineBuffer()
    assert buffer.feed(b"q" * 600) == []
    assert buffer.feed(b"still the same line") == []
    assert buffer.feed(b"\r") == [TOO_LONG]
    assert buffer.feed(b"\n") == []  # the rest of that "\r\n"
    assert buffer.feed(b"next\n") == [b"next"]


def test_a_custom_limit():
    buffer = LineBuffer(max_line=8)
    assert buffer.feed(b"123456\n1234567\nok\n") == [b"123456", TOO_LONG, b"ok"]


def test_binary_junk_passes_through_unchanged():
    junk = bytes(range(256)).replace(b"\n", b"").replace(b"\r", b"")
    assert LineBuffer().feed(junk + b"\n") == [junk]
