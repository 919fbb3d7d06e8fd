"""Pictures of a trace: what select() was asked, what came back, what the handlers did.

Four figures, each a function that takes a :class:`~selectchat.trace.Trace`
and returns a matplotlib ``Figure`` -- or draws into the ``ax=`` you pass:

* :func:`timeline` -- one lane per descriptor (listener, console, each client
  by nickname) under a lane for the loop itself: the spans select() blocked,
  which descriptors came back ready, the recv()/send() calls that followed
  (marker area grows with the bytes), accepts and closes;
* :func:`utilisation` -- per slice of time, how much the loop waited in
  select() and how much it worked;
* :func:`ready_histogram` -- how many descriptors each select() returned;
* :func:`latency` -- each message's time inside the server, per recipient.

Headless-safe: this module builds figures with ``matplotlib.figure.Figure``
and never imports ``pyplot``, so it needs no display (a CI machine, a
server); ``fig.savefig("out.png")`` works anywhere, and a notebook shows the
returned figure.  Needs the ``plot`` extra: ``pip install 'selectchat[plot]'``.
"""

import math
from collections import defaultdict

from matplotlib.figure import Figure

from .analyses import lane_labels, latencies, ready_sizes, utilisation_bins
from .analyses import utilisation as utilisation_summary

# Okabe & Ito's palette: distinguishable with colour blindness and on a washed-out projector.
BLOCKED = "#BBBBBB"
BUSY = "#E69F00"       # orange
READABLE = "#009E73"   # bluish green
WRITABLE = "#56B4E9"   # sky blue
RECV = "#0072B2"       # blue
SEND = "#D55E00"       # vermillion
OTHER = "#000000"
FONT = 12


def _figure(ax, size):
    """A new figure and axes, or the figure of the axes given."""
    if ax is not None:
        return ax.figure, ax
    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


def _title(ax, title, default):
    ax.set_title(default if title is None else title, fontsize=FONT + 2, loc="left")


def _bytes_to_area(values, biggest):
    """Marker area (points²) for byte counts: 15 for a byte, 260 for the biggest."""
    biggest = max(biggest, 1)
    return [15 + 245 * math.sqrt(max(v, 0) / biggest) for v in values]


# --- the timeline ------------------------------------------------------------------


def timeline(trace, *, start=None, end=None, ax=None, title=None):
    """One lane per descriptor, the loop's lane on top; ``start``/``end`` in seconds."""
    window = trace.window(start, end)
    events = window.events
    names = lane_labels(trace)
    fds = _lanes(events)
    lane = {fd: row for row, fd in enumerate(fds, start=1)}
    figure, ax = _figure(ax, (13, max(3.2, 0.55 * (len(fds) + 1) + 1.8)))

    selects = _selects_around(trace, start, end)
    first_event = events[0]["t"] if events else 0.0
    t_first = start if start is not None else min((e["began"] for e in selects), default=first_event)
    t_last = end if end is not None else (events[-1]["t"] if events else 1.0)

    # The loop lane: grey while select() blocked, orange while handlers ran.
    blocked = [(e["began"], e["blocked"]) for e in selects]
    busy = [(a["began"] + a["blocked"], b["began"] - a["began"] - a["blocked"])
            for a, b in zip(selects, selects[1:])]
    ax.broken_barh(blocked, (-0.35, 0.7), facecolors=BLOCKED, label="select() blocked")
    ax.broken_barh(busy, (-0.35, 0.7), facecolors=BUSY, label="busy: handlers, timers")
    # Faint shading through every lane while blocked: nobody runs then.
    ax.broken_barh(blocked, (0.5, len(fds)), facecolors=BLOCKED, alpha=0.18, zorder=0)

    # Write interest: a thin band while the descriptor was watched for writing.
    bands = _write_interest(selects)
    labelled = False
    for fd, spans in bands.items():
        if fd in lane:
            ax.broken_barh(spans, (lane[fd] + 0.25, 0.1), facecolors=WRITABLE, alpha=0.5, zorder=1,
                           label=None if labelled else "watched for writing (output queued)")
            labelled = True

    _readiness_marks(ax, selects, lane)
    _io_marks(ax, events, lane)

    ax.set_yticks(range(len(fds) + 1))
    ax.set_yticklabels([f"{window.header.get('backend') or 'select'}()"] +
                       [f"fd {fd}  {names.get(fd, '')}".rstrip() for fd in fds], fontsize=FONT)
    ax.set_ylim(len(fds) + 0.6, -0.6)   # the loop on top
    ax.set_xlim(t_first, t_last if t_last > t_first else t_first + 1e-3)
    ax.set_xlabel("seconds since the trace began", fontsize=FONT)
    ax.tick_params(axis="x", labelsize=FONT - 1)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=FONT - 2, frameon=False,
              markerscale=0.8)
    _title(ax, title, f"What the {window.header.get('backend') or 'select'}() loop did, "
                      f"descriptor by descriptor")
    return figure


