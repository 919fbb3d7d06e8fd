"""What every exercise family shares: the verdicts, the description of an exercise,
and small helpers for the checks that talk to a student's server over real sockets."""

import socket
import time
from dataclasses import dataclass
from typing import Callable, Optional

PRELUDE = "import errno, math, os, select, selectors, socket, struct, sys, time\n"


class Wrong(Exception):
    """The student's code did something wrong; the message names the behaviour, never the fix."""


class NotDone(Exception):
    """The student has not written the code yet (the placeholder is still there)."""


@dataclass
class Exercise:
    """One exercise whose code runs in a child process.

    ``in_child(function, args, report)`` runs in the child with the student's function;
    it raises :class:`Wrong` or returns (correct).  For a server, it reports ``ready``
    and serves; then ``in_parent(child)`` (in the notebook) drives it over sockets and
    returns None (correct) or a sentence saying what went wrong ("not done" if the
    placeholder is still there).
    """
    name: str                                  # the function the student writes
    in_child: Callable
    in_parent: Optional[Callable] = None
    time_limit: float = 15.0                   # seconds for the whole check
    hang: str = "it was still running when the check gave up: a call that blocks, or a loop that never ends"
    prelude: str = PRELUDE
    runner: Optional[Callable] = None          # (label, source) -> problem or None, for special set-ups


# --- talking to a student's server ------------------------------------------------------


def connect(port, timeout=2.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def receive(sock, size, timeout):
    """Read until ``size`` bytes arrived, EOF, or ``timeout`` seconds; return what came."""
    got = bytearray()
    deadline = time.monotonic() + timeout
    while len(got) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(size - len(got))
        except (TimeoutError, socket.timeout):
            break
        except OSError:
            break
        if not data:
            break
        got += data
    return bytes(got)


def closed_by_peer(sock, timeout):
    """True if the peer closed the connection (recv() returns b"" or a reset) within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except (TimeoutError, socket.timeout):
            return False
        except OSError:
            return True


def cpu_while_idle(child, seconds=0.5):
    """CPU seconds the child used during ``seconds`` in which nobody talks to it."""
    before = child.cpu_seconds()
    time.sleep(seconds)
    return child.cpu_seconds() - before


SPIN_LIMIT = 0.05   # CPU seconds in a 0.5 s idle window: a loop that waits in select() uses ~0,
#                    one that spins gets far more, even on a busy 2-core machine


def server_ended(child, message, when, who="your server"):
    """A sentence for a server that stopped serving (returned, raised, or never started)."""
    while message is None or message.get("event") not in ("verdict", None):
        message = child.message(1.0) or {"event": None}
    if message.get("event") == "verdict" and message.get("outcome") == "not done":
        return "not done"
    if message.get("event") == "verdict" and message.get("outcome") == "wrong":
        return f"{who} stopped {when}: {message['message']}"
    if child.running():
        return f"{who} did not start within 10 s"
    printed = child.printed(300)
    return f"{who} stopped {when}" + (f"; it printed: {printed}" if printed else "")
