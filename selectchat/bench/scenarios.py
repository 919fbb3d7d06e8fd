"""The four scenarios of ``selectchat bench``, each bounded in count and time.

Each function drives a :class:`~.load.Generator` against a
running server and returns a plain dict (it becomes the ``--json`` output):

* :func:`fanout` -- members in one room, senders flooding it (or pacing at
  ``rate``): deliveries per second and latency from send to each delivery;
* :func:`idle` -- many registered clients that say nothing: the server's CPU
  while idle, its memory per client, a probe's PING round trip;
* :func:`slow_reader` -- a paced fan-out run twice, without and with one
  member that never reads and one that reads slowly: the others' latency
  in both runs, the server's memory over time, when the non-reader is dropped;
* :func:`connect_storm` -- clients connect, register and join all at once:
  time until all joined, refusals past the server's limit.
"""

import resource
import time
from collections import Counter

from .load import Deliveries, Hooks, summarize_ms
from .spread import Workers, processes_needed, room_of, shares

JOIN_CONCURRENCY = 5   # members joining at a time: setting up a test is not a storm
STALL = 5.0    # seconds without a delivery after which a run is called stalled
BATCH = 64     # messages a flood sender adds per write readiness
FEED_LOW = 16384   # ... when less than this is still waiting in its buffer


class BenchError(RuntimeError):
    """The scenario could not be set up (e.g. members could not join)."""


class Span:
    """Wall time, server CPU and generator CPU over one measured stretch."""

    def __init__(self, gen):
        self.gen = gen
        self.wall = time.monotonic()
        self.server_cpu = gen.server.cpu_seconds()
        self.own_cpu = _own_cpu()

    def end(self):
        wall = time.monotonic() - self.wall
        own = _own_cpu() - self.own_cpu
        out = {"wall_s": wall, "generator_cpu_s": own, "generator_cpu_pct": 100 * own / wall}
        server_cpu = self.gen.server.cpu_seconds()
        if server_cpu is not None and self.server_cpu is not None:
            out["server_cpu_s"] = server_cpu - self.server_cpu
            out["server_cpu_pct"] = 100 * (server_cpu - self.server_cpu) / wall
        memory = self.gen.server.memory_kb()
        if memory:
            out["server_rss_kb"] = memory.get("rss")
            out["server_peak_rss_kb"] = memory.get("peak")
        return out


def _own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)   # µs resolution (os.times: 10 ms)
    return usage.ru_utime + usage.ru_stime


def join_room(gen, count, room, group, timeout, timed=10, letter="m"):
    """Connect ``count`` members; in IRC they join ``room``. All must make it.

    The last ``timed`` members read every stamp (latency); the others count."""
    irc = gen.protocol == "irc"
    already = sum(p.state == "ready" for p in gen.peers)
    gen.status = lambda: (None, f"joining: {sum(p.state == 'ready' for p in gen.peers) - already}/{count}")
    peers = gen.open(count, letter, concurrency=JOIN_CONCURRENCY, timeout=timeout,
                     room=room if irc else None, group=group)
    missing = [p for p in peers if p.state != "ready"]
    if missing:
        reasons = Counter(p.reason or p.state for p in missing)
        raise BenchError(f"{len(missing)} of {count} members did not join {room}: "
                         + ", ".join(f"{n}x {r}" for r, n in reasons.most_common(3)))
    if not irc:
        _sync_bare(gen, peers, timeout)
    for i, peer in enumerate(peers):
        peer.timed = i >= count - timed
    return peers


def _sync_bare(gen, peers, timeout):
    """The bare loop does not say when it has accepted a client: repeat a
    line from the last one until every other member has seen it."""
    seen = set()

    class SyncHooks(Hooks):
        def on_bare_line(self, peer, raw):
            if raw.startswith(b"sync"):
                seen.add(peer)

    gen.hooks = SyncHooks()
    last = peers[-1]

    def again():
        if len(seen) < len(peers) - 1:
            last.send(b"sync\n")
            return True
        return False

    again()
    gen.repeat(0.05, again)
    if not gen.run_until(lambda: len(seen) >= len(peers) - 1, timeout):
        raise BenchError(f"only {len(seen)} of {len(peers) - 1} members heard the sync line")
    gen.hooks = Hooks()
    gen.sleep(0.1)   # let the last sync lines arrive before the stamps do


