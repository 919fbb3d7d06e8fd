"""``selectchat trace``: read a trace file -- summarise it, plot it, export it.

Record one with ``selectchat server --trace FILE`` (see docs/tracing.md).
"""

import json
import os
import sys

from .export import to_chrome
from .reading import TraceError, load
from .summary import summarize

EPILOG = """\
examples:
  selectchat server --port 0 --trace run.jsonl       record (Ctrl-C or 'shutdown' ends it cleanly)
  selectchat trace summary run.jsonl                 time blocked vs busy, per descriptor, latency,
                                                     and the classic mistakes (busy loop, EOF ignored...)
  selectchat trace plot run.jsonl -o timeline.png    one lane per descriptor
  selectchat trace plot run.jsonl -o t.png --from 1.5 --to 1.8
  selectchat trace plot run.jsonl -o u.png --kind utilisation
  selectchat trace export run.jsonl --chrome run.json
                                                     open in https://ui.perfetto.dev or chrome://tracing
  selectchat trace export run.jsonl > run.json       the same, through standard output

Times are seconds since the start of the trace. 'plot' needs matplotlib
(pip install 'selectchat[plot]').
"""

PLOT_KINDS = ("timeline", "utilisation", "ready", "latency")


def add_arguments(parser):
    sub = parser.add_subparsers(dest="trace_command", metavar="ACTION", required=True)

    summary = sub.add_parser("summary", help="print what the loop did: blocked vs busy, "
                             "descriptors, ready sets, message latency, and the classic mistakes it shows")
    summary.add_argument("file", help="a trace file (JSON Lines, from --trace)")

    plot = sub.add_parser("plot", help="draw the trace into a PNG (or SVG, PDF: by the -o suffix)")
    plot.add_argument("file", help="a trace file (JSON Lines, from --trace)")
    plot.add_argument("-o", "--output", required=True, metavar="IMAGE", help="where to save the figure")
    plot.add_argument("--kind", choices=PLOT_KINDS, default="timeline",
                      help="timeline (default): a lane per descriptor; utilisation: blocked vs busy "
                      "over time; ready: ready-set sizes; latency: message latency")
    plot.add_argument("--from", dest="start", type=float, metavar="S", help="start at S seconds")
    plot.add_argument("--to", dest="end", type=float, metavar="S", help="end at S seconds")
    plot.add_argument("--title", help="a title instead of the default one")
    plot.add_argument("--dpi", type=int, default=120, help="resolution of a PNG (default 120)")

    export = sub.add_parser("export", help="convert to another tool's format")
    export.add_argument("file", help="a trace file (JSON Lines, from --trace)")
    export.add_argument("--chrome", metavar="OUT.json", default="-",
                        help="write Chrome Trace Event JSON, for Perfetto (ui.perfetto.dev) and "
                        "chrome://tracing, to OUT.json (default, or '-': standard output)")


def main(args):
    try:
        return _main(args)
    except BrokenPipeError:   # e.g. 'selectchat trace summary FILE | head': the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error at exit
        return 0


def _main(args):
    try:
        trace = load(args.file)
    except (OSError, TraceError) as error:
        print(f"selectchat trace: {error}", file=sys.stderr)
        return 1
    if args.trace_command == "summary":
        print(summarize(trace).text())
    elif args.trace_command == "plot":
        return plot(trace, args)
    elif args.trace_command == "export":
        if args.chrome == "-":
            json.dump(to_chrome(trace), sys.stdout, separators=(",", ":"))
            sys.stdout.write("\n")
        else:
            with open(args.chrome, "w", encoding="utf-8") as out:
                json.dump(to_chrome(trace), out, separators=(",", ":"))
            print(f"wrote {args.chrome}: open it in https://ui.perfetto.dev or chrome://tracing")
    return 0


def plot(trace, args):
    try:
        from . import plot as plots
    except ImportError as error:
        print(f"selectchat trace plot: needs matplotlib ({error}); pip install 'selectchat[plot]'",
              file=sys.stderr)
        return 1
    window = trace.window(args.start, args.end) if args.start is not None or args.end is not None else trace
    if not window.events:
        print("selectchat trace plot: no events in that time window", file=sys.stderr)
        return 1
    if args.kind == "timeline":
        figure = plots.timeline(trace, start=args.start, end=args.end, title=args.title)
    else:
        draw = {"utilisation": plots.utilisation, "ready": plots.ready_histogram,
                "latency": plots.latency}[args.kind]
        figure = draw(window, title=args.title)
    figure.savefig(args.output, dpi=args.dpi)
    print(f"wrote {args.output}")
    return 0
