"""The text ``selectchat trace summary`` prints: every analysis of a trace, for people.

:func:`summarize` gathers :mod:`.analyses` and :mod:`.mistakes` into one
:class:`Summary`; :meth:`Summary.text` (:func:`format_summary`) lays it out.
"""

from collections import Counter
from dataclasses import dataclass

from .analyses import (Latencies, ReadySizes, Utilisation, latencies, per_descriptor, ready_sizes,
                       utilisation)
from .mistakes import find_mistakes, format_mistakes


@dataclass
class Summary:
    """Everything :func:`summarize` found; :meth:`text` prints it for people."""

    header: dict
    events: int
    kinds: Counter
    apps: Counter
    utilisation: Utilisation
    descriptors: dict
    ready: ReadySizes
    latency: Latencies
    complete: bool
    lost: int
    mistakes: list      # [Mistake]: the classic event-loop mistakes the trace shows

    def text(self):
        return format_summary(self)


def summarize(trace):
    """All the summaries of a trace in one :class:`Summary`."""
    return Summary(
        header=trace.header, events=len(trace.events),
        kinds=Counter(e["kind"] for e in trace.events),
        apps=_chat_events(trace),
        utilisation=utilisation(trace), descriptors=per_descriptor(trace),
        ready=ready_sizes(trace), latency=latencies(trace), complete=trace.complete,
        lost=sum(e["count"] for e in trace.of("lost")), mistakes=find_mistakes(trace))


def _chat_events(trace):
    """How many of each chat event: messages counted one by one, not by burst."""
    counts = Counter()
    for event in trace.of("app"):
        counts[event.get("event")] += event.get("count", 1) if event.get("event") == "message" else 1
    return counts


def _ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.3f} ms"


def format_summary(summary):
    """The summary as the text ``selectchat trace summary`` prints."""
    h, u, r, lat = summary.header, summary.utilisation, summary.ready, summary.latency
    out = [f"trace of {h.get('program', '?')} pid {h.get('pid', '?')}, backend {h.get('backend') or '?'}, "
           f"started {h.get('start_iso', '?')}"]
    state = "complete" if summary.complete else ("a live snapshot" if h.get("snapshot") else
                                                 "INCOMPLETE (no end event: killed, or still running)")
    out.append(f"{summary.events} events, {state}" + (f"; {summary.lost} events LOST (writer fell behind)"
                                                      if summary.lost else ""))
    out.append("")
    out.append("select() loop")
    out.append(f"  span            {u.span:.3f} s")
    out.append(f"  blocked         {u.blocked:.3f} s ({100 - 100 * u.busy_fraction:.1f}%)  waiting in select()")
    out.append(f"  busy            {u.busy:.3f} s ({100 * u.busy_fraction:.1f}%)  handlers, timers, the loop")
    out.append(f"  calls           {u.calls} ({u.calls_per_second:.1f}/s), {u.timeouts} returned nothing ready")
    out.append(f"  watched         {r.watched_mean:.1f} descriptors per call on average, {r.watched_max} at most")
    out.append(f"  ready-set size  mean {r.mean:.2f}, max {r.max}")
    sizes = sorted(r.ready.items())
    if sizes:
        shown = "  ".join(f"{size}:{n}" for size, n in sizes[:12]) + ("  …" if len(sizes) > 12 else "")
        out.append(f"    {shown}   (size:calls)")
    out.append("")
    out.append("descriptors")
    out.append(f"  {'fd':>4} {'label':<22} {'ready r/w':>11} {'recv':>6} {'bytes in':>9} "
               f"{'send':>6} {'bytes out':>10} {'partial':>7}")
    for d in summary.descriptors.values():
        label = d.label if len(d.label) <= 22 else d.label[:21] + "…"
        extra = f"  {d.accepts} accepted" if d.accepts else ""
        out.append(f"  {d.fd:>4} {label:<22} {f'{d.ready_read}/{d.ready_write}':>11} {d.recvs:>6} "
                   f"{d.bytes_in:>9} {d.sends:>6} {d.bytes_out:>10} {d.partial_sends:>7}{extra}")
    out.append("")
    if summary.apps:
        out.append("chat events   " + ", ".join(f"{name} {n}" for name, n in sorted(summary.apps.items())))
    out.append(f"messages      {lat.messages} sent, {len(lat.deliveries)} deliveries"
               + (f", {lat.unresolved} unresolved" if lat.unresolved else "")
               + (f", {lat.undelivered} not delivered (recipient closed)" if lat.undelivered else ""))
    if lat.deliveries:
        bounds = sum(1 for d in lat.deliveries if not d.exact)
        out.append(f"latency       recv on the sender -> send to the recipient, inside the server:")
        out.append(f"              median {_ms(lat.quantile(0.5))}, p90 {_ms(lat.quantile(0.9))}, "
                   f"p99 {_ms(lat.quantile(0.99))}, max {_ms(max(d.latency for d in lat.deliveries))}"
                   + (f"  ({bounds} upper bounds, after partial sends)" if bounds else ""))
    out.append("")
    out.append(format_mistakes(summary.mistakes))
    return "\n".join(out)
