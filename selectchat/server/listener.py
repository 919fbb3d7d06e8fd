"""The listening socket: readable means a connection is waiting in ``accept()``."""

import socket

from ..irc import closing_link
from ..net.loop import FD_SETSIZE
from .connection import Connection

ACCEPT_BATCH = 64  # connections accepted per readiness of the listener


class Listener:
    """Accept connections and hand each to a :class:`Connection`."""

    def __init__(self, server):
        self.server = server
        self.sock = None

    def listen(self, host, port):
        """Bind and listen; return the address actually bound (port 0: any free one)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(socket.SOMAXCONN)  # a classroom connecting at once must not overflow it
        self.sock.setblocking(False)
        self.server.loop.register(self.sock, self, read=True, label="listener")
        return self.sock.getsockname()[:2]

    def handle_read(self):
        server = self.server
        for _ in range(ACCEPT_BATCH):
            try:
                sock, peer = self.sock.accept()
            except BlockingIOError:
                return  # no more waiting connections
            except OSError as error:  # e.g. EMFILE: out of descriptors; pause, don't spin
                server.log.write("error", f"accept failed: {error}")
                self.pause(0.5)
                return
            if server.observer:
                server.observer.record("accept", fd=sock.fileno(), peer=f"{peer[0]}:{peer[1]}")
            too_many = len(server.connections) >= server.config.max_clients
            if too_many or (server.loop.backend == "select" and sock.fileno() >= FD_SETSIZE):
                self.refuse(sock, peer, "Server is full")
            else:
                _set_nodelay(sock)
                conn = Connection(server, sock, peer)
                server.connections.add(conn)
                server.apply(server.chat.connect(conn, peer[0], server.loop.now))

    def refuse(self, sock, peer, reason):
        """Turn a connection away with one ERROR line (best effort, never blocking)."""
        line = closing_link(peer[0], reason)
        try:
            sock.setblocking(False)
            sent = sock.send(line)
        except OSError:
            sent = 0
        self.server.log.write("refused", f"connection from {peer[0]} refused: {reason}")
        if self.server.observer:
            self.server.observer.record("send", fd=sock.fileno(), asked=len(line), sent=sent)
            self.server.observer.record("close", fd=sock.fileno(), reason=reason)
        sock.close()

    def pause(self, seconds):
        self.server.loop.modify(self.sock, read=False)
        self.server.loop.call_later(seconds, self.resume)

    def resume(self):
        if self.sock.fileno() >= 0:  # not closed by a shutdown meanwhile
            self.server.loop.modify(self.sock, read=True)

    def close(self):
        if self.sock is not None and self.sock.fileno() >= 0:
            self.server.loop.unregister(self.sock)
            self.sock.close()


def _set_nodelay(sock):
    # Chat lines are small and interactive: send each batch at once rather
    # than let Nagle's algorithm hold it until the previous one is acknowledged.
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
