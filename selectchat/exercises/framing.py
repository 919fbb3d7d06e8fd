"""Notebook 7: a line framer and a length-prefixed framer, fed from a real TCP connection
in pieces of every size: one byte at a time, many frames per piece, and overlong frames."""

import random
import socket
import time

from .base import Exercise, Wrong

MAX_LINE = 512


def _connection():
    """Both ends of a TCP connection on 127.0.0.1 (port 0)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        sender = socket.create_connection(listener.getsockname(), timeout=5)
        receiver, _ = listener.accept()
    receiver.settimeout(5)
    return sender, receiver


def _pieces(stream, how, seed=0):
    """Send ``stream`` over TCP and return the chunks recv() gave, read ``how``:
    "bytes" (recv(1): one byte at a time), "whole" (everything in one recv()),
    or "random" (recv() of random sizes)."""
    sender, receiver = _connection()
    with sender, receiver:
        sender.sendall(stream)
        sender.shutdown(socket.SHUT_WR)
        if how == "whole":             # wait until everything has arrived: one recv() takes all
            deadline = time.monotonic() + 5
            while len(receiver.recv(len(stream) + 1, socket.MSG_PEEK)) < len(stream) and time.monotonic() < deadline:
                time.sleep(0.01)
        chance = random.Random(seed)
        chunks = []
        while True:
            size = {"bytes": 1, "whole": len(stream) + 1}.get(how) or chance.randint(1, 40)
            chunk = receiver.recv(size)
            if not chunk:
                return chunks
            chunks.append(chunk)


def _feed(function, chunks, *args):
    pending, out, held = bytearray(), [], 0
    for chunk in chunks:
        result = function(pending, chunk, *args)
        if not isinstance(result, list):
            raise Wrong(f"your function returned {type(result).__name__} {result!r:.60}: it should return a list")
        out += result
        held = max(held, len(pending))
    return out, pending, held


def _ordinal(n):
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


# --- 7.2 split_lines(pending, data, max_line) -------------------------------------------

LINES = [b"NICK alice", b"USER alice 0 * :Alice", b"JOIN #lobby", b"PRIVMSG #lobby :a } and a { ", b"",
         b"PRIVMSG #lobby :last one"]
STREAM = b"".join(line + end for line, end in zip(LINES, [b"\r\n", b"\r\n", b"\n", b"\r\n", b"\r\n", b"\r\n"]))
WAYS = {"bytes": "fed one byte at a time (recv(1))", "whole": "fed everything in one piece",
        "random": "fed in pieces of random sizes"}


def _compare_lines(got, expected, way):
    if got == expected:
        return
    if len(got) != len(expected):
        raise Wrong(f"{way}, a stream of {len(expected)} lines gave {len(got)} line{'s' if len(got) != 1 else ''}")
    n = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
    if isinstance(got[n], (bytes, bytearray)) and got[n].endswith(b"\r"):
        raise Wrong(f"{way}, the {_ordinal(n + 1)} line, which ended in \\r\\n, came out with its \\r: {got[n]!r}")
    raise Wrong(f"{way}, the {_ordinal(n + 1)} line came out as {got[n]!r:.80}")


def split_lines_in_child(split_lines, args, report):
    for how, way in WAYS.items():
        got, pending, _ = _feed(split_lines, _pieces(STREAM, how), MAX_LINE)
        _compare_lines(got, LINES, way)
        if pending:
            raise Wrong(f"{way}, {bytes(pending)!r:.60} was left in pending after the last complete line")
    long_line = b"PRIVMSG #lobby :" + b"x" * 3000
    stream = b"PING one\r\n" + long_line + b"\r\nPING two\r\n"
    got, _, held = _feed(split_lines, _pieces(stream, "random", seed=1), MAX_LINE)
    if len(got) != 3 or got[0] != b"PING one" or got[2] != b"PING two":
        raise Wrong(f"a 3016-byte line between two short ones: the short lines did not both come out intact "
                    f"(you returned {len(got)} items)")
    if got[1] is not None:
        raise Wrong(f"a line longer than max_line came out as {type(got[1]).__name__} of {len(got[1] or b'')} "
                    "bytes: the exercise says None in its place")
    if held > MAX_LINE + 1:
        raise Wrong(f"while a 3016-byte line arrived, pending grew to {held} bytes: it must stay within "
                    "max_line + 1 bytes whatever a peer sends")
    got, _, _ = _feed(split_lines, [b"x" * MAX_LINE + b"\r\n", b"y" * (MAX_LINE + 1) + b"\n"], MAX_LINE)
    if got[:1] != [b"x" * MAX_LINE] or got[1:] != [None]:
        raise Wrong("a line of exactly max_line bytes must come out whole, and one of max_line + 1 bytes as None")


SPLIT_LINES = Exercise("split_lines", split_lines_in_child, time_limit=10)


# --- 7.4 split_frames(pending, data, max_frame): a 10-byte length header, then the payload ---

HEADER = 10
MAX_FRAME = 65536


def frame(payload):
    """The original chat's framing: the payload's length in decimal ASCII, padded to 10 bytes."""
    return f"{len(payload):<{HEADER}}".encode() + payload


PAYLOADS = [b'{"from": "alice", "text": "hi :-}"}', b"", b"two\nlines", b"0123456789" * 3, b"\x00\xff binary",
            b'{"from": "bob", "text": "' + b"long " * 500 + b'"}']


def split_frames_in_child(split_frames, args, report):
    stream = b"".join(frame(p) for p in PAYLOADS)
    for how, way in WAYS.items():
        got, pending, _ = _feed(split_frames, _pieces(stream, how, seed=2), MAX_FRAME)
        got = [bytes(p) if isinstance(p, bytearray) else p for p in got]
        if got != PAYLOADS:
            if len(got) != len(PAYLOADS):
                raise Wrong(f"{way}, a stream of {len(PAYLOADS)} frames gave {len(got)}")
            n = next(i for i, (a, b) in enumerate(zip(got, PAYLOADS)) if a != b)
            raise Wrong(f"{way}, the {_ordinal(n + 1)} frame's payload came out as {got[n]!r:.60}")
        if pending:
            raise Wrong(f"{way}, {bytes(pending)!r:.60} was left in pending after the last frame")
    for header, what in ((f"{10 ** 9:<{HEADER}}".encode(), "announcing a 1 GB payload"),
                         (b"-5        ", "announcing a negative length"),
                         (b"hello!    ", "that is not a number")):
        pending = bytearray()
        try:
            result = split_frames(pending, header + b"abc", MAX_FRAME)
        except ValueError:
            continue
        raise Wrong(f"a header {what} did not raise ValueError (your function returned {result!r:.40} and "
                    f"kept {len(pending)} bytes): a peer could make it wait or grow without bound")


SPLIT_FRAMES = Exercise("split_frames", split_frames_in_child, time_limit=10)
