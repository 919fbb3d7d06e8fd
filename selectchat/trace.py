"""Traces of the event loop: record each step, keep it, save it, read it back.

The loop and the server call an *observer* at every step -- each
``select()`` call, each accept/recv/send/close, each chat event (see
``docs/trace-format.md`` for the full list).  :class:`Recorder` is that
observer.  It

* stamps each event with the time (``time.monotonic()``),
* keeps the newest ``size`` events in memory (a ring buffer: a trace never
  grows without bound, however long the server runs),
* optionally streams every event to a JSON Lines file, and
* gives a live :meth:`~Recorder.snapshot` to code in the same process (a
  notebook running a loop, say).

Recording must not change what it records, so :meth:`Recorder.record` does
as little as possible: it appends a tuple.  When a file is being written,
the loop thread only hands batches of those tuples to a writer thread, which
passes them to a child process that turns them into JSON and writes them: a
slow disk delays the file, never ``select()``, and the JSON can be made on
another core.

Reading: :func:`load` turns a file back into a :class:`Trace` (a header and
a list of events, each a plain dict), and the functions below summarise it:
:func:`utilisation`, :func:`per_descriptor`, :func:`ready_sizes`,
:func:`latencies`, all gathered by :func:`summarize`.  Plotting lives in
:mod:`selectchat.plot`; this module needs only the standard library.

Example::

    from selectchat.loop import EventLoop
    from selectchat.trace import Recorder, summarize
    recorder = Recorder(size=10_000)
    loop = EventLoop(observer=recorder)
    ...                                  # register sockets, run the loop
    print(summarize(recorder.snapshot()).text())
"""

import json
import marshal
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass

from .trace_writer import to_dict, write_json

FORMAT = "selectchat-trace"
VERSION = 2   # 2: one `message` event per burst of lines (its `count`); no `interest` events

_now = time.monotonic
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- recording ------------------------------------------------------------------


class Recorder:
    """The observer: ``record(kind, **fields)`` is called by the loop and the server.

    ``size``: how many of the newest events to keep in memory (0: none).
    ``path``: also stream every event to this JSON Lines file.
    ``backend``, ``program``: written into the header, for the reader.
    ``flush_interval``: how often (seconds) batches go to the file at most.
    ``max_backlog``: events waiting for the writer past which new batches are
    dropped -- and counted, in a ``lost`` event -- rather than held in memory.
    ``in_process``: write the JSON from a thread of this process instead of a
    child process (simpler, but it takes CPU time from the loop).
    """

    def __init__(self, size=100_000, path=None, *, backend=None, program="server",
                 flush_interval=0.05, max_backlog=1_000_000, in_process=False):
        self.size = size
        self.events = deque(maxlen=size)     # (monotonic time, kind, fields)
        self.labels = {}                     # fd -> label, kept up to date
        self.start = _now()
        self.header = {"format": FORMAT, "version": VERSION, "program": program,
                       "backend": backend, "pid": os.getpid(), "clock": "monotonic",
                       "start_monotonic": self.start, "start_wall": time.time(),
                       "start_iso": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "ring_size": size,
                       "labels": {}}
        self.recorded = 0        # events seen (the ring keeps only the newest)
        self.path = path
        self._writer = _Writer(path, self, max_backlog, in_process) if path else None
        self._batch = []         # events not yet handed to the writer
        self._handed_at = self.start
        self.flush_interval = flush_interval

    def record(self, kind, **fields):
        """Note one event.  Called on the loop's hot path: keep it cheap."""
        event = (_now(), kind, fields)
        self.events.append(event)
        self.recorded += 1
        if kind in _LABEL_KINDS:
            self._track_label(kind, fields)
        if self._writer is not None:
            self._batch.append(event)
            # One hand-off per pass of the loop at most (a "select" event
            # closes a wait), and only every flush_interval seconds.
            if kind == "select" and event[0] - self._handed_at >= self.flush_interval:
                self.flush()

    def _track_label(self, kind, fields):
        if kind == "unregister":
            self.labels.pop(fields["fd"], None)
        else:
            self.labels[fields["fd"]] = fields["label"]

    def flush(self, force=False):
        """Hand the events recorded so far to the file writer (no waiting).

        ``force``: even if the writer is behind (the last batch, at close).
        """
        if self._writer is not None and self._batch:
            self._writer.put(self._batch, force)
            self._batch = []
        self._handed_at = _now()

    def snapshot(self):
        """The events in the ring buffer now, as a :class:`Trace` (times from the start)."""
        header = dict(self.header, labels=dict(self.labels), snapshot=True,
                      recorded=self.recorded, kept=len(self.events))
        return Trace(header, [to_dict(event, self.start) for event in list(self.events)])

    def close(self):
        """Write everything still pending and an ``end`` event; close the file.

        Call it once the loop has stopped (the server's ``--trace`` does, on
        every clean shutdown).  Idempotent.
        """
        if self._writer is None:
            return
        self.record("end", recorded=self.recorded + 1, lost=self._writer.lost)
        self.flush(force=True)
        self._writer.close()
        self._writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


