#!/usr/bin/env python3
"""What does tracing cost?  Fan-out throughput of the real server, untraced vs traced.

Not a test: a measurement, printed.  Three variants of ``selectchat server``
run the same load, interleaved (A B C, A B C, ...), several times:

* ``untraced``  -- no observer: the loop pays one ``if`` per step;
* ``ring``      -- ``--trace-size N``: a Recorder keeps events in memory;
* ``file``      -- ``--trace FILE``: the same, and a writer thread streams
  them to a JSON Lines file.

The load: ``--members`` clients join one room; ``--senders`` of them each
send ``--messages`` PRIVMSGs as fast as TCP takes them; every other member
receives each one.  Throughput is deliveries per second, from the first
byte sent to the last delivery counted at the receivers.  The load generator
is one ``select()`` loop in this process, which only counts (it never parses
IRC), so it is not the bottleneck on two cores.

Second, the untraced hot path: ``--loop-passes`` passes of an echo loop with
``observer=None`` against the same loop with the ``if observer`` lines taken
out (a subclass), to show what "pays nothing measurable" means.

    python benchmarks/trace_cost.py                 # the defaults: about 1-2 minutes
    python benchmarks/trace_cost.py --repeat 3      # a quick look
    python benchmarks/trace_cost.py --repeat 15 --loop-passes 20000   # what docs/tracing.md reports

Each run should last well over a tenth of a second (the defaults: about
0.7 s): a run of a few hundredths of a second measures the scheduler's
mood more than the server.

Ratios are the numbers to read: the machine may be busy with other work, and
interleaving spreads that noise over every variant alike.

``--pin`` puts the server -- and so its trace writer child -- on CPU 0 and
the load generator on CPU 1: the worst case for the file mode, whose JSON is
then made on the server's own core (Linux only).
"""

import argparse
import os
import platform
import select
import socket
import statistics
import sys
import tempfile
import time
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from selectchat.client import Client  # noqa: E402
from selectchat.launch import start_server  # noqa: E402
from selectchat.net.loop import EventLoop  # noqa: E402

PATTERN = b" PRIVMSG #bench "


def cpu_seconds(pid):
    """CPU time used so far by process ``pid`` (all its threads) and by its child
    processes still running, in seconds: Linux's per-thread schedstat, in ns."""
    def used(p):
        total = 0
        for task in os.listdir(f"/proc/{p}/task"):
            with open(f"/proc/{p}/task/{task}/schedstat") as file:
                total += int(file.read().split()[0])
        return total / 1e9

    def parent(p):
        with open(f"/proc/{p}/stat") as file:
            return int(file.read().rpartition(")")[2].split()[1])

    children = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if parent(entry) == pid:
                    children += used(entry)
            except OSError:   # gone meanwhile
                continue
    return used(pid), children


def fan_out(address, members, senders, messages, server_pid=None, timeout=120.0):
    """Run one flood; return (deliveries, seconds, server CPU seconds, its children's CPU seconds)."""
    clients = [Client(*address, f"m{i}", timeout=10) for i in range(members)]
    try:
        for client in clients:
            client.join("#bench")
        clients[-1].names("#bench")   # every JOIN has been handled before the flood
        socks = [c.sock for c in clients]
        for sock in socks:
            sock.setblocking(False)
        payload = {}
        for i, sock in enumerate(socks[:senders]):
            lines = (f"PRIVMSG #bench :{i:02d} {n:06d} the quick brown fox jumps over\r\n" for n in range(messages))
            payload[sock] = memoryview("".join(lines).encode())
        expected = senders * messages * (members - 1)
        seen = {sock: 0 for sock in socks}
        tails = {sock: b"" for sock in socks}
        counted = 0
        cpu_before = cpu_seconds(server_pid) if server_pid else (0.0, 0.0)
        start = time.perf_counter()
        deadline = start + timeout
        while counted < expected:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"only {counted} of {expected} deliveries in {timeout} s")
            writers = [s for s, data in payload.items() if data]
            readable, writable, _ = select.select(socks, writers, [], 1.0)
            for sock in writable:
                try:
                    sent = sock.send(payload[sock][:65536])
                except BlockingIOError:
                    continue
                payload[sock] = payload[sock][sent:]
            for sock in readable:
                try:
                    data = sock.recv(262144)
                except BlockingIOError:
                    continue
                if not data:
                    raise ConnectionError("the server closed a member's connection")
                chunk = tails[sock] + data
                found = chunk.count(PATTERN)
                seen[sock] += found
                counted += found
                tails[sock] = chunk[-(len(PATTERN) - 1):]
        seconds = time.perf_counter() - start
        cpu_after = cpu_seconds(server_pid) if server_pid else (0.0, 0.0)
        return counted, seconds, cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]
    finally:
        for client in clients:
            client.close()