class Flow:
    """Senders put ``total`` stamped messages into a room, as fast as the server
    takes them (``rate`` 0) or at ``rate`` messages per second.

    ``window`` bounds the messages sent but not yet delivered to every
    receiver: a flood is limited by the server, never by an ever-growing
    queue (which would only measure how much memory the server has).
    """

    def __init__(self, gen, senders, group, receivers, total, size, rate=0.0, window=1000, room="#bench"):
        self.gen, self.senders, self.group = gen, senders, group
        self.receivers, self.total, self.rate, self.window = receivers, total, rate, window
        if gen.protocol == "irc":
            self.head, self.end = b"PRIVMSG " + room.encode() + b" :", b"\r\n"
        else:
            self.head, self.end = b"", b"\n"
        self.pad = b"x" * max(0, size - 15)   # the stamp takes 15
        self.sent = 0
        self.waiting = False
        self.started = None
        self.first_send_us = None
        self.stalled = False
        self._seen, self._seen_at = 0, None
        self._turn = 0

    @property
    def expected(self):
        return self.total * self.receivers

    def lines(self, count):
        return (self.head + self.gen.stamp() + self.pad + self.end) * count

    def budget(self):
        left = self.total - self.sent
        if self.window:
            in_flight = self.sent - self.group.count // self.receivers
            left = min(left, self.window - in_flight)
        return left

    def start(self):
        self.started = time.monotonic()
        self._seen_at = self.started
        self.first_send_us = self.gen.now_us()
        if self.rate:
            self.gen.repeat(0.001, self.pace)
            self.pace()
        else:
            self.group.on_progress = self.wake
            for sender in self.senders:
                sender.feeder = self.feed
                sender.wants_write = True
                sender.update_interest()

    def feed(self, sender):
        """A flood sender's socket is writable: add a batch if the window allows."""
        if len(sender.outbuf) >= FEED_LOW:
            return
        count = min(BATCH, self.budget())
        if count <= 0:
            sender.wants_write = False
            self.waiting = self.sent < self.total
            return
        sender.outbuf += self.lines(count)
        self.sent += count

    def wake(self):
        if self.waiting and self.budget() > 0:
            self.waiting = False
            for sender in self.senders:
                if sender.state == "ready":
                    sender.wants_write = True
                    sender.update_interest()

    def pace(self):
        """Send what the schedule says is due by now (paced mode). Repeat while True."""
        due = min(int(self.rate * (time.monotonic() - self.started)) + 1, self.total) - self.sent
        due = min(due, self.budget())
        if due > 0:
            counts = [0] * len(self.senders)
            for _ in range(due):   # take turns, so that every sender sends at the rate / S
                counts[self._turn] += 1
                self._turn = (self._turn + 1) % len(self.senders)
            for sender, count in zip(self.senders, counts):
                if count and sender.state == "ready":
                    sender.send(self.lines(count))
            self.sent += due
        return self.sent < self.total

    def done(self):
        if self.group.count >= self.expected:
            return True
        now = time.monotonic()
        if self.group.count != self._seen:
            self._seen, self._seen_at = self.group.count, now
        elif now - self._seen_at > STALL:
            self.stalled = True
            return True
        return False

    def results(self):
        group = self.group
        elapsed = ((group.last_us or self.first_send_us) - self.first_send_us) / 1e6
        return {
            "sent": self.sent,
            "deliveries": group.count,
            "expected_deliveries": self.expected,
            "lost_deliveries": self.expected - group.count,
            "stalled": self.stalled,
            "elapsed_s": elapsed,
            "deliveries_per_s": group.count / elapsed if elapsed > 0 else None,
            "messages_per_s": group.count / self.receivers / elapsed if elapsed > 0 else None,
            "latency_ms": group.latency_ms(),
        }


def _flow_status(flow, phase=""):
    def status():
        expected = flow.expected or 1
        return (flow.group.count / expected,
                f"{phase}{flow.group.count:,}/{flow.expected:,} deliveries, {flow.sent:,}/{flow.total:,} sent")
    return status