_LABEL_KINDS = frozenset(("register", "label", "unregister"))


class _Writer:
    """Carries batches of events to the file, away from the loop.

    The loop only puts lists on a queue (no JSON, no system call), so a slow
    disk never makes it block.  A thread takes them from the queue and

    * by default, sends each batch -- serialised with :mod:`marshal`, the
      cheapest way for Python to put its own lists and dicts into bytes -- down
      a pipe to a child process, ``python -S -m selectchat.trace_writer FILE``,
      which turns them into JSON lines.  JSON costs a few microseconds per
      event, a good part of what the server spends on a message; a thread
      would take that time from the server (they share one GIL), another
      process can run on another core;
    * with ``in_process=True``, writes the JSON itself (no child process).

    If the writer falls behind by more than ``max_backlog`` events, further
    batches are dropped and counted; the count is written as a ``lost``
    event, so a reader knows.
    """

    def __init__(self, path, recorder, max_backlog, in_process=False):
        self.start = recorder.start
        with open(path, "w", encoding="utf-8") as file:   # fails here, at once, if it cannot be written
            file.write(json.dumps(dict(recorder.header, labels=_str_keys(recorder.labels))) + "\n")
        self.file = self.child = None
        if in_process:
            self.file = open(path, "a", encoding="utf-8", buffering=1 << 16)
        else:
            # The child imports this selectchat, installed or not.
            path_list = os.pathsep.join(filter(None, [_PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))
            env = dict(os.environ, PYTHONPATH=path_list)
            # -S: no site-packages to scan, so it starts in a fraction of the time.
            self.child = subprocess.Popen([sys.executable, "-S", "-m", "selectchat.trace_writer", str(path),
                                           repr(self.start)], stdin=subprocess.PIPE, env=env)
        self.queue = queue.SimpleQueue()
        self.max_backlog = max_backlog
        self.queued = 0           # events put on the queue (only the loop thread counts)
        self.written = 0          # events passed on (only the writer thread counts)
        self.lost = 0
        self._lost_unreported = 0
        self.thread = threading.Thread(target=self._run, name="trace-writer", daemon=True)
        self.thread.start()

    def put(self, batch, force=False):
        if self.queued - self.written > self.max_backlog and not force:
            self.lost += len(batch)
            self._lost_unreported += len(batch)
            return
        if self._lost_unreported:
            batch.insert(0, (_now(), "lost", {"count": self._lost_unreported}))
            self._lost_unreported = 0
        self.queued += len(batch)
        self.queue.put(batch)

    def _run(self):
        while (batch := self.queue.get()) is not None:
            if self.child is not None:
                data = _pack(batch)
                self.child.stdin.write(len(data).to_bytes(4, "little"))   # a frame: its length, then it
                self.child.stdin.write(data)
                self.child.stdin.flush()   # a killed process loses at most the last batch
            else:
                write_json(batch, self.start, self.file)
            self.written += len(batch)

    def close(self):
        self.queue.put(None)
        self.thread.join()
        if self.child is not None:
            self.child.stdin.close()   # EOF: the child writes what it has and exits
            self.child.wait()
        else:
            self.file.close()


def _pack(batch):
    try:
        return marshal.dumps(batch)
    except ValueError:   # a field marshal cannot take (only str, numbers, lists, dicts...): its str()
        return marshal.dumps([(t, kind, {k: _plain(v) for k, v in fields.items()}) for t, kind, fields in batch])


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _str_keys(labels):
    return {str(fd): label for fd, label in labels.items()}


# --- reading --------------------------------------------------------------------


class TraceError(ValueError):
    """Not a selectchat trace, or a version this code cannot read."""


@dataclass
class Trace:
    """A header and its events.  Each event is a dict: ``t`` (seconds since the
    start of the trace), ``kind``, and the fields of that kind."""

    header: dict
    events: list

    def __iter__(self):
        return iter(self.events)

    def __len__(self):
        return len(self.events)

    def of(self, *kinds):
        """The events of these kinds, in order."""
        return [e for e in self.events if e["kind"] in kinds]

    @property
    def complete(self):
        """Did the recording end cleanly (the last event is ``end``)?"""
        return bool(self.events) and self.events[-1]["kind"] == "end"

    def window(self, start=None, end=None):
        """A trace of the events between ``start`` and ``end`` seconds (either may be None).

        A ``select`` event is kept if its wait overlaps the window.  The
        labels in the header become those known at ``start``.
        """
        start = float("-inf") if start is None else start
        end = float("inf") if end is None else end
        labels = dict(self.header.get("labels", {}))
        kept = []
        for event in self.events:
            first = event["began"] if event["kind"] == "select" else event["t"]
            if event["t"] < start:
                _follow_labels(labels, event)
            if event["t"] >= start and first <= end:
                kept.append(event)
        return Trace(dict(self.header, labels=labels), kept)


def load(path):
    """Read a trace file (JSON Lines: a header, then one event per line)."""
    with open(path, encoding="utf-8") as file:
        return loads(file.read(), name=str(path))


def loads(text, name="<trace>"):
    """Parse the text of a trace file into a :class:`Trace`.

    A last line cut short (the process was killed mid-write) is ignored;
    a bad line anywhere else is an error.
    """
    lines = text.splitlines()
    if not lines:
        raise TraceError(f"{name}: empty file, not a selectchat trace")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise TraceError(f"{name}: not a selectchat trace (no '{FORMAT}' header line)")
    if header.get("version", 0) > VERSION:
        raise TraceError(f"{name}: trace format version {header['version']}; "
                         f"this selectchat reads up to version {VERSION}")
    header["labels"] = {int(fd): label for fd, label in header.get("labels", {}).items()}
    events = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break  # cut short by a kill: keep what came before
            raise TraceError(f"{name}, line {number}: not JSON") from None
    return Trace(header, events)


def _follow_labels(labels, event):
    kind = event["kind"]
    if kind in ("register", "label"):
        labels[event["fd"]] = event["label"]
    elif kind == "unregister":
        labels.pop(event["fd"], None)


# --- summaries -------------------------------------------------------------------


def lane_labels(trace):
    """``{fd: name}`` for plots: every name a descriptor had, in order.

    A descriptor number is reused after a close, so one lane may have held
    several connections: ``"alice, carol"``.  A client is named by its
    address until it registers and by its nickname after.  A descriptor
    registered before the trace begins (or before the oldest event a ring
    buffer kept) is named from the header's ``labels``.
    """
    names = defaultdict(list)   # fd -> names of its successive lives
    for event in trace.events:
        kind = event["kind"]
        if kind == "register":
            names[event["fd"]].append(event["label"])
        elif kind == "label" and names[event["fd"]]:
            names[event["fd"]][-1] = event["label"]   # same life, better name
        elif kind == "label":
            names[event["fd"]].append(event["label"])
    for kind in ("select",):
        for event in trace.of(kind):
            for fd in (*event["read"], *event["write"]):
                names.setdefault(fd, [])
    for kind in ("accept", "recv", "send", "close"):
        for event in trace.of(kind):
            names.setdefault(event["fd"], [])
    for fd, label in trace.header.get("labels", {}).items():
        if not names[fd]:
            names[fd].append(label)
    return {fd: ", ".join(dict.fromkeys(lives)) or f"fd {fd}" for fd, lives in sorted(names.items())}


@dataclass
class Utilisation:
    """How the loop spent its time between the first select() and the last event."""

    span: float           # seconds covered
    blocked: float        # seconds inside select() (waiting for the kernel)
    busy: float           # span - blocked: handlers, timers, the loop itself
    calls: int            # select() calls
    timeouts: int         # calls that returned with nothing ready

    @property
    def busy_fraction(self):
        return self.busy / self.span if self.span > 0 else 0.0

    @property
    def calls_per_second(self):
        return self.calls / self.span if self.span > 0 else 0.0


def utilisation(trace):
    """Time blocked in select() vs busy, and select() calls per second.

    The span runs from the ``began`` of the first select to the time of the
    last event; busy is the span less the sum of ``blocked``.
    """
    selects = trace.of("select")
    if not selects:
        return Utilisation(0.0, 0.0, 0.0, 0, 0)
    span = max(trace.events[-1]["t"], selects[-1]["t"]) - selects[0]["began"]
    blocked = sum(e["blocked"] for e in selects)
    timeouts = sum(1 for e in selects if not e["ready_read"] and not e["ready_write"])
    return Utilisation(span, blocked, max(0.0, span - blocked), len(selects), timeouts)


def utilisation_bins(trace, width):
    """Per bin of ``width`` seconds: (bin start, seconds blocked, seconds busy).

    Only the time between the first select's start and the last event counts.
    """
    selects = trace.of("select")
    if not selects or width <= 0:
        return []
    first = selects[0]["began"]
    last = max(trace.events[-1]["t"], selects[-1]["t"])
    count = max(1, int((last - first) / width + 0.999999))
    blocked = [0.0] * count
    for event in selects:
        begin, end = event["began"], event["began"] + event["blocked"]
        index = int((begin - first) / width)
        while begin < end and index < count:
            edge = first + (index + 1) * width
            blocked[index] += min(end, edge) - begin
            begin, index = edge, index + 1
    rows = []
    for index in range(count):
        start = first + index * width
        length = min(width, last - start)
        rows.append((start, blocked[index], max(0.0, length - blocked[index])))
    return rows


@dataclass
class Descriptor:
    """What happened on one descriptor."""

    fd: int
    label: str
    ready_read: int = 0      # times select() reported it readable
    ready_write: int = 0     # ... writable
    recvs: int = 0
    bytes_in: int = 0
    sends: int = 0
    bytes_asked: int = 0     # what send() was offered
    bytes_out: int = 0       # what the kernel took
    partial_sends: int = 0   # sends where the kernel took less than offered
    accepts: int = 0         # (the listener) connections accepted
    closes: int = 0


def per_descriptor(trace):
    """``{fd: Descriptor}``: readiness and I/O counts for every descriptor."""
    labels = lane_labels(trace)
    table = {fd: Descriptor(fd, label) for fd, label in labels.items()}

    def row(fd):
        if fd not in table:
            table[fd] = Descriptor(fd, f"fd {fd}")
        return table[fd]

    listener = [fd for fd, label in labels.items() if label.startswith("listener")]
    for event in trace.events:
        kind = event["kind"]
        if kind == "select":
            for fd in event["ready_read"]:
                row(fd).ready_read += 1
            for fd in event["ready_write"]:
                row(fd).ready_write += 1
        elif kind == "recv":
            entry = row(event["fd"])
            entry.recvs += 1
            entry.bytes_in += event["bytes"]
        elif kind == "send":
            entry = row(event["fd"])
            entry.sends += 1
            entry.bytes_asked += event["asked"]
            entry.bytes_out += event["sent"]
            entry.partial_sends += event["sent"] < event["asked"]
        elif kind == "accept":
            if listener:
                row(listener[0]).accepts += 1
        elif kind == "close":
            row(event["fd"]).closes += 1
    return dict(sorted(table.items()))


@dataclass
class ReadySizes:
    """How many descriptors each select() watched and returned."""

    ready: Counter          # ready-set size (readable + writable) -> number of calls
    watched_mean: float     # descriptors watched per call (read + write sets)
    watched_max: int

    @property
    def mean(self):
        calls = sum(self.ready.values())
        return sum(size * n for size, n in self.ready.items()) / calls if calls else 0.0

    @property
    def max(self):
        return max(self.ready, default=0)


def ready_sizes(trace):
    """The distribution of ready-set sizes (a descriptor both readable and
    writable counts twice), and how many descriptors were watched."""
    sizes, watched = Counter(), []
    for event in trace.of("select"):
        sizes[len(event["ready_read"]) + len(event["ready_write"])] += 1
        watched.append(len(event["read"]) + len(event["write"]))
    return ReadySizes(sizes, statistics.fmean(watched) if watched else 0.0, max(watched, default=0))


@dataclass
class Delivery:
    """One message reaching one recipient: the server's share of its latency."""

    sender: str
    target: str           # the room, or the recipient's nick for a private message
    recipient: str
    fd: int               # the recipient's descriptor
    sent_at: float        # the recv() on the sender's descriptor that brought it in
    delivered_at: float   # the send() that handed its last byte to the kernel
    exact: bool           # False: an upper bound (partial sends; see latencies())

    @property
    def latency(self):
        return self.delivered_at - self.sent_at


@dataclass
class Latencies:
    deliveries: list            # [Delivery]
    messages: int               # messages seen (a burst counts each of its messages)
    unresolved: int             # messages whose recipients the trace cannot tell
    undelivered: int            # deliveries whose recipient closed before the send

    def quantile(self, q):
        values = sorted(d.latency for d in self.deliveries)
        if not values:
            return None
        return values[min(len(values) - 1, int(q * len(values)))]


def latencies(trace):
    """Message latency inside the server, from send to each delivery.

    For each ``app`` event ``message`` (a PRIVMSG/NOTICE to a room) or
    ``private`` (to a nickname):

    * *sent* is the time of the last ``recv`` on the sender's descriptor
      before the event: when the line's bytes came out of the kernel;
    * the recipients are the room's members but the sender, followed
      through the ``join``/``part``/``kick``/``quit``/``nick`` events (their
      number is checked against the event's ``recipients``; if the trace
      started mid-session and they differ, the message is *unresolved*);
      nicknames are tied to descriptors by the ``label`` events;
    * *delivered*, for each recipient descriptor: the line was queued before
      the next ``send`` on it, *k*, so it has surely left once the bytes sent
      on that descriptor reach what was queued at *k* (bytes sent before *k*
      plus ``asked`` at *k*).  The first send that reaches it is the
      delivery.  When send *k* takes everything (``sent == asked``, the usual
      case) that is *k* itself, exactly; after partial sends it is an upper
      bound (bytes queued after our line also had to go), marked ``exact=False``.

    A ``message`` event with a ``count`` above one (version 2) stands for a
    burst: that many messages read in one ``recv()`` and queued together, so
    each has one delivery per recipient, all with the same times.

    Latency is *delivered - sent*: time in the server's input handling, its
    output buffer and its loop, not the network's or the clients'.
    """
    labels = dict(trace.header.get("labels", {}))
    fd_of = {label: fd for fd, label in labels.items()}   # nick -> fd
    nick_of = dict(labels)                                # fd -> nick/label
    rooms = defaultdict(set)                              # lower(room) -> nicks
    last_recv = {}                                        # fd -> time
    sent_total = defaultdict(int)                         # fd -> bytes sent so far
    # fd -> [[sender, target, recipient, sent_at, goal (None until the first send), count, exact (from then)]]
    waiting = defaultdict(list)
    deliveries, messages, unresolved, undelivered = [], 0, 0, 0

    for event in trace.events:
        kind = event["kind"]
        if kind in ("register", "label"):
            fd, label = event["fd"], event["label"]
            nick_of[fd] = label
            fd_of[label] = fd
        elif kind == "recv":
            if event["bytes"]:
                last_recv[event["fd"]] = event["t"]
        elif kind == "send":
            fd = event["fd"]
            before = sent_total[fd]
            sent_total[fd] += event["sent"]
            still = []
            for item in waiting[fd]:
                if item[4] is None:   # the first send since it was queued: fix the goal
                    item[4] = before + event["asked"]
                    item.append(event["sent"] == event["asked"])
                if sent_total[fd] >= item[4]:
                    # The messages of a burst were read together and queued together:
                    # they reach this recipient together, one delivery each.
                    delivery = Delivery(item[0], item[1], item[2], fd, item[3], event["t"], item[6])
                    deliveries.extend([delivery] * item[5])
                else:
                    item[6] = False
                    still.append(item)
            waiting[fd] = still
        elif kind in ("close", "unregister"):
            fd = event["fd"]
            undelivered += sum(item[5] for item in waiting.pop(fd, ()))
            sent_total.pop(fd, None)
            last_recv.pop(fd, None)
        elif kind == "app":
            what = event.get("event")
            if what == "join":
                rooms[event["room"].lower()].add(event["nick"])
            elif what in ("part", "kick"):
                rooms[event["room"].lower()].discard(event["nick"])
            elif what in ("room-gone", "room-closed"):
                rooms.pop(event["room"].lower(), None)
            elif what == "quit":
                for members in rooms.values():
                    members.discard(event.get("nick"))
            elif what == "nick":
                for members in rooms.values():
                    if event["old"] in members:
                        members.discard(event["old"])
                        members.add(event["new"])
            elif what in ("message", "private"):
                count = event.get("count", 1)   # a burst read in one recv() (version 1: always one)
                messages += count
                sender = event["sender"]
                if what == "message":
                    recipients = rooms[event["room"].lower()] - {sender}
                    target = event["room"]
                    if len(recipients) != event["recipients"]:
                        unresolved += count
                        continue
                else:
                    recipients, target = {event["to"]}, event["to"]
                sender_fd = fd_of.get(sender)
                sent_at = last_recv.get(sender_fd, event["t"])
                for nick in recipients:
                    fd = fd_of.get(nick)
                    if fd is None:
                        unresolved += count
                        break
                    waiting[fd].append([sender, target, nick, sent_at, None, count])
    return Latencies(deliveries, messages, unresolved, undelivered)


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
        lost=sum(e["count"] for e in trace.of("lost")))


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
    return "\n".join(out)


