# expect: descriptors open
import socket
import statistics
import time


def measure(selector_class, idle, repeat=200):
    pairs = [socket.socketpair() for _ in range(idle + 1)]
    pairs[0][1].send(b"!")
    selector = selector_class()
    for reader, _ in pairs:
        selector.register(reader, selectors.EVENT_READ)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        selector.select(timeout=0)
        times.append(time.perf_counter() - started)
    pairs.append(selector)      # keeps every socket alive: nothing is closed
    measure.keep = pairs
    return statistics.median(times)
