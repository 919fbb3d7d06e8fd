"""A trace cut into the loop's passes: one ``select()`` call and what followed it.

A pass of :meth:`selectchat.net.loop.EventLoop.run_once` is: wait in
``select()``, call the handler of each ready descriptor, run the due
timers.  In a trace that is a ``select`` event (recorded when the call
returned) and every event after it until the next ``select`` began.
:func:`passes` makes that grouping once, for the readers that think in
passes: the mistake finder (:mod:`.mistakes`) and the step-through view
(:mod:`.stepper`).
"""

from dataclasses import dataclass, field

from .reading import Names

# Why select() returned (Pass.woke_by)
DESCRIPTOR, SIGNAL, TIMER, NOTHING = "a descriptor", "a signal", "a timer", "nothing"


@dataclass
class Pass:
    """One pass of the loop: its ``select`` event and the events after it."""

    index: int                 # position in the trace's list of passes (0, 1, ...)
    number: int                # the loop's own pass number (version 3), else index + 1
    select: dict               # the select event
    events: list = field(default_factory=list)   # recorded after select returned, in order
    end: float = 0.0           # when the next select() began (the last pass: its last event)
    labels: dict = field(default_factory=dict)   # {fd: name} as the pass began

    @property
    def woke(self):
        """When select() returned (the pass's handlers started)."""
        return self.select["t"]

    @property
    def busy(self):
        """Seconds from select()'s return to the next select() call: handlers and timers."""
        return max(0.0, self.end - self.woke)

    @property
    def woke_by(self):
        """Why select() returned: DESCRIPTOR, SIGNAL (the self-pipe), TIMER, or NOTHING."""
        ready = self.select["ready_read"] + self.select["ready_write"]
        if any(self.labels.get(fd) == "signals" for fd in ready):
            return SIGNAL
        if ready:
            return DESCRIPTOR
        return TIMER if self.select["timeout"] is not None else NOTHING

    def on(self, fd):
        """The events of this pass that concern descriptor ``fd``."""
        return [e for e in self.events if e.get("fd") == fd]

    def did_io(self):
        """Did a handler accept, read (an empty read too: that is how EOF is read) or send something?"""
        return any(e["kind"] in ("accept", "recv") or (e["kind"] == "send" and e["asked"]) for e in self.events)


def passes(trace):
    """The trace's passes, in order.  Events before the first select are not in any."""
    names = Names(trace.header)
    found, current = [], None
    for event in trace.events:
        if event["kind"] == "select":
            if current is not None:
                current.end = event["began"]
            current = Pass(len(found), event.get("pass", len(found) + 1), event, labels=dict(names.label))
            found.append(current)
        elif current is not None:
            current.events.append(event)
        names.follow(event)
    if current is not None:   # the last pass: until its last step (not the recorder's `end`, maybe much later)
        steps = [e["t"] for e in current.events if e["kind"] not in ("end", "lost")]
        current.end = max(steps, default=current.woke)
    return found
