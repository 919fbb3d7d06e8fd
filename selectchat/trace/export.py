"""The trace for other viewers: Chrome's Trace Event format (Perfetto, chrome://tracing).

One function, :func:`to_chrome`; ``selectchat trace export`` writes its result.
"""

from .analyses import lane_labels
from .reading import CLOSED, OPENED, RENAMED, Names

LOOP_TID = 1          # the lane of select() itself in an exported trace
FD_TID_BASE = 1000    # descriptor N is lane FD_TID_BASE + N
US = 1_000_000        # the format counts microseconds


def to_chrome(trace):
    """The trace in Chrome's Trace Event format (a dict; dump it as JSON).

    Opens in https://ui.perfetto.dev and chrome://tracing.  One process (the
    traced one) with a lane ("thread") for the loop and one per descriptor:

    * the loop lane: each select() wait is a complete event (``ph: "X"``)
      named ``select() blocked``, and each stretch between two waits is one
      named ``handlers`` (the loop was busy);
    * a descriptor lane: its life from register to unregister as an ``X``
      event named after it, and instant events (``ph: "i"``) for readiness,
      accept, recv, send, EAGAIN, slow handler calls, close and the chat
      events it caused;
    * counters (``ph: "C"``): the ready-set and watched-set sizes.

    Times (``ts``, ``dur``) are microseconds since the start of the trace.
    """
    return _Export(trace).run()


