"""The lab's bug: a blocking sendall() in queue(), so a reader that stops reading stops the whole server."""

import argparse
import select
import socket
import sys

RECV_SIZE = 16384
SNDBUF = 16 * 1024   # small kernel buffers: the effect shows with little data


class Client:
    """One connection: its socket, its unfinished input line, its output buffer."""

    def __init__(self, sock, name, max_buffer):
        self.sock = sock
        self.name = name
        self.max_buffer = max_buffer
        self.inbuf = b""            # the start of a line not yet complete
        self.outbuf = bytearray()   # bytes to send, waiting for the socket to be writable
        self.dropped = None         # why it must be closed, or None

    def queue(self, data):
        """Add ``data`` to the output buffer (never send here).

        A client whose buffer grows past ``max_buffer`` bytes is not reading:
        set ``self.dropped`` to a reason, and queue nothing more for it.
        """
        self.sock.setblocking(True)   # the bug: wait until the client takes it all
        try:
            self.sock.sendall(data)
        except ConnectionError as error:
            self.dropped = f"send failed: {error}"

    def flush(self):
        """The socket is writable: send what the kernel takes now; keep the rest for later."""
        pass


class Server:
    def __init__(self, listener, max_buffer):
        self.listener = listener
        self.max_buffer = max_buffer
        self.clients = {}   # socket -> Client
        self.count = 0

    def run(self):
        while True:
            readers = [self.listener, *self.clients]
            writers = []
            readable, writable, _ = select.select(readers, writers, [])
            for sock in readable:
                if sock is self.listener:
                    self.accept()
                elif sock in self.clients:
                    self.read(self.clients[sock])
            for sock in writable:
                if sock in self.clients:
                    self.clients[sock].flush()
            for client in list(self.clients.values()):
                if client.dropped:
                    self.close(client, client.dropped)

    def accept(self):
        conn, _ = self.listener.accept()
        conn.setblocking(False)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF)
        self.count += 1
        self.clients[conn] = Client(conn, f"client {self.count}", self.max_buffer)
        log(f"{self.clients[conn].name} connected")

    def read(self, client):
        try:
            data = client.sock.recv(RECV_SIZE)
        except BlockingIOError:
            return
        except ConnectionError:
            data = b""
        if not data:
            client.dropped = client.dropped or "left"
            return
        *lines, client.inbuf = (client.inbuf + data).split(b"\n")
        for line in lines:
            self.broadcast(client, line + b"\n")

    def broadcast(self, sender, line):
        for client in self.clients.values():
            if client is not sender:
                client.queue(line)

    def close(self, client, reason):
        log(f"dropped {client.name}: {reason}" if reason != "left" else f"{client.name} left")
        del self.clients[client.sock]
        client.sock.close()


def log(text):
    print(text, file=sys.stderr, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description="A broadcast server with output buffers.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7004, help="0: any free port")
    parser.add_argument("--max-buffer", type=int, default=1024 * 1024, metavar="BYTES",
                        help="drop a client whose unsent output exceeds this (default 1 MiB)")
    args = parser.parse_args(argv)
    listener = socket.create_server((args.host, args.port))
    host, port = listener.getsockname()[:2]
    print(f"broadcast server listening on {host}:{port}", flush=True)
    try:
        Server(listener, args.max_buffer).run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
