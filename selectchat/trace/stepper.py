"""Step through a recorded loop, one ``select()`` pass at a time (a notebook widget).

``step_through(trace)`` shows one pass of the loop at a time, as it really
ran (nothing here is simulated: every bit and byte is from the trace):

* the read and write sets handed to ``select()``, drawn as the bit arrays an
  ``fd_set`` is -- bit *n* set means "watch descriptor *n*" -- and the same
  arrays as the kernel returned them: only the ready bits still set;
* how long the call blocked, its timeout, and why it returned (a
  descriptor, a signal on the self-pipe, a timer);
* for each ready descriptor, the handler that ran and what it did: bytes
  received and lines completed, what the chat core decided, bytes offered to
  ``send()`` and how many the kernel took (a partial send, an EAGAIN), what
  stayed in the output buffer, write interest turned on or off;
* the timers that ran, and how long the pass held the loop;
* a timeline with a cursor on the pass.

Buttons step back and forth, *play* walks through the passes, and *next
event on* jumps to the next pass that touches a chosen descriptor.

:func:`describe` (the facts of one pass) and :func:`pass_html` (them, drawn
in HTML) need no widgets; :class:`Stepper` puts them in ipywidgets, which
it imports when it is built: ``pip install 'selectchat[notebooks]'``.
"""

import html
from dataclasses import dataclass, field

from .passes import DESCRIPTOR, NOTHING, SIGNAL, TIMER
from .passes import passes as cut_into_passes

FD_COLOURS = {"read": "#009E73", "write": "#56B4E9"}   # as in plot.py: readable green, writable blue
BUSY, BLOCKED, CURSOR = "#E69F00", "#BBBBBB", "#D55E00"


# --- the facts of one pass ------------------------------------------------------------------


@dataclass
class Handled:
    """What happened on one descriptor during a pass."""

    fd: int
    label: str
    handler: str                 # the handler's class, from its register event ("?" if before the trace)
    readable: bool = False
    writable: bool = False
    lines: list = field(default_factory=list)   # sentences, in order


@dataclass
class PassFacts:
    """Everything :func:`pass_html` draws for one pass."""

    index: int
    number: int
    woke: float
    blocked: float
    timeout: float | None
    woke_by: str
    busy: float
    read: list
    write: list
    ready_read: list
    ready_write: list
    handled: list                # [Handled], the ready descriptors first
    timers: list                 # sentences
    other: list                  # events of the pass on no descriptor (chat events from timers...)


def describe(trace_passes, index, handlers):
    """The facts of pass ``index`` of ``trace_passes``; ``handlers``: {fd: class name} at that pass."""
    p = trace_passes[index]
    s = p.select
    rows = {}

    def row(fd):
        if fd not in rows:
            rows[fd] = Handled(fd, p.labels.get(fd, f"fd {fd}"), handlers.get(fd, "?"))
        return rows[fd]

    for fd in s["ready_read"]:
        row(fd).readable = True
    for fd in s["ready_write"]:
        row(fd).writable = True
    timers, other = _tell_events(p, row)
    if index + 1 < len(trace_passes):   # a change of interest shows in the next call's write set
        before, after = set(s["write"]), set(trace_passes[index + 1].select["write"])
        gone = {e["fd"] for e in p.events if e["kind"] == "unregister"}
        for fd in sorted(after - before):
            row(fd).lines.append("write interest ON: output is queued, watch it for writing")
        for fd in sorted(before - after - gone):
            row(fd).lines.append("write interest OFF: the output buffer is empty")
    handled = sorted(rows.values(), key=lambda h: (not (h.readable or h.writable), h.fd))
    return PassFacts(index, p.number, p.woke, s["blocked"], s["timeout"], p.woke_by, p.busy,
                     s["read"], s["write"], s["ready_read"], s["ready_write"], handled, timers, other)


def _tell_events(p, row):
    """Each event of pass ``p`` in words, on the row of the descriptor it concerns.

    An accept goes to the listening socket that was readable (its handler
    made it); a chat event to the descriptor of the user it names, as named
    at that moment.  Returns the sentences about timers, and the rest.
    """
    timers, other = [], []
    nick_fd = {label: fd for fd, label in p.labels.items()}
    nick_fd.update((e["label"], e["fd"]) for e in p.events if e["kind"] == "label")   # named in this pass
    listeners = [fd for fd in p.select["ready_read"] if "listen" in p.labels.get(fd, "")]
    for event in p.events:
        kind, sentence = event["kind"], _sentence(event)
        if sentence is None:
            continue
        if kind == "timer":
            timers.append(sentence)
        elif kind == "accept" and listeners:
            row(listeners[0]).lines.append(sentence)
        elif kind == "register":
            row(event["fd"]).handler = event.get("handler", "?")
            row(event["fd"]).label = event["label"]
            row(event["fd"]).lines.append(sentence)
        elif "fd" in event:
            if kind == "label":
                row(event["fd"]).label += f" → {event['label']}"
            row(event["fd"]).lines.append(sentence)
        elif kind == "app" and nick_fd.get(_who(event)) is not None:
            row(nick_fd[_who(event)]).lines.append(sentence)
        else:
            other.append(sentence)
    return timers, other


