"""Notebook 2: ``wait_readable`` (one select() call with a timeout) and the echo loop."""

import socket
import struct
import threading
import time

from .base import SPIN_LIMIT, Exercise, Wrong, server_ended, closed_by_peer, connect, cpu_while_idle, receive


# --- 2.1 wait_readable(sock, timeout) ---------------------------------------------------


def _timed(function, *args, limit, hang):
    """Call ``function(*args)`` in a thread; (result, seconds taken), or Wrong(hang) if it is
    still running after ``limit`` seconds (the thread is a daemon: it dies with this process)."""
    box = {}

    def call():
        started = time.monotonic()
        try:
            box["result"] = function(*args)
        except BaseException as error:
            box["error"] = error
        box["took"] = time.monotonic() - started

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        raise Wrong(hang)
    if "error" in box:
        raise box["error"]
    return box["result"], box["took"]


def _must_be_bool(result):
    if not isinstance(result, bool):
        raise Wrong(f"your function returned {result!r}, a {type(result).__name__}: "
                    "it should return True or False")


def _unchanged(sock):
    if sock.gettimeout() != 0.0:
        raise Wrong("your function changed the socket's timeout or blocking mode: the caller's socket "
                    "must come back as it was")


def wait_readable_in_child(wait_readable, args, report):
    left, right = socket.socketpair()
    left.setblocking(False)
    cpu_before = time.process_time()
    result, took = _timed(wait_readable, left, 0.3, limit=2.0,
                          hang="nothing arrived and the timeout was 0.3 s, but your function was still waiting "
                               "after 2 s: it does not stop at the timeout")
    cpu = time.process_time() - cpu_before
    _must_be_bool(result)
    if result:
        raise Wrong("nothing had been sent yet, but your function said readable")
    if took < 0.25:
        raise Wrong(f"nothing arrived and the timeout was 0.3 s, but your function gave up after {took:.2f} s: "
                    "it does not wait for the timeout")
    if took > 0.9:
        raise Wrong(f"nothing arrived and the timeout was 0.3 s, but your function returned only after {took:.2f} s")
    if cpu > 0.05:
        raise Wrong(f"while it waited 0.3 s for nothing, your function used {cpu:.2f} s of CPU: it keeps "
                    "checking instead of letting one call wait")
    result, took = _timed(wait_readable, left, 0, limit=1.0,
                          hang="with nothing waiting and timeout 0, your function was still waiting after 1 s: "
                               "timeout 0 means answer at once, without waiting")
    if result is not False or took > 0.2:
        raise Wrong(f"with nothing waiting and timeout 0, your function returned {result!r} after {took:.2f} s: "
                    "timeout 0 means answer at once, without waiting")
    _unchanged(left)

    threading.Timer(0.2, right.send, args=(b"x",)).start()
    result, took = _timed(wait_readable, left, 3.0, limit=4.0,
                          hang="a byte arrived after 0.2 s, but your function was still waiting 4 s later")
    _must_be_bool(result)
    _unchanged(left)
    if not result:
        raise Wrong("a byte arrived while your function waited, but it said not readable")
    if took > 1.5:
        raise Wrong(f"a byte arrived after 0.2 s, but your function returned only after {took:.2f} s: "
                    "it should return as soon as the socket is readable")
    try:
        still_there = left.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        still_there = b""
    if still_there != b"x":
        raise Wrong("your function consumed the byte that was waiting: after it returns, "
                    "the caller's recv() must still find it")
    result, took = _timed(wait_readable, left, 0, limit=1.0,
                          hang="with a byte waiting and timeout 0, your function was still running after 1 s")
    if result is not True or took > 0.2:
        raise Wrong("with a byte already waiting and timeout 0, your function did not answer True at once")

    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        if wait_readable(listener, 0.1) is not False:
            raise Wrong("a listening socket with no connection waiting: your function said readable")
        caller = socket.create_connection(listener.getsockname())
        try:
            result = wait_readable(listener, 2.0)
        except OSError as error:
            raise Wrong(f"on a listening socket with a connection waiting, your function raised "
                        f"{type(error).__name__}: {error}") from None
        caller.close()
        if result is not True:
            raise Wrong("a connection was waiting to be accepted, but your function said the listening "
                        "socket is not readable")
    left.recv(1)
    right.close()
    if wait_readable(left, 2.0) is not True:
        raise Wrong("the peer closed the connection (EOF), but your function said not readable")


