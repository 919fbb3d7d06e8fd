#!/usr/bin/env python3
"""Run every bench scenario against every server, and write the table to docs/performance.md.

    python benchmarks/run_all.py              # the full run: 3 repetitions, a few minutes
    python benchmarks/run_all.py --quick      # a smoke run: tiny loads, 1 repetition (printed only)
    python benchmarks/run_all.py --serve ngircd   # just start a reference server, print where

Servers: selectchat (select backend; epoll; select with --trace), the bare
select() loop (benchmarks/bare_fanout.py), and the reference IRC servers
that are installed: ngIRCd (``apt-get install ngircd``) and miniircd (a
checkout, ``--miniircd PATH``; it is GPL and is run from where it is, never
copied here).  Each run gets a fresh server process (so its peak memory is
its own) and a fresh ``selectchat bench`` process; the server is pinned to
one CPU and the generator to another (``--pin``, i.e. sched_setaffinity,
what ``taskset`` does).  The repetitions are interleaved (every server once,
then every server again) so that a slow minute on a shared machine hurts all
servers alike; the table holds medians.

The results replace what is between the ``<!-- results -->`` markers of
docs/performance.md; everything else in that file is left alone.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "performance.md")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
DEFAULT_MINIIRCD = os.path.join(os.path.dirname(ROOT), "shared", "reference", "miniircd", "miniircd")

# name -> (bench arguments, for the full run, for --quick)
SCENARIOS = {
    "fanout-flood": (["fanout", "--members", "50", "--messages", "20000", "--size", "100"],
                     ["fanout", "--members", "20", "--messages", "2000", "--size", "100"]),
    "fanout-paced": (["fanout", "--members", "50", "--messages", "3000", "--rate", "1000"],
                     ["fanout", "--members", "20", "--messages", "400", "--rate", "400"]),
    "paced-quickack": (["--quickack", "fanout", "--members", "50", "--messages", "3000", "--rate", "1000"],
                       ["--quickack", "fanout", "--members", "20", "--messages", "400", "--rate", "400"]),
    "idle": (["idle", "--clients", "990", "--duration", "3", "--pings", "60"],
             ["idle", "--clients", "100", "--duration", "1", "--pings", "20"]),
    "slow-reader": (["slow-reader", "--members", "50", "--rate", "6000", "--duration", "6"],
                    ["slow-reader", "--members", "10", "--rate", "500", "--duration", "1"]),
    "connect-storm": (["connect-storm", "--clients", "500"],
                      ["connect-storm", "--clients", "100"]),
    "hostile": (["hostile", "--duration", "6"],
                ["hostile", "--duration", "1.5", "--bystanders", "5", "--readers", "5", "--rooms", "40"]),
    "idle-10k": (["idle", "--clients", "10000", "--concurrency", "100", "--duration", "5", "--pings", "100"],
                 ["idle", "--clients", "1500", "--concurrency", "100", "--duration", "1", "--pings", "20"]),
    "storm-10k": (["connect-storm", "--clients", "10000", "--rooms", "100", "--timeout", "60"],
                  ["connect-storm", "--clients", "1500", "--rooms", "15"]),
}
BARE_SCENARIOS = {"fanout-flood", "fanout-paced", "paced-quickack", "slow-reader"}   # the bare loop speaks no IRC
# Ten thousand clients: select() cannot watch them (selectchat's select row would only show the refusals).
ONLY = {"idle-10k": {"selectchat-epoll", "ngircd", "miniircd"},
        "storm-10k": {"selectchat-epoll", "ngircd", "miniircd"}}


# --- the servers -------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with code {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"not listening on port {port} after {timeout:g} s")


def die_with_parent():
    """In the child, before exec: ask Linux to SIGTERM it if we die, even by SIGKILL.
    (A server that changes its user ID, as ngIRCd does, loses this; our
    SIGTERM handler and ``finally`` blocks still stop it.)"""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Reference:
    """A reference IRC server we start ourselves: a process, a port, a PID."""

    def __init__(self, command, port, workdir=None):
        self.port = port
        self.workdir = workdir
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        self.pid = self.process.pid
        try:
            wait_for_port(port, self.process)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        """SIGTERM this PID, then SIGKILL if it lingers (never by name)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


