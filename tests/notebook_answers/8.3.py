import selectors
import socket
import statistics
import time


def measure(selector_class, idle, repeat=200):
    """Median seconds of one select(timeout=0) call watching `idle` idle sockets and one ready one."""
    pairs = [socket.socketpair() for _ in range(idle + 1)]
    pairs[0][1].send(b"!")                               # the one ready descriptor
    selector = selector_class()
    try:
        for reader, _ in pairs:
            selector.register(reader, selectors.EVENT_READ)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            selector.select(timeout=0)
            times.append(time.perf_counter() - started)
        return statistics.median(times)
    finally:
        selector.close()
        for reader, writer in pairs:
            reader.close()
            writer.close()
