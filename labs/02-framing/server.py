"""Lab 02's server: JSON Lines in, JSON Lines out (given: it uses your framing.py).

Every message a client sends comes back as ``{"echo": MESSAGE, "n": N}``,
where N counts that client's messages.  A line that is not JSON gets
``{"error": "not JSON"}``; a line that is too long gets
``{"error": "line too long"}`` and the connection is closed.

Run it:   python server.py --port 0
Talk to it:  nc 127.0.0.1 PORT, then type  {"text": "hi"}
"""

import argparse
import select
import socket

from framing import LineBuffer, LineTooLong, decode, encode


class Client:
    def __init__(self, sock):
        self.sock = sock
        self.lines = LineBuffer()
        self.count = 0


def handle(client):
    """The client's socket is readable: read, frame, answer.  False when it must be closed."""
    try:
        data = client.sock.recv(4096)
    except ConnectionError:
        return False
    if not data:
        return False
    try:
        lines = client.lines.feed(data)
    except LineTooLong:
        client.sock.sendall(encode({"error": "line too long"}))
        return False
    for line in lines:
        try:
            message = decode(line)
        except ValueError:
            client.sock.sendall(encode({"error": "not JSON"}))
            continue
        client.count += 1
        client.sock.sendall(encode({"echo": message, "n": client.count}))
    return True


def serve(listener):
    clients = {}   # socket -> Client
    while True:
        readable, _, _ = select.select([listener, *clients], [], [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                clients[conn] = Client(conn)
            elif not handle(clients[sock]):
                del clients[sock]
                sock.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description="A JSON Lines echo server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7002, help="0: any free port")
    args = parser.parse_args(argv)
    listener = socket.create_server((args.host, args.port))
    host, port = listener.getsockname()[:2]
    print(f"json server listening on {host}:{port}", flush=True)
    try:
        serve(listener)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
