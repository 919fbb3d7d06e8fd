#!/usr/bin/env python3
"""What does the live view cost the chat?  Fan-out throughput with and without a viewer.

Not a test: a measurement, printed.  Three variants of ``selectchat server``
run the same flood (``trace_cost.fan_out``), interleaved, several times:

* ``plain``       -- no ``--live``;
* ``live-idle``   -- ``--live 0``, nobody watching: nothing is attached to
  the loop, so this should be ``plain`` within noise;
* ``live-viewer`` -- ``--live 0`` and one ``/events`` stream read by a thread
  of this process: the feed observes every step and four updates a second
  are made and sent;
* ``trace-ring``  -- no ``--live`` but ``--trace-size 100000``: the trace's
  recorder observes the same steps, for comparison.

    python benchmarks/live_cost.py --repeat 5
"""

import argparse
import os
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from trace_cost import fan_out  # noqa: E402

from selectchat.launch import start_server  # noqa: E402

VARIANTS = ("plain", "live-idle", "live-viewer", "trace-ring")
OPTIONS = {"plain": [], "live-idle": ["--live", "0"], "live-viewer": ["--live", "0"],
           "trace-ring": ["--trace-size", "100000"]}


def live_port(server, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(server.output):
            if line.startswith("selectchat live view on http://"):
                return int(line.rstrip("/").rpartition(":")[2])
        time.sleep(0.02)
    raise RuntimeError("no live view address")


def watch(port, stop, counts):
    """A viewer that reads everything: counts the updates it got."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            counts.append(data.count(b"\ndata: ") + data.startswith(b"data: "))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--messages", type=int, default=15000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start; fan-out: {args.members} members, "
          f"{args.senders} senders x {args.messages} messages")
    results = {name: [] for name in VARIANTS}
    cpu_per_delivery = {name: [] for name in VARIANTS}   # server CPU µs: steadier than throughput on a busy machine
    for round_ in range(args.repeat):
        for name in VARIANTS:
            with start_server("--log", os.devnull, "--max-sendq", str(1 << 30), *OPTIONS[name]) as server:
                stop, counts, viewer = threading.Event(), [], None
                if name == "live-viewer":
                    viewer = threading.Thread(target=watch, args=(live_port(server), stop, counts), daemon=True)
                    viewer.start()
                    time.sleep(0.3)
                deliveries, seconds, cpu, _ = fan_out(server.address, args.members, args.senders, args.messages,
                                                      server.pid)
                stop.set()
                if viewer is not None:
                    viewer.join()
            results[name].append(deliveries / seconds)
            cpu_per_delivery[name].append(cpu / deliveries * 1e6)
            extra = f", the viewer got {sum(counts)} updates" if viewer is not None else ""
            print(f"  round {round_ + 1} {name:<12} {deliveries / seconds:>10,.0f} deliveries/s "
                  f"({seconds:.2f} s, server CPU {cpu:.2f} s{extra})", flush=True)
    base = statistics.median(results["plain"])
    base_cpu = statistics.median(cpu_per_delivery["plain"])
    print("\nvariant       median deliveries/s   vs plain   best round   server CPU µs/delivery (median)   vs plain")
    for name, values in results.items():
        cpu = statistics.median(cpu_per_delivery[name])
        print(f"{name:<12} {statistics.median(values):>20,.0f}   {statistics.median(values) / base:>7.2f}x"
              f"   {max(values):>10,.0f}   {cpu:>31.3f}   {cpu / base_cpu:>7.2f}x")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