def _who(event):
    """The user a chat event is about: the sender of a message, who joined, who created a room..."""
    return event.get("sender") or event.get("nick") or event.get("by")


def _sentence(event):
    """One event of a pass, in words (None: not worth a line)."""
    kind = event["kind"]
    if kind == "recv":
        if event["bytes"] == 0:
            return "recv() → b'' : end of file, the peer closed"
        lines = event.get("lines")
        framed = "" if lines is None else f", {lines} complete line{'s' if lines != 1 else ''}"
        return f"recv() → {event['bytes']} bytes{framed}"
    if kind == "send":
        left = event["asked"] - event["sent"]
        partial = f" — PARTIAL send, {left} bytes stay in the buffer" if left else ", buffer now empty"
        return f"send({event['asked']} bytes) → the kernel took {event['sent']}{partial}"
    if kind == "eagain":
        asked = f" ({event['asked']} bytes waiting)" if "asked" in event else ""
        return f"{event.get('call', 'call')}() → EAGAIN: would block, try on the next readiness{asked}"
    if kind == "accept":
        return f"accept() → new connection fd {event['fd']} from {event['peer']}"
    if kind == "close":
        return f"close(): {event['reason']}"
    if kind == "slow":
        return f"{event['call']}() took {event['took'] * 1000:.1f} ms (the loop waited)"
    if kind == "register":
        return f"registered as {event['label']!r} (handler {event.get('handler', '?')})"
    if kind == "label":
        return f"now called {event['label']!r}"
    if kind == "unregister":
        return "unregistered: no longer watched"
    if kind == "timer":
        return f"timer {event['callback']} ran ({event['took'] * 1000:.2f} ms, {event['late'] * 1000:.1f} ms late)"
    if kind == "app":
        what = event.get("event")
        count = event.get("count", 1)
        if what == "message":
            many = f"{count} messages" if count > 1 else "a message"
            members = f"{event['recipients']} member{'s' if event['recipients'] != 1 else ''}"
            return (f"chat: {many} from {event['sender']} to {event['room']} → relay to "
                    f"{members} ({event.get('bytes', 0)} bytes each)")
        return f"chat: {event.get('text') or what}"
    return None


# --- drawing it --------------------------------------------------------------------------------


def pass_html(facts, trace_passes, fd_bits, overview=None):
    """One pass as HTML: header, fd_set bit arrays, what each handler did, a timeline with a cursor."""
    e = html.escape
    timeout = "None (wait for ever)" if facts.timeout is None else f"{facts.timeout * 1000:.1f} ms"
    why = {DESCRIPTOR: f"{len(set(facts.ready_read + facts.ready_write))} descriptor(s) ready",
           SIGNAL: "a signal (its byte arrived on the self-pipe)",
           TIMER: "the timeout passed: a timer was due",
           NOTHING: "nothing ready (interrupted?)"}[facts.woke_by]
    out = [f"<div style='font-family:sans-serif;font-size:13px;line-height:1.35'>",
           f"<div style='font-size:15px'><b>pass {facts.number}</b> &nbsp; at {facts.woke:.6f} s &nbsp;·&nbsp; "
           f"select() blocked <b>{facts.blocked * 1000:.3f} ms</b> (timeout {timeout}) &nbsp;·&nbsp; "
           f"returned because: <b>{e(why)}</b> &nbsp;·&nbsp; the handlers then held the loop "
           f"{facts.busy * 1000:.3f} ms</div>",
           _fd_sets(facts, fd_bits),
           "<table style='border-collapse:collapse;margin-top:6px;font-size:13px'>"]
    for h in facts.handled:
        ready = ", ".join(w for w, on in (("readable", h.readable), ("writable", h.writable)) if on) or "not ready"
        call = (" → " + " + ".join(m for m, on in (("handle_read()", h.readable), ("handle_write()", h.writable))
                                     if on)) if h.readable or h.writable else ""
        body = "<br>".join(e(line) for line in h.lines) or "<i>(nothing recorded)</i>"
        out.append(f"<tr style='border-top:1px solid #ddd'><td style='padding:3px 10px 3px 0;vertical-align:top;"
                   f"white-space:nowrap'><b>fd {h.fd}</b> {e(h.label)}<br><span style='color:#666'>{e(h.handler)}"
                   f": {ready}{call}</span></td><td style='padding:3px 0;vertical-align:top'>{body}</td></tr>")
    for title, lines in (("timers", facts.timers), ("other", facts.other)):
        if lines:
            out.append(f"<tr style='border-top:1px solid #ddd'><td style='padding:3px 10px 3px 0'><b>{title}</b>"
                       f"</td><td>{'<br>'.join(e(line) for line in lines)}</td></tr>")
    out.append("</table>")
    out.append(timeline_svg(trace_passes, facts.index, overview=overview))
    out.append("</div>")
    return "".join(out)


