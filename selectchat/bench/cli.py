"""``selectchat bench``: an IRC load generator, to measure a server under load.

    selectchat bench fanout                       start a selectchat server, flood a room, stop it
    selectchat bench fanout -- --backend epoll    ... with these server options
    selectchat bench --target 127.0.0.1:6667 --target-pid 4242 idle    any IRC server
    selectchat bench --server bare fanout         the bare select() loop (benchmarks/bare_fanout.py)

Without ``--target`` the bench starts the server itself on port 0 (through
:func:`selectchat.launch.start_server`, so it cannot outlive the bench) and
stops it at the end.  It speaks only what every IRC server understands:
NICK/USER, wait for 001, JOIN, PRIVMSG, PING/PONG.  The server's CPU time and
memory are read from ``/proc/PID`` when its PID is known.

The generator itself is in :mod:`.load`, the scenarios in
:mod:`.scenarios`; this module is the command line, the server under test,
and the report.
"""

import argparse
import datetime
import gc
import json
import os
import platform
import re
import select
import subprocess
import sys

from .. import __version__
from ..launch import PACKAGE_PARENT, ServerError, start_server
from .load import Generator, Progress, process_tree
from .hostile import hostile
from .scenarios import SCENARIOS, BenchError

SCENARIOS = {**SCENARIOS, "hostile": hostile}

BARE_PATH = os.path.join(PACKAGE_PARENT, "benchmarks", "bare_fanout.py")
DEFAULT_MAX_SENDQ = 256 * 1024   # selectchat server's default --max-sendq
DEFAULT_MAX_CLIENTS = 1000         # ... and --max-clients (the probe needs one more)

EPILOG = """\
scenarios (each bounded in count and time; 'selectchat bench SCENARIO --help'):
  fanout         N members in one room, S senders send M messages of B bytes, as
                 fast as the server takes them (or --rate): deliveries/s, latency
  idle           C silent registered clients: server CPU and memory, probe PING p50/p99
  slow-reader    a paced fan-out without, then with, a member that never reads and
                 one that reads slowly: others' latency, server memory, drops
  connect-storm  K clients connect, register and join at once: time to all joined
  hostile        floods, non-readers and LIST bursts at once: bystanders' PING p99,
                 server RSS peak, well-behaved clients dropped (must be 0)

examples:
  selectchat bench fanout --members 50 --messages 20000
  selectchat bench fanout --rate 1000 --messages 3000      latency at a paced rate
  selectchat bench idle --clients 990 -- --backend epoll
  selectchat bench --server bare fanout                    the ceiling: the bare loop
  selectchat bench --target 127.0.0.1:6667 --target-pid $(pidof ngircd) fanout
  selectchat bench --json connect-storm --clients 300 > storm.json

Latency is measured from a timestamp carried in each message's text.  Use
--pin 0,1 on a machine with two or more cores to keep the server and the
generator on different cores.  docs/performance.md explains each figure.
"""


# --- the command line -----------------------------------------------------------

COMMON_DEFAULTS = {"target": None, "target_pid": None, "server": "selectchat", "protocol": None,
                   "json": False, "no_progress": False, "pin": None, "label": None, "max_sendq": None,
                   "quickack": False}


def _add_common(parser):
    """Options that may come before or after the scenario name."""
    S = argparse.SUPPRESS
    group = parser.add_argument_group("server under test and output")
    group.add_argument("--target", metavar="HOST:PORT", default=S,
                       help="drive this running IRC server (default: start a selectchat server)")
    group.add_argument("--target-pid", type=int, metavar="PID", default=S,
                       help="PID of the --target server, to read its CPU time and memory")
    group.add_argument("--server", choices=("selectchat", "bare"), default=S,
                       help="what to start when there is no --target (default selectchat; "
                            "bare: benchmarks/bare_fanout.py)")
    group.add_argument("--protocol", choices=("irc", "bare"), default=S,
                       help="irc, or bare (plain lines, for the bare loop; the default with --server bare)")
    group.add_argument("--max-sendq", type=int, metavar="BYTES", default=S,
                       help="the server's output cap per client, for slow-reader's memory bound "
                            "(known when the bench starts selectchat)")
    group.add_argument("--pin", metavar="SERVER_CPU,BENCH_CPU", default=S,
                       help="pin the server and the generator to these CPUs (Linux)")
    group.add_argument("--quickack", action="store_true", default=S,
                       help="clients acknowledge every read at once (TCP_QUICKACK): takes the "
                            "Nagle/delayed-ACK stalls of servers without TCP_NODELAY out of the latency")
    group.add_argument("--json", action="store_true", default=S, help="print the results as JSON")
    group.add_argument("--no-progress", action="store_true", default=S, help="no progress line on stderr")
    group.add_argument("--label", default=S, help="a name for this run in the output")


