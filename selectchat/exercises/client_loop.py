"""Notebook 5: a client loop over the keyboard and a socket, checked through a pseudo-terminal.

The student's ``chat_client(keyboard, sock, screen)`` runs in a child process whose
keyboard is the far end of a pty; we type into the near end (canonical mode, no echo,
like a terminal), play the server on a real socket, and read the ``screen`` pipe.
"""

import os
import pty
import select
import socket
import termios
import time

from .base import SPIN_LIMIT, Exercise, server_ended, closed_by_peer, cpu_while_idle, receive
from .sandbox import Child


def client_in_child(chat_client, args, report):
    port, keyboard, screen = map(int, args)
    for session in (1, 2):                 # 1 ends with Ctrl-D, 2 with the server closing
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.settimeout(None)
        chat_client(keyboard, sock, screen)
        report("returned", session=session)


def _shown(screen, text, timeout):
    """True if ``text`` appears on the screen pipe within ``timeout`` seconds."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([screen], [], [], left)[0]:
            return False
        data = os.read(screen, 4096)
        if not data:
            return False
        seen += data
    return True


def _returned(child, timeout):
    message = child.message(timeout)
    return bool(message and message.get("event") == "returned")


def keyboard_pair():
    """A pseudo-terminal: (where we type, what the client reads), canonical mode, no echo."""
    typing, keyboard = pty.openpty()
    attributes = termios.tcgetattr(keyboard)
    attributes[3] &= ~termios.ECHO
    termios.tcsetattr(keyboard, termios.TCSANOW, attributes)
    return typing, keyboard


def client_in_parent(child, listener, typing, screen):
    listener.settimeout(10)
    try:
        server, _ = listener.accept()
    except (TimeoutError, socket.timeout):
        return server_ended(child, None, "before it connected", who="your client")
    with server:
        server.sendall(b"<bob> are you there?\n")
        if not _shown(screen, b"are you there?", 1.0):
            if child.stopped():
                return server_ended(child, None, "when the server talked", who="your client")
            return ("the server sent a line while the user typed nothing, and it was not on the screen "
                    "within 1 s: your client waits for the keyboard before it looks at the socket")
        os.write(typing, b"hel")                           # half a line: not readable yet (canonical mode)
        server.sendall(b"<bob> hello?\n")
        if not _shown(screen, b"hello?", 1.0):
            return ("the user had typed half a line when the server sent one, and it was not on the "
                    "screen within 1 s: your client waits for the keyboard")
        os.write(typing, b"lo there\n")
        if receive(server, len(b"hello there\n"), 1.5) != b"hello there\n":
            return "the user typed a line and pressed Enter, and the server did not get exactly that line within 1.5 s"
        server.sendall(b"<bob> one ")
        time.sleep(0.1)
        server.sendall(b"two\n<bob> three\n")
        if not _shown(screen, b"one two\n<bob> three", 1.0):
            return "two lines from the server, cut in odd places, did not reach the screen intact"
        used = cpu_while_idle(child)
        if used > SPIN_LIMIT:
            return f"with nothing happening, your client used {used:.2f} s of CPU in 0.5 s: it keeps checking instead of waiting"
        os.write(typing, b"\x04")                          # Ctrl-D: end of input
        if not closed_by_peer(server, 1.5):
            return "after Ctrl-D (end of input) your client did not close its connection within 1.5 s"
        if not _returned(child, 1.5):
            if child.stopped():
                return server_ended(child, None, "after Ctrl-D", who="your client")
            return "after Ctrl-D your client closed the connection but did not return"
    try:
        server, _ = listener.accept()
    except (TimeoutError, socket.timeout):
        return "after the first session ended, calling your client again did not connect"
    server.close()                                         # the server goes away
    if not _returned(child, 1.5):
        if child.stopped():
            return server_ended(child, None, "when the server closed the connection", who="your client")
        used = cpu_while_idle(child)
        spinning = f" and used {used:.2f} s of CPU in 0.5 s" if used > SPIN_LIMIT else ""
        return f"when the server closed the connection your client did not return within 1.5 s{spinning}"
    return None


def run_client_loop(label, source):
    """Exercise 5.4: a listener and a pty made here; the child gets their numbers."""
    listener = socket.create_server(("127.0.0.1", 0))
    typing, keyboard = keyboard_pair()
    screen_read, screen_write = os.pipe()
    try:
        with Child(label, source, listener.getsockname()[1], keyboard, screen_write,
                   pass_fds=(keyboard, screen_write)) as child:
            os.close(keyboard)            # the child has them now; the pty must be the child's
            os.close(screen_write)        # alone, or we would never see its end
            keyboard = screen_write = None
            return client_in_parent(child, listener, typing, screen_read)
    finally:
        for fd in (typing, keyboard, screen_read, screen_write):
            if fd is not None:
                os.close(fd)
        listener.close()


CLIENT_LOOP = Exercise("chat_client", client_in_child, time_limit=20, runner=run_client_loop)
