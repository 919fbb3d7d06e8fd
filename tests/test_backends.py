"""The same server on each readiness API: select(), poll() and epoll().

``--backend`` changes only how the loop asks the kernel which descriptors
are ready; what clients see must not change.  The first tests drive the
EventLoop itself on each backend; the last ones run a whole chat scenario
against ``selectchat server --backend ...``.
"""

import os
import resource
import socket

import pytest

from selectchat.client import Client, JoinRefused
from selectchat.launch import start_server
from selectchat.net.loop import BACKENDS, FD_SETSIZE, EventLoop

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


class Recorder:
    """A handler that notes each call, and an observer that notes each record."""

    def __init__(self, sock=None):
        self.sock = sock
        self.calls = []
        self.records = []

    def handle_read(self):
        self.calls.append(("read", self.sock.recv(100)))

    def handle_write(self):
        self.calls.append(("write", None))

    def record(self, kind, **fields):
        self.records.append((kind, fields))


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


def run_until(loop, condition, passes=100):
    """Run loop passes (each waits at most 0.05 s) until ``condition()``; bounded."""
    for _ in range(passes):
        if condition():
            return
        loop.run_once(timeout=0.05)
    raise AssertionError("the loop never got there")


# --- the loop on each backend ------------------------------------------------------

def test_readable_descriptor_calls_its_handler(backend, pair):
    a, b = pair
    observer = Recorder()
    loop = EventLoop(backend, observer=observer)
    handler = Recorder(a)
    loop.register(a, handler, read=True, label="a")
    loop.run_once(timeout=0)
    assert handler.calls == []  # nothing to read yet
    b.send(b"ping")
    run_until(loop, lambda: handler.calls)
    assert handler.calls == [("read", b"ping")]
    selects = [fields for kind, fields in observer.records if kind == "select"]
    assert selects and all(fields["backend"] == backend for fields in selects)
    assert a.fileno() in selects[-1]["ready_read"]
    loop.close()


def test_write_interest_on_and_off(backend, pair):
    a, _ = pair
    loop = EventLoop(backend)
    handler = Recorder(a)
    loop.register(a, handler, read=True)
    loop.modify(a, read=True, write=True)
    run_until(loop, lambda: handler.calls)
    assert handler.calls[0] == ("write", None)  # an idle socket is writable at once
    loop.modify(a, read=True, write=False)
    handler.calls.clear()
    for _ in range(3):
        loop.run_once(timeout=0)
    assert handler.calls == []  # write interest off: no more calls (no busy loop)
    loop.close()


def test_unregistered_descriptor_is_not_dispatched(backend, pair):
    a, b = pair
    loop = EventLoop(backend)
    handler = Recorder(a)
    loop.register(a, handler)
    loop.unregister(a)
    b.send(b"x")
    loop.run_once(timeout=0.05)
    assert handler.calls == [] and loop.handlers == {}
    loop.close()


def test_timers_run_in_order_and_cancelled_ones_do_not(backend):
    loop = EventLoop(backend)
    ran = []
    loop.call_later(0.02, lambda: ran.append("second"))
    loop.call_later(0.0, lambda: ran.append("first"))
    loop.call_later(0.01, lambda: ran.append("never")).cancel()
    loop.call_later(0.03, loop.stop)
    loop.run()  # with nothing registered, the loop still sleeps until its timers are due
    assert ran == ["first", "second"]
    loop.close()


def test_descriptors_past_fd_setsize(backend, pair):
    """select() cannot watch descriptor 1024 or more; poll and epoll can."""
    a, b = pair
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    high = FD_SETSIZE + 10
    if soft <= high:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, high + 10), hard))
    try:
        os.dup2(a.fileno(), high)
        high_sock = socket.socket(fileno=high)
    finally:
        if soft <= high:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        high_sock.setblocking(False)
        loop = EventLoop(backend)
        handler = Recorder(high_sock)
        if backend == "select":
            with pytest.raises(ValueError, match="FD_SETSIZE"):
                loop.register(high_sock, handler)
            assert loop.handlers == {}
        else:
            loop.register(high_sock, handler)
            b.send(b"high")
            run_until(loop, lambda: handler.calls)
            assert handler.calls == [("read", b"high")]
        loop.close()
    finally:
        high_sock.close()


