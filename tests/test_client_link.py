"""The terminal client's connection to the server (``ServerLink``) on a real socket pair.

Write interest is on only while there is something to send, and a broken
connection is reported with its reason -- never swallowed.
"""

import socket

from selectchat.client.terminal import ServerLink
from selectchat.net.loop import EventLoop


class Link:
    def __init__(self):
        self.loop = EventLoop()
        self.ours, self.theirs = socket.socketpair()
        self.lines, self.closed = [], []
        self.link = ServerLink(self.loop, self.ours, self.lines.append, self.closed.append)

    def close(self):
        self.loop.close()
        self.ours.close()
        self.theirs.close()


def test_write_interest_only_while_the_buffer_holds_bytes_and_lines_come_in():
    pair = Link()
    try:
        fd = pair.ours.fileno()
        assert fd not in pair.loop.writers
        pair.link.write(b"NICK alice\r\n")
        assert fd in pair.loop.writers
        pair.loop.run_once(timeout=1)
        assert fd not in pair.loop.writers and pair.theirs.recv(100) == b"NICK alice\r\n"
        pair.theirs.sendall(b":srv 001 alice :hi\r\nPING :x\r\n")
        pair.loop.run_once(timeout=1)
        assert pair.lines == [b":srv 001 alice :hi", b"PING :x"] and pair.closed == []
    finally:
        pair.close()


def test_a_failed_write_is_reported_with_its_reason():
    pair = Link()
    try:
        pair.theirs.shutdown(socket.SHUT_RD)     # the peer reads no more: our writes fail (EPIPE)
        pair.link.write(b"PRIVMSG #lobby :into the void\r\n" * 1000)
        for _ in range(5):
            if pair.closed:
                break
            pair.loop.run_once(timeout=1)
        assert len(pair.closed) == 1
        assert pair.closed[0] in ("write error: Broken pipe", "write error: Connection reset by peer")
        assert pair.link.closed and pair.link.stream.fd not in pair.loop.handlers
        pair.link.write(b"more\r\n")             # a write after the end is dropped, not an error
    finally:
        pair.close()


def test_the_server_closing_is_reported_once_with_no_reason():
    pair = Link()
    try:
        pair.theirs.sendall(b"ERROR :Closing Link\r\n")
        pair.theirs.close()
        for _ in range(3):
            pair.loop.run_once(timeout=1)
        assert pair.lines == [b"ERROR :Closing Link"] and pair.closed == [""]
    finally:
        pair.close()
