#!/usr/bin/env python3
"""Where does the server's time go in a fan-out flood?  A profiler, under the bench's load.

    python benchmarks/profile_fanout.py                 # cProfile: top 25 functions by own time
    python benchmarks/profile_fanout.py --sort cumulative --top 40
    python benchmarks/profile_fanout.py --save fanout.prof    # for snakeviz or pstats
    python benchmarks/profile_fanout.py --py-spy        # sampling: shares of the server's CPU
    python benchmarks/profile_fanout.py --py-spy --server /tmp/older-checkout   # the same, another version

It starts ``selectchat server`` on port 0 (stdin a pipe, ``--exit-on-eof``:
the server cannot outlive this script), runs ``selectchat bench --target
... fanout`` against it ``--floods`` times, then closes the server's stdin.

Two profilers, two kinds of figures:

* **cProfile** (the default, standard library) counts every call.  It adds
  the same cost to each Python call, so code made of many small calls looks
  bigger than it is: read the *shares*, not the times.
* **py-spy** (``pip install py-spy``; ``--py-spy``) samples the running
  server 2,000 times a second and costs it nearly nothing: the shares are
  those of the server's own CPU, system calls included (a ``send()`` counts
  in the Python function that made it).  It prints the shares of *own* time
  (where the CPU was) and *inclusive* time (what was under way), by function.
"""

import argparse
import collections
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_all import ROOT, CheckoutServer, bench_env, die_with_parent  # noqa: E402


def flood(server, options):
    for _ in range(options.floods):
        bench = subprocess.run([sys.executable, "-m", "selectchat", "bench", "--no-progress", "--pin", "0,1",
                                "--target", f"127.0.0.1:{server.port}", "--target-pid", str(server.pid),
                                "fanout", "--members", options.members, "--messages", options.messages],
                               cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=300)
        print(bench.stdout or bench.stderr)


def with_cprofile(options):
    out = options.save or tempfile.mktemp(suffix=".prof", prefix="fanout-")
    server = CheckoutServer(options.server, ["--backend", options.backend], ["-m", "cProfile", "-o", out])
    try:
        flood(server, options)
    finally:
        server.stop()
    stats = pstats.Stats(out)
    stats.sort_stats(options.sort).print_stats(options.top)
    if not options.save:
        os.unlink(out)


def with_py_spy(options):
    spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(spy):
        raise SystemExit("profile_fanout: --py-spy needs py-spy (pip install py-spy)")
    out = options.save or tempfile.mktemp(suffix=".txt", prefix="fanout-spy-")
    server = CheckoutServer(options.server, ["--backend", options.backend])
    sampler = None
    try:
        sampler = subprocess.Popen([spy, "record", "--rate", "2000", "--format", "raw", "--output", out,
                                    "--pid", str(server.pid), "--nonblocking"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        flood(server, options)
    finally:
        if sampler is not None:
            sampler.send_signal(signal.SIGINT)   # py-spy writes its samples on Ctrl-C
            try:
                sampler.wait(30)
            except subprocess.TimeoutExpired:
                sampler.kill()
                sampler.wait()
        server.stop()
    print_shares(out, options.top)
    if not options.save:
        os.unlink(out)


def print_shares(path, top):
    """py-spy's raw format: one line per distinct stack, ``frame;frame;... count``."""
    own, inclusive, total = collections.Counter(), collections.Counter(), 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            frames = [_function(frame) for frame in stack.split(";")]
            count = int(count)
            total += count
            own[frames[-1]] += count
            for name in set(frames):
                inclusive[name] += count
    if not total:
        raise SystemExit("profile_fanout: py-spy took no samples")
    print(f"{total:,} samples of the server's CPU\n\nown time (where the CPU was):")
    for name, count in own.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("\ninclusive time (what was under way), below the frames every sample is in:")
    for name, count in inclusive.most_common():
        if 100 * count / total < 1:
            break
        if count < 0.95 * total:   # (the start-up frames, serve_forever, the loop's run)
            print(f"  {100 * count / total:5.1f}%  {name}")


def _function(frame):
    """``Stream.write (selectchat/net/stream.py:140)`` -> ``Stream.write (stream.py)``."""
    name, _, where = frame.partition(" (")
    return f"{name} ({os.path.basename(where.split(':')[0])})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", default="50")
    parser.add_argument("--messages", default="20000")
    parser.add_argument("--floods", type=int, default=1, help="fan-out runs against the same server (default 1)")
    parser.add_argument("--backend", default="select")
    parser.add_argument("--server", default=ROOT, help="the selectchat checkout to profile (default: this one)")
    parser.add_argument("--py-spy", action="store_true", help="sample with py-spy instead of cProfile")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (default tottime)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", metavar="FILE", help="keep the profile in FILE")
    options = parser.parse_args(argv)
    if options.py_spy:
        with_py_spy(options)
    else:
        with_cprofile(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
