"""The load generator behind ``selectchat bench``: many connections, one loop.

A benchmark client must not be the bottleneck, so this one is built like a
server: every connection is non-blocking and registered with one event loop
(:class:`selectchat.net.loop.EventLoop`, on epoll where there is one: an idle
test holds more than the 1024 descriptors ``select()`` can watch).  The
work per received chunk is a few calls into C, whatever the chunk holds:

* a message carries its send time in its text, ``~~~~0000123456~`` (µs
  since the generator started), so a receiver never parses IRC on the hot
  path: ``bytes.count(b"~~~~")`` counts the messages in a chunk, and as all
  of them have the same length (nicknames have a fixed width), a chunk
  whose length is that count times the line length holds nothing else;
* a few *timed* members also find every stamp with one regular expression:
  the chunk's arrival time minus each stamp is a delivery's latency.  The
  others only count (members are alike, so a sample of them gives the
  latency distribution at a fraction of the cost);
* lines without a stamp (PING, JOIN, QUIT, numerics) are rare: only when a
  chunk may hold one is it split into lines and parsed.

:class:`Peer` is one connection; :class:`Generator` holds the loop and the
peers; :class:`Deliveries` collects the stamps of a group of receivers.  The
scenarios are in :mod:`.scenarios`.
"""

import errno
import math
import os
import re
import select
import socket
import sys
import time
from array import array

from ..irc import ProtocolError, format_line, parse
from ..net.loop import EventLoop

RECV_SIZE = 256 * 1024     # read big chunks: fewer calls per delivered byte
MARK = b"~~~~"             # starts every stamp: "~~~~0000123456~"
STAMP_RE = re.compile(rb"~~~~(\d{10})~")
MAX_TAIL = 64 * 1024       # an unfinished line longer than this is a broken server
KEEP_STAMPS = 5_000_000    # latencies kept for percentiles (the count goes on)

# Replies that refuse a registration or a JOIN (and a word for each).
REFUSALS = {"ERROR": "error", "464": "bad password", "465": "banned",
            "403": "no such room", "405": "too many rooms", "471": "room full",
            "473": "invite only", "474": "banned from room", "475": "bad key", "477": "needs registration"}
