"""Lab 06: reading a trace -- who blocked, when, and why.

``selectchat server --trace FILE`` records every step of its event loop:
each ``select()`` call (when it began, how long it blocked, what it watched,
what it returned), each accept/recv/send/close, each chat event.  The format
is in selectchat's ``docs/trace-format.md``; :mod:`selectchat.trace` reads it:
``load(path)`` gives a :class:`~selectchat.trace.Trace`, whose ``events`` are
plain dicts, and has summaries such as ``utilisation(trace)``.

Each function below answers one question about a trace.  A descriptor is
named by its *label* as it was at that moment: a client is
``"127.0.0.1:PORT"`` until it registers, then its nickname; a number is
reused after a close, so fd 8 may be bob first and carol later.
:func:`walk` (given) hands you each event with the labels known then.
"""

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
    ### BEGIN SOLUTION
    # TODO: look at trace.of("select").
    return max(trace.of("select"), key=lambda event: event["blocked"])
    ### END SOLUTION


def woke_by(trace, select_event):
    """Q2, *why* did this ``select()`` return: the labels of the descriptors it returned ready.

    Readable or writable, each label once, sorted.  ``[]`` when nothing was
    ready: then it returned because its ``timeout`` ran out (a timer was due).
    """
    ### BEGIN SOLUTION
    # TODO: find select_event in walk(trace); name its ready descriptors with the labels of then.
    for event, labels in walk(trace):
        if event is select_event:
            ready = set(event["ready_read"]) | set(event["ready_write"])
            return sorted({labels.get(fd, f"fd {fd}") for fd in ready})
    raise ValueError("that event is not in this trace")
    ### END SOLUTION


def first_woken_by(trace, label, after=0.0):
    """Q3: the first ``select`` event (with ``t >= after``) that returned ``label``'s descriptor readable.

    ``None`` if there is none.
    """
    ### BEGIN SOLUTION
    # TODO: walk the trace; compare labels of the ready_read descriptors with label.
    for event, labels in walk(trace):
        if event["kind"] == "select" and event["t"] >= after:
            if any(labels.get(fd) == label for fd in event["ready_read"]):
                return event
    return None
    ### END SOLUTION


def who_was_slow(trace):
    """Q4, *who* made the server wait: the label of the client with the most partial sends.

    A ``send`` event is partial when the kernel took less than it was
    offered (``sent < asked``): that client is not reading fast enough.
    ``None`` if no send was partial.
    """
    ### BEGIN SOLUTION
    # TODO: count partial sends per label (the label at the time of each send).
    counts = {}
    for event, labels in walk(trace):
        if event["kind"] == "send" and event["sent"] < event["asked"]:
            name = labels.get(event["fd"], f"fd {event['fd']}")
            counts[name] = counts.get(name, 0) + 1
    return max(counts, key=counts.get) if counts else None
    ### END SOLUTION


def busiest_sender(trace):
    """Q5: the label of the client the server received the most bytes from (``recv`` events)."""
    ### BEGIN SOLUTION
    # TODO: add up recv bytes per label.
    received = {}
    for event, labels in walk(trace):
        if event["kind"] == "recv":
            name = labels.get(event["fd"], f"fd {event['fd']}")
            received[name] = received.get(name, 0) + event["bytes"]
    return max(received, key=received.get) if received else None
    ### END SOLUTION


def time_blocked(trace):
    """Q6: the fraction (0 to 1) of the loop's time spent waiting inside ``select()``.

    Use the library: :func:`selectchat.trace.utilisation` says how the loop spent its time.
    """
    ### BEGIN SOLUTION
    # TODO: one line with utilisation(trace).
    use = utilisation(trace)
    return use.blocked / use.span if use.span > 0 else 0.0
    ### END SOLUTION
