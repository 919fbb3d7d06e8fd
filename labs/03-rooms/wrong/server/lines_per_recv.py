"""Each recv() decoded and split into lines on its own, not through the given framing."""

import argparse
import socket

from framing import LineBuffer
from loop import EventLoop
from rooms import Rooms


class Listener:
    """The listening socket is readable: a connection waits."""

    def __init__(self, server, sock):
        self.server, self.sock = server, sock

    def handle_read(self):
        conn, _ = self.sock.accept()
        connection = Connection(self.server, conn)
        self.server.loop.register(conn, connection)


class Connection:
    """One client: its socket and its unfinished line."""

    def __init__(self, server, sock):
        self.server, self.sock = server, sock
        self.lines = LineBuffer()

    def send(self, line):
        """Send one line (blocking: lab 04 is about doing better)."""
        try:
            self.sock.sendall(line.encode() + b"\n")
        except OSError:
            pass   # it is going away; its EOF will come through handle_read

    def handle_read(self):
        """Bytes (or EOF) arrived: frame them, give each line to the rooms, send the replies."""
        try:
            data = self.sock.recv(4096)
        except ConnectionError:
            data = b""
        if not data:
            self.close()
            return
        for line in data.decode("utf-8", "replace").splitlines():   # the bug: each recv() taken as whole lines
            self.server.deliver(self.server.rooms.handle(self, line))

    def close(self):
        """Leave the rooms (telling the others), stop watching the socket, close it."""
        self.server.deliver(self.server.rooms.disconnect(self))
        self.server.loop.unregister(self.sock)
        self.sock.close()


class Server:
    def __init__(self, rooms):
        self.loop = EventLoop()
        self.rooms = Rooms(rooms)

    def deliver(self, replies):
        """Send each ``(connection, line)`` the rooms returned."""
        for connection, line in replies:
            connection.send(line)


def parse_room(spec):
    name, _, limit = spec.partition(":")
    return name, int(limit or 10)


def main(argv=None):
    parser = argparse.ArgumentParser(description="A chat server with rooms of limited size.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7003, help="0: any free port")
    parser.add_argument("--room", action="append", default=[], metavar="NAME:LIMIT",
                        help="a room and its participant limit (repeatable)")
    args = parser.parse_args(argv)
    server = Server(dict(parse_room(spec) for spec in args.room or ["lobby:10"]))
    listener = socket.create_server((args.host, args.port))
    server.loop.register(listener, Listener(server, listener))
    host, port = listener.getsockname()[:2]
    print(f"rooms server listening on {host}:{port}", flush=True)
    try:
        server.loop.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