# --- export ------------------------------------------------------------------------

LOOP_TID = 1          # the lane of select() itself in an exported trace
FD_TID_BASE = 1000    # descriptor N is lane FD_TID_BASE + N


def to_chrome(trace):
    """The trace in Chrome's Trace Event format (a dict; dump it as JSON).

    Opens in https://ui.perfetto.dev and chrome://tracing.  One process (the
    traced one) with a lane ("thread") for the loop and one per descriptor:

    * the loop lane: each select() wait is a complete event (``ph: "X"``)
      named ``select() blocked``, and each stretch between two waits is one
      named ``handlers`` (the loop was busy);
    * a descriptor lane: its life from register to unregister as an ``X``
      event named after it, and instant events (``ph: "i"``) for readiness,
      accept, recv, send, close and the chat events it caused;
    * counters (``ph: "C"``): the ready-set and watched-set sizes.

    Times (``ts``, ``dur``) are microseconds since the start of the trace.
    """
    pid = trace.header.get("pid", 0)
    us = 1_000_000
    out = []
    labels = lane_labels(trace)

    def tid(fd):
        return FD_TID_BASE + fd

    def instant(name, t, fd, cat, args=None):
        event = {"name": name, "cat": cat, "ph": "i", "s": "t", "ts": round(t * us, 3), "pid": pid,
                 "tid": tid(fd) if fd is not None else LOOP_TID}
        if args:
            event["args"] = args
        out.append(event)

    program = trace.header.get("program", "selectchat")
    backend = trace.header.get("backend") or "select"
    out.append({"name": "process_name", "ph": "M", "ts": 0, "pid": pid, "tid": LOOP_TID,
                "args": {"name": f"selectchat {program} ({backend})"}})
    out.append({"name": "thread_name", "ph": "M", "ts": 0, "pid": pid, "tid": LOOP_TID,
                "args": {"name": f"{backend}() loop"}})
    out.append({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": pid, "tid": LOOP_TID,
                "args": {"sort_index": 0}})
    for fd, label in labels.items():
        out.append({"name": "thread_name", "ph": "M", "ts": 0, "pid": pid, "tid": tid(fd),
                    "args": {"name": f"fd {fd}: {label}"}})
        out.append({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": pid, "tid": tid(fd),
                    "args": {"sort_index": fd + 1}})

    end = trace.events[-1]["t"] if trace.events else 0.0
    alive = {fd: (0.0, label) for fd, label in trace.header.get("labels", {}).items()}  # fd -> (since, name)
    nick_fd = {label: fd for fd, label in trace.header.get("labels", {}).items()}
    previous_end = None

    def life(fd, until):
        since, name = alive.pop(fd)
        out.append({"name": name, "cat": "descriptor", "ph": "X", "ts": round(since * us, 3),
                    "dur": round(max(0.0, until - since) * us, 3), "pid": pid, "tid": tid(fd)})

    for event in trace.events:
        kind, t = event["kind"], event["t"]
        if kind == "select":
            began, blocked = event["began"], event["blocked"]
            if previous_end is not None and began > previous_end:
                out.append({"name": "handlers", "cat": "loop", "ph": "X", "ts": round(previous_end * us, 3),
                            "dur": round((began - previous_end) * us, 3), "pid": pid, "tid": LOOP_TID})
            woke = began + blocked
            out.append({"name": f"{event.get('backend', backend)}() blocked", "cat": "loop", "ph": "X",
                        "ts": round(began * us, 3), "dur": round(blocked * us, 3), "pid": pid, "tid": LOOP_TID,
                        "args": {"timeout": event["timeout"], "read": event["read"], "write": event["write"],
                                 "ready_read": event["ready_read"], "ready_write": event["ready_write"]}})
            for fd in event["ready_read"]:
                instant("readable", woke, fd, "ready")
            for fd in event["ready_write"]:
                instant("writable", woke, fd, "ready")
            out.append({"name": "ready set", "ph": "C", "ts": round(woke * us, 3), "pid": pid, "tid": LOOP_TID,
                        "args": {"readable": len(event["ready_read"]), "writable": len(event["ready_write"])}})
            out.append({"name": "watched", "ph": "C", "ts": round(began * us, 3), "pid": pid, "tid": LOOP_TID,
                        "args": {"read": len(event["read"]), "write": len(event["write"])}})
            previous_end = woke
        elif kind == "register":
            if event["fd"] in alive:
                life(event["fd"], t)
            alive[event["fd"]] = (t, event["label"])
            instant("register", t, event["fd"], "watch", {"label": event["label"], "read": event["read"],
                                                          "write": event["write"]})
        elif kind == "label":
            since, _ = alive.get(event["fd"], (t, None))
            alive[event["fd"]] = (since, event["label"])
            nick_fd[event["label"]] = event["fd"]
            instant(f"now {event['label']}", t, event["fd"], "watch")
        elif kind == "unregister":
            if event["fd"] in alive:
                life(event["fd"], t)
            instant("unregister", t, event["fd"], "watch")
        elif kind == "interest":   # (version 1 traces)
            watch = ("read" if event["read"] else "") + ("+" if event["read"] and event["write"] else "") \
                + ("write" if event["write"] else "")
            instant(f"watch {watch or 'nothing'}", t, event["fd"], "watch")
        elif kind == "accept":
            instant(f"accepted as fd {event['fd']}", t, event["fd"], "io", {"peer": event["peer"]})
        elif kind == "recv":
            instant(f"recv {event['bytes']} B" if event["bytes"] else "recv EOF", t, event["fd"], "io",
                    {"bytes": event["bytes"]})
        elif kind == "send":
            partial = " (partial)" if event["sent"] < event["asked"] else ""
            instant(f"send {event['sent']} B{partial}", t, event["fd"], "io",
                    {"asked": event["asked"], "sent": event["sent"]})
        elif kind == "close":
            instant("close", t, event["fd"], "io", {"reason": event["reason"]})
        elif kind == "app":
            fields = {k: v for k, v in event.items() if k not in ("t", "kind")}
            who = event.get("sender") or event.get("nick")
            fd = nick_fd.get(who)
            if fd is None:
                out.append({"name": event.get("event", "app"), "cat": "chat", "ph": "i", "s": "p",
                            "ts": round(t * us, 3), "pid": pid, "tid": LOOP_TID, "args": fields})
            else:
                instant(event.get("event", "app"), t, fd, "chat", fields)
        else:  # end, lost, and kinds a later version may add
            fields = {k: v for k, v in event.items() if k not in ("t", "kind")}
            out.append({"name": kind, "cat": "trace", "ph": "i", "s": "g", "ts": round(t * us, 3),
                        "pid": pid, "tid": LOOP_TID, "args": fields})
    for fd in list(alive):
        life(fd, end)
    return {"traceEvents": out, "displayTimeUnit": "ms",
            "otherData": {key: str(value) for key, value in trace.header.items() if key != "labels"}}
