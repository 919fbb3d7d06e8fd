"""Recording a trace: the observer the loop and the server call at every step.

The loop and the server call ``observer.record(kind, **fields)`` at each
``select()`` call, each accept/recv/send/close, each chat event (see
``docs/trace-format.md`` for the full list).  :class:`Recorder` is that
observer.  It

* stamps each event with the time (``time.monotonic()``),
* keeps the newest ``size`` events in memory (a ring buffer: a trace never
  grows without bound, however long the server runs),
* gathers a burst of chat messages into one event (see :meth:`Recorder._gather`),
* optionally streams every event to a JSON Lines file, and
* gives a live :meth:`~Recorder.snapshot` to code in the same process (a
  notebook running a loop, say).

Recording must not change what it records, so :meth:`Recorder.record` does
as little as possible: it appends a tuple.  When a file is being written,
the loop thread only hands batches of those tuples to a writer thread, which
passes them to a child process (:mod:`.writer`) that turns them into JSON
and writes them: a slow disk delays the file, never ``select()``, and the
JSON can be made on another core.

Example::

    from selectchat.net.loop import EventLoop
    from selectchat.trace import Recorder, summarize
    recorder = Recorder(size=10_000)
    loop = EventLoop(observer=recorder)
    ...                                  # register sockets, run the loop
    print(summarize(recorder.snapshot()).text())
"""

import json
import marshal
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque

from .reading import Names, Trace
from .writer import FORMAT, VERSION, to_dict, write_json

_now = time.monotonic
WRITER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "writer.py")   # the child's program


class Recorder:
    """The observer: ``record(kind, **fields)`` is called by the loop and the server.

    ``size``: how many of the newest events to keep in memory (0: none).
    ``path``: also stream every event to this JSON Lines file.
    ``backend``, ``program``: written into the header, for the reader.
    ``flush_interval``: how often (seconds) batches go to the file at most.
    ``max_backlog``: events waiting for the writer past which new batches are
    dropped -- and counted, in a ``lost`` event -- rather than held in memory.
    ``in_process``: write the JSON from a thread of this process instead of a
    child process (simpler, but it takes CPU time from the loop).
    """

    def __init__(self, size=100_000, path=None, *, backend=None, program="server",
                 flush_interval=0.05, max_backlog=1_000_000, in_process=False):
        self.size = size
        self.events = deque(maxlen=size)     # (monotonic time, kind, fields)
        self.names = Names()                 # who is who now: names.label is {fd: label}
        self.start = _now()
        self.header = {"format": FORMAT, "version": VERSION, "program": program,
                       "backend": backend, "pid": os.getpid(), "clock": "monotonic",
                       "start_monotonic": self.start, "start_wall": time.time(),
                       "start_iso": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "ring_size": size,
                       "labels": {}}
        self.recorded = 0        # events seen (the ring keeps only the newest)
        self.path = path
        self._writer = _Writer(path, self, max_backlog, in_process) if path else None
        self._batch = []         # events not yet handed to the writer
        self._handed_at = self.start
        self.flush_interval = flush_interval
        self._burst = None       # the `message` event being gathered: (time, "app", fields)

    def record(self, kind, **fields):
        """Note one event.  Called on the loop's hot path: keep it cheap."""
        if kind == "app" and fields.get("event") == "message":
            burst = self._burst
            if (burst is not None and burst[2].get("sender") == fields.get("sender")
                    and burst[2].get("room") == fields.get("room")):
                burst[2]["count"] += 1   # one more line of the burst in hand (see _gather)
                burst[2]["bytes"] += fields.get("bytes", 0)
                return
            return self._gather(fields)
        if self._burst is not None:
            self._end_burst()
        self._keep((_now(), kind, fields))

    def _gather(self, fields):
        """Start a burst: messages in a row from one sender to one room become one event.

        A client that floods a room sends hundreds of lines per recv(); one
        event per line would cost the traced server a good part of what
        relaying a line costs.  So the burst is one ``message`` event with a
        ``count`` and the ``bytes`` of all its lines, stamped with the time
        of its first line and recorded before any other event: the trace
        follows the loop's steps (one recv, one burst, one send per member),
        and a typed line is a burst of one.
        """
        if self._burst is not None:   # another sender or room: the burst in hand is over
            self._end_burst()
        fields.setdefault("count", 1)
        fields.setdefault("bytes", 0)
        self._burst = (_now(), "app", fields)

    def _end_burst(self):
        burst, self._burst = self._burst, None
        self._keep(burst)

    def _keep(self, event):
        """Into the ring buffer, and on its way to the file."""
        kind = event[1]
        self.events.append(event)
        self.recorded += 1
        if kind in _LABEL_KINDS:   # (rare: a dict for the reader's fold costs nothing here)
            self.names.follow({"kind": kind, **event[2]})
        if self._writer is not None:
            self._batch.append(event)
            # One hand-off per pass of the loop at most (a "select" event
            # closes a wait), and only every flush_interval seconds.
            if kind == "select" and event[0] - self._handed_at >= self.flush_interval:
                self.flush()

    @property
    def labels(self):
        """``{fd: label}`` of the descriptors registered now."""
        return self.names.label

    def flush(self, force=False):
        """Hand the events recorded so far to the file writer (no waiting).

        ``force``: even if the writer is behind (the last batch, at close).
        """
        if self._burst is not None:
            self._end_burst()
        if self._writer is not None and self._batch:
            self._writer.put(self._batch, force)
            self._batch = []
        self._handed_at = _now()

    def snapshot(self):
        """The events in the ring buffer now, as a :class:`Trace` (times from the start)."""
        if self._burst is not None:
            self._end_burst()
        header = dict(self.header, labels=dict(self.labels), snapshot=True,
                      recorded=self.recorded, kept=len(self.events))
        return Trace(header, [to_dict(event, self.start) for event in list(self.events)])

    def close(self):
        """Write everything still pending and an ``end`` event; close the file.

        Call it once the loop has stopped (the server's ``--trace`` does, on
        every clean shutdown).  Idempotent.
        """
        if self._burst is not None:
            self._end_burst()
        if self._writer is None:
            return
        self.record("end", recorded=self.recorded + 1, lost=self._writer.lost)
        self.flush(force=True)
        self._writer.close()
        self._writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