NICK_TAKEN = {"432", "433", "436", "437"}


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted sequence (None if empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize_ms(values_us):
    """p50, p90, p99 and max of microsecond values, in milliseconds."""
    values = sorted(values_us)
    if not values:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
    return {"count": len(values), **{f"p{p}": percentile(values, p) / 1000 for p in (50, 90, 99)},
            "max": values[-1] / 1000}


def process_tree(pid):
    """``pid`` and the processes it started (a server may have helpers: a trace
    writer, say), found by their parent IDs in ``/proc`` (Linux)."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue   # gone meanwhile
            children.setdefault(ppid, []).append(int(name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(children.get(tree[-1], []))
    return tree


class ProcessStats:
    """CPU time and memory of a server, read from ``/proc`` (Linux): the
    process ``pid`` and the processes it started, summed."""

    def __init__(self, pid):
        self.pid = pid
        self.ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def available(self):
        return self.pid is not None and os.path.exists(f"/proc/{self.pid}/stat")

    def processes(self):
        return process_tree(self.pid) if self.available() else []

    def cpu_seconds(self):
        """User plus system CPU seconds so far (None if unknown)."""
        total = None
        for pid in self.processes():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rpartition(")")[2].split()
            except OSError:
                continue
            total = (total or 0) + (int(fields[11]) + int(fields[12])) / self.ticks   # utime, stime
        return total

    def memory_kb(self):
        """{"rss": VmRSS, "peak": VmHWM} in KiB, summed (empty if unknown)."""
        found = {}
        for pid in self.processes():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith(("VmRSS:", "VmHWM:")):
                            key = "rss" if line.startswith("VmRSS") else "peak"
                            found[key] = found.get(key, 0) + int(line.split()[1])
            except OSError:
                pass
        return found


class Deliveries:
    """Messages received by a group of peers: how many, when, and their stamps."""

    def __init__(self, gen):
        self.gen = gen
        self.count = 0
        self.first_us = None
        self.last_us = None
        self.stamps = array("q")   # send times, in arrival order
        self.marks = array("q")    # (arrival time, how many stamps) per chunk
        self.on_progress = None    # called after each chunk (a flood sender waits on it)

    def add(self, count, stamps=None):
        """``count`` messages arrived now; ``stamps`` are their send times, if timed."""
        now = self.gen.now_us()
        if self.first_us is None:
            self.first_us = now
        self.last_us = now
        self.count += count
        if stamps and len(self.stamps) < KEEP_STAMPS:
            self.stamps.extend(map(int, stamps))
            self.marks.append(now)
            self.marks.append(len(stamps))
        if self.on_progress is not None:
            self.on_progress()

    def latencies_us(self):
        """Every kept delivery's latency (arrival minus send time), in µs."""
        out, i = array("q"), 0
        for k in range(0, len(self.marks), 2):
            arrived, n = self.marks[k], self.marks[k + 1]
            out.extend(arrived - sent for sent in self.stamps[i:i + n])
            i += n
        return out

    def latency_ms(self):
        return summarize_ms(self.latencies_us())


class Peer:
    """One client connection driven by the generator.

    ``state`` goes connecting -> registering -> joining -> ready, or ends
    in refused / failed / closed.  With the bare protocol a peer is ready
    as soon as it is connected.
    """

    PENDING = ("connecting", "registering", "joining")

    def __init__(self, gen, nick, room=None, group=None, reading=True, timed=True):
        self.gen = gen
        self.nick = nick
        self.room = room
        self.group = group          # a Deliveries, or None: stamps are not counted
        self.timed = timed          # read every stamp (latency), or only count them
        self.reading = reading      # False: registered for reading only until ready
        self.state = "connecting"
        self.reason = ""            # why it was refused or failed
        self.outbuf = bytearray()
        self.tail = b""
        self.writing = True
        self.wants_write = False    # a flood sender sets this while it has budget
        self.feeder = None          # a flood sender: called to top up outbuf
        self.on_line = None         # called with each unstamped line once ready (a scenario's eyes)
        self.bytes_in = 0
        self.started = time.monotonic()
        self.ready_at = None
        self.sock = socket.socket(socket.AF_INET6 if ":" in gen.host else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        gen.pending += 1
        code = self.sock.connect_ex((gen.host, gen.port))
        gen.loop.register(self.sock, self, read=False, write=True, label=nick)
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            self.fail(f"connect: {os.strerror(code)}")

    def __repr__(self):
        return f"<Peer {self.nick} {self.state}>"

    # --- writing ---------------------------------------------------------------

    def send(self, data):
        """Queue bytes and try to send them now."""
        self.outbuf += data
        if self.state != "connecting":
            self.flush()

    def send_line(self, command, *params):
        self.send(format_line("", command, *params))

    def flush(self):
        if self.outbuf:
            try:
                sent = self.sock.send(self.outbuf)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as error:
                return self.fail(f"send: {error.strerror or error}")
            del self.outbuf[:sent]
        self.update_interest()

    def update_interest(self):
        want = bool(self.outbuf) or self.wants_write
        if want != self.writing and self.state not in ("failed", "refused", "closed"):
            self.writing = want
            self.gen.loop.modify(self.sock, read=self.reading or self.state in self.PENDING, write=want)

    def handle_write(self):
        if self.state == "connecting":
            return self._connected()
        if self.feeder is not None:
            self.feeder(self)
        self.flush()

    def _connected(self):
        error = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            return self.fail(f"connect: {os.strerror(error)}")
        self.writing = False
        self.gen.loop.modify(self.sock, read=True, write=False)
        if self.gen.protocol == "bare":
            return self._ready()
        self.state = "registering"
        self.send_line("NICK", self.nick)
        self.send_line("USER", self.nick, "0", "*", "selectchat bench")

    # --- reading ---------------------------------------------------------------

    def handle_read(self, size=RECV_SIZE):
        """Read one chunk; count its stamps; handle its other lines. Bytes read."""
        try:
            data = self.sock.recv(size)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as error:
            self.fail(f"recv: {error.strerror or error}")
            return 0
        if not data:
            self.fail("closed by the server")
            return 0
        if self.gen.quickack:   # acknowledge at once (Linux resets this after a while)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        self.bytes_in += len(data)
        if self.tail:
            data = self.tail + data
        end = data.rfind(b"\n") + 1
        self.tail = data[end:]
        if len(self.tail) > MAX_TAIL:
            self.fail("a line longer than 64 KiB")
            return len(data)
        if not end:
            return len(data)
        count = data.count(MARK, 0, end)
        if count and self.group is not None:
            self.group.add(count, STAMP_RE.findall(data, 0, end) if self.timed else None)
        if end != count * self.gen.line_length or self.state != "ready":
            for line in data[:end].split(b"\n"):   # the slow path: lines other than messages
                if MARK in line:
                    self.gen.line_length = len(line) + 1
                elif line:
                    self.handle_line(line.rstrip(b"\r"))
        return len(data)

    def handle_line(self, raw):
        gen = self.gen
        if gen.protocol == "bare":
            return gen.hooks.on_bare_line(self, raw)
        if self.state == "ready":   # most lines now are others' JOINs: skip them unparsed
            if self.on_line is not None:
                self.on_line(self, raw)
            words = raw.split(b" ", 2)
            command = words[1] if raw.startswith(b":") and len(words) > 1 else words[0]
            if command not in (b"PING", b"PONG", b"QUIT", b"ERROR"):
                return
        try:
            msg = parse(raw.decode("utf-8", "replace"))
        except ProtocolError:
            return
        command = msg.command
        if command == "PING":
            return self.send_line("PONG", *msg.params)
        if command == "PONG":
            return gen.hooks.on_pong(self, msg)
        if command == "QUIT":
            return gen.hooks.on_quit(self, msg)
        if self.state == "registering":
            if command == "001":
                self.nick = msg.params[0] if msg.params else self.nick
                if self.room:
                    self.state = "joining"
                    return self.send_line("JOIN", self.room)
                return self._ready()
            if command in NICK_TAKEN:   # left over from another run: take a fresh one
                self.nick = gen.nick(self.nick[0])
                return self.send_line("NICK", self.nick)
        elif self.state == "joining":
            if command == "366" and len(msg.params) > 1 and msg.params[1].lower() == self.room.lower():
                return self._ready()
        if command in REFUSALS and self.state in self.PENDING:
            return self.refuse(f"{command} {REFUSALS[command]}: {msg.params[-1] if msg.params else ''}".strip())
        if command == "ERROR":
            self.reason = msg.param(0)

    def _ready(self):
        self.state = "ready"
        self.ready_at = time.monotonic()
        self.gen.pending -= 1
        if not self.reading:
            self.gen.loop.modify(self.sock, read=False, write=self.writing)
        self.gen.hooks.on_ready(self)

    # --- the end ---------------------------------------------------------------

    def refuse(self, reason):
        self._end("refused", reason)

    def fail(self, reason):
        if self.state == "refused":
            return
        self._end("failed", self.reason or reason)

    def close(self):
        self._end("closed", "")

    def _end(self, state, reason):
        if self.state in ("failed", "refused", "closed"):
            return
        was = self.state
        if was in self.PENDING:
            self.gen.pending -= 1
        self.state, self.reason = state, reason
        self.gen.loop.unregister(self.sock)
        self.sock.close()
        if state != "closed":
            self.gen.hooks.on_gone(self, was)


class Hooks:
    """What a scenario wants to hear about; the defaults ignore everything."""

    def on_ready(self, peer):
        pass

    def on_gone(self, peer, was):
        pass

    def on_pong(self, peer, msg):
        pass

    def on_quit(self, peer, msg):
        pass

    def on_bare_line(self, peer, raw):
        pass


class Generator:
    """The loop, the peers, the clock, the progress line."""

    def __init__(self, host, port, protocol="irc", server_pid=None, progress=None, quickack=False):
        self.host, self.port, self.protocol = host, port, protocol
        self.quickack = quickack and hasattr(socket, "TCP_QUICKACK")
        self.loop = EventLoop("epoll" if hasattr(select, "epoll") else "poll")
        self.server = ProcessStats(server_pid)
        self.progress = progress
        self.hooks = Hooks()
        self.peers = []
        self.pending = 0           # peers connecting, registering or joining
        self.line_length = 0       # of a delivered message, "\n" included (learnt)
        self.t0 = time.monotonic_ns()
        self.status = lambda: (None, "")   # (fraction done, text) for the progress line
        self._next_progress = 0.0
        self._serial = 0
        self.tag = format(os.getpid() % 1296, "02x")   # keeps nicks apart between runs

    def now_us(self):
        """Microseconds since the generator started: the clock of the stamps."""
        return (time.monotonic_ns() - self.t0) // 1000

    def stamp(self):
        return MARK + b"%010d~" % self.now_us()

    def nick(self, letter):
        """A fresh nickname, at most 9 characters (ngIRCd's default limit)."""
        self._serial += 1
        return f"{letter}{self.tag}{self._serial:04x}"[:9]   # fixed width: equal line lengths

    def connect(self, letter="b", **options):
        peer = Peer(self, self.nick(letter), **options)
        self.peers.append(peer)
        return peer

    def open(self, count, letter, concurrency=100, timeout=30.0, **options):
        """Open ``count`` peers, at most ``concurrency`` at a time in progress.

        Returns the list of peers; each ended ready, refused or failed (or is
        still pending if ``timeout`` passed)."""
        peers = []

        def settled():
            while len(peers) < count and self.pending < concurrency:
                peers.append(self.connect(letter, **options))
            return len(peers) == count and self.pending == 0

        self.run_until(settled, timeout)
        return peers

    def run_until(self, done, timeout):
        """Run the loop until ``done()`` is true or ``timeout`` seconds pass. True if done."""
        deadline = time.monotonic() + timeout
        while not done():
            now = time.monotonic()
            if now >= deadline:
                return False
            self.loop.run_once(min(deadline - now, 0.05))
            if self.progress is not None and now >= self._next_progress:
                self._next_progress = now + 0.2
                fraction, text = self.status()
                self.progress.show(fraction, text)
        return True

    def sleep(self, seconds):
        """Keep serving the peers (PINGs, reads) for ``seconds``."""
        self.run_until(lambda: False, seconds)

    def repeat(self, interval, callback):
        """Call ``callback()`` every ``interval`` seconds while it returns True."""
        def tick():
            if callback():
                self.loop.call_later(interval, tick)
        self.loop.call_later(interval, tick)

    def close_all(self):
        for peer in self.peers:
            peer.close()
        self.peers = []
        self.pending = 0
        self.loop.close()
        if self.progress is not None:
            self.progress.clear()


class Progress:
    """A progress bar on a terminal, or a plain line every few seconds otherwise."""

    def __init__(self, label, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last_line = 0.0
        self._drawn = False

    def show(self, fraction, text):
        now = time.monotonic()
        elapsed = now - self.started
        if self.tty:
            bar = ""
            if fraction is not None:
                filled = int(24 * min(max(fraction, 0.0), 1.0))
                bar = f"[{'#' * filled}{'.' * (24 - filled)}] {100 * min(fraction, 1.0):3.0f}% "
            self.stream.write(f"\r\033[K{self.label} {bar}{text} ({elapsed:.0f}s)")
            self._drawn = True
        elif now - self._last_line >= 2.0:
            self._last_line = now
            done = f"{100 * min(fraction, 1.0):.0f}% " if fraction is not None else ""
            self.stream.write(f"{self.label}: {done}{text} ({elapsed:.0f}s)\n")
        self.stream.flush()

    def clear(self):
        if self.tty and self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False
