"""Grading tests for lab 05: the full-duplex client.  Run them: python -m pytest

Here the test is the server: it listens on 127.0.0.1 (port 0), your client
connects to it, and the test types on your client's standard input.  Each
test is a whole session: it ends the way a user ends one -- two last lines
typed at once, Ctrl-D, the server's goodbye shown, exit code 0.
"""

import subprocess
import time

import pytest

screen = pytest.mark.category("screen")
keyboard = pytest.mark.category("keyboard")
ending = pytest.mark.category("ending")


@pytest.fixture
def session(start, listen):
    """(client program, the test's end of its connection)."""
    server = listen()
    client = start("client.py", *server.address, port=False, stdin=subprocess.PIPE)
    return client, server.accept()


def type_(client, text):
    client.process.stdin.write(text.encode() if isinstance(text, str) else text)
    client.process.stdin.flush()


def finish(client, server):
    """End the session: two lines typed at once, Ctrl-D, the server's goodbye; the client exits 0."""
    type_(client, "see you\nbye for now\n")
    assert server.recv_line() == "see you"
    assert server.recv_line(timeout=2) == "bye for now"
    client.process.stdin.close()                          # Ctrl-D
    server.expect_closed()                                # the client said "nothing more from me"...
    assert client.running(), (f"after Ctrl-D the client exited (code {client.process.returncode}) instead of "
                              "showing what the server still sends: half-close with shutdown(SHUT_WR)")
    client.assert_idle(0.3, what="the client, after Ctrl-D,")
    goodbye = "the server's goodbye 🙂\n".encode()       # ...and still shows what the server says,
    try:                                                  # even a character cut in two
        server.send(goodbye[:-3])
        time.sleep(0.05)
        server.send(goodbye[-3:])
        closed = False
    except ConnectionError:
        closed = True
    assert not closed, ("after Ctrl-D the client closed the connection: the server's last words cannot arrive "
                        "(expected a half-close: shutdown(SHUT_WR), not close())")
    server.close()
    client.wait_for_line("the server's goodbye 🙂")
    assert client.wait_exit() == 0


@screen
def test_a_line_from_the_server_shows_with_no_key_pressed(session):
    """The classic bug: blocked in input(), the client shows nothing until you press Enter."""
    client, server = session
    server.send("welcome to the server\n")
    client.wait_for_line("welcome to the server")
    finish(client, server)


@screen
def test_a_line_sent_in_pieces_and_a_burst(session):
    client, server = session
    server.send("part")
    server.send("ial line\n")
    client.wait_for_line("partial line")
    server.send("".join(f"burst {n}\n" for n in range(500)))
    client.wait_for_line("burst 499")
    assert [line for line in client.stdout if line.startswith("burst")] == [f"burst {n}" for n in range(500)]
    finish(client, server)


@screen
def test_bytes_are_shown_as_they_are(session):
    """Non-ASCII text arrives intact, also with a character cut between two sends (write bytes)."""
    client, server = session
    data = "café ünïcödé 🙂\n".encode()
    server.send(data[:-3])                 # the end of 🙂 comes later
    time.sleep(0.1)
    server.send(data[-3:])
    client.wait_for_line("café ünïcödé 🙂")
    finish(client, server)


@keyboard
def test_a_typed_line_reaches_the_server(session):
    client, server = session
    type_(client, "hello from the keyboard\n")
    assert server.recv_line() == "hello from the keyboard"
    finish(client, server)


@keyboard
def test_two_lines_typed_at_once_both_arrive(session):
    """Buffered reading (sys.stdin.readline after select) keeps the second line hidden from select()."""
    client, server = session
    type_(client, "first line\nsecond line\n")
    assert server.recv_line() == "first line"
    assert server.recv_line() == "second line"
    finish(client, server)


@keyboard
def test_typing_while_the_server_talks(session):
    """Twenty rounds of both directions at once."""
    client, server = session
    for n in range(20):
        server.send(f"server says {n}\n")
        type_(client, f"client says {n}\n")
        assert server.recv_line() == f"client says {n}"
        client.wait_for_line(f"server says {n}")
    finish(client, server)


@keyboard
def test_a_long_paste_arrives_whole(session):
    client, server = session
    text = "".join(f"pasted line {n:05d}\n" for n in range(3000))
    type_(client, text)
    assert server.recv_exactly(len(text), timeout=10) == text.encode()
    finish(client, server)


@ending
def test_the_server_closing_ends_the_client(session):
    client, server = session
    server.send("bye\n")
    server.close()
    assert client.wait_exit() == 0
    assert "bye" in client.stdout


@ending
def test_the_end_of_the_keyboard_is_passed_on(session):
    """Ctrl-D: shut down the sending side; keep showing what the server sends until it closes."""
    client, server = session
    finish(client, server)
