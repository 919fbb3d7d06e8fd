"""time_blocked() measures the span from the first select's t, not from when it began."""

from selectchat.trace import utilisation


def walk(trace):
    """Yield ``(event, labels)`` for each event: ``labels`` is ``{fd: label}`` just before it.

    (Do not keep ``labels``: it is the same dict each time, updated as the walk goes on.)
    """
    labels = dict(trace.header.get("labels", {}))
    for event in trace.events:
        yield event, labels
        if event["kind"] in ("register", "label"):
            labels[event["fd"]] = event["label"]
        elif event["kind"] == "unregister":
            labels.pop(event["fd"], None)


def longest_wait(trace):
    """Q1, *when* did the loop block longest: the ``select`` event with the largest ``blocked``.

    If several tie, the first of them.
    """
    return max(trace.of("select"), key=lambda event: event["blocked"])


def woke_by(trace, select_event):
    """Q2, *why* did this ``select()`` return: the labels of the descriptors it returned ready.

    Readable or writable, each label once, sorted.  ``[]`` when nothing was
    ready: then it returned because its ``timeout`` ran out (a timer was due).
    """
    for event, labels in walk(trace):
        if event is select_event:
            ready = set(event["ready_read"]) | set(event["ready_write"])
            return sorted({labels.get(fd, f"fd {fd}") for fd in ready})
    raise ValueError("that event is not in this trace")


def first_woken_by(trace, label, after=0.0):
    """Q3: the first ``select`` event (with ``t >= after``) that returned ``label``'s descriptor readable.

    ``None`` if there is none.
    """
    for event, labels in walk(trace):
        if event["kind"] == "select" and event["t"] >= after:
            if any(labels.get(fd) == label for fd in event["ready_read"]):
                return event
    return None


def who_was_slow(trace):
    """Q4, *who* made the server wait: the label of the client with the most partial sends.

    A ``send`` event is partial when the kernel took less than it was
    offered (``sent < asked``): that client is not reading fast enough.
    ``None`` if no send was partial.
    """
    counts = {}
    for event, labels in walk(trace):
        if event["kind"] == "send" and event["sent"] < event["asked"]:
            name = labels.get(event["fd"], f"fd {event['fd']}")
            counts[name] = counts.get(name, 0) + 1
    return max(counts, key=counts.get) if counts else None


def busiest_sender(trace):
    """Q5: the label of the client the server received the most bytes from (``recv`` events)."""
    received = {}
    for event, labels in walk(trace):
        if event["kind"] == "recv":
            name = labels.get(event["fd"], f"fd {event['fd']}")
            received[name] = received.get(name, 0) + event["bytes"]
    return max(received, key=received.get) if received else None


def time_blocked(trace):
    """Q6: the fraction (0 to 1) of the loop's time spent waiting inside ``select()``.

    Use the library: :func:`selectchat.trace.utilisation` says how the loop spent its time.
    """
    selects = trace.of("select")
    blocked = sum(event["blocked"] for event in selects)
    span = selects[-1]["t"] - selects[0]["t"]      # the bug: the first select began before its t
    return blocked / span if span > 0 else 0.0