# --- the whole server on each backend -------------------------------------------------

def epoll_descriptors(pid):
    """How many epoll instances process ``pid`` holds open."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[eventpoll]"
        except OSError:
            pass
    return count


def test_chat_scenario(backend):
    with start_server("--backend", backend, "--room", "lobby:3") as server:
        # The option really changes the loop: only epoll holds an epoll instance.
        assert (epoll_descriptors(server.pid) > 0) == (backend == "epoll")
        with Client(*server.address, "alice") as alice, Client(*server.address, "bob") as bob, \
                Client(*server.address, "carol") as carol, Client(*server.address, "dave") as dave:
            [lobby] = alice.rooms()
            assert (lobby.name, lobby.members, lobby.limit) == ("#lobby", 0, 3)
            assert alice.join("#lobby") == ["alice"]
            assert bob.join("#lobby") == ["alice", "bob"]
            assert carol.join("#lobby") == ["alice", "bob", "carol"]
            with pytest.raises(JoinRefused) as refusal:
                dave.join("#lobby")
            assert refusal.value.numeric == "471"

            for i in range(50):  # in order, to everyone else
                alice.say("#lobby", f"message {i}")
            for receiver in (bob, carol):
                for i in range(50):
                    message = receiver.expect("PRIVMSG")
                    assert (message.nick, message.params) == ("alice", ("#lobby", f"message {i}"))

            carol.say("dave", "psst")
            private = dave.expect("PRIVMSG")
            assert (private.nick, private.params) == ("carol", ("dave", "psst"))

            bob.part("#lobby", "brb")
            part = alice.expect("PART")
            assert (part.nick, part.params) == ("bob", ("#lobby", "brb"))
            assert dave.join("#lobby") == ["alice", "carol", "dave"]  # a place was freed

            carol.quit("good night")
            quit_message = alice.expect("QUIT")
            assert quit_message.nick == "carol" and "good night" in quit_message.params[0]
            assert alice.names("#lobby") == ["alice", "dave"]
            assert [(r.name, r.members) for r in bob.rooms()] == [("#lobby", 2)]
        assert server.running()
    assert server.process.returncode == 0


def test_a_repeating_timer_can_be_cancelled_after_it_has_fired(backend):
    loop = EventLoop(backend)
    ticks = []
    every = loop.call_every(0.01, lambda: ticks.append(loop.time()))
    while len(ticks) < 3:
        loop.run_once(timeout=0.1)
    every.cancel()
    count = len(ticks)
    loop.call_later(0.1, loop.stop)
    loop.run()
    assert len(ticks) == count  # not one tick after cancel()


def test_call_soon_runs_after_the_handlers_and_never_inside_them(backend, pair):
    loop = EventLoop(backend)
    a, b = pair
    order = []

    class Handler:
        def handle_read(self):
            a.recv(10)
            loop.call_soon(lambda: order.append("later"))
            order.append("handler")

    loop.register(a, Handler())
    b.send(b"x")
    loop.run_once(timeout=1)
    assert order == ["handler", "later"]


def test_an_exception_goes_to_the_handlers_handle_error_and_the_loop_goes_on(backend, pair):
    loop = EventLoop(backend)
    a, b = pair
    errors = []

    class Faulty:
        def handle_read(self):
            a.recv(10)
            raise RuntimeError("bug")

        def handle_error(self, error):
            errors.append(error)

    loop.register(a, Faulty())
    b.send(b"x")
    loop.run_once(timeout=1)
    assert [str(e) for e in errors] == ["bug"]

    class Unhandled:
        def handle_read(self):
            a.recv(10)
            raise RuntimeError("no handle_error")

    loop.unregister(a)
    loop.register(a, Unhandled())
    b.send(b"y")
    with pytest.raises(RuntimeError):   # no handle_error, no on_error: it is the caller's
        loop.run_once(timeout=1)