class CheckoutServer:
    """``selectchat server`` from a checkout (this one or an older one), on port 0.

    Stopped by closing its stdin (``--exit-on-eof``): a clean shutdown, after
    which a profiler it runs under writes its figures.  ``python_args`` go
    before ``-m selectchat`` (e.g. ``-m cProfile -o FILE``).
    """

    def __init__(self, path, server_args=(), python_args=()):
        self.process = subprocess.Popen([sys.executable, *python_args, "-m", "selectchat", "server", "--port", "0",
                                         "--quiet", "--exit-on-eof", *server_args],
                                        cwd=path, env=dict(os.environ, PYTHONPATH=path),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        self.pid = self.process.pid
        line = self.process.stdout.readline().decode()
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"{path}: the server did not start ({line!r})")
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(30)   # (a profiled server takes a moment to write its figures)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


NGIRCD_CONF = """\
# ngIRCd for loopback measurement by selectchat's benchmarks/run_all.py
[Global]
Name = bench.ngircd.local
Info = reference server for selectchat bench
Listen = 127.0.0.1
Ports = {port}
MotdPhrase = bench
PidFile = {workdir}/ngircd.pid
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 600
[Options]
DNS = no
Ident = no
PAM = no
"""


def start_ngircd(options):
    binary = shutil.which("ngircd") or ("/usr/sbin/ngircd" if os.path.exists("/usr/sbin/ngircd") else None)
    if binary is None:
        return None
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-ngircd-")
    os.chmod(workdir, 0o755)
    if os.getuid() == 0:   # ngIRCd started as root runs as nobody, and writes its PID file as nobody
        import pwd
        nobody = pwd.getpwnam("nobody")
        os.chown(workdir, nobody.pw_uid, nobody.pw_gid)
    conf = os.path.join(workdir, "ngircd.conf")
    with open(conf, "w") as f:
        f.write(NGIRCD_CONF.format(port=port, workdir=workdir))
    os.chmod(conf, 0o644)
    return Reference([binary, "-n", "-f", conf], port, workdir)


def start_miniircd(options):
    path = options.miniircd
    if not path or not os.path.exists(path):
        return None
    port = free_port()
    command = [sys.executable, path, "--listen", "127.0.0.1", "--ports", str(port)]
    if os.getuid() == 0:
        command += ["--setuid", "root"]   # it refuses to run as root without this
    return Reference(command, port)


REFERENCES = {"ngircd": start_ngircd, "miniircd": start_miniircd}


def trace_supported():
    result = subprocess.run([sys.executable, "-m", "selectchat", "server", "--help"], cwd=ROOT,
                            capture_output=True, text=True, env=bench_env())
    return "--trace FILE" in result.stdout


def servers(options):
    """(name, how the bench reaches it) for every server this machine has."""
    found = [("selectchat", {"server_args": ["--backend", "select"]}),
             ("selectchat-epoll", {"server_args": ["--backend", "epoll"]})]
    if trace_supported():
        found.append(("selectchat-trace", {"server_args": ["--backend", "select", "--trace", "TRACEFILE"]}))
    else:
        print("run_all: selectchat server has no --trace option yet: no trace-on row", file=sys.stderr)
    found.append(("bare", {"bench_args": ["--server", "bare"]}))
    for name, start in REFERENCES.items():
        probe = start(options)
        if probe is None:
            print(f"run_all: {name} is not installed: skipped", file=sys.stderr)
            continue
        probe.stop()
        found.append((name, {"reference": start}))
    return [(name, how) for name, how in found if not options.servers or name in options.servers]


# --- one run -------------------------------------------------------------------------

def bench_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    return env