def fd_set_bits(fds, fd_bits):
    """An fd_set as the bits it holds: ``"1001..."``, bit 0 (descriptor 0) first."""
    on = set(fds)
    return "".join("1" if n in on else "0" for n in range(fd_bits))


def _fd_sets(facts, fd_bits):
    """The four fd_sets as rows of bits: what select() was given, what it gave back."""
    rows = [("readfds given", facts.read, "read"), ("readfds returned", facts.ready_read, "read"),
            ("writefds given", facts.write, "write"), ("writefds returned", facts.ready_write, "write")]
    cell = "width:13px;height:15px;text-align:center;font-size:9px;font-family:monospace;"
    head = "".join(f"<td style='{cell}color:#888'>{n if n % 4 == 0 else ''}</td>" for n in range(fd_bits))
    out = ["<table style='border-collapse:separate;border-spacing:1px;margin-top:6px'>",
           f"<tr><td style='font-size:11px;color:#888;padding-right:6px'>bit (descriptor)</td>{head}</tr>"]
    for name, fds, kind in rows:
        bits = "".join(f"<td style='{cell}background:{FD_COLOURS[kind] if bit == '1' else '#f2f2f2'};"
                       f"color:{'white' if bit == '1' else '#bbb'}'>{bit}</td>" for bit in fd_set_bits(fds, fd_bits))
        out.append(f"<tr data-fdset='{fd_set_bits(fds, fd_bits)}'><td style='font-size:11px;padding-right:6px;"
                   f"white-space:nowrap'>{name}</td>{bits}</tr>")
    out.append("</table>")
    return "".join(out)


def timeline_svg(trace_passes, index, width=900, around=12, overview=None):
    """Two strips: the whole trace with a cursor, and the passes around this one, blocked vs busy.

    ``overview``: :func:`overview_strip` of these passes, if already made (it is the same at every step).
    """
    if not trace_passes:
        return ""
    first, last = _span(trace_passes)
    current = trace_passes[index]
    x = (current.woke - first) / max(last - first, 1e-9) * width
    parts = [f"<svg width='{width + 20}' height='92' style='margin-top:8px;font-family:sans-serif'>",
             f"<text x='0' y='10' font-size='10' fill='#666'>the whole trace ({last - first:.3f} s): "
             f"pass {index + 1} of {len(trace_passes)}</text>",
             overview if overview is not None else overview_strip(trace_passes, width),
             f"<line x1='{x:.1f}' x2='{x:.1f}' y1='11' y2='27' stroke='{CURSOR}' stroke-width='2'/>"]
    near = trace_passes[max(0, index - around): index + around + 1]
    start, end = near[0].select["began"], max(near[-1].end, near[-1].woke)
    scale = width / max(end - start, 1e-9)
    parts.append(f"<text x='0' y='44' font-size='10' fill='#666'>passes {near[0].index + 1}–{near[-1].index + 1} "
                 f"({(end - start) * 1000:.1f} ms): grey = blocked in select(), orange = handlers ran</text>")
    for p in near:
        began = p.select["began"]
        parts.append(f"<rect x='{(began - start) * scale:.1f}' y='50' width='{max(0.5, (p.woke - began) * scale):.1f}'"
                     f" height='16' fill='{BLOCKED}'/>")
        parts.append(f"<rect x='{(p.woke - start) * scale:.1f}' y='50' width='{max(1.0, p.busy * scale):.1f}'"
                     f" height='16' fill='{BUSY}'/>")
    cx = (current.woke - start) * scale
    parts.append(f"<line x1='{cx:.1f}' x2='{cx:.1f}' y1='46' y2='70' stroke='{CURSOR}' stroke-width='2'/>")
    parts.append(f"<text x='{min(cx + 3, width - 60):.1f}' y='82' font-size='10' fill='{CURSOR}'>"
                 f"pass {current.number}</text></svg>")
    return "".join(parts)


