#!/usr/bin/env python3
"""Where does the server's time go in a fan-out flood?  cProfile, under the bench's load.

    python benchmarks/profile_fanout.py                 # top 25 functions by own time
    python benchmarks/profile_fanout.py --sort cumulative --top 40
    python benchmarks/profile_fanout.py --save fanout.prof    # for snakeviz or pstats

It starts ``python -m cProfile -m selectchat server`` on port 0 (stdin a
pipe, ``--exit-on-eof``: the server cannot outlive this script), runs
``selectchat bench --target ... fanout`` against it, then closes the
server's stdin: the server shuts down cleanly and cProfile writes its
figures.  A profiler slows every Python call by a similar factor, so read
the *shares*, not the absolute times.
"""

import argparse
import os
import pstats
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_all import ROOT, bench_env, die_with_parent  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", default="50")
    parser.add_argument("--messages", default="20000")
    parser.add_argument("--backend", default="select")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (default tottime)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", metavar="FILE", help="keep the profile in FILE")
    options = parser.parse_args(argv)
    out = options.save or tempfile.mktemp(suffix=".prof", prefix="fanout-")
    server = subprocess.Popen([sys.executable, "-m", "cProfile", "-o", out, "-m", "selectchat", "server",
                               "--port", "0", "--quiet", "--exit-on-eof", "--backend", options.backend],
                              cwd=ROOT, env=bench_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
    try:
        line = server.stdout.readline().decode()
        if "listening on" not in line:
            raise SystemExit(f"profile_fanout: the server did not start ({line!r})")
        port = line.rsplit(":", 1)[1].strip()
        bench = subprocess.run([sys.executable, "-m", "selectchat", "bench", "--no-progress", "--pin", "0,1",
                                "--target", f"127.0.0.1:{port}", "--target-pid", str(server.pid),
                                "fanout", "--members", options.members, "--messages", options.messages],
                               cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=300)
        print(bench.stdout)
    finally:
        server.stdin.close()   # --exit-on-eof: a clean shutdown, then cProfile writes the file
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    stats = pstats.Stats(out)
    stats.sort_stats(options.sort).print_stats(options.top)
    if not options.save:
        os.unlink(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