def add_arguments(parser):
    _add_common(parser)
    scenarios = parser.add_subparsers(dest="scenario", metavar="SCENARIO", required=True)

    def scenario(name, help_text):
        sub = scenarios.add_parser(name, help=help_text, description=help_text)
        _add_common(sub)
        sub.add_argument("server_args", nargs="*", metavar="-- SERVER_OPTION",
                         help="after '--': options for the selectchat server the bench starts")
        return sub

    def timed(sub):
        sub.add_argument("--timed", type=int, default=10, metavar="K",
                         help="members that time every delivery; the others only count (default 10)")

    def processes(sub):
        sub.add_argument("--processes", type=int, metavar="P",
                         help="spread the clients over P processes (default: as many as this "
                              "process's descriptor limit needs; see selectchat.bench.spread)")

    def timeout(sub, seconds):
        sub.add_argument("--timeout", type=float, default=seconds, metavar="S",
                         help=f"give up after this many seconds (default {seconds:g})")

    sub = scenario("fanout", "members in one room; senders flood it: deliveries/s and latency")
    sub.add_argument("--members", type=int, default=50, metavar="N", help="room members (default 50)")
    sub.add_argument("--senders", type=int, default=1, metavar="S", help="members who send (default 1)")
    sub.add_argument("--messages", type=int, default=20000, metavar="M", help="messages per sender (default 20000)")
    sub.add_argument("--size", type=int, default=100, metavar="B", help="bytes of text per message (default 100)")
    sub.add_argument("--rate", type=float, default=0.0, metavar="MSG/S",
                     help="send at this total rate (default 0: as fast as the server takes them)")
    sub.add_argument("--window", type=int, default=2000, metavar="W",
                     help="at most W messages sent but not yet delivered everywhere (default 2000; 0: no limit)")
    timed(sub)
    timeout(sub, 60.0)

    sub = scenario("idle", "silent registered clients: server CPU and memory, probe PING round trip")
    sub.add_argument("--clients", type=int, default=990, metavar="C", help="idle clients (default 990)")
    sub.add_argument("--pings", type=int, default=100, metavar="P", help="probe PINGs (default 100)")
    sub.add_argument("--duration", type=float, default=5.0, metavar="S", help="idle seconds measured (default 5)")
    sub.add_argument("--concurrency", type=int, default=10, metavar="K",
                     help="connections opened at a time (default 10: the setup is not a storm)")
    sub.add_argument("--room", help="make the idle clients join this room")
    processes(sub)
    timeout(sub, 60.0)

    sub = scenario("slow-reader", "a paced fan-out without, then with, a non-reader and a slow reader")
    sub.add_argument("--members", type=int, default=50, metavar="N", help="members who read (default 50)")
    sub.add_argument("--rate", type=float, default=6000.0, metavar="MSG/S", help="messages per second (default 6000)")
    sub.add_argument("--duration", type=float, default=6.0, metavar="S", help="seconds per run (default 6)")
    sub.add_argument("--size", type=int, default=100, metavar="B", help="bytes of text per message (default 100)")
    sub.add_argument("--slow-rate", type=int, default=20000, metavar="BYTES/S",
                     help="how fast the slow reader reads (default 20000)")
    timed(sub)
    timeout(sub, 60.0)

    sub = scenario("connect-storm", "clients connect, register and join at once: time to all joined")
    sub.add_argument("--clients", type=int, default=500, metavar="K", help="clients (default 500)")
    sub.add_argument("--room", default="#storm", help="the room they join (default #storm)")
    sub.add_argument("--rooms", type=int, default=1, metavar="R",
                     help="deal the clients into R rooms, ROOM0 .. ROOM{R-1} (default 1: all in ROOM)")
    processes(sub)
    timeout(sub, 30.0)


    sub = scenario("hostile", "floods, non-readers and big replies: what well-behaved clients feel")
    for name, default, text in (("bystanders", 20, "quiet clients that PING"), ("flooders", 5, "flooding senders"),
                                ("readers", 20, "members of the flooded room that read"),
                                ("nonreaders", 5, "members of the flooded room that never read"),
                                ("askers", 3, "clients that send bursts of LIST and read the replies"),
                                ("rooms", 200, "rooms a LIST describes"),
                                ("list-burst", 20, "LIST lines per burst (one packet, twice a second)")):
        sub.add_argument(f"--{name}", type=int, default=default, metavar="N", help=f"{text} (default {default})")
    sub.add_argument("--duration", type=float, default=6.0, metavar="S", help="seconds of misbehaving (default 6)")
    sub.add_argument("--ping-every", type=float, default=0.1, metavar="S",
                     help="each bystander PINGs this often (default 0.1)")
    sub.add_argument("--size", type=int, default=100, metavar="B", help="bytes of text per flood message (default 100)")
    timeout(sub, 60.0)