def overview_strip(trace_passes, width=900):
    """The whole trace in ``width`` pixels: grey, and orange as dense as the loop was busy there.

    Busy time is summed per pixel, so a trace of a million passes is still
    at most ``width`` rectangles.
    """
    first, last = _span(trace_passes)
    per_pixel = max(last - first, 1e-9) / width
    busy = [0.0] * width   # seconds of busy loop in each pixel
    for p in trace_passes:
        left, right = (p.woke - first) / per_pixel, (p.woke + p.busy - first) / per_pixel
        x = int(left)
        while x < min(right, width):   # spread over the pixels it covers
            busy[x] += (min(right, x + 1) - max(left, x)) * per_pixel
            x += 1
    parts = [f"<rect x='0' y='14' width='{width}' height='10' fill='{BLOCKED}'/>"]
    for x, seconds in enumerate(busy):
        if seconds > 0:
            share = min(1.0, seconds / per_pixel)
            parts.append(f"<rect x='{x}' y='14' width='1' height='10' fill='{BUSY}' "
                         f"fill-opacity='{max(0.3, share):.2f}'/>")
    return "".join(parts)


def _span(trace_passes):
    return trace_passes[0].select["began"], max(trace_passes[-1].end, trace_passes[-1].woke)


# --- the widget ---------------------------------------------------------------------------------


class Stepper:
    """The step-through view of a trace; ``.widget`` is what a notebook displays.

    ``index`` is the pass shown (0: the first); :meth:`go`, :meth:`next`,
    :meth:`previous` and :meth:`next_event_on` move it, as the buttons do.
    """

    def __init__(self, trace, start=0):
        import ipywidgets as widgets

        self.trace = trace
        self.passes = cut_into_passes(trace)
        if not self.passes:
            raise ValueError("this trace has no select events: nothing to step through")
        self._handlers = self._handler_names()
        self._overview = overview_strip(self.passes)   # the same at every step: drawn once
        fds = {fd for p in self.passes for fd in p.select["read"] + p.select["write"]}
        self.fd_bits = max(8, (max(fds, default=0) // 8 + 1) * 8)   # whole bytes, as an fd_set is
        count = len(self.passes)   # the slider counts passes from 1, as the loop does
        self.slider = widgets.IntSlider(value=1, min=1, max=count, description="pass", continuous_update=False,
                                        layout=widgets.Layout(width="420px"))
        self.play = widgets.Play(value=1, min=1, max=count, interval=700, description="play")
        widgets.link((self.play, "value"), (self.slider, "value"))
        self.previous_button = widgets.Button(description="◀ previous", layout=widgets.Layout(width="110px"))
        self.next_button = widgets.Button(description="next ▶", layout=widgets.Layout(width="110px"))
        labels = {fd: label for p in self.passes for fd, label in p.labels.items()}
        self.fd_menu = widgets.Dropdown(options=[(f"fd {fd}: {labels.get(fd, '?')}", fd) for fd in sorted(fds)],
                                        description="descriptor", layout=widgets.Layout(width="260px"))
        self.jump_button = widgets.Button(description="next event on it ▶▶", layout=widgets.Layout(width="170px"))
        self.view = widgets.HTML()
        self.previous_button.on_click(lambda _: self.previous())
        self.next_button.on_click(lambda _: self.next())
        self.jump_button.on_click(lambda _: self.next_event_on(self.fd_menu.value))
        self.slider.observe(lambda change: self._show(), names="value")
        controls = widgets.HBox([self.previous_button, self.next_button, self.play, self.slider])
        jump = widgets.HBox([self.fd_menu, self.jump_button])
        self.widget = widgets.VBox([controls, jump, self.view])
        self.go(start)
        self._show()

    @property
    def index(self):
        """The pass shown, counted from 0 (the slider shows it from 1)."""
        return self.slider.value - 1

    def go(self, index):
        self.slider.value = max(0, min(index, len(self.passes) - 1)) + 1

    def next(self):
        self.go(self.index + 1)

    def previous(self):
        self.go(self.index - 1)

    def next_event_on(self, fd):
        """Move to the next pass where ``fd`` was ready or had an event; stay if there is none."""
        for p in self.passes[self.index + 1:]:
            if fd in p.select["ready_read"] or fd in p.select["ready_write"] or p.on(fd):
                return self.go(p.index)
        return None

    def facts(self):
        """The facts of the pass shown (:class:`PassFacts`)."""
        return describe(self.passes, self.index, self._handlers[self.index])

    def html(self):
        return pass_html(self.facts(), self.passes, self.fd_bits, self._overview)

    def _show(self):
        self.view.value = self.html()

    def _repr_mimebundle_(self, **kwargs):   # a notebook shows the widget
        return self.widget._repr_mimebundle_(**kwargs)

    def _handler_names(self):
        """For each pass, {fd: handler class} as it began (from the register events)."""
        names, per_pass = {}, []
        events = iter(self.trace.events)
        for p in self.passes:
            for event in events:
                if event is p.select:
                    break
                if event["kind"] == "register":
                    names[event["fd"]] = event.get("handler", "?")
            per_pass.append(dict(names))
        return per_pass


def step_through(trace, start=0):
    """A :class:`Stepper` over ``trace``: leave it last in a cell to see it, or drive it from code."""
    return Stepper(trace, start)