def fanout(gen, members=50, senders=1, messages=20000, size=100, rate=0.0, window=2000,
           timed=10, timeout=60.0, room="#bench"):
    """``senders`` of ``members`` each send ``messages`` messages of ``size`` bytes."""
    if members < 2 or not 1 <= senders <= members:
        raise BenchError("fanout needs at least 2 members and 1 to 'members' senders")
    group = Deliveries(gen)
    peers = join_room(gen, members, room, group, timeout, timed)
    flow = Flow(gen, peers[:senders], group, members - 1, messages * senders, size, rate, window, room)
    gen.status = _flow_status(flow)
    span = Span(gen)
    flow.start()
    finished = gen.run_until(flow.done, timeout)
    measured = span.end()
    dropped = [p.nick for p in peers if p.state != "ready"]
    # CPU seconds per delivery do not depend on how much of a core a process
    # got: on a busy machine they compare servers better than deliveries/s.
    for who in ("server", "generator"):
        cpu = measured.get(f"{who}_cpu_s")
        if cpu and group.count:
            measured[f"{who}_deliveries_per_cpu_s"] = group.count / cpu
    return {
        "params": {"members": members, "senders": senders, "messages": messages, "size": size,
                   "rate": rate, "window": window, "timed": min(timed, members), "room": room},
        "complete": finished and not flow.stalled and not dropped and group.count == flow.expected,
        "timed_out": not finished,
        **flow.results(),
        "members_dropped": dropped,
        **measured,
    }


def idle(gen, clients=990, pings=100, duration=5.0, concurrency=10, room=None, timeout=60.0, processes=None):
    """``clients`` registered clients stay silent for ``duration`` seconds; a probe PINGs.

    The clients are spread over ``processes`` (default: as many as the
    descriptor limit needs): this one and worker processes."""
    memory_before = gen.server.memory_kb().get("rss")
    counts = shares(clients, processes_needed(clients, processes))
    workers = None
    try:
        if len(counts) > 1:
            workers = Workers(gen.host, gen.port, counts[1:], "idle", room, concurrency, timeout)
            workers.go()
        return _idle(gen, clients, counts[0], workers, pings, duration, concurrency, room, timeout,
                     memory_before)
    finally:
        if workers is not None:
            workers.stop()


