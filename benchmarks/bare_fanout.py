#!/usr/bin/env python3
"""The smallest correct select() fan-out server: the ceiling for a Python loop.

Every line a client sends goes to every other client.  No protocol, no
names, no rooms: only what any select() chat server must do.

* line framing: bytes are kept until a newline completes a line; a client
  whose unfinished line grows past MAX_LINE is dropped;
* non-blocking writes: each client has its own output buffer, and the loop
  watches a client for writing only while that buffer holds something;
* one ``select.select()`` call per pass, over the listener, the clients and
  (with ``--exit-on-eof``) stdin.

The chunk of complete lines from one recv() is appended to the other
clients' buffers in one piece: a fan-out costs one bytes append per
receiver, which is as little as Python can do.  Output buffers are not
capped: a client that never reads makes this server's memory grow (the
selectchat server caps them with --max-sendq; this one is the ceiling, not
a model of good manners).

    python3 benchmarks/bare_fanout.py --port 0
    bare_fanout listening on 127.0.0.1:40123

``selectchat bench --server bare fanout`` starts it the same way as
``selectchat server``: port 0, the address read from the first line.
"""

import argparse
import os
import select
import socket
import sys

RECV_SIZE = 65536
MAX_LINE = 65536


class Client:
    """One connection: the unfinished line read so far, the bytes to send."""

    def __init__(self, sock):
        self.sock = sock
        self.partial = b""
        self.outbuf = bytearray()


def serve(listener, watch_stdin):
    clients = {}   # socket -> Client
    while True:
        readers = [listener, *clients]
        if watch_stdin:
            readers.append(sys.stdin)
        writers = [sock for sock, client in clients.items() if client.outbuf]
        readable, writable, _ = select.select(readers, writers, [])
        for sock in readable:
            if sock is listener:
                try:
                    conn, _ = listener.accept()
                except OSError:   # gone before we took it, or out of descriptors
                    continue
                conn.setblocking(False)
                clients[conn] = Client(conn)
            elif sock is sys.stdin:
                if not os.read(sys.stdin.fileno(), 4096):
                    return  # the launcher closed our stdin: time to go
            elif sock in clients:
                receive(clients, clients[sock])
        for sock in writable:
            client = clients.get(sock)
            if client is not None and client.outbuf:
                send(clients, client)


def receive(clients, client):
    try:
        data = client.sock.recv(RECV_SIZE)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:
        data = b""
    if not data:
        return drop(clients, client)
    data = client.partial + data
    end = data.rfind(b"\n") + 1   # everything before it is complete lines
    client.partial = data[end:]
    if len(client.partial) > MAX_LINE:
        return drop(clients, client)
    if end:
        lines = data[:end]
        for other in clients.values():
            if other is not client:
                other.outbuf += lines


def send(clients, client):
    try:
        sent = client.sock.send(client.outbuf)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:
        return drop(clients, client)
    del client.outbuf[:sent]


def drop(clients, client):
    del clients[client.sock]
    client.sock.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description="The bare select() fan-out loop (no protocol).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default 0: any free port)")
    parser.add_argument("--exit-on-eof", action="store_true", help="exit when stdin reaches EOF")
    args = parser.parse_args(argv)
    listener = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(128)
    listener.setblocking(False)
    host, port = listener.getsockname()[:2]
    print(f"bare_fanout listening on {host}:{port}", flush=True)
    try:
        serve(listener, args.exit_on_eof)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