def _readiness_marks(ax, selects, lane):
    """A ▼ above a lane when select() returned it readable, a ▲ below when writable."""
    marks = {"r": ([], []), "w": ([], [])}
    for e in selects:
        woke = e["began"] + e["blocked"]
        for key, ready in (("r", e["ready_read"]), ("w", e["ready_write"])):
            for fd in ready:
                if fd in lane:
                    marks[key][0].append(woke)
                    marks[key][1].append(lane[fd] - 0.3 if key == "r" else lane[fd] + 0.3)
    ax.scatter(*marks["r"], marker="v", s=40, color=READABLE, zorder=3, label="select(): readable")
    ax.scatter(*marks["w"], marker="^", s=40, color=WRITABLE, zorder=3, label="select(): writable")


def _io_marks(ax, events, lane):
    """recv just above the lane's line, send just below (area ~ bytes); accepts and closes."""
    recvs = [e for e in events if e["kind"] == "recv" and e["fd"] in lane]
    sends = [e for e in events if e["kind"] == "send" and e["fd"] in lane]
    biggest = max([e["bytes"] for e in recvs] + [e["sent"] for e in sends] + [1])
    ax.scatter([e["t"] for e in recvs], [lane[e["fd"]] - 0.1 for e in recvs], marker="o", alpha=0.85,
               s=_bytes_to_area([e["bytes"] for e in recvs], biggest), color=RECV, zorder=5,
               edgecolors="white", linewidths=0.5, label="recv() (area ~ bytes)")
    ax.scatter([e["t"] for e in sends], [lane[e["fd"]] + 0.1 for e in sends], marker="s", alpha=0.8,
               s=_bytes_to_area([e["sent"] for e in sends], biggest), color=SEND, zorder=4,
               edgecolors="white", linewidths=0.5, label="send() (area ~ bytes)")
    partial = [e for e in sends if e["sent"] < e["asked"]]
    if partial:
        ax.scatter([e["t"] for e in partial], [lane[e["fd"]] + 0.1 for e in partial], marker="s", s=160,
                   facecolors="none", edgecolors=OTHER, linewidths=1.2, zorder=5,
                   label="partial send (kernel took less)")

    # Accepts (on the listener's lane, at the new descriptor) and closes.
    accepts = [e for e in events if e["kind"] == "accept" and e["fd"] in lane]
    closes = [e for e in events if e["kind"] == "close" and e["fd"] in lane]
    if accepts:
        ax.scatter([e["t"] for e in accepts], [lane[e["fd"]] for e in accepts], marker="*", s=150,
                   color="#F0E442", edgecolors=OTHER, linewidths=0.8, zorder=5, label="accepted")
    if closes:
        ax.scatter([e["t"] for e in closes], [lane[e["fd"]] for e in closes], marker="X", s=90,
                   color=OTHER, zorder=5, label="closed")


def _lanes(events):
    """The descriptors that appear in these events, in order of number."""
    fds = set()
    for e in events:
        if e["kind"] == "select":
            fds.update(e["read"], e["write"])
        elif "fd" in e:
            fds.add(e["fd"])
    return sorted(fds)


def _selects_around(trace, start, end):
    """The select events of the window ``start``..``end``, and the one just
    before and just after it: a busy stretch of the loop (between two calls)
    or a write band that runs across an edge of the window is drawn too."""
    start = float("-inf") if start is None else start
    end = float("inf") if end is None else end
    selects = trace.of("select")
    before = [e for e in selects if e["t"] < start][-1:]
    after = [e for e in selects if e["began"] > end][:1]
    return before + [e for e in selects if e["t"] >= start and e["began"] <= end] + after


def _write_interest(selects):
    """``{fd: [(start, length)]}``: when each descriptor was watched for writing.

    From the ``write`` list of each select event: a span runs from the start
    of the first call that watched the descriptor for writing to the return
    of the last one in a row that did.
    """
    since, last, spans = {}, {}, defaultdict(list)   # fd -> start of its span, end of its latest call
    for e in selects:
        watched = set(e["write"])
        for fd in [fd for fd in since if fd not in watched]:
            spans[fd].append((since[fd], last.pop(fd) - since.pop(fd)))
        for fd in watched:
            since.setdefault(fd, e["began"])
            last[fd] = e["t"]
    for fd, t in since.items():
        spans[fd].append((t, max(last[fd], t) - t))
    return spans


# --- utilisation -------------------------------------------------------------------