def _idle(gen, clients, local, workers, pings, duration, concurrency, room, timeout, memory_before):
    def connecting():
        ready = sum(p.state == "ready" for p in gen.peers[:local])
        return ready / max(1, local), f"connecting: {ready:,}/{local:,} ready here, {clients:,} in all"

    gen.status = connecting
    peers = gen.open(local, "i", concurrency=concurrency, timeout=timeout, room=room)
    states = Counter(p.state for p in peers)
    failures = Counter(p.reason or p.state for p in peers if p.state != "ready")
    remote = workers.results(timeout) if workers else []
    for report in remote:
        states.update(ready=report["ready"], refused=report["refused"], failed=report["failed"],
                      connecting=report["pending"])
        failures.update(report["failures"])
    probe = gen.connect("p")
    if not gen.run_until(lambda: probe.state not in probe.PENDING, 10.0) or probe.state != "ready":
        raise BenchError(f"the probe client could not register: {probe.reason or probe.state}")
    gen.sleep(0.5)   # let the registration traffic settle
    memory_connected = gen.server.memory_kb().get("rss")

    sent_at, rtts = {}, []

    class ProbeHooks(Hooks):
        def on_pong(self, peer, msg):
            token = msg.params[-1] if msg.params else ""
            if peer is probe and token in sent_at:
                rtts.append((time.monotonic_ns() - sent_at.pop(token)) // 1000)

    gen.hooks = ProbeHooks()

    def ping():
        token = f"bench{len(sent_at) + len(rtts)}"
        sent_at[token] = time.monotonic_ns()
        probe.send_line("PING", token)
        return len(sent_at) + len(rtts) < pings

    span = Span(gen)
    started = time.monotonic()
    gen.status = lambda: ((time.monotonic() - started) / duration,
                          f"idle: {states['ready']:,} clients, {len(rtts)}/{pings} pings")
    gen.repeat(duration / pings, ping)
    ping()
    gen.sleep(duration)
    measured = span.end()
    gen.run_until(lambda: len(rtts) >= pings, 2.0)   # the last PINGs and PONGs
    still = sum(p.state == "ready" for p in peers)
    if workers:
        still += sum(n or 0 for n in workers.stop())
    per_client = None
    if memory_before and memory_connected and states["ready"]:
        per_client = (memory_connected - memory_before) / states["ready"]
    return {
        "params": {"clients": clients, "pings": pings, "duration": duration, "room": room,
                   "processes": 1 + len(remote)},
        "complete": states["ready"] == clients and still == clients and len(rtts) == pings,
        "connected": states["ready"],
        "refused": states["refused"],
        "failed": states["failed"] + states["connecting"] + states["registering"] + states["joining"],
        "failures": dict(failures.most_common(5)),
        "still_connected": still,
        "ping_ms": summarize_ms(rtts),
        "pings_lost": pings - len(rtts),
        "server_rss_before_kb": memory_before,
        "server_rss_connected_kb": memory_connected,
        "server_kb_per_client": per_client,
        **measured,
    }


def slow_reader(gen, members=50, rate=6000.0, duration=6.0, size=100, slow_rate=20000,
                max_sendq=None, timed=10, timeout=60.0):
    """A paced fan-out twice: without, then with a non-reader and a slow reader."""
    if members < 2:
        raise BenchError("slow-reader needs at least 2 members")
    total = max(1, int(rate * duration))
    started = time.monotonic()
    rss = []   # (seconds since start, phase, VmRSS KiB)
    phase = ["without"]

    def sample():
        kb = gen.server.memory_kb().get("rss")
        if kb is not None:
            rss.append((round(time.monotonic() - started, 3), phase[0], kb))
        return True

    if gen.server.available():
        gen.repeat(0.25, sample)
        sample()

    # Phase 1: every member reads.
    group = Deliveries(gen)
    peers = join_room(gen, members, "#calm", group, timeout, timed)
    flow = Flow(gen, peers[:1], group, members - 1, total, size, rate, 0, "#calm")
    gen.status = _flow_status(flow, "without slow readers: ")
    span = Span(gen)
    flow.start()
    finished = gen.run_until(flow.done, duration + timeout)
    without = {**flow.results(), **span.end(), "timed_out": not finished}
    for peer in peers:
        peer.close()

    # Phase 2: the same, plus one member that never reads and one that reads slowly.
    phase[0] = "with"
    baseline_kb = gen.server.memory_kb().get("rss")
    group = Deliveries(gen)
    slow_group = Deliveries(gen)
    peers = join_room(gen, members, "#slow", group, timeout, timed)
    room = "#slow" if gen.protocol == "irc" else None
    nonreader = gen.connect("n", room=room, reading=False)
    slow = gen.connect("s", room=room, group=slow_group, reading=False)
    gen.run_until(lambda: nonreader.state not in nonreader.PENDING and slow.state not in slow.PENDING, timeout)
    if nonreader.state != "ready" or slow.state != "ready":
        raise BenchError(f"the slow members could not join: {nonreader.reason or slow.reason}")
    gen.sleep(0.2)   # (the bare loop cannot tell when it has accepted them)
    gone = {}   # nick -> (seconds after the flow started, reason), from the QUITs others see

    class QuitHooks(Hooks):
        def on_quit(self, peer, msg):
            if msg.nick not in gone:
                gone[msg.nick] = (time.monotonic() - flow.started, msg.param(0))

    gen.hooks = QuitHooks()

    def read_slowly():
        budget = max(1, int(slow_rate / 10))
        while budget > 0 and slow.state == "ready":
            got = slow.handle_read(min(budget, 65536))
            if not got:
                break
            budget -= got
        return slow.state == "ready"

    flow = Flow(gen, peers[:1], group, members - 1, total, size, rate, 0, "#slow")
    gen.status = _flow_status(flow, "with slow readers: ")
    span = Span(gen)
    flow.start()
    gen.repeat(0.1, read_slowly)
    finished = gen.run_until(flow.done, duration + timeout)
    with_slow = {**flow.results(), **span.end(), "timed_out": not finished}
    sample()

    def fate(peer, **extra):
        nick_gone = gone.get(peer.nick)
        return {"nick": peer.nick, "dropped": nick_gone is not None or peer.state != "ready",
                "after_s": nick_gone[0] if nick_gone else None,
                "reason": nick_gone[1] if nick_gone else peer.reason, **extra}

    base_p99, slow_p99 = without["latency_ms"]["p99"], with_slow["latency_ms"]["p99"]
    base_p50, slow_p50 = without["latency_ms"]["p50"], with_slow["latency_ms"]["p50"]
    peak = max((kb for _, _, kb in rss), default=None)
    bound = None
    if max_sendq and baseline_kb:
        bound = baseline_kb + max_sendq * (members + 2) / 1024
    return {
        "params": {"members": members, "rate": rate, "duration": duration, "size": size,
                   "slow_rate": slow_rate, "max_sendq": max_sendq, "timed": min(timed, members)},
        "complete": not without["timed_out"] and not with_slow["timed_out"]
                    and without["lost_deliveries"] == 0 and with_slow["lost_deliveries"] == 0,
        "without": without,
        "with": with_slow,
        "p50_ratio": slow_p50 / base_p50 if base_p50 and slow_p50 else None,
        "p99_ratio": slow_p99 / base_p99 if base_p99 and slow_p99 else None,
        "nonreader": fate(nonreader),
        "slow_reader": fate(slow, deliveries=slow_group.count, bytes_read=slow.bytes_in),
        "server_rss_series": rss,
        "server_rss_baseline_kb": baseline_kb,
        "server_rss_peak_kb": peak,
        "server_rss_bound_kb": bound,
        "within_bound": (peak <= bound) if bound and peak else None,
        "server_peak_rss_kb": gen.server.memory_kb().get("peak"),
    }


def connect_storm(gen, clients=500, room="#storm", timeout=30.0, processes=None, rooms=1):
    """``clients`` connect, register and join ``room`` all at once (over ``processes``).

    With ``rooms`` > 1 they are dealt round-robin into that many rooms: a
    JOIN is announced to every member, so 10,000 joins of *one* room cost
    the server 50 million JOIN lines, whatever the server."""
    counts = shares(clients, processes_needed(clients, processes))
    irc = gen.protocol == "irc"
    workers = None
    try:
        if len(counts) > 1:
            workers = Workers(gen.host, gen.port, counts[1:], "storm", room if irc else None, timeout=timeout,
                              rooms=rooms, first=counts[0])
        span = Span(gen)
        started = time.monotonic()   # CLOCK_MONOTONIC: the same clock in every process
        if workers:
            workers.go()
        peers = [gen.connect("c", room=room_of(room, rooms, i) if irc else None) for i in range(counts[0])]
        gen.status = lambda: (sum(p.state not in p.PENDING for p in peers) / max(1, counts[0]),
                              f"{sum(p.state == 'ready' for p in peers):,}/{counts[0]:,} joined here")
        finished = gen.run_until(lambda: gen.pending == 0, timeout)
        remote = workers.results(timeout) if workers else []
        measured = span.end()
    finally:
        if workers is not None:
            workers.stop()
    ready = [p for p in peers if p.state == "ready"]
    refused = Counter(p.reason.split(":")[0] for p in peers if p.state == "refused")
    failed = Counter(p.reason for p in peers if p.state == "failed")
    pending = sum(p.state in p.PENDING for p in peers)
    failed_count = sum(failed.values())
    ready_at = [p.ready_at for p in ready]
    join_us = [int((p.ready_at - p.started) * 1e6) for p in ready]
    for report in remote:
        refused.update(report["refusals"])
        failed.update(report["failures"])
        pending += report["pending"]
        failed_count += report["failed"]
        ready_at += report["ready_at"]
        join_us += report["join_us"]
    last = max(ready_at, default=None)
    to_all = last - started if last else None
    return {
        "params": {"clients": clients, "room": room, "rooms": rooms, "processes": len(counts)},
        "complete": finished and pending == 0,   # every client accounted for (joined, refused or failed)
        "joined": len(ready_at),
        "refused": sum(refused.values()),
        "refusals": dict(refused),
        "failed": failed_count,
        "failures": dict(failed.most_common(5)),
        "pending": pending,
        "time_to_all_joined_s": to_all,
        "joins_per_s": len(ready_at) / to_all if to_all else None,
        "join_ms": summarize_ms(join_us),
        **measured,
    }


SCENARIOS = {
    "fanout": fanout,
    "idle": idle,
    "slow-reader": slow_reader,
    "connect-storm": connect_storm,
}
