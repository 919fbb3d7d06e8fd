# expect: no descriptor was ready
import socket
import statistics
import time


def measure(selector_class, idle, repeat=200):
    pairs = [socket.socketpair() for _ in range(idle + 1)]
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
