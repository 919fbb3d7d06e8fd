"""After Ctrl-D the keyboard stays in select()'s list: its end is ready at once, every pass (100% CPU)."""

import argparse
import os
import select
import socket
import sys

READ_SIZE = 4096


def write_all(fd, data):
    """Write all of ``data`` to descriptor ``fd`` (os.write may write only part)."""
    while data:
        written = os.write(fd, data)
        data = data[written:]


def run(sock, keyboard=0, screen=1):
    """Copy keyboard -> socket and socket -> screen until the server closes; return 0.

    ``keyboard`` and ``screen`` are descriptors (0 and 1: standard input and output).
    When the keyboard reaches its end (Ctrl-D, or the end of a pipe), tell the
    server we will send nothing more -- ``sock.shutdown(socket.SHUT_WR)`` --
    and go on showing what it sends until it closes.
    """
    watching = [sock, keyboard]
    while True:
        readable, _, _ = select.select(watching, [], [])
        if sock in readable:
            try:
                data = sock.recv(READ_SIZE)
            except ConnectionError:
                data = b""
            if not data:
                print("connection closed by the server", file=sys.stderr, flush=True)
                return 0
            write_all(screen, data)
        if keyboard in readable:
            data = os.read(keyboard, READ_SIZE)
            if data:
                sock.sendall(data)
            else:
                sock.shutdown(socket.SHUT_WR)     # the bug: the keyboard stays watched, and its EOF is ready forever


def main(argv=None):
    parser = argparse.ArgumentParser(description="A full-duplex line client.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    try:
        sock = socket.create_connection((args.host, args.port), timeout=10)
    except OSError as error:
        print(f"cannot connect to {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    sock.settimeout(None)
    print(f"connected to {args.host}:{args.port}", file=sys.stderr, flush=True)
    try:
        return run(sock)
    except KeyboardInterrupt:
        return 130
    finally:
        sock.close()


if __name__ == "__main__":
    sys.exit(main())