def run_one(scenario, server_name, how, options):
    """One fresh server, one bench process; returns its JSON report (or an error)."""
    args = SCENARIOS[scenario][1 if options.quick else 0]
    bench = [sys.executable, "-m", "selectchat", "bench", "--json", "--no-progress", "--label", server_name]
    if options.pin:
        bench += ["--pin", options.pin]
    reference, tracedir = None, None
    try:
        if "reference" in how:
            reference = how["reference"](options)
            bench += ["--target", f"127.0.0.1:{reference.port}", "--target-pid", str(reference.pid)]
        bench += how.get("bench_args", [])
        bench += args
        server_args = list(how.get("server_args", []))
        if "TRACEFILE" in server_args:
            tracedir = tempfile.mkdtemp(prefix="bench-trace-")
            server_args[server_args.index("TRACEFILE")] = os.path.join(tracedir, "trace.jsonl")
        if server_args:
            bench += ["--", *server_args]
        started = time.monotonic()
        result = subprocess.run(bench, cwd=ROOT, env=bench_env(), capture_output=True, text=True,
                                timeout=options.run_timeout)
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError:
            report = {"error": (result.stderr.strip() or "no output").splitlines()[-1], "complete": False}
        report["run_seconds"] = time.monotonic() - started
        return report
    except subprocess.TimeoutExpired:
        return {"error": f"the bench did not finish in {options.run_timeout:g} s", "complete": False}
    finally:
        if reference is not None:
            reference.stop()
        if tracedir:
            shutil.rmtree(tracedir, ignore_errors=True)


def headline(scenario, report):
    if report.get("error"):
        return f"error: {report['error']}"
    if scenario == "fanout-flood":
        return f"{report['deliveries_per_s'] or 0:,.0f} deliveries/s"
    if scenario in ("fanout-paced", "paced-quickack"):
        lat = report["latency_ms"]
        return f"latency p50 {lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms" if lat["count"] else "no latency"
    if scenario in ("idle", "idle-10k"):
        return f"{report['connected']} idle, CPU {report.get('server_cpu_pct') or 0:.1f}%, PING p99 {report['ping_ms']['p99'] or 0:.2f} ms"
    if scenario == "hostile":
        return (f"bystanders p99 {report['bystander_ping_ms']['p99'] or 0:.2f} ms, "
                f"{report['well_behaved_dropped']} well-behaved dropped, RSS peak {mb(report['server_rss_peak_kb'])}")
    if scenario == "slow-reader":
        return f"p99 {report['without']['latency_ms']['p99'] or 0:.2f} -> {report['with']['latency_ms']['p99'] or 0:.2f} ms"
    return f"{report['joined']} joined in {report['time_to_all_joined_s'] or 0:.2f} s"


# --- medians and the table --------------------------------------------------------------

def dig(report, path):
    value = report
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def median(reports, path):
    values = [v for v in (dig(r, path) for r in reports if not r.get("error")) if isinstance(v, (int, float))
              and not isinstance(v, bool)]
    return statistics.median(values) if values else None


def maximum(reports, path):
    values = [v for v in (dig(r, path) for r in reports if not r.get("error")) if isinstance(v, (int, float))]
    return max(values) if values else None


def fmt(value, digits=0, unit=""):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{unit}"


def mb(kb):
    return "–" if kb is None else f"{kb / 1024:.1f} MB"


def count_ok(reports):
    good = sum(1 for r in reports if r.get("complete"))
    return f"{good}/{len(reports)}"


LABELS = {"selectchat": "selectchat (select)", "selectchat-epoll": "selectchat (epoll)",
          "selectchat-trace": "selectchat (select, trace on)", "bare": "bare select() loop",
          "ngircd": "ngIRCd", "miniircd": "miniircd"}


