"""The classic mistakes of an event loop, found in its trace.

Each finder reads the trace pass by pass (:mod:`.passes`) and returns
:class:`Mistake` s: what went wrong, when, on which descriptor, and one
sentence a student can act on.

* **busy loop** -- ``select()`` returns at once, pass after pass, and the
  handlers do no I/O: a socket is watched for writing with nothing to send
  (a socket is almost always writable), or ``select()`` is given a timeout
  of 0 (polling);
* **EOF ignored** -- ``recv()`` returns ``b""`` again and again on one
  descriptor: the peer closed, the socket stays readable for ever, and the
  loop spins on it;
* **blocking call** -- ``select()`` said a descriptor was ready, but its
  handler's ``recv()``/``send()``/``accept()`` returned only long after: a
  blocking socket (``sendall`` to a slow reader, a second ``recv`` waiting
  for more of a line);
* **stall** -- a pass held the loop long without such a call: a handler or
  a timer computed or slept, and every other client waited (selectchat's
  loop times its handlers: in its traces a long pass counts only if they
  took the time -- a busy machine that did not schedule the process is not
  the program's mistake);
* **FD_SETSIZE** -- ``select()`` watched descriptors close to 1024, the
  highest number it can take.

The thresholds are parameters of :func:`find_mistakes`; the defaults flag
what a person would notice (a fifth of a second; a spin of 50 passes) and
nothing in a healthy server's trace.
"""

from dataclasses import dataclass, replace

from .passes import passes

FD_SETSIZE = 1024   # as selectchat.net.loop.FD_SETSIZE (not imported: the trace reads other programs' traces too)


@dataclass(frozen=True)
class Mistake:
    """One classic mistake, where it (first) happened."""

    kind: str            # "busy loop", "EOF ignored", "blocking call", "stall", "near FD_SETSIZE"
    t: float             # seconds since the start of the trace
    fd: int | None       # the descriptor, if one is to blame
    label: str           # its name then
    advice: str          # one sentence a student can act on
    detail: str          # what the trace shows
    count: int = 1       # how many passes, reads or calls showed it
    times: int = 1       # how many separate times it happened (the first is described)

    def __str__(self):
        where = f"fd {self.fd} ({self.label})" if self.fd is not None else "the loop"
        again = f" (and {self.times - 1} more time{'s' if self.times > 2 else ''})" if self.times > 1 else ""
        return f"{self.kind} at {self.t:.3f} s on {where}{again}: {self.detail}. {self.advice}"


def find_mistakes(trace, *, spin=50, slow=0.2, near_fd_setsize=64):
    """The mistakes in ``trace``, in order of time.

    ``spin``: how many passes in a row make a busy loop (two empty reads on
    one descriptor always make an ignored EOF).  ``slow``: seconds a pass may
    hold the loop.  ``near_fd_setsize``: how close to FD_SETSIZE is close.
    """
    found = passes(trace)
    mistakes = (_busy_loops(found, spin) + _ignored_eofs(found) + _long_passes(found, slow)
                + _near_fd_setsize(trace, found, near_fd_setsize))
    return _once_each(sorted(mistakes, key=lambda m: m.t))


def _once_each(mistakes):
    """One mistake per kind and descriptor: the first, counting the times it happened."""
    first = {}
    for mistake in mistakes:
        key = (mistake.kind, mistake.fd)
        if key in first:
            earlier = first[key]
            first[key] = replace(earlier, count=earlier.count + mistake.count, times=earlier.times + 1)
        else:
            first[key] = mistake
    return list(first.values())


def format_mistakes(mistakes):
    """The mistakes as the last section of ``selectchat trace summary``."""
    if not mistakes:
        return "mistakes      none found (busy loop, EOF ignored, blocking call, stall, near FD_SETSIZE)"
    lines = [f"mistakes      {len(mistakes)} found:"]
    for mistake in mistakes:
        lines.append(f"  - {mistake}")
    return "\n".join(lines)


AT_ONCE = 0.005   # seconds: a select() that returned this soon did not sleep (a thread switch can take 1 ms)


def _busy_loops(found, spin):
    """Stretches of ``spin`` or more passes that returned at once and moved no byte, by cause."""
    stretches, run = {}, []   # cause -> [runs]
    for p in found + [None]:
        if p is not None and p.select["blocked"] < AT_ONCE and not p.did_io():
            run.append(p)
            continue
        if len(run) >= spin:
            stretches.setdefault(_spin_cause(run), []).append(run)
        run = []
    return [_explain_spin(cause, runs) for cause, runs in stretches.items()]


def _spin_cause(run):
    """What kept select() from sleeping: ("write", fd), ("read", fd) or ("timeout", None)."""
    for kind, key in (("write", "ready_write"), ("read", "ready_read")):
        always = set.intersection(*(set(p.select[key]) for p in run))
        if always:
            return kind, min(always)
    return "timeout", None


ADVICE = {
    "write": ("Watch a socket for writing only while its output buffer holds something, and stop as "
              "soon as it is empty.", "was writable with nothing to send"),
    "read": ("A readable descriptor must be read (or unregistered) by its handler, or select() reports "
             "it again at once.", "was readable and not read"),
    "timeout": ("Give select() a timeout of None (or the time until the next timer), not 0: let it "
                "sleep until something happens.", "nothing was ready: select() was given a timeout of 0"),
}