def utilisation(trace, *, bins=40, ax=None, title=None):
    """Per slice of time: the share the loop spent blocked in select() vs busy."""
    figure, ax = _figure(ax, (11, 4.2))
    total = utilisation_summary(trace)
    width = total.span / bins if total.span > 0 else 1.0
    rows = utilisation_bins(trace, width)
    starts = [r[0] for r in rows]
    lengths = [max(min(width, r[1] + r[2]), 1e-12) for r in rows]
    busy = [100 * r[2] / n for r, n in zip(rows, lengths)]
    blocked = [100 * r[1] / n for r, n in zip(rows, lengths)]
    ax.bar(starts, busy, width=width, align="edge", color=BUSY, label="busy: handlers, timers, the loop")
    ax.bar(starts, blocked, width=width, align="edge", bottom=busy, color=BLOCKED,
           label="blocked in select(): waiting")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of each slice", fontsize=FONT)
    ax.set_xlabel(f"seconds since the trace began (slices of {width * 1000:.3g} ms)", fontsize=FONT)
    ax.tick_params(labelsize=FONT - 1)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=FONT - 2, frameon=False)
    _title(ax, title, f"Busy {100 * total.busy_fraction:.1f}% of {total.span:.2f} s, "
                      f"{total.calls} select() calls ({total.calls_per_second:.0f}/s)")
    return figure


# --- ready-set sizes ------------------------------------------------------------------


def ready_histogram(trace, *, ax=None, title=None):
    """How many descriptors each select() call returned ready (readable + writable)."""
    figure, ax = _figure(ax, (9, 4.2))
    sizes = ready_sizes(trace)
    counts = sorted(sizes.ready.items())
    xs = [size for size, _ in counts]
    bars = ax.bar(xs, [n for _, n in counts], color=READABLE, width=0.8, label="select() calls")
    ax.bar_label(bars, fontsize=FONT - 2, padding=2)
    ax.set_xticks(xs if len(xs) <= 25 else xs[:: max(1, len(xs) // 20)])
    ax.set_xlabel("descriptors ready when select() returned (0: a timeout)", fontsize=FONT)
    ax.set_ylabel("select() calls", fontsize=FONT)
    ax.tick_params(labelsize=FONT - 1)
    ax.margins(y=0.12)
    _title(ax, title, f"Ready-set sizes: on average {sizes.mean:.2f} ready "
                      f"of {sizes.watched_mean:.1f} watched")
    return figure


# --- latency -----------------------------------------------------------------------------


def latency(trace, *, ax=None, title=None):
    """Each delivery of each message: its time inside the server, by when it was sent."""
    figure, ax = _figure(ax, (11, 4.5))
    result = latencies(trace)
    deliveries = result.deliveries
    senders = sorted({d.sender for d in deliveries})
    palette = [RECV, SEND, READABLE, BUSY, "#CC79A7", WRITABLE, "#F0E442", OTHER]
    colour = {s: palette[i % len(palette)] for i, s in enumerate(senders)}
    for sender in senders[:8]:
        mine = [d for d in deliveries if d.sender == sender]
        ax.scatter([d.sent_at for d in mine], [d.latency * 1000 for d in mine], s=22, alpha=0.75,
                   color=colour[sender], label=f"from {sender}")
    if len(senders) > 8:
        rest = [d for d in deliveries if d.sender in set(senders[8:])]
        ax.scatter([d.sent_at for d in rest], [d.latency * 1000 for d in rest], s=22, alpha=0.5,
                   color="#777777", label=f"from {len(senders) - 8} others")
    bounds = [d for d in deliveries if not d.exact]
    if bounds:
        ax.scatter([d.sent_at for d in bounds], [d.latency * 1000 for d in bounds], s=70,
                   facecolors="none", edgecolors=OTHER, label="upper bound (partial sends)")
    for q, style in ((0.5, "-"), (0.9, "--")):
        value = result.quantile(q)
        if value is not None:
            ax.axhline(value * 1000, color=OTHER, linestyle=style, linewidth=1,
                       label=f"{'median' if q == 0.5 else 'p90'} {value * 1000:.2f} ms")
    values = [d.latency for d in deliveries if d.latency > 0]
    if values and max(values) / min(values) > 100:
        ax.set_yscale("log")
    ax.set_xlabel("seconds since the trace began (when the server read the message)", fontsize=FONT)
    ax.set_ylabel("ms until sent to the recipient", fontsize=FONT)
    ax.tick_params(labelsize=FONT - 1)
    ax.grid(alpha=0.3)
    if deliveries:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=FONT - 2, frameon=False)
    else:
        ax.text(0.5, 0.5, "no messages in this trace", transform=ax.transAxes, ha="center",
                fontsize=FONT + 2, color="#777777")
    _title(ax, title, f"Message latency inside the server: {len(deliveries)} deliveries "
                      f"of {result.messages} messages")
    return figure
