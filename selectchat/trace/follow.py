"""Follow a trace file while a server writes it: what the live page shows, from the file.

``selectchat server --trace FILE`` hands its events to the file every 0.05 s
or so.  :class:`TraceFollower` reads what was added since its last look
(whole lines only: the writer may be in the middle of one), and folds it
into the same picture as the server's live view (``--live``): rooms and
their members, passes per second, how busy the loop was, the busiest
descriptors, what happened.  It does no I/O but reading the file, so a
notebook widget (:mod:`.live_widget`) or a test can drive it.

Over the last ``window`` seconds *of the trace* (its own clock, not this
process's): a trace read after the fact shows its last moments.
"""

import json
from collections import defaultdict, deque

from ..irc.casemap import irc_lower
from ..chat.events import told_without_text
from .reading import Names, TraceError
from .writer import FORMAT, VERSION

EVENTS_SHOWN = 30


class TraceFollower:
    """Read a growing trace file and keep the live view's picture of it."""

    def __init__(self, path, window=2.0, show_text=False):
        self.path = path
        self.window = window
        self.show_text = show_text
        self.offset = 0              # bytes of the file read so far (whole lines only)
        self.header = None
        self.names = Names()
        self.now = 0.0               # the trace's newest time
        self.rooms = {}              # irc_lower(name) -> {"name", "members": {nick: is operator}}
        self.recent = deque()        # (t, kind, fd or None, numbers): the window's I/O and passes
        self.events = deque(maxlen=EVENTS_SHOWN)   # (t, text) of chat events
        self.passes = 0
        self.ended = False           # the trace's `end` event was read: the server stopped

    def poll(self):
        """Read what the writer added; return how many events that was."""
        try:
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                data = file.read()
        except FileNotFoundError:
            return 0
        complete = data[: data.rfind(b"\n") + 1]   # a half-written last line waits for its end
        self.offset += len(complete)
        count = 0
        for line in complete.splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise TraceError(f"{self.path}: a line that is not JSON: {line[:80]!r}") from None
            if self.header is None:
                self._read_header(record)
            else:
                self.follow(record)
                count += 1
        self._forget_before(self.now - self.window)
        return count

    def _read_header(self, header):
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise TraceError(f"{self.path}: not a selectchat trace")
        if header.get("version", 0) > VERSION:
            raise TraceError(f"{self.path}: trace format version {header['version']}; this reads up to {VERSION}")
        self.header = header
        self.names = Names({"labels": {int(fd): label for fd, label in header.get("labels", {}).items()}})

    def follow(self, event):
        """Fold one event into the picture."""
        kind, t = event["kind"], event["t"]
        self.now = max(self.now, t)
        self.names.follow(event)
        if kind == "select":
            self.passes += 1
            self.recent.append((t, "select", None, (event["blocked"], event["ready_read"], event["ready_write"])))
        elif kind == "recv":
            self.recent.append((t, "in", event["fd"], event["bytes"]))
        elif kind == "send":
            self.recent.append((t, "out", event["fd"], event["sent"]))
        elif kind == "app":
            self._chat_event(event)
            self.events.append((t, event.get("text", "") if self.show_text else told_without_text(event)))
        elif kind == "end":
            self.ended = True

    def _chat_event(self, event):
        what, room = event.get("event"), event.get("room")
        key = irc_lower(room) if room else None
        if what == "room-created":
            self.rooms[key] = {"name": room, "members": {}, "by": event.get("by")}
        elif what == "join":  # the first to join a room a client made is its operator
            entry = self.rooms.setdefault(key, {"name": room, "members": {}, "by": None})
            entry["members"][event["nick"]] = event.get("members") == 1 and entry["by"] != "operator"
        elif what in ("part", "kick") and key in self.rooms:
            self.rooms[key]["members"].pop(event["nick"], None)
        elif what in ("room-gone", "room-closed"):
            self.rooms.pop(key, None)
        elif what == "quit":
            for entry in self.rooms.values():
                entry["members"].pop(event.get("nick"), None)
        elif what == "nick":
            for entry in self.rooms.values():
                if event["old"] in entry["members"]:
                    entry["members"][event["new"]] = entry["members"].pop(event["old"])

    def _forget_before(self, start):
        while self.recent and self.recent[0][0] < start:
            self.recent.popleft()

    def view(self):
        """The picture now: the same keys as the live page's updates (those a trace holds)."""
        window = self.window
        blocked, passes = 0.0, 0
        ready = defaultdict(lambda: [0, 0])
        moved = defaultdict(lambda: [0, 0])
        for _, kind, fd, numbers in self.recent:
            if kind == "select":
                passes += 1
                blocked += numbers[0]
                for fd_ready in numbers[1]:
                    ready[fd_ready][0] += 1
                for fd_ready in numbers[2]:
                    ready[fd_ready][1] += 1
            else:
                moved[fd][0 if kind == "in" else 1] += numbers
        fds = set(ready) | set(moved)

        def activity(fd):
            return sum(moved[fd]) + sum(ready[fd])

        descriptors = [{"fd": fd, "label": self.names.label.get(fd, "(closed)"),
                        "ready_read": ready[fd][0], "ready_write": ready[fd][1],
                        "bytes_in": moved[fd][0], "bytes_out": moved[fd][1]}
                       for fd in sorted(fds, key=activity, reverse=True)[:12]]
        rooms = [{"name": entry["name"],
                  "members": [("@" if op else "") + nick for nick, op in entry["members"].items()]}
                 for entry in sorted(self.rooms.values(), key=lambda entry: entry["name"].lower())]
        return {"t": round(self.now, 3), "passes": self.passes, "passes_per_s": round(passes / window, 1),
                "busy": round(max(0.0, 1 - blocked / window), 3) if passes else 0.0,
                "rooms": rooms, "descriptors": descriptors, "ended": self.ended, "text_shown": self.show_text,
                "events": [{"t": round(t, 3), "text": text} for t, text in self.events]}
