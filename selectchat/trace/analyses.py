"""What a trace says about the loop: numbers, one function each.

* :func:`utilisation` -- time blocked in ``select()`` vs busy, calls per second;
* :func:`utilisation_bins` -- the same per slice of time (for a plot);
* :func:`per_descriptor` -- readiness and I/O counts per descriptor;
* :func:`ready_sizes` -- how many descriptors each call watched and returned;
* :func:`latencies` -- each message's time inside the server, per recipient;
* :func:`lane_labels` -- the name(s) of each descriptor, for plots.

Each takes a :class:`~selectchat.trace.reading.Trace` and returns plain
numbers or small dataclasses; :mod:`.summary` prints them.
"""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

from ..irc.casemap import irc_lower
from .reading import CLOSED, RENAMED, Names


def lane_labels(trace):
    """``{fd: name}`` for plots: every name a descriptor had, in order.

    A descriptor number is reused after a close, so one lane may have held
    several connections: ``"alice, carol"``.  A client is named by its
    address until it registers and by its nickname after.  A descriptor
    registered before the trace begins (or before the oldest event a ring
    buffer kept) is named from the header's ``labels``.
    """
    names = defaultdict(list)   # fd -> names of its successive lives
    who = Names()               # (not from the header: those names come last, if nothing else named the fd)
    for event in trace.events:
        change = who.follow(event)
        if change is not None:
            what, fd, label = change
            if what == RENAMED and names[fd]:
                names[fd][-1] = label   # same life, better name
            elif what != CLOSED:
                names[fd].append(label)
        elif event["kind"] == "select":
            for fd in (*event["read"], *event["write"]):
                names.setdefault(fd, [])
        elif "fd" in event:
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
    names = Names(trace.header)                           # nick -> fd: names.fd_of
    rooms = defaultdict(set)                              # lower(room) -> nicks
    last_recv = {}                                        # fd -> time
    sent_total = defaultdict(int)                         # fd -> bytes sent so far
    # fd -> [[sender, target, recipient, sent_at, goal (None until the first send), count, exact (from then)]]
    waiting = defaultdict(list)
    deliveries, messages, unresolved, undelivered = [], 0, 0, 0

    for event in trace.events:
        kind = event["kind"]
        change = names.follow(event)
        if change is not None and change[0] != CLOSED:
            continue
        if kind == "recv":
            if event["bytes"]:
                last_recv[event["fd"]] = event["t"]
        elif kind == "send":
            fd = event["fd"]
            before = sent_total[fd]
            sent_total[fd] += event["sent"]
            waiting[fd] = _settle(waiting[fd], event, before, sent_total[fd], deliveries)
        elif kind in ("close", "unregister"):
            fd = event["fd"]
            undelivered += sum(item[5] for item in waiting.pop(fd, ()))
            sent_total.pop(fd, None)
            last_recv.pop(fd, None)
        elif kind == "app":
            what = event.get("event")
            if what in _MEMBERSHIP:
                _MEMBERSHIP[what](rooms, event)
            elif what in ("message", "private"):
                count = event.get("count", 1)   # a burst read in one recv() (version 1: always one)
                messages += count
                sender = event["sender"]
                if what == "message":
                    recipients = rooms[irc_lower(event["room"])] - {sender}
                    target = event["room"]
                    if len(recipients) != event["recipients"]:
                        unresolved += count
                        continue
                else:
                    recipients, target = {event["to"]}, event["to"]
                sender_fd = names.fd_of.get(sender)
                sent_at = last_recv.get(sender_fd, event["t"])
                for nick in recipients:
                    fd = names.fd_of.get(nick)
                    if fd is None:
                        unresolved += count
                        break
                    waiting[fd].append([sender, target, nick, sent_at, None, count])
    return Latencies(deliveries, messages, unresolved, undelivered)


def _settle(waiting, send, sent_before, sent_total, deliveries):
    """Deliver what this ``send`` completed; return what still waits on the descriptor.

    ``waiting`` holds [sender, target, recipient, sent_at, goal, count, exact]:
    the goal (bytes sent on the descriptor once the line has surely gone) is
    fixed by the first send after the line was queued.
    """
    still = []
    for item in waiting:
        if item[4] is None:   # the first send since it was queued: fix the goal
            item[4] = sent_before + send["asked"]
            item.append(send["sent"] == send["asked"])
        if sent_total >= item[4]:
            # The messages of a burst were read together and queued together:
            # they reach this recipient together, one delivery each.
            delivery = Delivery(item[0], item[1], item[2], send["fd"], item[3], send["t"], item[6])
            deliveries.extend([delivery] * item[5])
        else:
            item[6] = False
            still.append(item)
    return still


def _rename(rooms, event):
    for members in rooms.values():
        if event["old"] in members:
            members.discard(event["old"])
            members.add(event["new"])


def _quit(rooms, event):
    for members in rooms.values():
        members.discard(event.get("nick"))


# Chat events that change who is in which room: {lower(room): {nick}}
_MEMBERSHIP = {
    "join": lambda rooms, e: rooms[irc_lower(e["room"])].add(e["nick"]),
    "part": lambda rooms, e: rooms[irc_lower(e["room"])].discard(e["nick"]),
    "kick": lambda rooms, e: rooms[irc_lower(e["room"])].discard(e["nick"]),
    "room-gone": lambda rooms, e: rooms.pop(irc_lower(e["room"]), None),
    "room-closed": lambda rooms, e: rooms.pop(irc_lower(e["room"]), None),
    "quit": _quit,
    "nick": _rename,
}
