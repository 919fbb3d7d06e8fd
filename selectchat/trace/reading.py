"""Reading a trace back: :func:`load`, :func:`loads`, :class:`Trace`, :class:`Names`.

A trace file is JSON Lines: a header, then one event per line
(``docs/trace-format.md``).  :func:`load` turns it into a :class:`Trace`,
a header and a list of plain dicts.  Every reader of a trace also needs to
know what each descriptor was called at each moment -- a number is reused
after a close, a client is renamed when it registers -- so that fold is
written once, here, as :class:`Names`.
"""

import json
from dataclasses import dataclass

from .writer import FORMAT, VERSION


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
        names = Names(self.header)
        kept = []
        for event in self.events:
            first = event["began"] if event["kind"] == "select" else event["t"]
            if event["t"] < start:
                names.follow(event)
            if event["t"] >= start and first <= end:
                kept.append(event)
        return Trace(dict(self.header, labels=dict(names.label)), kept)


# What Names.follow says happened to a descriptor's name.
OPENED, RENAMED, CLOSED = "opened", "renamed", "closed"


class Names:
    """Who is who, as a trace goes by: the one fold over ``register``/``label``/``unregister``.

    Start it from a header (its ``labels`` name the descriptors registered
    before the trace began) and call :meth:`follow` with each event in
    order; :attr:`label` then holds ``{fd: name}`` as of that event and
    :attr:`fd_of` ``{name: fd}`` (a client's nickname, or its address before
    it registered, leads to its descriptor, until that is unregistered).  ``follow`` returns ``(OPENED | RENAMED | CLOSED, fd,
    label)`` when the event changed a name, else None.
    """

    def __init__(self, header=None):
        self.label = dict((header or {}).get("labels", {}))
        self.fd_of = {label: fd for fd, label in self.label.items()}

    def follow(self, event):
        kind = event["kind"]
        if kind == "register" or kind == "label":
            fd, label = event["fd"], event["label"]
            self.label[fd] = label
            self.fd_of[label] = fd
            return (OPENED if kind == "register" else RENAMED), fd, label
        if kind == "unregister":
            fd = event["fd"]
            label = self.label.pop(fd, event.get("label"))
            # Forget the names that led here (a long recording must not keep every name ever seen).
            for name in [name for name, number in self.fd_of.items() if number == fd]:
                del self.fd_of[name]
            return CLOSED, fd, label
        return None


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
    version = header.get("version", 0)
    if not isinstance(version, int) or version > VERSION:
        raise TraceError(f"{name}: trace format version {version!r}; "
                         f"this selectchat reads up to version {VERSION}")
    try:
        header["labels"] = {int(fd): str(label) for fd, label in header.get("labels", {}).items()}
    except (AttributeError, ValueError):
        raise TraceError(f"{name}: the header's labels are not {{descriptor: name}}") from None
    events = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break  # cut short by a kill: keep what came before
            raise TraceError(f"{name}, line {number}: not JSON") from None
        if not isinstance(event, dict) or "kind" not in event or "t" not in event:
            raise TraceError(f"{name}, line {number}: not an event (an object with 't' and 'kind')")
        events.append(event)
    return Trace(header, events)