VARIANTS = {
    "untraced": lambda tmp: [],
    "ring": lambda tmp: ["--trace-size", "100000"],
    "file": lambda tmp: ["--trace", os.path.join(tmp, "bench.jsonl")],
}


def throughput(args):
    results = {name: [] for name in VARIANTS}
    cpu = {name: [] for name in VARIANTS}      # server CPU µs per delivery
    helper = {name: [] for name in VARIANTS}   # the trace writer's CPU µs per delivery
    sizes = {}
    allowed = os.sched_getaffinity(0) if args.pin else None
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):
            for name, options in VARIANTS.items():
                if args.pin:
                    os.sched_setaffinity(0, {0})   # inherited by the server and its writer child
                with start_server("--log", os.devnull, "--max-sendq", str(1 << 30),
                                  *options(tmp), "--backend", args.backend) as server:
                    if args.pin:
                        os.sched_setaffinity(0, {1})   # the generator: the other core
                    deliveries, seconds, own, children = fan_out(server.address, args.members, args.senders,
                                                                 args.messages, server.pid)
                results[name].append(deliveries / seconds)
                cpu[name].append(own / deliveries * 1e6)
                helper[name].append(children / deliveries * 1e6)
                if name == "file":
                    with open(os.path.join(tmp, "bench.jsonl"), "rb") as file:
                        sizes["bytes"] = os.fstat(file.fileno()).st_size
                        sizes["events"] = sum(1 for _ in file) - 1   # the header is not an event
                print(f"  round {round_ + 1}/{args.repeat} {name:<9} {deliveries / seconds:>10,.0f} deliveries/s"
                      f"  ({seconds:.2f} s; server CPU {own:.2f} s, trace writer {children:.2f} s)", flush=True)
    if allowed:
        os.sched_setaffinity(0, allowed)
    return results, cpu, helper, sizes


class BareLoop(EventLoop):
    """The same loop with every ``if self.observer`` line removed: the baseline."""

    def run_once(self, timeout=None):
        next_timer = self._seconds_to_next_timer()
        if timeout is None or (next_timer is not None and next_timer < timeout):
            timeout = next_timer
        readable, writable = self._wait(timeout)
        for fd in readable:
            handler = self.handlers.get(fd)
            if handler is not None:
                handler.handle_read()
        for fd in writable:
            handler = self.handlers.get(fd)
            if handler is not None and fd in self.writers:
                handler.handle_write()
        self._run_due_timers()


class Echo:
    def __init__(self, sock):
        self.sock = sock

    def handle_read(self):
        self.sock.send(self.sock.recv(4096))

    def handle_write(self):
        pass