_LABEL_KINDS = frozenset(("register", "label", "unregister"))


class _Writer:
    """Carries batches of events to the file, away from the loop.

    The loop only puts lists on a queue (no JSON, no system call), so a slow
    disk never makes it block.  A thread takes them from the queue and

    * by default, sends each batch -- serialised with :mod:`marshal`, the
      cheapest way for Python to put its own lists and dicts into bytes -- down
      a pipe to a child process, ``python -I -S .../trace/writer.py FILE``,
      which turns them into JSON lines.  JSON costs a few microseconds per
      event, a good part of what the server spends on a message; a thread
      would take that time from the server (they share one GIL), another
      process can run on another core;
    * with ``in_process=True``, writes the JSON itself (no child process).

    If the writer falls behind by more than ``max_backlog`` events, further
    batches are dropped and counted; the count is written as a ``lost``
    event, so a reader knows.
    """

    def __init__(self, path, recorder, max_backlog, in_process=False):
        self.start = recorder.start
        with open(path, "w", encoding="utf-8") as file:   # fails here, at once, if it cannot be written
            file.write(json.dumps(dict(recorder.header, labels=_str_keys(recorder.labels))) + "\n")
        self.file = self.child = None
        if in_process:
            self.file = open(path, "a", encoding="utf-8", buffering=1 << 16)
        else:
            # By its path: the child needs that one file, not the package.  -I -S: no
            # environment, no site-packages to scan, so it starts in a fraction of the time.
            self.child = subprocess.Popen([sys.executable, "-I", "-S", WRITER, str(path), repr(self.start)],
                                          stdin=subprocess.PIPE)
        self.queue = queue.SimpleQueue()
        self.max_backlog = max_backlog
        self.queued = 0           # events put on the queue (only the loop thread counts)
        self.written = 0          # events passed on (only the writer thread counts)
        self.lost = 0
        self._lost_unreported = 0
        self.thread = threading.Thread(target=self._run, name="trace-writer", daemon=True)
        self.thread.start()

    def put(self, batch, force=False):
        if self.queued - self.written > self.max_backlog and not force:
            self.lost += len(batch)
            self._lost_unreported += len(batch)
            return
        if self._lost_unreported:
            batch.insert(0, (_now(), "lost", {"count": self._lost_unreported}))
            self._lost_unreported = 0
        self.queued += len(batch)
        self.queue.put(batch)

    def _run(self):
        while (batch := self.queue.get()) is not None:
            if self.child is not None:
                data = _pack(batch)
                self.child.stdin.write(len(data).to_bytes(4, "little"))   # a frame: its length, then it
                self.child.stdin.write(data)
                self.child.stdin.flush()   # a killed process loses at most the last batch
            else:
                write_json(batch, self.start, self.file)
            self.written += len(batch)

    def close(self):
        self.queue.put(None)
        self.thread.join()
        if self.child is not None:
            self.child.stdin.close()   # EOF: the child writes what it has and exits
            self.child.wait()
        else:
            self.file.close()


def _pack(batch):
    try:
        return marshal.dumps(batch)
    except ValueError:   # a field marshal cannot take (only str, numbers, lists, dicts...): its str()
        return marshal.dumps([(t, kind, {k: _plain(v) for k, v in fields.items()}) for t, kind, fields in batch])


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _str_keys(labels):
    return {str(fd): label for fd, label in labels.items()}
