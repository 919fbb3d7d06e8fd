#!/usr/bin/env python3
"""The fan-out flood, side by side: selectchat, an older selectchat, the bare loop, miniircd.

    python benchmarks/fanout_compare.py --reps 5
    python benchmarks/fanout_compare.py --old /tmp/sc-e5e0927 --reps 5    # an older checkout too

Every repetition runs each server once (interleaved, so that a noisy minute
on a shared machine hurts all alike), each with a fresh server process and a
fresh ``selectchat bench`` process, server and generator pinned to different
CPUs.  It prints, per server, the median deliveries/s and deliveries per
server CPU-second, and both as a ratio of the bare loop's.  An older
checkout (``--old PATH``, e.g. a ``git worktree`` of an earlier commit) is
driven by *this* checkout's generator, so only the server differs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_all import DEFAULT_MINIIRCD, ROOT, CheckoutServer, Reference, bench_env, start_miniircd  # noqa: E402

LOAD = ["fanout", "--members", "50", "--messages", "20000", "--size", "100"]


def run(name, options):
    bench = [sys.executable, "-m", "selectchat", "bench", "--json", "--no-progress", "--pin", options.pin]
    server = None
    try:
        if name == "old":
            server = CheckoutServer(options.old)
        elif name == "miniircd":
            server = start_miniircd(options)
        if isinstance(server, (CheckoutServer, Reference)):
            bench += ["--target", f"127.0.0.1:{server.port}", "--target-pid", str(server.pid)]
        if name == "bare":
            bench += ["--server", "bare"]
        bench += LOAD
        if name == "selectchat":
            bench += ["--", "--backend", options.backend]
        result = subprocess.run(bench, cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=120)
        try:
            return json.loads(result.stdout)
        except json.JSONDecodeError:
            return {"error": result.stderr.strip()[-300:]}
    finally:
        if server is not None:
            server.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--old", metavar="PATH", help="a checkout of an older selectchat to measure too")
    parser.add_argument("--miniircd", default=DEFAULT_MINIIRCD)
    parser.add_argument("--pin", default="0,1", help="SERVER_CPU,BENCH_CPU (default 0,1)")
    parser.add_argument("--backend", default="select", help="selectchat's backend (default select)")
    parser.add_argument("--servers", nargs="+", default=["selectchat", "old", "bare", "miniircd"])
    options = parser.parse_args(argv)
    names = [n for n in options.servers if (n != "old" or options.old)
             and (n != "miniircd" or os.path.exists(options.miniircd))]
    found = {name: [] for name in names}
    for rep in range(options.reps):
        for name in names:
            report = run(name, options)
            found[name].append(report)
            print(f"rep {rep + 1} {name:<10} " + (f"error: {report['error']}" if "error" in report else
                  f"{report['deliveries_per_s']:>12,.0f} deliveries/s, server "
                  f"{report.get('server_deliveries_per_cpu_s') or 0:>12,.0f} per CPU-s, "
                  f"generator CPU {report.get('generator_cpu_pct', 0):.0f}%"), file=sys.stderr, flush=True)

    def med(name, key):
        values = [r[key] for r in found[name] if r.get(key)]
        return statistics.median(values) if values else None

    bare = {key: med("bare", key) for key in ("deliveries_per_s", "server_deliveries_per_cpu_s")} \
        if "bare" in found else {}
    print(f"{'server':<12}{'deliveries/s':>14}{'x bare':>8}{'per CPU-s':>14}{'x bare':>8}  runs")
    for name in names:
        row = f"{name:<12}"
        for key in ("deliveries_per_s", "server_deliveries_per_cpu_s"):
            value = med(name, key)
            ratio = value / bare[key] if value and bare.get(key) else None
            row += f"{value or 0:>14,.0f}" + (f"{ratio:>8.2f}" if ratio else f"{'–':>8}")
        print(row + f"  {sum(1 for r in found[name] if r.get('complete'))}/{len(found[name])} complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
