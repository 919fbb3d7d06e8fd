"""The hostile-load scenario: a classroom where some students misbehave, measured from the others.

At the same time, for ``duration`` seconds:

* **flooders** send stamped messages to ``#flood`` as fast as the server
  takes them, to an audience of **readers** that read as fast as they can;
* **non-readers** sit in ``#flood`` and never read (a server with bounded
  memory must drop them: that is the slow-reader rule, not a failure);
* **askers** send bursts of ``LIST`` (one packet, ``list_burst`` lines) over
  ``rooms`` rooms, and read the long replies;
* **bystanders**, in a quiet room of their own, each send a ``PING`` every
  ``ping_every`` seconds: their round trip is what a well-behaved student
  feels while the others misbehave.

The report: the bystanders' PING round trip p50/p99/max, the server's RSS
before and at its peak (sampled four times a second), the deliveries the
readers got, and who was dropped.  *Well-behaved* clients -- readers,
askers, bystanders -- must never be dropped: ``well_behaved_dropped`` must
be 0.  Flooders may be throttled, or dropped for flooding (ngIRCd's
"Excess Flood"), and that is reported too.

It speaks only NICK/USER, JOIN, PRIVMSG, PING, LIST: any IRC server can be
measured the same way (``selectchat bench --target HOST:PORT hostile``).
"""

import time
from collections import Counter

from .load import Deliveries, Hooks, summarize_ms
from .scenarios import JOIN_CONCURRENCY, BenchError, Flow, Span

ROOMS_PER_MAKER = 20   # selectchat's default max_rooms_per_user


def hostile(gen, duration=6.0, bystanders=20, flooders=5, readers=20, nonreaders=5, askers=3, rooms=200,
            list_burst=20, ping_every=0.1, size=100, timeout=60.0):
    """Run the hostile load for ``duration`` seconds; see the module's docstring."""
    if gen.protocol != "irc":
        raise BenchError("hostile needs an IRC server (PING, LIST)")
    if min(bystanders, readers, flooders) < 1:
        raise BenchError("hostile needs at least one bystander, one reader and one flooder")
    params = {"duration": duration, "bystanders": bystanders, "flooders": flooders, "readers": readers,
              "nonreaders": nonreaders, "askers": askers, "rooms": rooms, "list_burst": list_burst,
              "ping_every": ping_every, "size": size}
    run = HostileRun(gen, params)
    run.cast()
    run.misbehave(timeout)
    return {"params": params, **run.results()}