class _Export:
    """The conversion, event by event: descriptor lives, the loop's lane, instants."""

    def __init__(self, trace):
        self.trace = trace
        self.pid = trace.header.get("pid", 0)
        self.backend = trace.header.get("backend") or "select"
        self.out = []
        self.names = Names(trace.header)
        self.since = {fd: 0.0 for fd in self.names.label}   # fd -> when its current life began
        self.previous_end = None                             # when the last select() returned
        self.lane_of = dict(self.names.fd_of)   # name -> fd, kept after a close: a quit comes after it

    def run(self):
        self.metadata()
        for event in self.trace.events:
            before = self.names.label.get(event.get("fd"))
            change = self.names.follow(event)
            if change is not None:
                self.life_event(event, change, before)
            elif event["kind"] == "select":
                self.select(event)
            else:
                self.instant_event(event)
        end = self.trace.events[-1]["t"] if self.trace.events else 0.0
        for fd in list(self.since):
            self.life(fd, end, self.names.label.get(fd, f"fd {fd}"))
        return {"traceEvents": self.out, "displayTimeUnit": "ms",
                "otherData": {key: str(value) for key, value in self.trace.header.items() if key != "labels"}}

    def metadata(self):
        program = self.trace.header.get("program", "selectchat")
        lanes = [(LOOP_TID, f"{self.backend}() loop", 0)]
        lanes += [(FD_TID_BASE + fd, f"fd {fd}: {label}", fd + 1) for fd, label in lane_labels(self.trace).items()]
        self.out.append({"name": "process_name", "ph": "M", "ts": 0, "pid": self.pid, "tid": LOOP_TID,
                         "args": {"name": f"selectchat {program} ({self.backend})"}})
        for tid, name, order in lanes:
            self.out.append({"name": "thread_name", "ph": "M", "ts": 0, "pid": self.pid, "tid": tid,
                             "args": {"name": name}})
            self.out.append({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": self.pid, "tid": tid,
                             "args": {"sort_index": order}})

    def instant(self, name, t, fd, cat, args=None):
        event = {"name": name, "cat": cat, "ph": "i", "s": "t", "ts": round(t * US, 3), "pid": self.pid,
                 "tid": FD_TID_BASE + fd if fd is not None else LOOP_TID}
        if args:
            event["args"] = args
        self.out.append(event)

    def life(self, fd, until, name):
        """A descriptor's life, from its register to ``until``, as one complete event."""
        began = self.since.pop(fd)
        self.out.append({"name": name, "cat": "descriptor", "ph": "X", "ts": round(began * US, 3),
                         "dur": round(max(0.0, until - began) * US, 3), "pid": self.pid, "tid": FD_TID_BASE + fd})

    def life_event(self, event, change, before):
        what, fd, label = change
        t = event["t"]
        self.lane_of[label] = fd
        if what == OPENED and fd in self.since:      # registered again without an unregister
            self.life(fd, t, before)
        if what == CLOSED and fd in self.since:
            self.life(fd, t, label)
        if what == OPENED:
            self.since[fd] = t
            self.instant("register", t, fd, "watch", {"label": label, "read": event["read"],
                                                      "write": event["write"]})
        elif what == RENAMED:
            self.since.setdefault(fd, t)
            self.instant(f"now {label}", t, fd, "watch")
        else:
            self.instant("unregister", t, fd, "watch")

    def select(self, event):
        """The loop's lane: the busy stretch before this call, the wait, readiness, the counters."""
        pid, began, blocked = self.pid, event["began"], event["blocked"]
        if self.previous_end is not None and began > self.previous_end:
            self.out.append({"name": "handlers", "cat": "loop", "ph": "X", "ts": round(self.previous_end * US, 3),
                             "dur": round((began - self.previous_end) * US, 3), "pid": pid, "tid": LOOP_TID})
        woke = began + blocked
        self.out.append({"name": f"{event.get('backend', self.backend)}() blocked", "cat": "loop", "ph": "X",
                         "ts": round(began * US, 3), "dur": round(blocked * US, 3), "pid": pid, "tid": LOOP_TID,
                         "args": {"timeout": event["timeout"], "read": event["read"], "write": event["write"],
                                  "ready_read": event["ready_read"], "ready_write": event["ready_write"],
                                  "pass": event.get("pass")}})
        for fd in event["ready_read"]:
            self.instant("readable", woke, fd, "ready")
        for fd in event["ready_write"]:
            self.instant("writable", woke, fd, "ready")
        self.out.append({"name": "ready set", "ph": "C", "ts": round(woke * US, 3), "pid": pid, "tid": LOOP_TID,
                         "args": {"readable": len(event["ready_read"]), "writable": len(event["ready_write"])}})
        self.out.append({"name": "watched", "ph": "C", "ts": round(began * US, 3), "pid": pid, "tid": LOOP_TID,
                         "args": {"read": len(event["read"]), "write": len(event["write"])}})
        self.previous_end = woke

    def instant_event(self, event):
        """Everything else: an instant on its descriptor's lane (or the loop's, or the whole process)."""
        kind, t, fd = event["kind"], event["t"], event.get("fd")
        fields = {k: v for k, v in event.items() if k not in ("t", "kind")}
        if kind == "app":
            fd = self.lane_of.get(event.get("sender") or event.get("nick"))
            scope = "t" if fd is not None else "p"
            self.out.append({"name": event.get("event", "app"), "cat": "chat", "ph": "i", "s": scope,
                             "ts": round(t * US, 3), "pid": self.pid,
                             "tid": FD_TID_BASE + fd if fd is not None else LOOP_TID, "args": fields})
        elif kind in _IO_NAMES:
            self.instant(_IO_NAMES[kind](event), t, fd, "io", fields)
        elif kind == "timer":
            self.instant(f"timer {event['callback']}", t, None, "loop", fields)
        else:  # end, lost, and kinds a later version may add
            self.out.append({"name": kind, "cat": "trace", "ph": "i", "s": "g", "ts": round(t * US, 3),
                             "pid": self.pid, "tid": LOOP_TID, "args": fields})


def _watch(event):   # (version 1's interest events)
    wanted = [name for name in ("read", "write") if event[name]]
    return f"watch {'+'.join(wanted) or 'nothing'}"


# kind -> the name of its instant on the descriptor's lane
_IO_NAMES = {
    "accept": lambda e: f"accepted as fd {e['fd']}",
    "recv": lambda e: f"recv {e['bytes']} B" if e["bytes"] else "recv EOF",
    "send": lambda e: f"send {e['sent']} B" + (" (partial)" if e["sent"] < e["asked"] else ""),
    "eagain": lambda e: f"{e.get('call', 'call')}: EAGAIN",
    "slow": lambda e: f"{e['call']} took {e['took'] * 1000:.1f} ms",
    "close": lambda e: "close",
    "interest": _watch,
}
