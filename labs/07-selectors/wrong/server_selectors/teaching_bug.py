"""The lab's bug: serve() still calls select.select() and ignores the selector, so FD_SETSIZE still holds."""

import select
import selectors

from common import announce, make_listener, parse_args, reserve_descriptors

SELECTORS = {
    "default": selectors.DefaultSelector,
    "poll": getattr(selectors, "PollSelector", None),     # not on Windows
    "epoll": getattr(selectors, "EpollSelector", None),   # Linux only
}


def serve(listener, selector):
    """Serve forever with ``selector``: the same behaviour as server_select.serve.

    Register the listener for reading; for each ready key, accept (and
    register the new socket), or read, upper-case and answer complete lines.
    ``key.data`` is yours: a good place for a client's unfinished line.
    """
    partial = {}               # the bug: still select.select(), the selector ignored (FD_SETSIZE stays)
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
    args = parse_args("An upper-casing server on selectors.", argv, backends=list(SELECTORS))
    selector_class = SELECTORS[args.backend]
    if selector_class is None:
        raise SystemExit(f"no {args.backend} on this system")
    reserved = reserve_descriptors(args.reserve_fds)   # noqa: F841 (kept open on purpose)
    listener = make_listener(args.host, args.port)
    announce(f"selectors server ({selector_class.__name__})", listener)
    try:
        serve(listener, selector_class())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