def scenario_params(args):
    """The scenario function's keyword arguments, from the parsed options."""
    names = {
        "fanout": ("members", "senders", "messages", "size", "rate", "window", "timed", "timeout"),
        "idle": ("clients", "pings", "duration", "concurrency", "room", "timeout", "processes"),
        "slow-reader": ("members", "rate", "duration", "size", "slow_rate", "timed", "timeout"),
        "connect-storm": ("clients", "room", "rooms", "timeout", "processes"),
        "hostile": ("duration", "bystanders", "flooders", "readers", "nonreaders", "askers", "rooms",
                    "list_burst", "ping_every", "size", "timeout"),
    }[args.scenario]
    return {name: getattr(args, name) for name in names}


# --- the server under test ---------------------------------------------------------

class Target:
    """The server being measured: where it listens, its PID, how to stop it."""

    def __init__(self, kind, host, port, pid=None, options=(), stop=None):
        self.kind, self.host, self.port, self.pid = kind, host, port, pid
        self.options = list(options)
        self._stop = stop

    def describe(self):
        what = {"selectchat": "selectchat server", "bare": "bare_fanout.py", "external": "server"}[self.kind]
        extra = f" {' '.join(self.options)}" if self.options else ""
        pid = f", pid {self.pid}" if self.pid else ", pid unknown"
        return f"{what}{extra} at {self.host}:{self.port}{pid}"

    def stop(self):
        if self._stop is not None:
            self._stop()
            self._stop = None


def open_target(args):
    if args.target:
        host, _, port = args.target.rpartition(":")
        if not host or not port.isdigit():
            raise BenchError(f"--target must be HOST:PORT, not {args.target!r}")
        if args.server_args:
            raise BenchError("server options after '--' are for a server the bench starts, not a --target")
        return Target("external", host.strip("[]"), int(port), args.target_pid)
    if args.server == "bare":
        return start_bare(args.server_args)
    options = list(args.server_args)
    if not any(o in ("--log", "--quiet") or o.startswith("--log=") for o in options):
        options.append("--quiet")   # a log line per message would be measured too
    options += scale_options(args, options)
    server = start_server(*options)
    shown = [o for o in options if o != "--quiet"]
    return Target("selectchat", server.host, server.port, server.pid, shown, server.stop)


def scale_options(args, options):
    """Server options that let a run with many clients fit: room for the
    clients and the probe (``--max-clients``), and past what ``select()`` can
    watch, ``--backend epoll`` -- unless the options already choose."""
    clients = getattr(args, "clients", 0) or 0
    extra = []
    if clients + 1 > DEFAULT_MAX_CLIENTS and not _has(options, "--max-clients"):
        extra += ["--max-clients", str(clients + 16)]
    if clients + 1 > DEFAULT_MAX_CLIENTS and not _has(options, "--backend"):
        extra += ["--backend", "epoll"]
    return extra


