# expect: never called select() on the selector class it was given
import socket
import statistics
import time


def measure(selector_class, idle, repeat=200):
    pairs = [socket.socketpair() for _ in range(idle + 1)]
    pairs[0][1].send(b"!")
    readers = [reader for reader, _ in pairs]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        select.select(readers, [], [], 0)
        times.append(time.perf_counter() - started)
    for reader, writer in pairs:
        reader.close()
        writer.close()
    return statistics.median(times)
