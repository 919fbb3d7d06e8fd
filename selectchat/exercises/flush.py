"""Notebook 6: the non-blocking flush (6.2) and a server that writes only when select()
says writable, to readers that read, one that never reads, and one that goes away (6.4)."""

import socket
import time

from .base import SPIN_LIMIT, Exercise, server_ended, Wrong, connect, cpu_while_idle

PAYLOAD = bytes(range(256)) * 4096          # 1 MiB: a pattern, so a lost or repeated piece shows
SMALL_BUFFER = 8192                         # bytes: forces partial sends


def _small_pair():
    left, right = socket.socketpair()
    left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
    right.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
    left.setblocking(False)
    right.setblocking(False)
    return left, right


def _read_all_now(sock):
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            return bytes(data)
        if not chunk:
            return bytes(data)
        data += chunk


# --- 6.2 flush(sock, outbuf) ------------------------------------------------------------


def flush_in_child(flush, args, report):
    left, right = _small_pair()
    outbuf = bytearray(PAYLOAD)
    try:
        done = flush(left, outbuf)
    except BlockingIOError:
        raise Wrong("the very first send could not take everything, and your flush raised "
                    "BlockingIOError instead of keeping the rest") from None
    if done is not False:
        raise Wrong(f"1 MiB cannot fit in the kernel's buffers at once, but your flush returned {done!r}")
    if not 0 < len(outbuf) < len(PAYLOAD):
        raise Wrong(f"after a partial send, outbuf held {len(outbuf):,} of {len(PAYLOAD):,} bytes: "
                    "it should hold exactly what the kernel did not take")
    while True:                                   # the reader reads nothing: fill the buffers up
        before = len(outbuf)
        try:
            done = flush(left, outbuf)
        except BlockingIOError:
            raise Wrong("the kernel had no room left (the reader reads nothing), and your flush raised "
                        "BlockingIOError: a loop would crash on a slow reader") from None
        if done is not False:
            raise Wrong(f"with no room left and bytes still waiting, your flush returned {done!r}")
        if len(outbuf) == before:
            break
    received = bytearray(_read_all_now(right))
    deadline = time.monotonic() + 10
    while outbuf and time.monotonic() < deadline:
        flush(left, outbuf)                         # a loop flushes whenever there is room
        received += _read_all_now(right)
    received += _read_all_now(right)
    if outbuf:
        raise Wrong(f"the reader read everything it could for 10 s, and outbuf still held {len(outbuf):,} bytes")
    if bytes(received) != PAYLOAD:
        raise Wrong(f"the reader got {len(received):,} bytes for the 1 MiB sent, or got them out of order: "
                    "after a partial send, exactly the bytes not taken must go next")
    if flush(left, bytearray()) is not True:
        raise Wrong("flushing an empty outbuf must return True")


FLUSH = Exercise("flush", flush_in_child, time_limit=15)


# --- 6.4 send_to_all(listener, payload) -------------------------------------------------


def send_to_all_in_child(send_to_all, args, report):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)   # accepted sockets inherit it
    report("ready", port=listener.getsockname()[1])
    send_to_all(listener, PAYLOAD)
    report("returned")


def _download(readers, timeout):
    """Read from all ``readers`` at once (with select) for up to ``timeout`` s; their bytes."""
    import select
    got = {sock: bytearray() for sock in readers}
    deadline = time.monotonic() + timeout
    waiting = [sock for sock in readers]
    while waiting and time.monotonic() < deadline:
        for sock in select.select(waiting, [], [], max(0.0, deadline - time.monotonic()))[0]:
            try:
                data = sock.recv(1 << 20)
            except OSError:
                data = b""
            got[sock] += data
            if not data or len(got[sock]) >= len(PAYLOAD):
                waiting.remove(sock)
    return [bytes(got[sock]) for sock in readers]


def send_to_all_in_parent(child):
    ready = child.message(10)
    if ready is None or ready.get("event") != "ready":
        return server_ended(child, ready, "before anyone connected")
    port = ready["port"]
    sockets = []
    try:
        stalled = connect(port)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)   # and never reads
        sockets.append(stalled)
        time.sleep(0.2)
        readers = [connect(port) for _ in range(3)]
        sockets += readers
        got = _download(readers, 4.0)
        if child.stopped():
            return server_ended(child, None, "while a client did not read")
        sizes = [len(data) for data in got]
        if any(size < len(PAYLOAD) for size in sizes):
            if all(data == PAYLOAD[:len(data)] for data in got) and max(sizes) < len(PAYLOAD):
                return (f"a client that never reads was connected; three clients that read got "
                        f"{', '.join(f'{s:,}' for s in sizes)} of {len(PAYLOAD):,} bytes in 4 s: "
                        "your server waited for the one that does not read")
        if any(data != PAYLOAD for data in got):
            return ("a client that read everything did not get the payload intact (bytes lost, repeated or "
                    "out of order): after a partial send, exactly the bytes not taken must go next")
        used = cpu_while_idle(child)
        if used > SPIN_LIMIT:
            return (f"after the readers had everything, your server used {used:.2f} s of CPU in 0.5 s: it "
                    "keeps asking select() about writing to sockets that have nothing left to send")
        stalled.close()                      # unread bytes: the kernel resets the connection
        sockets.remove(stalled)
        time.sleep(0.3)
        if child.stopped():
            return server_ended(child, None, "when the client that never read went away (a reset connection)")
        late = connect(port)
        sockets.append(late)
        if _download([late], 5.0)[0] != PAYLOAD:
            return ("after the client that never read went away, a new client did not get the payload: "
                    "your server no longer serves")
        readers[0].close()
        return None
    finally:
        for sock in sockets:
            sock.close()


SEND_TO_ALL = Exercise("send_to_all", send_to_all_in_child, send_to_all_in_parent, time_limit=30)
