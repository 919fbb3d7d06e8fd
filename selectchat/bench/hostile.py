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
    rss = []
    started = began = time.monotonic()   # (began: when the misbehaving starts, set below)

    def sample():
        kb = gen.server.memory_kb().get("rss")
        if kb is not None:
            rss.append((round(time.monotonic() - started, 3), kb))
        return True

    # --- the cast ------------------------------------------------------------------
    gen.status = lambda: (None, f"setting up: {sum(p.state == 'ready' for p in gen.peers)} clients ready")
    makers = _open(gen, -(-rooms // ROOMS_PER_MAKER), "r", None)
    room_names = [f"#h{i:04d}" for i in range(rooms)]
    for i, name in enumerate(room_names):   # the rooms a LIST will describe; their makers stay in them
        makers[i // ROOMS_PER_MAKER].send_line("JOIN", name)
    group = Deliveries(gen)
    audience = _open(gen, readers, "d", "#flood", group=group, timed=False)
    for peer in audience[-10:]:
        peer.timed = True   # a sample times every delivery; the rest count
    loud = _open(gen, flooders, "f", "#flood")
    silent = _open(gen, nonreaders, "n", "#flood", reading=False) if nonreaders else []
    curious = _open(gen, askers, "a", None) if askers else []
    calm = _open(gen, bystanders, "b", "#calm")
    gen.sleep(1.0)   # the JOINs of the rooms are answered

    gone = {}   # nick -> (seconds into the run, reason), from the QUITs others see
    sent_at, rtts = {}, []
    ticket = [0]

    class Eyes(Hooks):
        def on_quit(self, peer, msg):
            if msg.nick not in gone:
                gone[msg.nick] = (round(time.monotonic() - began, 3), msg.param(0))

        def on_pong(self, peer, msg):
            token = msg.params[-1] if msg.params else ""
            if token in sent_at:
                rtts.append((time.monotonic_ns() - sent_at.pop(token)) // 1000)

    gen.hooks = Eyes()
    list_bytes = [0]

    def count_list(peer, raw):   # the askers' replies arrive through the slow path
        list_bytes[0] += len(raw) + 2

    for peer in curious:
        peer.on_line = count_list

    def ping_all():
        for peer in calm:
            if peer.state == "ready":
                ticket[0] += 1
                token = f"h{ticket[0]}"
                sent_at[token] = time.monotonic_ns()
                peer.send_line("PING", token)
        return time.monotonic() < deadline

    def ask():
        for peer in curious:
            if peer.state == "ready":
                peer.send(b"LIST\r\n" * list_burst)
        return time.monotonic() < deadline

    # --- the run ---------------------------------------------------------------------
    baseline_kb = gen.server.memory_kb().get("rss")
    if gen.server.available():
        gen.repeat(0.25, sample)
        sample()
    flow = Flow(gen, loud, group, len(audience), 10 ** 9, size, rate=0.0, window=0, room="#flood")
    span = Span(gen)
    began = time.monotonic()
    deadline = began + duration
    gen.status = lambda: ((time.monotonic() - began) / duration,
                          f"hostile: {group.count:,} deliveries, {len(rtts):,} pongs, {len(gone)} gone")
    flow.start()
    gen.repeat(ping_every, ping_all)
    gen.repeat(0.5, ask)
    ping_all()
    ask()
    gen.run_until(lambda: time.monotonic() >= deadline, duration + timeout)
    for sender in loud:   # the flood stops; the last PONGs come back
        sender.feeder, sender.wants_write = None, False
        sender.update_interest()
    gen.run_until(lambda: not sent_at, 2.0)
    measured = span.end()
    sample()

    reasons = Counter()

    def dropped(peers):
        out = sorted((p for p in peers if p.state != "ready" or p.nick in gone), key=lambda p: p.nick)
        reasons.update((p.reason if p.state != "ready" else "") or gone[p.nick][1] for p in out)
        return [p.nick for p in out]

    well_behaved = dropped(audience) + dropped(curious) + dropped(calm)
    nonreaders_gone = dropped(silent)
    flooders_gone = dropped(loud)
    peak = max((kb for _, kb in rss), default=None)
    return {
        "params": {"duration": duration, "bystanders": bystanders, "flooders": flooders, "readers": readers,
                   "nonreaders": nonreaders, "askers": askers, "rooms": rooms, "list_burst": list_burst,
                   "ping_every": ping_every, "size": size},
        "complete": len(rtts) > 0 and not well_behaved,
        "bystander_ping_ms": summarize_ms(rtts),
        "pings_lost": len(sent_at),
        "deliveries": group.count,
        "deliveries_per_s": group.count / duration,
        "reader_latency_ms": group.latency_ms(),
        "list_bytes": list_bytes[0],
        "well_behaved_dropped": len(well_behaved),
        "well_behaved_dropped_nicks": well_behaved,
        "flooders_dropped": len(flooders_gone),
        "nonreaders_dropped": len(nonreaders_gone),
        "nonreaders_dropped_after_s": [gone[n][0] for n in nonreaders_gone if n in gone],
        "drop_reasons": dict(reasons.most_common(5)),
        "server_rss_baseline_kb": baseline_kb,
        "server_rss_peak_kb": peak,
        "server_rss_series": rss,
        **measured,
    }


def _open(gen, count, letter, room, **options):
    """``count`` clients that register (and join ``room``); all must make it."""
    peers = gen.open(count, letter, concurrency=JOIN_CONCURRENCY, timeout=30.0, room=room, **options)
    missing = [p for p in peers if p.state != "ready"]
    if missing:
        raise BenchError(f"{len(missing)} of {count} clients ({letter}...) could not register or join "
                         f"{room or ''}: {missing[0].reason or missing[0].state}")
    return peers
