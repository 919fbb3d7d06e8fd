"""A notebook view of a trace file being written: the live page's picture, in ipywidgets.

::

    from selectchat.trace.live_widget import watch_trace
    view = watch_trace("class.jsonl")     # a server runs with --trace class.jsonl
    view                                  # last in a cell: rooms, passes/s, busiest fds, timeline
    ...
    view.stop()

:class:`LiveTraceView` reads the file twice a second (a daemon thread calls
:meth:`~LiveTraceView.refresh`; a test calls it directly) through a
:class:`~.follow.TraceFollower`, and redraws one HTML widget.  It stops by
itself when the trace's ``end`` event arrives (the server shut down).
ipywidgets is an optional extra (``pip install 'selectchat[notebooks]'``):
it is imported when a view is made.  Every name it shows was chosen by a
user, so every one is escaped.
"""

import html
import threading
from collections import deque

from .follow import TraceFollower

HISTORY = 60     # refreshes drawn on the timeline (30 s at two a second)
ROWS = 8         # descriptors on the timeline


class LiveTraceView:
    """Follow ``path`` and show it; ``.widget`` is what a notebook displays."""

    def __init__(self, path, interval=0.5, show_text=False, window=2.0):
        import ipywidgets as widgets

        self.follower = TraceFollower(path, window=window, show_text=show_text)
        self.interval = interval
        self.history = deque(maxlen=HISTORY)   # one view per refresh, for the timeline
        self.html = widgets.HTML()
        self.widget = widgets.VBox([self.html])
        self._stopping = threading.Event()
        self._thread = None
        self.refresh()

    def refresh(self):
        """Read what the server wrote since the last look; redraw."""
        self.follower.poll()
        view = self.follower.view()
        self.history.append(view)
        self.html.value = render(view, self.history)
        return view

    def start(self):
        """Refresh every ``interval`` seconds, in a daemon thread, until :meth:`stop` or the trace ends."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="live-trace-view", daemon=True)
            self._thread.start()
        return self

    def _run(self):
        while not self._stopping.wait(self.interval):
            if self.refresh()["ended"]:
                return

    def stop(self):
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def _repr_mimebundle_(self, **kwargs):   # a notebook shows the widget
        return self.widget._repr_mimebundle_(**kwargs)


def watch_trace(path, interval=0.5, show_text=False):
    """A started :class:`LiveTraceView` of ``path``: leave it last in a cell to see it."""
    return LiveTraceView(path, interval, show_text).start()


# --- drawing: HTML strings, every user-chosen name escaped ---------------------------

def render(view, history):
    e = html.escape
    state = "the server stopped (end of trace)" if view["ended"] else f"t = {view['t']:.1f} s"
    stats = (f"<b>{view['passes_per_s']:.0f}</b> passes/s &nbsp; <b>{view['busy'] * 100:.1f} %</b> busy &nbsp; "
             f"<b>{view['passes']}</b> passes &nbsp; <span style='color:#777'>{e(state)}</span>")
    rooms = "".join(
        f"<div><b>{e(room['name'])}</b> {len(room['members'])}: "
        + " ".join(f"<code>{e(nick)}</code>" for nick in room["members"]) + "</div>"
        for room in view["rooms"]) or "<i>no rooms yet</i>"
    rows = "".join(
        f"<tr><td>{d['fd']}</td><td>{e(d['label'])}</td><td>{d['ready_read']}/{d['ready_write']}</td>"
        f"<td>{d['bytes_in']}</td><td>{d['bytes_out']}</td></tr>" for d in view["descriptors"])
    events = "<br>".join(f"<span style='color:#777'>{event['t']:.2f}</span> {e(event['text'])}"
                         for event in reversed(view["events"][-12:]))
    return (f"<div style='font-family:sans-serif'><div>{stats}</div>"
            f"<div style='display:flex;gap:2em;align-items:flex-start'>"
            f"<div><h4>Rooms</h4>{rooms}</div>"
            f"<div><h4>Timeline (newest on the right)</h4>{timeline_svg(history)}</div>"
            f"<div><h4>Busiest descriptors (last 2 s)</h4>"
            f"<table><tr><th>fd</th><th>who</th><th>ready r/w</th><th>in</th><th>out</th></tr>{rows}</table>"
            f"<h4>What happened</h4><div style='font-family:monospace;font-size:12px'>{events}</div></div>"
            f"</div></div>")


def timeline_svg(history, width=420, row=18):
    """One row per busy descriptor, one column per refresh: blue received, orange sent."""
    totals = {}
    for view in history:
        for d in view["descriptors"]:
            label, seen = totals.get(d["fd"], ("", 0))
            totals[d["fd"]] = (d["label"], seen + d["bytes_in"] + d["bytes_out"] + d["ready_read"] + d["ready_write"])
    fds = sorted(sorted(totals, key=lambda fd: totals[fd][1], reverse=True)[:ROWS])
    label_width, cell = 120, (width - 120) / HISTORY
    parts = [f"<text x='2' y='{row * 0.7}' font-size='11'>loop busy</text>"]
    parts += [f"<text x='2' y='{row * (i + 1.7)}' font-size='11'>{fd} {html.escape(totals[fd][0][:14])}</text>"
              for i, fd in enumerate(fds)]
    for column, view in enumerate(history):
        x = label_width + (HISTORY - len(history) + column) * cell
        parts.append(f"<rect x='{x:.1f}' y='2' width='{cell:.1f}' height='{row - 4}' fill='#3a9d5d' "
                     f"opacity='{min(1.0, 0.1 + view['busy'] * 3):.2f}'/>")
        for d in view["descriptors"]:
            if d["fd"] not in fds:
                continue
            y = row * (fds.index(d["fd"]) + 1)
            if d["bytes_in"] or d["ready_read"]:
                parts.append(f"<rect x='{x:.1f}' y='{y + 2}' width='{cell:.1f}' height='{row / 2 - 2}' "
                             f"fill='#3b82c4'/>")
            if d["bytes_out"] or d["ready_write"]:
                parts.append(f"<rect x='{x:.1f}' y='{y + row / 2}' width='{cell:.1f}' height='{row / 2 - 2}' "
                             f"fill='#e0903a'/>")
    height = row * (len(fds) + 1) + 4
    return f"<svg width='{width}' height='{height}' style='background:#fafafa'>{''.join(parts)}</svg>"