WAIT_READABLE = Exercise("wait_readable", wait_readable_in_child, time_limit=12,
                         hang="it was still running after 12 s: when nothing arrives, it must give up "
                              "after `timeout` seconds")


# --- 2.4 echo_server(listener) ----------------------------------------------------------


def echo_server_in_child(echo_server, args, report):
    listener = socket.create_server(("127.0.0.1", 0))
    report("ready", port=listener.getsockname()[1])
    echo_server(listener)
    report("returned")


def _echoes(sock, data, timeout=2.0):
    sock.sendall(data)
    return receive(sock, len(data), timeout) == data


def echo_server_in_parent(child):
    """Drive the student's echo server; return None if it behaved, else what went wrong."""
    ready = child.message(10)
    if ready is None or ready.get("event") != "ready":
        return server_ended(child, ready, "before serving anyone")
    threads_at_start = child.threads()
    used = cpu_while_idle(child)
    if child.stopped():
        return server_ended(child, None, "before anyone connected")
    if used > SPIN_LIMIT:
        return (f"with nobody connected, your server used {used:.2f} s of CPU in 0.5 s: "
                "it keeps checking instead of waiting")
    sockets = []                                     # every client we open, closed at the end
    try:
        for step in (_crowd_and_a_silent_one, _a_stalled_line, _leavers):
            problem = step(child, ready["port"], sockets, threads_at_start)
            if problem:
                return problem
        return None
    finally:
        for sock in sockets:
            sock.close()


def _open(port, sockets, count=1):
    opened = [connect(port) for _ in range(count)]
    sockets += opened
    return opened


def _crowd_and_a_silent_one(child, port, sockets, threads_at_start):
    _open(port, sockets)                             # connects, and never says anything
    crowd = _open(port, sockets, 5)
    time.sleep(0.1)
    lines = [f"hello from client {n}\n".encode() for n in range(len(crowd))]
    for sock, line in zip(crowd, lines):
        sock.sendall(line)
    deadline = time.monotonic() + 2.0
    answered = sum(receive(sock, len(line), max(0.05, deadline - time.monotonic())) == line
                   for sock, line in zip(crowd, lines))
    if answered < len(crowd):
        if child.stopped():
            return server_ended(child, None, "while five clients talked")
        return (f"one client was connected but silent, and five others each sent a line: only {answered} "
                "of the five got their line back within 2 s")
    threads = child.threads()
    if threads > threads_at_start:
        return (f"your server ran {threads - threads_at_start} more thread(s) with six clients connected: "
                "this exercise is one thread that waits in select()")
    return None


def _a_stalled_line(child, port, sockets, _):
    talker, staller = _open(port, sockets, 2)
    staller.sendall(b"half a li")                    # ... and stalls, mid-line
    time.sleep(0.1)
    if not _echoes(talker, b"are you still there?\n", timeout=1.5):
        return ("a client sent half a line and stalled; meanwhile another client's line "
                "got no echo: your server waited for the rest of the stalled line")
    staller.sendall(b"ne\n")
    if receive(staller, len(b"half a line\n"), 2.0) != b"half a line\n":
        return "a client sent a line in two pieces, and did not get the whole line back"
    return None


