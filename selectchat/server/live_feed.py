"""What the live view shows, gathered while someone watches: :class:`LiveFeed`.

The live view (:mod:`.live`) needs two kinds of facts:

* the *state* of the chat -- rooms, their members, how many clients -- which
  the server holds anyway: it is read from the chat core when an update is
  made, four times a second, and costs nothing in between;
* what the *loop* did -- passes, which descriptors were ready, bytes in and
  out, chat events -- which only an observer sees.  :class:`LiveFeed` is that
  observer: the same ``record(kind, **fields)`` the trace's ``Recorder``
  offers, doing the least it can (a few additions to counters) because it
  runs on the loop's hot path.

The feed is attached to the loop only while a browser watches (see
:meth:`.live.LiveView.start_watching`): with nobody watching, the chat pays
nothing at all.  When the server also writes a trace, :class:`FanOut` hands
every event to both observers.

What the feed passes on is chosen by name, never copied wholesale: unless
the operator asked for it (``--live-text``), no text a user wrote -- a
message, a quit or kick reason, a topic -- reaches the page.
"""

import time
from collections import deque

from ..chat.events import told_without_text

EVENTS_KEPT = 40      # chat events between two updates, at most (a flood keeps the newest)
PASSES_KEPT = 5       # the newest select() passes, shown as calls
FDS_SHOWN = 12        # the busiest descriptors of each update
READY_SHOWN = 16      # descriptors listed per ready set (the rest are counted)
ROOMS_SHOWN = 40      # rooms in an update, and members shown per room: a projector
MEMBERS_SHOWN = 60    # cannot show more, and an update stays a few kilobytes

def describe(fields, show_text):
    """One line for a chat event (an ``app`` record): the log's line, or names only."""
    return fields.get("text", "") if show_text else told_without_text(fields)


class FanOut:
    """One observer that hands every event to several (the trace and the live view)."""

    def __init__(self, *observers):
        self.observers = observers

    def record(self, kind, **fields):
        for observer in self.observers:
            observer.record(kind, **fields)


class LiveFeed:
    """Counters of the current update window, and the newest passes and events."""

    def __init__(self, server, show_text=False):
        self.server = server
        self.show_text = show_text
        self.started = time.monotonic()
        self.passes = deque(maxlen=PASSES_KEPT)   # the newest select events' fields
        self.events = deque(maxlen=EVENTS_KEPT)   # (time, kind, fields) of chat events
        self.reset()

    def reset(self):
        """Start a new window: what the next update reports."""
        self.window_began = time.monotonic()
        self.window_passes = self.server.loop.passes
        self.blocked = 0.0          # seconds spent inside select() this window
        self.ready = {}             # fd -> [times readable, times writable]
        self.bytes_in = {}          # fd -> bytes received
        self.bytes_out = {}         # fd -> bytes the kernel took
        self.events_seen = 0
        self.events.clear()

    # --- the observer: called by the loop, keep it cheap ----------------------------

    def record(self, kind, **fields):
        if kind == "select":
            self.blocked += fields["blocked"]
            self.passes.append(fields)
            ready = self.ready
            for fd in fields["ready_read"]:
                ready.setdefault(fd, [0, 0])[0] += 1
            for fd in fields["ready_write"]:
                ready.setdefault(fd, [0, 0])[1] += 1
        elif kind == "recv":
            self.bytes_in[fields["fd"]] = self.bytes_in.get(fields["fd"], 0) + fields["bytes"]
        elif kind == "send":
            self.bytes_out[fields["fd"]] = self.bytes_out.get(fields["fd"], 0) + fields["sent"]
        elif kind == "app":
            self.events_seen += 1
            self.events.append((time.monotonic(), fields))
        elif kind in ("accept", "close"):
            self.events_seen += 1
            self.events.append((time.monotonic(), dict(fields, event=kind)))

    # --- an update: read once per window ---------------------------------------------

    def update(self):
        """What the page shows now, as a dict (made into JSON by the caller)."""
        now = time.monotonic()
        loop = self.server.loop
        elapsed = max(now - self.window_began, 1e-6)
        passes = loop.passes - self.window_passes
        return {
            "t": round(now - self.started, 3),
            "window": round(elapsed, 3),
            "backend": loop.backend,
            "passes": loop.passes,
            "passes_per_s": round(passes / elapsed, 1),
            "busy": round(max(0.0, 1.0 - self.blocked / elapsed), 3) if passes else 0.0,
            "clients": len(self.server.connections),
            "watched": len(loop.handlers),
            "text_shown": self.show_text,
            "rooms": self._rooms(),
            "descriptors": self._busiest(),
            "recent_passes": [self._pass(fields) for fields in self.passes],
            "events": [self._event(when, fields) for when, fields in self.events],
            "events_dropped": self.events_seen - len(self.events),
        }

    def _rooms(self):
        rooms = []
        for room in sorted(self.server.chat.rooms.values(), key=lambda room: room.name.lower())[:ROOMS_SHOWN]:
            members = list(room.members.items())[:MEMBERS_SHOWN]
            entry = {"name": room.name, "limit": room.limit, "private": room.key is not None,
                     "count": len(room.members),
                     "members": [("@" if op else "") + (user.nick or "?") for user, op in members]}
            if self.show_text:
                entry["topic"] = room.topic
            rooms.append(entry)
        return rooms

    def _busiest(self):
        labels = self.server.loop.labels
        fds = set(self.ready) | set(self.bytes_in) | set(self.bytes_out)

        def activity(fd):
            return self.bytes_in.get(fd, 0) + self.bytes_out.get(fd, 0) + sum(self.ready.get(fd, (0, 0)))

        busiest = sorted(fds, key=activity, reverse=True)[:FDS_SHOWN]
        return [{"fd": fd, "label": labels.get(fd, "(closed)"),
                 "ready_read": self.ready.get(fd, (0, 0))[0], "ready_write": self.ready.get(fd, (0, 0))[1],
                 "bytes_in": self.bytes_in.get(fd, 0), "bytes_out": self.bytes_out.get(fd, 0)}
                for fd in busiest]

    def _pass(self, fields):
        def shown(fds):
            return list(fds[:READY_SHOWN]) + (["\u2026"] if len(fds) > READY_SHOWN else [])
        timeout = fields["timeout"]
        return {"pass": fields.get("pass"), "blocked_ms": round(fields["blocked"] * 1000, 3),
                "timeout": None if timeout is None else round(timeout, 3),
                "read": len(fields["read"]), "write": len(fields["write"]),
                "ready_read": shown(fields["ready_read"]), "ready_write": shown(fields["ready_write"])}

    def _event(self, when, fields):
        kind = fields.get("event", "?")
        if kind == "accept":
            text = f"fd {fields['fd']} accepted from {fields['peer']}"
        elif kind == "close":
            text = f"fd {fields['fd']} closed ({fields['reason']})" if self.show_text else f"fd {fields['fd']} closed"
        else:
            text = describe(fields, self.show_text)
        return {"t": round(when - self.started, 3), "kind": kind, "text": text}
