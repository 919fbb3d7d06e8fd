"""The trace for other viewers: Chrome's Trace Event format (Perfetto, chrome://tracing).

One function, :func:`to_chrome`; ``selectchat trace export`` writes its result.
"""

from .analyses import lane_labels
from .reading import CLOSED, OPENED, RENAMED, Names


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
    names = Names(trace.header)
    since = {fd: 0.0 for fd in names.label}   # fd -> when its current life began
    previous_end = None

    def life(fd, until, name):
        began = since.pop(fd)
        out.append({"name": name, "cat": "descriptor", "ph": "X", "ts": round(began * us, 3),
                    "dur": round(max(0.0, until - began) * us, 3), "pid": pid, "tid": tid(fd)})

    for event in trace.events:
        kind, t = event["kind"], event["t"]
        before = names.label.get(event.get("fd"))
        change = names.follow(event)
        if change is not None:
            what, fd, label = change
            if what == OPENED and fd in since:      # registered again without an unregister
                life(fd, t, before)
            if what == CLOSED and fd in since:
                life(fd, t, label)
            if what == OPENED:
                since[fd] = t
                instant("register", t, fd, "watch", {"label": label, "read": event["read"],
                                                     "write": event["write"]})
            elif what == RENAMED:
                since.setdefault(fd, t)
                instant(f"now {label}", t, fd, "watch")
            else:
                instant("unregister", t, fd, "watch")
        elif kind == "select":
            began, blocked = event["began"], event["blocked"]
            if previous_end is not None and began > previous_end:
                out.append({"name": "handlers", "cat": "loop", "ph": "X", "ts": round(previous_end * us, 3),
                            "dur": round((began - previous_end) * us, 3), "pid": pid, "tid": LOOP_TID})
            woke = began + blocked
            out.append({"name": f"{event.get('backend', backend)}() blocked", "cat": "loop", "ph": "X",
                        "ts": round(began * us, 3), "dur": round(blocked * us, 3), "pid": pid, "tid": LOOP_TID,
                        "args": {"timeout": event["timeout"], "read": event["read"], "write": event["write"],
                                 "ready_read": event["ready_read"], "ready_write": event["ready_write"],
                                 "pass": event.get("pass")}})
            for fd in event["ready_read"]:
                instant("readable", woke, fd, "ready")
            for fd in event["ready_write"]:
                instant("writable", woke, fd, "ready")
            out.append({"name": "ready set", "ph": "C", "ts": round(woke * us, 3), "pid": pid, "tid": LOOP_TID,
                        "args": {"readable": len(event["ready_read"]), "writable": len(event["ready_write"])}})
            out.append({"name": "watched", "ph": "C", "ts": round(began * us, 3), "pid": pid, "tid": LOOP_TID,
                        "args": {"read": len(event["read"]), "write": len(event["write"])}})
            previous_end = woke
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
            fd = names.fd_of.get(who)
            if fd is None:
                out.append({"name": event.get("event", "app"), "cat": "chat", "ph": "i", "s": "p",
                            "ts": round(t * us, 3), "pid": pid, "tid": LOOP_TID, "args": fields})
            else:
                instant(event.get("event", "app"), t, fd, "chat", fields)
        else:  # end, lost, and kinds a later version may add
            fields = {k: v for k, v in event.items() if k not in ("t", "kind")}
            out.append({"name": kind, "cat": "trace", "ph": "i", "s": "g", "ts": round(t * us, 3),
                        "pid": pid, "tid": LOOP_TID, "args": fields})
    for fd in list(since):
        life(fd, end, names.label.get(fd, f"fd {fd}"))
    return {"traceEvents": out, "displayTimeUnit": "ms",
            "otherData": {key: str(value) for key, value in trace.header.items() if key != "labels"}}
