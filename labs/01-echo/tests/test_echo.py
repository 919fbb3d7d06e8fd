"""Grading tests for lab 01: the echo server.  Run them: python -m pytest"""

import socket
import struct

import pytest

echo = pytest.mark.category("echo")
many_clients = pytest.mark.category("many-clients")
disconnect = pytest.mark.category("disconnect")


@pytest.fixture
def server(start):
    program = start("server.py")
    program.address = program.wait_ready()
    return program


def roundtrip(peer, data):
    peer.send(data)
    return peer.recv_exactly(len(data))


@echo
def test_prints_its_port_and_echoes_a_line(server, connect):
    """The first line names the port; a line comes back unchanged."""
    peer = connect(server.address)
    assert roundtrip(peer, b"hello, select\n") == b"hello, select\n"


@echo
def test_echoes_every_byte_of_a_large_message(server, connect):
    """256 KiB of every byte value come back complete and in order."""
    peer = connect(server.address)
    data = bytes(range(256)) * 1024
    peer.send(data)
    assert peer.recv_exactly(len(data), timeout=10) == data


@echo
def test_many_messages_on_one_connection(server, connect):
    """Message after message on the same connection, each echoed."""
    peer = connect(server.address)
    for n in range(50):
        assert roundtrip(peer, f"message {n}\n".encode()) == f"message {n}\n".encode()


@many_clients
def test_idle_client_does_not_block_another(server, connect):
    """A client that connects and says nothing must not stop the server serving the next one."""
    connect(server.address)                 # connected, silent
    active = connect(server.address)
    assert roundtrip(active, b"anyone there?\n") == b"anyone there?\n"


@many_clients
def test_two_clients_interleaved(server, connect):
    """Two clients take turns, the one that came second speaking first; each gets back only its own bytes."""
    a, b = connect(server.address), connect(server.address)
    for n in range(10):
        assert roundtrip(b, f"b{n}\n".encode()) == f"b{n}\n".encode()
        assert roundtrip(a, f"a{n}\n".encode()) == f"a{n}\n".encode()
    assert a.nothing_more() and b.nothing_more()


def reset(peer):
    """Close with pending data and linger 0: the server sees a reset (RST), not an EOF."""
    peer.send(b"unread by anyone")
    peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()


@many_clients
def test_twenty_clients_at_once_some_leave(server, connect):
    """Twenty connections open together, all served; five leave, five vanish (reset); the rest go on."""
    peers = [connect(server.address) for _ in range(20)]
    for n, peer in enumerate(peers):
        peer.send(f"client {n}\n")
    for n, peer in enumerate(peers):
        assert peer.recv_exactly(len(f"client {n}\n")) == f"client {n}\n".encode()
    for peer in peers[:5]:
        peer.close()
    for peer in peers[5:10]:
        reset(peer)
    for n, peer in reversed(list(enumerate(peers[10:], 10))):    # the last to come speaks first
        assert roundtrip(peer, f"still {n}\n".encode()) == f"still {n}\n".encode()


@disconnect
def test_server_survives_a_client_leaving(server, connect):
    """After one client closes, the server still serves the others and new ones."""
    leaving, staying = connect(server.address), connect(server.address)
    assert roundtrip(leaving, b"bye\n") == b"bye\n"
    leaving.close()
    assert roundtrip(staying, b"still here\n") == b"still here\n"
    assert roundtrip(connect(server.address), b"new\n") == b"new\n"
    assert server.running()
    server.assert_idle(what="the server, after a client left,")


@disconnect
def test_server_survives_a_connection_reset(server, connect):
    """A client that vanishes with a reset (RST) must not crash the server."""
    rude = connect(server.address)
    assert roundtrip(rude, b"x\n") == b"x\n"
    reset(rude)
    other = connect(server.address)
    assert roundtrip(other, b"after the reset\n") == b"after the reset\n"
    assert server.running()
    server.assert_idle(what="the server, after a reset,")


@disconnect
def test_no_busy_loop_after_clients_leave(server, connect):
    """A closed client that stays in select()'s list makes it return at once, forever: 100% CPU.

    Two clients leave, one with an EOF, one with a reset; the idle server then uses (almost) no CPU.
    """
    leaving, vanishing = connect(server.address), connect(server.address)
    assert roundtrip(leaving, b"bye\n") == b"bye\n"
    assert roundtrip(vanishing, b"bye too\n") == b"bye too\n"
    leaving.close()
    reset(vanishing)
    other = connect(server.address)
    assert roundtrip(other, b"ok\n") == b"ok\n"   # the server has seen the EOF and the reset by now
    server.assert_idle(what="the server, idle after two clients left,")
