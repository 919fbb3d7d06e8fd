"""round_trips() times the sendall() only, not the wait for the answer."""

import argparse
import json
import math
import re
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVERS = {
    "select": ["server_select.py"],
    "poll": ["server_selectors.py", "--backend", "poll"],
    "epoll": ["server_selectors.py", "--backend", "epoll"],
}


def round_trips(sock, rounds):
    """Send ``rounds`` lines one at a time, each after the answer to the last; the seconds each took.

    Time each with ``time.perf_counter()``, from just before ``sendall()`` to
    the moment the whole answer line (up to its ``b"\\n"``) has arrived.
    """
    samples = []
    for n in range(rounds):
        began = time.perf_counter()
        sock.sendall(b"ping %d\n" % n)
        samples.append(time.perf_counter() - began)   # the bug: the answer is not waited for
        sock.recv(4096)
    return samples


def summarize(samples):
    """``{"count", "median", "p99", "max"}`` of a list of seconds.

    The median as ``statistics.median`` computes it; p99 by the nearest-rank
    method: the value at position ``ceil(0.99 * count)`` (counting from 1)
    of the sorted samples.
    """
    ordered = sorted(samples)
    rank = math.ceil(0.99 * len(ordered))
    return {"count": len(ordered), "median": statistics.median(ordered),
            "p99": ordered[rank - 1], "max": ordered[-1]}


def start(argv):
    """Start a server; return (process, address) once its first line names the port."""
    process = subprocess.Popen([sys.executable, *argv, "--port", "0"], cwd=HERE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.search(r"listening on (\S+):(\d+)", line)
    if not match:
        process.kill()
        raise RuntimeError(f"{' '.join(argv)} did not start: {line!r} {process.stderr.read()}")
    return process, (match.group(1), int(match.group(2)))


def measure(name, idle, rounds):
    """One row: the round trips of one client with ``idle`` others connected to server ``name``."""
    process, address = start(SERVERS[name])
    idle_socks = []
    try:
        for _ in range(idle):
            idle_socks.append(socket.create_connection(address, timeout=10))
        with socket.create_connection(address, timeout=10) as busy:
            round_trips(busy, 10)   # warm up
            row = summarize(round_trips(busy, rounds))
        return {"server": name, "idle": idle, "rounds": rounds, **row}
    except OSError as error:
        return {"server": name, "idle": idle, "rounds": rounds, "error": str(error)}
    finally:
        for sock in idle_socks:
            sock.close()
        process.kill()
        process.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Round trips of one client while others sit idle.")
    parser.add_argument("--idle", type=int, action="append", metavar="N",
                        help="idle clients (repeatable; default 10 and 500)")
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--server", action="append", choices=list(SERVERS), help="default: all")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    idles = args.idle or [10, 500]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)   # each idle client is a descriptor here too
    wanted = max(idles) + 256
    if soft < wanted <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    rows = [measure(name, idle, args.rounds) for idle in idles for name in args.server or SERVERS]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'SERVER':<8} {'IDLE':>6} {'ROUNDS':>7} {'MEDIAN us':>10} {'P99 us':>9} {'MAX us':>9}")
    for row in rows:
        if "error" in row:
            print(f"{row['server']:<8} {row['idle']:>6} {row['rounds']:>7}  failed: {row['error']}")
        else:
            print(f"{row['server']:<8} {row['idle']:>6} {row['rounds']:>7} {row['median'] * 1e6:>10.1f} "
                  f"{row['p99'] * 1e6:>9.1f} {row['max'] * 1e6:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