def _explain_spin(cause, runs):
    kind, fd = cause
    first = runs[0][0]
    count = sum(len(run) for run in runs)
    span = sum(run[-1].end - run[0].woke for run in runs)
    where = f" in {len(runs)} stretches" if len(runs) > 1 else ""
    advice, what = ADVICE[kind]
    detail = (f"{count} passes{where} ({span * 1000:.0f} ms) returned at once and moved no byte; "
              + (f"fd {fd} {what}" if fd is not None else what))
    label = first.labels.get(fd, f"fd {fd}") if fd is not None else ""
    return Mistake("busy loop", first.woke, fd, label, advice, detail, count)


def _ignored_eofs(found):
    """Two or more empty reads on one descriptor: the first said EOF, the rest were ignored."""
    mistakes, empty = [], {}   # fd -> [pass, event] of its first empty read, and the count
    for p in found:
        for event in p.events:
            kind, fd = event["kind"], event.get("fd")
            if kind == "recv" and event["bytes"] == 0:
                empty.setdefault(fd, [p, event, 0])[2] += 1
            elif kind in ("recv", "close", "unregister", "register") and fd in empty:
                mistakes += _eof_mistake(empty.pop(fd))
    for entry in empty.values():
        mistakes += _eof_mistake(entry)
    return mistakes


def _eof_mistake(entry):
    p, event, count = entry
    if count < 2:
        return []
    fd = event["fd"]
    return [Mistake("EOF ignored", event["t"], fd, p.labels.get(fd, f"fd {fd}"),
                    "recv() returning b'' means the peer closed: unregister the socket and close it "
                    "the first time.", f"recv() returned b'' {count} times in a row", count)]


_IO = ("recv", "send", "accept", "eagain")


def _long_passes(found, slow):
    """Passes whose handlers and timers held the loop ``slow`` seconds or more.

    selectchat's loop (a trace whose select events carry a ``pass`` number)
    times every handler and timer and records the long ones: there, a long
    pass counts only if they account for half of it at least.  The rest of a
    long pass is the machine's doing (the process was not scheduled), not
    the program's.
    """
    timed = any("pass" in p.select for p in found)
    mistakes = []
    for p in found:
        if p.busy < slow or (timed and _time_in_handlers_and_timers(p) < p.busy / 2):
            continue
        gap, event = _longest_gap(p)
        if event is not None and event["kind"] in _IO and gap >= slow / 2:
            fd = event.get("fd")
            call = "accept" if event["kind"] == "accept" else event.get("call", event["kind"])
            mistakes.append(Mistake(
                "blocking call", p.woke, fd, p.labels.get(fd, f"fd {fd}"),
                "Make every socket non-blocking (sock.setblocking(False)) and call recv()/send() once "
                "per readiness; keep what is not complete for the next pass.",
                f"select() said it was ready, then its {call}() returned {gap * 1000:.0f} ms later; "
                f"the whole loop waited"))
        else:
            mistakes.append(Mistake("stall", p.woke, _blamed_fd(p), p.labels.get(_blamed_fd(p), ""),
                                    "Keep each handler and timer short: do long work in small steps "
                                    "(a timer per step) or in another process, never time.sleep() in the loop.",
                                    f"pass {p.number} held the loop {p.busy * 1000:.0f} ms; {_what_ran(p)}"))
    return mistakes


def _time_in_handlers_and_timers(p):
    return sum(e["took"] for e in p.events if e["kind"] in ("slow", "timer"))


def _longest_gap(p):
    """The longest time between two steps of the pass, and the event that ended it."""
    best, ended_by, previous = 0.0, None, p.woke
    for event in p.events:
        if event["t"] - previous > best:
            best, ended_by = event["t"] - previous, event
        previous = max(previous, event["t"])
    return best, ended_by


def _blamed_fd(p):
    slow = [e for e in p.events if e["kind"] == "slow"]
    if slow:
        return max(slow, key=lambda e: e["took"])["fd"]
    ready = p.select["ready_read"] + p.select["ready_write"]
    return ready[0] if len(set(ready)) == 1 else None


def _what_ran(p):
    """What ran in the pass, longest first: handlers that reported themselves slow, timers."""
    parts = [f"{e['call']} of fd {e['fd']} ({p.labels.get(e['fd'], '?')}) took {e['took'] * 1000:.0f} ms"
             for e in p.events if e["kind"] == "slow"]
    parts += [f"timer {e['callback']} took {e['took'] * 1000:.0f} ms" for e in p.events if e["kind"] == "timer"
              and e.get("took", 0) >= 0.001]
    if not parts:
        ready = sorted(set(p.select["ready_read"] + p.select["ready_write"]))
        names = ", ".join(f"fd {fd} ({p.labels.get(fd, 'unnamed')})" for fd in ready)
        parts = [f"the handlers of {names} ran" if ready else "no descriptor was ready: the loop's timers ran"]
    return "; ".join(parts)


def _near_fd_setsize(trace, found, margin):
    """select() watched a descriptor numbered FD_SETSIZE - ``margin`` or more (poll/epoll have no such limit)."""
    near = [p for p in found if p.select.get("backend", trace.header.get("backend")) in (None, "select")
            and max(p.select["read"] + p.select["write"], default=-1) >= FD_SETSIZE - margin]
    if not near:
        return []
    first = near[0]
    fd = max(first.select["read"] + first.select["write"])
    highest = max(max(p.select["read"] + p.select["write"]) for p in near)
    return [Mistake("near FD_SETSIZE", first.woke, fd, first.labels.get(fd, f"fd {fd}"),
                    f"select() cannot watch a descriptor numbered {FD_SETSIZE} or more: cap the number "
                    f"of clients, or use poll/epoll (selectchat server --backend poll).",
                    f"select() watched descriptor {fd}, {FD_SETSIZE - fd} below FD_SETSIZE ({FD_SETSIZE}); "
                    f"{highest} at most, in {len(near)} calls", len(near))]