def _leavers(child, port, sockets, _):
    stayer, leaver, rude, closer = _open(port, sockets, 4)
    leaver.close()                                   # disconnects politely
    time.sleep(0.2)
    if child.stopped():
        return server_ended(child, None, "when a client disconnected")
    used = cpu_while_idle(child)
    if used > SPIN_LIMIT:
        return (f"after a client disconnected, your server used {used:.2f} s of CPU in 0.5 s while "
                "nobody talked: it keeps reacting to the closed connection")
    newcomer, = _open(port, sockets)
    if not _echoes(newcomer, b"I just arrived\n") or not _echoes(stayer, b"me too\n"):
        return "after a client disconnected, your server stopped answering the other clients"
    rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rude.close()                                     # linger 0: a reset (RST) instead of a goodbye
    time.sleep(0.2)
    if child.stopped():
        return server_ended(child, None, "when a client reset its connection")
    if not _echoes(stayer, b"and now?\n"):
        return "after a client reset its connection, your server stopped answering the others"
    closer.shutdown(socket.SHUT_WR)                  # "I am done": EOF at the server
    if not closed_by_peer(closer, 2.0):
        return ("a client closed its side of the connection, and your server did not close "
                "its own side within 2 s")
    return None


ECHO_SERVER = Exercise("echo_server", echo_server_in_child, echo_server_in_parent, time_limit=30)


# --- 3.4 relay_server(listener): every complete line to every other client --------------


def relay_server_in_child(relay_server, args, report):
    listener = socket.create_server(("127.0.0.1", 0))
    report("ready", port=listener.getsockname()[1])
    relay_server(listener)
    report("returned")


def _quiet(sock, seconds):
    """What arrives on ``sock`` within ``seconds`` (b"" if nothing)."""
    return receive(sock, 65536, seconds)


def relay_server_in_parent(child):
    ready = child.message(10)
    if ready is None or ready.get("event") != "ready":
        return server_ended(child, ready, "before serving anyone")
    port = ready["port"]
    people = []
    try:
        silent = connect(port)
        alice, bob, carol, dave = (connect(port) for _ in range(4))
        people += [silent, alice, bob, carol, dave]
        time.sleep(0.2)
        alice.sendall(b"hello\n")
        for name, sock in (("bob", bob), ("carol", carol), ("dave", dave)):
            if receive(sock, 6, 1.5) != b"hello\n":
                if child.stopped():
                    return server_ended(child, None, "when a client sent a line")
                return (f"one client sent a line while another was connected but silent; {name} did not get "
                        "that line within 1.5 s")
        if _quiet(alice, 0.3):
            return "a client got its own line back: a relay sends each line to the *other* clients"
        bob.sendall(b"half a")                     # ... and stalls
        if _quiet(carol, 0.3):
            return ("a client sent half a line, and the others got that half before the line ended: they "
                    "would see broken lines")
        carol.sendall(b"meanwhile\n")
        if receive(alice, 10, 1.5) != b"meanwhile\n":
            return ("while one client's line was half sent, another client's complete line did not reach "
                    "the others: your server waited for the rest of the first line")
        receive(dave, 10, 1.5)
        receive(bob, 10, 1.5)
        bob.sendall(b" line\none\ntwo\n")        # the end of the half line, and two more, in one send
        expected = b"half a line\none\ntwo\n"
        got = receive(alice, len(expected), 1.5)
        if got != expected:
            return (f"a client finished a half line and sent two more in one piece; another client got "
                    f"{got!r:.60} instead of those three lines")
        receive(carol, len(expected), 1.5)
        receive(dave, len(expected), 1.5)
        dave.close()                               # leaves
        people.remove(dave)
        time.sleep(0.2)
        alice.sendall(b"still here?\n")
        if child.stopped():
            return server_ended(child, None, "when a client left")
        if receive(bob, 12, 1.5) != b"still here?\n" or receive(carol, 12, 1.5) != b"still here?\n":
            return "after a client left, the others' lines no longer reached each other"
        used = cpu_while_idle(child)
        if used > SPIN_LIMIT:
            return (f"after a client left, your server used {used:.2f} s of CPU in 0.5 s while nobody "
                    "talked: it keeps reacting to the closed connection")
        return None
    finally:
        for sock in people:
            sock.close()


RELAY_SERVER = Exercise("relay_server", relay_server_in_child, relay_server_in_parent, time_limit=30)