def render(results, meta, quick):
    """Markdown for the results section. ``results[scenario][server]`` = list of reports."""
    out = []
    add = out.append
    add(f"Measured {meta['date']} on {meta['cpu']} ({meta['cpus']} CPUs), Python {meta['python']}, "
        f"{meta['system']}. {meta['reps']} repetition(s), interleaved; each figure is the median. "
        f"Server pinned to CPU {meta['pin'].split(',')[0]}, generator to CPU {meta['pin'].split(',')[1]}."
        if meta["pin"] else f"Measured {meta['date']}, no CPU pinning.")
    add("")
    add(f"Load average before / after the whole run: {meta['load_before']} / {meta['load_after']} "
        f"(run took {meta['minutes']:.1f} min){' — a --quick smoke run, not a measurement' if quick else ''}.")
    add("")

    def section(scenario, title, header, row):
        if scenario not in results:
            return
        add(f"### {title}")
        add("")
        add("| server | " + " | ".join(header) + " | complete |")
        add("|---" * (len(header) + 2) + "|")
        for server, reports in results[scenario].items():
            add(f"| {LABELS.get(server, server)} | " + " | ".join(row(reports)) + f" | {count_ok(reports)} |")
        errors = {r["error"] for reports in results[scenario].values() for r in reports if r.get("error")}
        for error in sorted(errors):
            add(f"\nError seen: `{error}`")
        add("")

    p = SCENARIOS["fanout-flood"][1 if quick else 0]
    section("fanout-flood", f"Fan-out flood ({' '.join(p[1:])})",
            ["deliveries/s", "deliveries per server CPU-second", "server CPU", "generator CPU",
             "generator deliveries per CPU-second", "latency p50 / p99 ms", "server peak RSS"],
            lambda rs: [fmt(median(rs, "deliveries_per_s")), fmt(median(rs, "server_deliveries_per_cpu_s")),
                        fmt(median(rs, "server_cpu_pct"), 0, "%"), fmt(median(rs, "generator_cpu_pct"), 0, "%"),
                        fmt(median(rs, "generator_deliveries_per_cpu_s")),
                        f"{fmt(median(rs, 'latency_ms.p50'), 1)} / {fmt(median(rs, 'latency_ms.p99'), 1)}",
                        mb(median(rs, "server_peak_rss_kb"))])
    p = SCENARIOS["fanout-paced"][1 if quick else 0]
    section("fanout-paced", f"Fan-out at a paced rate ({' '.join(p[1:])})",
            ["latency p50 ms", "p99 ms", "max ms", "server CPU"],
            lambda rs: [fmt(median(rs, "latency_ms.p50"), 2), fmt(median(rs, "latency_ms.p99"), 2),
                        fmt(median(rs, "latency_ms.max"), 1), fmt(median(rs, "server_cpu_pct"), 0, "%")])
    p = SCENARIOS["paced-quickack"][1 if quick else 0]
    section("paced-quickack", f"The same, clients acknowledging at once (--quickack; {' '.join(p[2:])})",
            ["latency p50 ms", "p99 ms", "max ms", "server CPU"],
            lambda rs: [fmt(median(rs, "latency_ms.p50"), 2), fmt(median(rs, "latency_ms.p99"), 2),
                        fmt(median(rs, "latency_ms.max"), 1), fmt(median(rs, "server_cpu_pct"), 0, "%")])
    p = SCENARIOS["idle"][1 if quick else 0]
    section("idle", f"Idle clients ({' '.join(p[1:])})",
            ["connected", "server CPU while idle", "probe PING p50 ms", "p99 ms", "server RSS", "KiB per client"],
            lambda rs: [fmt(median(rs, "connected")), fmt(median(rs, "server_cpu_pct"), 1, "%"),
                        fmt(median(rs, "ping_ms.p50"), 2), fmt(median(rs, "ping_ms.p99"), 2),
                        mb(median(rs, "server_rss_connected_kb")), fmt(median(rs, "server_kb_per_client"), 1)])
    p = SCENARIOS["slow-reader"][1 if quick else 0]
    section("slow-reader", f"One member never reads, one reads slowly ({' '.join(p[1:])})",
            ["others' p99 alone ms", "with them ms", "ratio", "non-reader dropped after", "server peak RSS", "RSS bound"],
            lambda rs: [fmt(median(rs, "without.latency_ms.p99"), 2), fmt(median(rs, "with.latency_ms.p99"), 2),
                        fmt(median(rs, "p99_ratio"), 2),
                        fmt(median(rs, "nonreader.after_s"), 1, " s") if median(rs, "nonreader.after_s") is not None
                        else "not dropped",
                        mb(median(rs, "server_rss_peak_kb")), mb(median(rs, "server_rss_bound_kb"))])
    def storm_row(rs):
        return [fmt(median(rs, "joined")), fmt(median(rs, "refused")), fmt(median(rs, "failed")),
                fmt(median(rs, "time_to_all_joined_s"), 2, " s"),
                f"{fmt(median(rs, 'join_ms.p50'), 0)} / {fmt(median(rs, 'join_ms.p99'), 0)}",
                fmt(median(rs, "server_cpu_s"), 2), mb(median(rs, "server_peak_rss_kb"))]

    storm_header = ["joined", "refused", "failed (reset)", "time to all joined", "join p50 / p99 ms", "server CPU s", "server peak RSS"]
    p = SCENARIOS["connect-storm"][1 if quick else 0]
    section("connect-storm", f"Connect storm ({' '.join(p[1:])})", storm_header, storm_row)
    p = SCENARIOS["hostile"][1 if quick else 0]
    section("hostile", f"Hostile load ({' '.join(p[1:])}: 5 flooders, 20 readers, 5 non-readers, 3 askers "
                       f"x 20 LIST of 200 rooms, 20 bystanders by default)",
            ["bystanders' PING p50 / p99 / max ms", "well-behaved dropped", "non-readers dropped",
             "flooders dropped", "flood deliveries/s", "LIST MB read", "server RSS before / peak", "server CPU"],
            lambda rs: [f"{fmt(median(rs, 'bystander_ping_ms.p50'), 2)} / {fmt(median(rs, 'bystander_ping_ms.p99'), 1)}"
                        f" / {fmt(median(rs, 'bystander_ping_ms.max'), 1)}",
                        f"{fmt(median(rs, 'well_behaved_dropped'))} (max {fmt(maximum(rs, 'well_behaved_dropped'))})",
                        fmt(median(rs, "nonreaders_dropped")), fmt(median(rs, "flooders_dropped")),
                        fmt(median(rs, "deliveries_per_s")), fmt((median(rs, "list_bytes") or 0) / 1e6, 1),
                        f"{mb(median(rs, 'server_rss_baseline_kb'))} / {mb(median(rs, 'server_rss_peak_kb'))}",
                        fmt(median(rs, "server_cpu_pct"), 0, "%")])
    p = SCENARIOS["idle-10k"][1 if quick else 0]
    section("idle-10k", f"Ten thousand idle clients ({' '.join(p[1:])}; the bench spreads them over processes "
                        f"as its descriptor limit needs)",
            ["connected", "server CPU while idle", "probe PING p50 ms", "p99 ms", "max ms", "server RSS",
             "KiB per client"],
            lambda rs: [fmt(median(rs, "connected")), fmt(median(rs, "server_cpu_pct"), 1, "%"),
                        fmt(median(rs, "ping_ms.p50"), 2), fmt(median(rs, "ping_ms.p99"), 2),
                        fmt(median(rs, "ping_ms.max"), 1),
                        mb(median(rs, "server_rss_connected_kb")), fmt(median(rs, "server_kb_per_client"), 1)])
    p = SCENARIOS["storm-10k"][1 if quick else 0]
    section("storm-10k", f"Connect storm of ten thousand ({' '.join(p[1:])})", storm_header, storm_row)
    add("### Against the targets of issues 6, 12 and 18")
    add("")
    add("| target | measured | met? |")
    add("|---|---|---|")
    for text, value, ok in targets(results):
        add(f"| {text} | {value} | {ok} |")
    add("")
    return "\n".join(out)


