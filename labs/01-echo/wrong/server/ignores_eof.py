"""recv() returning b'' is ignored: the closed socket stays in select()'s list and the loop spins."""

import argparse
import select
import socket

RECV_SIZE = 4096   # bytes read per readiness


def make_listener(host, port):
    """A listening TCP socket.  Port 0 asks the kernel for any free port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(64)
    return listener


def serve(listener):
    """Echo what each client sends back to it, until it disconnects; never return.

    ``clients`` is the list of connected sockets.  Each pass of the loop asks
    ``select()`` which sockets are readable:

    * the listener is readable when a connection waits to be accepted;
    * a client socket is readable when bytes arrived -- or when the client
      closed its end: then ``recv()`` returns ``b""`` (EOF).
    """
    clients = []
    while True:
        readable, _, _ = select.select([listener, *clients], [], [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                clients.append(conn)
                continue
            try:
                data = sock.recv(RECV_SIZE)
            except ConnectionError:
                continue
            if data:                          # the bug: b"" (the client left) is ignored
                sock.sendall(data)


def main(argv=None):
    parser = argparse.ArgumentParser(description="An echo server on select().")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7000, help="0: any free port")
    args = parser.parse_args(argv)
    listener = make_listener(args.host, args.port)
    host, port = listener.getsockname()[:2]
    print(f"echo server listening on {host}:{port}", flush=True)
    try:
        serve(listener)
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()


if __name__ == "__main__":
    main()
