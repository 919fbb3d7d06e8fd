"""partial = partial + data rebinds a new bytearray; the key keeps the old one, so split lines come out wrong."""

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
    selector.register(listener, selectors.EVENT_READ, data=None)
    while True:
        for key, _events in selector.select():
            if key.data is None:
                conn, _ = listener.accept()
                selector.register(conn, selectors.EVENT_READ, data=bytearray())
                continue
            sock, partial = key.fileobj, key.data
            try:
                data = sock.recv(4096)
            except ConnectionError:
                data = b""
            if not data:
                selector.unregister(sock)
                sock.close()
                continue
            partial = partial + data            # the bug: a new bytearray; the key keeps the old one
            *lines, rest = partial.split(b"\n")
            partial = rest
            for line in lines:
                sock.sendall(bytes(line).upper() + b"\n")


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