def targets(results):
    rows = []

    def flood(server, path):
        return median(results.get("fanout-flood", {}).get(server, []), path)

    def generator_bound(server):
        # The generator, not the server, set the pace: deliveries/s is only a lower bound.
        gen, srv = flood(server, "generator_cpu_pct"), flood(server, "server_cpu_pct")
        return gen is not None and gen > 85 and gen > (srv or 0)

    for path, how in (("deliveries_per_s", "deliveries/s"), ("server_deliveries_per_cpu_s", "per server CPU-second")):
        ours = flood("selectchat", path)
        for other, goal in (("bare", 0.8), ("miniircd", 3.0), ("ngircd", 0.5)):
            theirs = flood(other, path)
            if ours and theirs:
                ratio = ours / theirs
                met = "yes" if ratio >= goal else "**no**"
                if path == "deliveries_per_s" and generator_bound(other):
                    # Their figure is a lower bound; if ours is one too, the ratio compares the generator with itself.
                    against = "both" if generator_bound("selectchat") else LABELS[other]
                    met = f"not measured: against {against} the generator was the limit (see per CPU-second)"
                rows.append((f"fan-out ({how}): selectchat ≥ {goal:g}× {LABELS[other]}", f"{ratio:.2f}×", met))
        trace = flood("selectchat-trace", path)
        if ours and trace:
            rows.append((f"fan-out ({how}): trace on ≥ 0.85× trace off", f"{trace / ours:.2f}×",
                         "yes" if trace / ours >= 0.85 else "**no**"))
    big = results.get("idle-10k", {}).get("selectchat-epoll", [])
    if big:
        p50, p99 = median(big, "ping_ms.p50"), median(big, "ping_ms.p99")
        cpu, rss = median(big, "server_cpu_pct"), median(big, "server_rss_connected_kb")
        rows.append((f"{fmt(median(big, 'connected'))} idle clients (epoll): probe PING p50 / p99 within 2 ms",
                     f"{fmt(p50, 2)} / {fmt(p99, 2)} ms", "yes" if p99 is not None and p99 <= 2 else "**no**"))
        rows.append(("... idle CPU within 1% of a core", fmt(cpu, 2, "%"), "yes" if cpu is not None and cpu <= 1 else "**no**"))
        rows.append(("... server RSS within 150 MB", mb(rss), "yes" if rss and rss <= 150 * 1024 else "**no**"))
    for server in ("selectchat", "selectchat-epoll", "ngircd", "miniircd"):
        hostile = results.get("hostile", {}).get(server, [])
        if hostile:
            worst = maximum(hostile, "well_behaved_dropped")
            rows.append((f"hostile load, {LABELS[server]}: well-behaved clients dropped = 0 (worst of "
                         f"{len(hostile)} runs)", fmt(worst), "yes" if worst == 0 else "**no**"))
    idle = results.get("idle", {}).get("selectchat", [])
    if idle:
        cpu, p99 = median(idle, "server_cpu_pct"), median(idle, "ping_ms.p99")
        clients = median(idle, "connected")
        rows.append((f"idle ({fmt(clients)} clients): server CPU near zero", fmt(cpu, 1, "% of a core"),
                     "yes" if cpu is not None and cpu < 2 else "**no**"))
        rows.append(("idle: probe PING p99 < 50 ms", fmt(p99, 2, " ms"),
                     "yes" if p99 is not None and p99 < 50 else "**no**"))
    slow = results.get("slow-reader", {}).get("selectchat", [])
    if slow:
        ratio = median(slow, "p99_ratio")
        rows.append(("slow reader: others' p99 ≤ 1.2× without it", fmt(ratio, 2, "×"),
                     "yes" if ratio is not None and ratio <= 1.2 else "**no**"))
        peak, bound = median(slow, "server_rss_peak_kb"), median(slow, "server_rss_bound_kb")
        rows.append(("slow reader: server RSS under baseline + max-sendq × clients",
                     f"{mb(peak)} (bound {mb(bound)})",
                     "yes" if peak and bound and peak <= bound else "**no**"))
    return rows