class HostileRun:
    """The cast of one hostile run, what it does, and what the others saw."""

    def __init__(self, gen, params):
        self.gen, self.p = gen, params
        self.group = Deliveries(gen)   # the flood's deliveries to the readers
        self.gone = {}                 # nick -> (seconds into the run, reason), from the QUITs others see
        self.sent_at, self.rtts = {}, []   # the bystanders' PINGs in flight, and their round trips (µs)
        self.list_bytes = 0
        self.rss = []                  # (seconds, server VmRSS KiB)
        self.began = self.deadline = time.monotonic()
        self._ticket = 0

    def cast(self):
        """Everyone registers and joins; the rooms a LIST will describe are made."""
        gen, p = self.gen, self.p
        gen.status = lambda: (None, f"setting up: {sum(x.state == 'ready' for x in gen.peers)} clients ready")
        makers = _open(gen, -(-p["rooms"] // ROOMS_PER_MAKER), "r", None)
        for i in range(p["rooms"]):   # their makers stay in them, so the rooms last
            makers[i // ROOMS_PER_MAKER].send_line("JOIN", f"#h{i:04d}")
        self.audience = _open(gen, p["readers"], "d", "#flood", group=self.group, timed=False)
        for peer in self.audience[-10:]:
            peer.timed = True   # a sample times every delivery; the rest count
        self.loud = _open(gen, p["flooders"], "f", "#flood")
        self.silent = _open(gen, p["nonreaders"], "n", "#flood", reading=False) if p["nonreaders"] else []
        self.curious = _open(gen, p["askers"], "a", None) if p["askers"] else []
        self.calm = _open(gen, p["bystanders"], "b", "#calm")
        for peer in self.curious:
            peer.on_line = self._count_list
        gen.sleep(1.0)   # the JOINs of the rooms are answered
        gen.hooks = self._eyes()

    def _eyes(self):
        run = self

        class Eyes(Hooks):
            def on_quit(self, peer, msg):
                if msg.nick not in run.gone:
                    run.gone[msg.nick] = (round(time.monotonic() - run.began, 3), msg.param(0))

            def on_pong(self, peer, msg):
                token = msg.params[-1] if msg.params else ""
                if token in run.sent_at:
                    run.rtts.append((time.monotonic_ns() - run.sent_at.pop(token)) // 1000)

        return Eyes()

    def _count_list(self, peer, raw):   # the askers' replies arrive through the slow path
        self.list_bytes += len(raw) + 2

    def misbehave(self, timeout):
        """Flood, ask and PING for ``duration`` seconds, sampling the server's memory."""
        gen, p = self.gen, self.p
        self.baseline_kb = gen.server.memory_kb().get("rss")
        if gen.server.available():
            gen.repeat(0.25, self._sample)
        flow = Flow(gen, self.loud, self.group, len(self.audience), 10 ** 9, p["size"], rate=0.0, window=0,
                    room="#flood")
        span = Span(gen)
        self.began = time.monotonic()
        self.deadline = self.began + p["duration"]
        gen.status = lambda: ((time.monotonic() - self.began) / p["duration"],
                              f"hostile: {self.group.count:,} deliveries, {len(self.rtts):,} pongs, "
                              f"{len(self.gone)} gone")
        flow.start()
        gen.repeat(p["ping_every"], self._ping_all)
        gen.repeat(0.5, self._ask)
        self._sample()
        self._ping_all()
        self._ask()
        gen.run_until(lambda: time.monotonic() >= self.deadline, p["duration"] + timeout)
        for sender in self.loud:   # the flood stops; the last PONGs come back
            sender.feeder, sender.wants_write = None, False
            sender.update_interest()
        gen.run_until(lambda: not self.sent_at, 2.0)
        self.measured = span.end()
        self._sample()

    def _sample(self):
        kb = self.gen.server.memory_kb().get("rss")
        if kb is not None:
            self.rss.append((round(time.monotonic() - self.began, 3), kb))
        return True

    def _ping_all(self):
        for peer in self.calm:
            if peer.state == "ready":
                self._ticket += 1
                token = f"h{self._ticket}"
                self.sent_at[token] = time.monotonic_ns()
                peer.send_line("PING", token)
        return time.monotonic() < self.deadline

    def _ask(self):
        for peer in self.curious:
            if peer.state == "ready":
                peer.send(b"LIST\r\n" * self.p["list_burst"])
        return time.monotonic() < self.deadline

    def results(self):
        reasons = Counter()

        def dropped(peers):
            out = sorted((x for x in peers if x.state != "ready" or x.nick in self.gone), key=lambda x: x.nick)
            reasons.update((x.reason if x.state != "ready" else "") or self.gone[x.nick][1] for x in out)
            return [x.nick for x in out]

        well_behaved = dropped(self.audience) + dropped(self.curious) + dropped(self.calm)
        nonreaders_gone = dropped(self.silent)
        return {
            "complete": len(self.rtts) > 0 and not well_behaved,
            "bystander_ping_ms": summarize_ms(self.rtts),
            "pings_lost": len(self.sent_at),
            "deliveries": self.group.count,
            "deliveries_per_s": self.group.count / self.p["duration"],
            "reader_latency_ms": self.group.latency_ms(),
            "list_bytes": self.list_bytes,
            "well_behaved_dropped": len(well_behaved),
            "well_behaved_dropped_nicks": well_behaved,
            "flooders_dropped": len(dropped(self.loud)),
            "nonreaders_dropped": len(nonreaders_gone),
            "nonreaders_dropped_after_s": [self.gone[n][0] for n in nonreaders_gone if n in self.gone],
            "drop_reasons": dict(reasons.most_common(5)),
            "server_rss_baseline_kb": self.baseline_kb,
            "server_rss_peak_kb": max((kb for _, kb in self.rss), default=None),
            "server_rss_series": self.rss,
            **self.measured,
        }


def _open(gen, count, letter, room, **options):
    """``count`` clients that register (and join ``room``); all must make it."""
    peers = gen.open(count, letter, concurrency=JOIN_CONCURRENCY, timeout=30.0, room=room, **options)
    missing = [p for p in peers if p.state != "ready"]
    if missing:
        raise BenchError(f"{len(missing)} of {count} clients ({letter}...) could not register or join "
                         f"{room or ''}: {missing[0].reason or missing[0].state}")
    return peers