def _has(options, name):
    return any(o == name or o.startswith(name + "=") for o in options)


def start_bare(options, timeout=15.0):
    """Start benchmarks/bare_fanout.py on port 0, the way selectchat server is started."""
    if not os.path.exists(BARE_PATH):
        raise BenchError(f"{BARE_PATH} not found: --server bare needs a selectchat source checkout")
    process = subprocess.Popen([sys.executable, BARE_PATH, "--port", "0", "--exit-on-eof", *options],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def stop():
        if process.poll() is None:
            process.stdin.close()   # --exit-on-eof
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()

    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline().decode(errors="replace").strip() if ready else ""
    found = re.search(r"listening on (\S+):(\d+)$", line)
    if not found:
        stop()
        raise BenchError(f"bare_fanout.py did not start (first line {line!r})")
    return Target("bare", found[1], int(found[2]), process.pid, options, stop)


def sendq_of(args, target):
    if args.max_sendq:
        return args.max_sendq
    if target.kind == "selectchat":
        options = target.options
        for i, option in enumerate(options):
            if option == "--max-sendq" and i + 1 < len(options):
                return int(options[i + 1])
            if option.startswith("--max-sendq="):
                return int(option.partition("=")[2])
        return DEFAULT_MAX_SENDQ
    return None


def pin(spec, target):
    """``--pin S,G``: server on CPU S, this generator on CPU G. Returns what was done."""
    try:
        server_cpu, bench_cpu = (int(x) for x in spec.split(","))
    except ValueError:
        raise BenchError(f"--pin wants SERVER_CPU,BENCH_CPU, not {spec!r}") from None
    if not hasattr(os, "sched_setaffinity"):
        return "not supported on this system"
    if target.pid:   # every thread of every process of the server (a trace writer too)
        for pid in process_tree(target.pid):
            try:
                threads = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
            except OSError:
                continue
            for tid in threads:
                os.sched_setaffinity(tid, {server_cpu})
    os.sched_setaffinity(0, {bench_cpu})
    return {"server": server_cpu if target.pid else None, "generator": bench_cpu}


def raise_descriptor_limit():
    """Idle and storm runs hold many sockets; the server we start inherits the limit."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = hard if hard != resource.RLIM_INFINITY else 65536
        if soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ImportError, ValueError, OSError):
        pass


# --- running and reporting ------------------------------------------------------------

def run_scenario(args):
    """Start (or find) the server, run the scenario, return the report dict."""
    protocol = args.protocol or ("bare" if args.server == "bare" and not args.target else "irc")
    if protocol == "bare" and args.scenario == "idle":
        raise BenchError("idle needs IRC (its probe uses PING); the bare loop speaks no protocol")
    report = {
        "bench": f"selectchat {__version__}",
        "scenario": args.scenario,
        "label": args.label,
        "started_at": datetime.datetime.now().isoformat(timespec="seconds"),
        "environment": {"python": platform.python_version(), "system": platform.platform(),
                        "cpus": os.cpu_count(), "loadavg_start": _loadavg()},
    }
    raise_descriptor_limit()
    target = open_target(args)
    try:
        report["target"] = {"kind": target.kind, "address": f"{target.host}:{target.port}",
                            "pid": target.pid, "options": target.options, "protocol": protocol,
                            "description": target.describe(),
                            "processes": len(process_tree(target.pid)) if target.pid else None}
        if args.pin:
            report["environment"]["pinned"] = pin(args.pin, target)
        progress = None if args.no_progress else Progress(f"bench {args.scenario}")
        gen = Generator(target.host, target.port, protocol, target.pid, progress, args.quickack)
        report["environment"]["quickack"] = gen.quickack
        params = scenario_params(args)
        if args.scenario == "slow-reader":
            params["max_sendq"] = sendq_of(args, target)
        gc.collect()
        gc.disable()   # a collection pause would show up as 10+ ms of latency
        try:
            report.update(SCENARIOS[args.scenario](gen, **params))
        finally:
            gc.enable()
            gen.close_all()
    finally:
        target.stop()
    report["environment"]["loadavg_end"] = _loadavg()
    report["warnings"] = warnings(report)
    return report


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def warnings(report):
    out = []
    if report["target"]["pid"] is None:
        out.append("server PID unknown (--target-pid): no server CPU or memory figures")
    gen_cpu, server_cpu = report.get("generator_cpu_pct"), report.get("server_cpu_pct")
    if report["scenario"] == "fanout" and gen_cpu and gen_cpu > 85 and (server_cpu or 0) < gen_cpu:
        out.append(f"the generator used {gen_cpu:.0f}% of a core, the server {server_cpu or 0:.0f}%: "
                   "this rate may be the generator's limit, not the server's")
    load = report["environment"].get("loadavg_start")
    cpus = report["environment"].get("cpus") or 1
    if load and load[0] > 0.5 * cpus:
        out.append(f"the machine was busy (load average {load[0]} on {cpus} CPUs): figures are noisy")
    if not report.get("complete", False):
        out.append("the scenario did not complete as planned (see lost/refused/timed out)")
    return out


def _n(value, digits=0):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _ms(summary):
    if not summary or not summary.get("count"):
        return "-"
    return " / ".join(_n(summary[k], 2) for k in ("p50", "p99", "max"))


def _mb(kb):
    return "-" if kb is None else f"{kb / 1024:.1f} MB"


def _cpu(r):
    if r.get("server_cpu_s") is None:
        return "-"
    return f"{r['server_cpu_s']:.2f} s ({r['server_cpu_pct']:.0f}% of a core)"


def human_rows(report):
    """(label, value) rows of the result table for one scenario."""
    r, name = report, report["scenario"]
    if name == "fanout":
        p = r["params"]
        mode = f"paced at {p['rate']:g} msg/s" if p["rate"] else "flood"
        rows = [("load", f"{p['members']} members, {p['senders']} sender(s) x {p['messages']:,} "
                         f"messages of {p['size']} B, {mode}"),
                ("deliveries", f"{r['deliveries']:,} of {r['expected_deliveries']:,} (lost {r['lost_deliveries']:,})"),
                ("deliveries/s", _n(r["deliveries_per_s"])),
                ("messages/s", f"{_n(r['messages_per_s'])} (each to {p['members'] - 1} members)"),
                ("latency p50 / p99 / max", f"{_ms(r['latency_ms'])} ms"),
                ("elapsed", f"{r['elapsed_s']:.2f} s"),
                ("per CPU second", f"server {_n(r.get('server_deliveries_per_cpu_s'))}, generator "
                                   f"{_n(r.get('generator_deliveries_per_cpu_s'))} deliveries")]
        if r["members_dropped"]:
            rows.append(("members dropped", ", ".join(r["members_dropped"])))
    elif name == "idle":
        rows = [("clients", f"{r['connected']:,} connected of {r['params']['clients']:,} "
                            f"(refused {r['refused']}, failed {r['failed']}); {r['still_connected']:,} at the end"),
                ("probe PING p50 / p99 / max", f"{_ms(r['ping_ms'])} ms ({r['pings_lost']} lost)"),
                ("server memory", f"{_mb(r['server_rss_before_kb'])} before, {_mb(r['server_rss_connected_kb'])} "
                                  f"connected ({_n(r['server_kb_per_client'], 1)} KiB per client)")]
    elif name == "slow-reader":
        w, s = r["without"], r["with"]
        rows = [("load", f"{r['params']['members']} members, {r['params']['rate']:g} msg/s for "
                         f"{r['params']['duration']:g} s, twice"),
                ("others' latency, alone", f"{_ms(w['latency_ms'])} ms (lost {w['lost_deliveries']:,})"),
                ("others' latency, with slow", f"{_ms(s['latency_ms'])} ms (lost {s['lost_deliveries']:,})"),
                ("p99 ratio with / alone", _n(r["p99_ratio"], 2))]
        for key, title in (("nonreader", "non-reader"), ("slow_reader", "slow reader")):
            fate = r[key]
            text = (f"dropped after {fate['after_s']:.1f} s ({fate['reason']})" if fate["after_s"] is not None
                    else f"dropped ({fate['reason']})" if fate["dropped"] else "not dropped during the run")
            rows.append((title, text))
        bound = r["server_rss_bound_kb"]
        rows.append(("server RSS", f"{_mb(r['server_rss_baseline_kb'])} before, peak {_mb(r['server_rss_peak_kb'])}"
                     + (f", bound {_mb(bound)} ({'within' if r['within_bound'] else 'OVER'})" if bound else "")))
        rows.append(("server CPU (with)", _cpu(s)))
        rows.append(("generator CPU (with)", f"{s['generator_cpu_s']:.2f} s ({s['generator_cpu_pct']:.0f}%)"))
        return rows
    elif name == "hostile":
        p = r["params"]
        rows = [("load", f"{p['flooders']} flooders -> {p['readers']} readers + {p['nonreaders']} non-readers; "
                         f"{p['askers']} askers x {p['list_burst']} LIST of {p['rooms']} rooms; "
                         f"{p['bystanders']} bystanders; {p['duration']:g} s"),
                ("bystanders' PING p50 / p99 / max", f"{_ms(r['bystander_ping_ms'])} ms ({r['pings_lost']} lost)"),
                ("flood deliveries to readers", f"{r['deliveries']:,} ({_n(r['deliveries_per_s'])}/s)"),
                ("LIST bytes the askers read", f"{r['list_bytes']:,}"),
                ("well-behaved dropped", f"{r['well_behaved_dropped']}"
                 + (f" ({', '.join(r['well_behaved_dropped_nicks'])})" if r["well_behaved_dropped"] else "")),
                ("non-readers dropped", f"{r['nonreaders_dropped']} of {p['nonreaders']}"),
                ("flooders dropped", f"{r['flooders_dropped']} of {p['flooders']}"),
                ("server RSS", f"{_mb(r['server_rss_baseline_kb'])} before, peak {_mb(r['server_rss_peak_kb'])}")]
        if r["drop_reasons"]:
            rows.append(("drop reasons", "; ".join(f"{n} x {k}" for k, n in r["drop_reasons"].items())))
    else:
        rows = [("joined", f"{r['joined']:,} of {r['params']['clients']:,} (refused {r['refused']}, "
                           f"failed {r['failed']}, still pending {r['pending']})"),
                ("time to all joined", "-" if r["time_to_all_joined_s"] is None
                 else f"{r['time_to_all_joined_s']:.2f} s ({_n(r['joins_per_s'])} joins/s)"),
                ("join time p50 / p99 / max", f"{_ms(r['join_ms'])} ms")]
        if r["refusals"]:
            rows.append(("refusals", ", ".join(f"{n} x {k}" for k, n in r["refusals"].items())))
        if r["failures"]:
            rows.append(("failures", ", ".join(f"{n} x {k}" for k, n in r["failures"].items())))
    rows.append(("server CPU", _cpu(r)))
    rows.append(("server RSS", f"{_mb(r.get('server_rss_kb'))} (peak {_mb(r.get('server_peak_rss_kb'))})"))
    rows.append(("generator CPU", f"{r['generator_cpu_s']:.2f} s ({r['generator_cpu_pct']:.0f}% of a core)"))
    return rows


def print_report(report, out=sys.stdout):
    out.write(f"selectchat bench {report['scenario']}: {report['target']['description']}\n")
    rows = human_rows(report)
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        out.write(f"  {label:<{width}}  {value}\n")
    for warning in report["warnings"]:
        out.write(f"  note: {warning}\n")


def main(args):
    for name, default in COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    try:
        report = run_scenario(args)
    except (BenchError, ServerError, OSError) as error:
        if args.json:
            print(json.dumps({"scenario": args.scenario, "error": str(error), "complete": False}))
        print(f"selectchat bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("selectchat bench: interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_report(report)
    return 0 if report.get("complete") else 1