def write_doc(markdown):
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"run_all: {DOC} has no {BEGIN} ... {END} markers")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    with open(DOC, "w", encoding="utf-8") as f:
        f.write(f"{head}{BEGIN}\n{markdown}\n{END}{tail}")


# --- main ----------------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def serve(name, options):
    """``--serve NAME``: start a reference server and wait (for manual benches)."""
    reference = REFERENCES[name](options)
    if reference is None:
        raise SystemExit(f"run_all: {name} is not installed")
    print(f"{name} listening on 127.0.0.1:{reference.port}, pid {reference.pid}; Ctrl-C stops it", flush=True)
    try:
        reference.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        reference.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny loads, one repetition: a smoke run")
    parser.add_argument("--reps", type=int, help="repetitions (default 3; 1 with --quick)")
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), help="only these scenarios")
    parser.add_argument("--servers", nargs="+", help="only these servers (selectchat, selectchat-epoll, "
                        "selectchat-trace, bare, ngircd, miniircd)")
    parser.add_argument("--miniircd", default=os.environ.get("MINIIRCD", DEFAULT_MINIIRCD),
                        help="path of the miniircd script (default: $MINIIRCD or ../shared/reference/miniircd)")
    parser.add_argument("--pin", default=None, help="SERVER_CPU,BENCH_CPU (default 0,1 with 2+ CPUs)")
    parser.add_argument("--run-timeout", type=float, default=120.0, help="seconds per bench run (default 120)")
    parser.add_argument("--no-doc", action="store_true", help="print the table; do not touch docs/performance.md")
    parser.add_argument("--doc", action="store_true", help="write docs/performance.md even with --quick")
    parser.add_argument("--json", metavar="FILE", help="also save every run's report to FILE")
    parser.add_argument("--serve", choices=list(REFERENCES), help="only start this reference server and wait")
    parser.add_argument("--from-json", metavar="FILE", help="write the table from a --json FILE of an earlier run")
    options = parser.parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP):   # stop our servers on the way out
        signal.signal(signum, lambda number, frame: sys.exit(128 + number))
    if options.serve:
        return serve(options.serve, options)
    if options.from_json:
        with open(options.from_json) as f:
            saved = json.load(f)
        results = {}
        for run in saved["runs"]:
            results.setdefault(run["scenario"], {}).setdefault(run["server"], []).append(run["report"])
        return publish(render(results, saved["meta"], options.quick), options)
    if options.pin is None and (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity"):
        options.pin = "0,1"
    reps = options.reps or (1 if options.quick else 3)
    chosen = options.scenarios or list(SCENARIOS)
    available = servers(options)
    plan = []
    for rep in range(reps):
        for scenario in chosen:
            for name, how in available:
                if name == "bare" and scenario not in BARE_SCENARIOS:
                    continue
                if name == "selectchat-trace" and scenario not in ("fanout-flood", "fanout-paced", "paced-quickack"):
                    continue   # the trace costs in the loop; the fan-out shows it
                if scenario in ONLY and name not in ONLY[scenario]:
                    continue
                plan.append((rep, scenario, name, how))
    load_before = [round(x, 2) for x in os.getloadavg()]
    began = time.monotonic()
    results, raw = {}, []
    for i, (rep, scenario, name, how) in enumerate(plan, 1):
        report = run_one(scenario, name, how, options)
        results.setdefault(scenario, {}).setdefault(name, []).append(report)
        raw.append({"rep": rep, "scenario": scenario, "server": name, "report": report})
        print(f"[{i}/{len(plan)}] {scenario:<13} {name:<17} rep {rep + 1}: {headline(scenario, report)} "
              f"({report.get('run_seconds', 0):.1f} s)", file=sys.stderr, flush=True)
    meta = {"date": datetime.date.today().isoformat(), "cpu": cpu_model(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "system": platform.platform(terse=True), "reps": reps,
            "pin": options.pin, "load_before": load_before,
            "load_after": [round(x, 2) for x in os.getloadavg()], "minutes": (time.monotonic() - began) / 60}
    if options.json:
        with open(options.json, "w") as f:
            json.dump({"meta": meta, "runs": raw}, f, indent=1)
    return publish(render(results, meta, options.quick), options)


def publish(markdown, options):
    if options.no_doc or (options.quick and not options.doc):   # a smoke run never replaces a measurement
        print(markdown)
    else:
        write_doc(markdown)
        print(f"run_all: wrote the results to {os.path.relpath(DOC)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
