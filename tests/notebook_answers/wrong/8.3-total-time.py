# expect: it should return the time of one call
import socket
import time


def measure(selector_class, idle, repeat=200):
    pairs = [socket.socketpair() for _ in range(idle + 1)]
    pairs[0][1].send(b"!")
    selector = selector_class()
    for reader, _ in pairs:
        selector.register(reader, selectors.EVENT_READ)
    started = time.perf_counter()
    for _ in range(repeat):
        selector.select(timeout=0)
    took = time.perf_counter() - started
    selector.close()
    for reader, writer in pairs:
        reader.close()
        writer.close()
    return took