def pass_cost(loop_class, passes):
    """Seconds per pass of a one-descriptor echo loop (a send, select, recv, send, recv)."""
    a, b = socket.socketpair()
    loop = loop_class()
    loop.register(a, Echo(a))
    try:
        start = time.perf_counter()
        for _ in range(passes):
            b.send(b"x")
            loop.run_once(timeout=1.0)
            b.recv(16)
        return (time.perf_counter() - start) / passes
    finally:
        loop.close()
        a.close()
        b.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20, help="clients in the room (default 20)")
    parser.add_argument("--senders", type=int, default=4, help="members that send (default 4)")
    parser.add_argument("--messages", type=int, default=15000, help="messages per sender (default 15000)")
    parser.add_argument("--repeat", type=int, default=10, help="rounds of the three variants (default 10)")
    parser.add_argument("--backend", default="select", choices=("select", "poll", "epoll"))
    parser.add_argument("--pin", action="store_true",
                        help="server and its trace writer on CPU 0, the load generator on CPU 1")
    parser.add_argument("--loop-passes", type=int, default=50_000,
                        help="passes per run of the untraced-loop comparison (default 50000)")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f} at start")
    print(f"fan-out: {args.members} members in one room, {args.senders} senders x {args.messages} messages = "
          f"{args.senders * args.messages * (args.members - 1):,} deliveries per run, backend {args.backend}"
          + ("; server and trace writer pinned to CPU 0, generator to CPU 1" if args.pin else ""))
    results, cpu, helper, sizes = throughput(args)
    # Contention only ever slows a run down, so the best round is the least disturbed
    # estimate of each variant; the median says what a busy machine gives.
    base, best_base = statistics.median(results["untraced"]), max(results["untraced"])
    print("\nthroughput  median deliveries/s   vs untraced   best round   vs untraced   "
          "(per-round ratios min..median..max)")
    for name, values in results.items():
        median, best = statistics.median(values), max(values)
        ratios = sorted(v / u for v, u in zip(values, results["untraced"]))
        print(f"{name:<10} {median:>20,.0f}   {median / base:>9.2f}x   {best:>10,.0f}   {best / best_base:>9.2f}x   "
              f"({ratios[0]:.2f}..{statistics.median(ratios):.2f}..{ratios[-1]:.2f})")
    base_cpu, least_base = statistics.median(cpu["untraced"]), min(cpu["untraced"])
    print("\nserver CPU  median µs/delivery   allows vs untraced   least µs/delivery   allows   "
          "trace writer (child) µs/delivery")
    for name, values in cpu.items():
        median, least = statistics.median(values), min(values)
        print(f"{name:<10} {median:>20.3f}   {base_cpu / median:>17.2f}x   {least:>17.3f}   "
              f"{least_base / least:>5.2f}x   {statistics.median(helper[name]):>10.3f}")
    if sizes:
        messages = args.senders * args.messages
        print(f"trace file of one run: {sizes['bytes'] / 1e6:.2f} MB, {sizes['events']:,} events "
              f"for {messages:,} messages ({sizes['events'] / messages:.3f} per message)")

    print(f"\nuntraced hot path: {args.loop_passes} passes of an echo loop, 7 interleaved runs each")
    costs = {"observer=None": [], "no `if` at all": []}
    for _ in range(7):
        costs["observer=None"].append(pass_cost(EventLoop, args.loop_passes))
        costs["no `if` at all"].append(pass_cost(BareLoop, args.loop_passes))
    for name, values in costs.items():
        print(f"  {name:<16} best {min(values) * 1e6:.3f} µs per pass, median {statistics.median(values) * 1e6:.3f}")
    none, bare = (min(v) for v in costs.values())
    print(f"  difference of the best runs: {(none - bare) * 1e9:+.0f} ns per pass ({100 * (none - bare) / bare:+.1f}%)")
    holder = EventLoop()
    test = min(timeit.repeat("if loop.observer: pass", globals={"loop": holder}, number=1_000_000, repeat=7))
    holder.close()
    print(f"  the test itself, 'if self.observer:' with None: {test * 1000:.1f} ns "
          f"(run twice per pass by the loop, once per recv/send/accept by the server)")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
