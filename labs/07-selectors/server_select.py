"""Lab 07, the starting point (given): an upper-casing line server on select.select().

Every line a client sends comes back in capitals.  Your job is to port it to
the ``selectors`` module (``server_selectors.py``) and measure both.

Run it:   python server_select.py --port 0
Then try: python server_select.py --port 0 --reserve-fds 1100   (and connect to it)
"""

import select

from common import announce, make_listener, parse_args, reserve_descriptors


def serve(listener):
    partial = {}   # client socket -> the start of a line not yet complete
    while True:
        readable, _, _ = select.select([listener, *partial], [], [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                partial[conn] = b""
                continue
            try:
                data = sock.recv(4096)
            except ConnectionError:
                data = b""
            if not data:
                del partial[sock]
                sock.close()
                continue
            *lines, partial[sock] = (partial[sock] + data).split(b"\n")
            for line in lines:
                sock.sendall(line.upper() + b"\n")


def main(argv=None):
    args = parse_args("An upper-casing server on select.select().", argv)
    reserved = reserve_descriptors(args.reserve_fds)   # noqa: F841 (kept open on purpose)
    listener = make_listener(args.host, args.port)
    announce("select server", listener)
    try:
        serve(listener)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
