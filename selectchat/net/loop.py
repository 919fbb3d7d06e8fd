"""The event loop: one thread, one ``select()``, many descriptors.

The whole idea of I/O multiplexing is in :meth:`EventLoop.run_once`:

1. ask the kernel, in one ``select()`` call, which of the descriptors we
   watch are ready (readable: data or a connection waits, or EOF; writable:
   there is room in the send buffer), sleeping until one is or a timer is due;
2. call the handler of each ready descriptor -- handlers must not block,
   so every socket they use is non-blocking;
3. run the timers that are due.

A *handler* is any object with a ``handle_read()`` method, and a
``handle_write()`` method if it ever asks for write interest; the loop calls
the first when its descriptor is readable and the second when it is writable
and write interest is on.  Ask for write interest only while there is
something to send: a socket is almost always writable, and watching it for
nothing makes the loop spin.

A handler that raises does not end the loop: as ``socketserver``'s
``handle_error`` teaches, one client's bug must not stop the service for
everyone.  The loop hands the exception to the handler's own
``handle_error(error)`` (a server drops that one client), and re-raises only
when the handler has none.

The same loop can run on ``poll`` or ``epoll`` (``backend=``) through the
standard :mod:`selectors` module: ``select()`` cannot watch a descriptor
numbered ``FD_SETSIZE`` (1024) or more, ``poll``/``epoll`` can.

Instrumentation sits beside the loop: give it an *observer* (anything with a
``record(kind, **fields)`` method, see :mod:`selectchat.trace`) and it reports
each ``select()`` call -- its pass number, the sets it was asked to watch,
which is how a change of interest shows -- each descriptor added, renamed or
removed, each timer run, and each handler call that held the loop
``SLOW_HANDLER`` seconds or more.  Without one (``observer=None``, the
default) the only cost is an ``if`` per pass and per handler.
"""

import functools
import heapq
import itertools
import select
import selectors
import time

FD_SETSIZE = 1024  # select() cannot watch descriptors numbered this or more
SLOW_HANDLER = 0.001  # a traced handler call this long (seconds) or longer is recorded
BACKENDS = ("select", "poll", "epoll")


def fileno(fileobj):
    """The descriptor number of a socket, file or int."""
    return fileobj if isinstance(fileobj, int) else fileobj.fileno()


class Timer:
    """A callback due at a point in time; :meth:`cancel` stops it."""

    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when, callback):
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class Every:
    """A repeating timer: :meth:`cancel` stops it, also after it has fired."""

    __slots__ = ("timer",)

    def __init__(self):
        self.timer = None

    def cancel(self):
        self.timer.cancel()


class EventLoop:
    """Watch descriptors for readiness and dispatch to their handlers."""

    def __init__(self, backend="select", observer=None, on_error=None):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        self.backend = backend
        self.observer = observer
        self.on_error = on_error  # for exceptions whose handler has no handle_error
        self.now = self.time()    # when this pass's select() returned: one clock read per pass
        self.handlers = {}     # fd -> handler
        self.labels = {}       # fd -> a human name, for traces and messages
        self.readers = set()   # fds watched for reading
        self.writers = set()   # fds watched for writing
        self._timers = []      # a heap of (when, sequence number, Timer)
        self._soon = []        # callbacks to run at the end of this pass
        self._sequence = itertools.count()
        self._running = False
        self.passes = 0        # run_once() calls so far: a trace numbers its select events by it
        self._selector = None
        if backend == "poll":
            self._selector = selectors.PollSelector()
        elif backend == "epoll":
            self._selector = selectors.EpollSelector()

    # --- what to watch --------------------------------------------------------

    def register(self, fileobj, handler, read=True, write=False, label=None):
        """Start watching ``fileobj``; its ``handler`` is called when it is ready."""
        fd = fileno(fileobj)
        if self.backend == "select" and fd >= FD_SETSIZE:
            raise ValueError(f"select() cannot watch descriptor {fd} (FD_SETSIZE is {FD_SETSIZE})")
        self.handlers[fd] = handler
        self.labels[fd] = label or f"fd {fd}"
        if self.observer:
            self.observer.record("register", fd=fd, label=self.labels[fd], read=read, write=write,
                                 handler=type(handler).__name__)
        self._set_interest(fd, read, write)

    def modify(self, fileobj, read=True, write=False):
        """Change what ``fileobj`` is watched for."""
        fd = fileno(fileobj)
        if (fd in self.readers, fd in self.writers) == (read, write):
            return
        # (Not traced on its own: the next select event lists what is watched.
        # A busy server turns write interest on and off for every member of a
        # room at every burst; one event for each would double the trace.)
        self._set_interest(fd, read, write)

    def unregister(self, fileobj):
        """Stop watching ``fileobj``.  Do this *before* closing it."""
        fd = fileno(fileobj)
        if fd not in self.handlers:
            return
        self._set_interest(fd, False, False)
        del self.handlers[fd]
        if self.observer:
            self.observer.record("unregister", fd=fd, label=self.labels[fd])
        del self.labels[fd]

    def relabel(self, fileobj, label):
        """Give a descriptor a new name (e.g. a client's nickname once known)."""
        fd = fileno(fileobj)
        self.labels[fd] = label
        if self.observer:
            self.observer.record("label", fd=fd, label=label)

    def _set_interest(self, fd, read, write):
        for wanted, fds in ((read, self.readers), (write, self.writers)):
            if wanted:
                fds.add(fd)
            else:
                fds.discard(fd)
        if self._selector is not None:
            events = (selectors.EVENT_READ if read else 0) | (selectors.EVENT_WRITE if write else 0)
            registered = fd in self._selector.get_map()
            if events and registered:
                self._selector.modify(fd, events)
            elif events:
                self._selector.register(fd, events)
            elif registered:
                self._selector.unregister(fd)

    # --- timers ----------------------------------------------------------------

    def time(self):
        """The loop's clock (monotonic seconds): use it for every deadline."""
        return time.monotonic()

    def call_later(self, delay, callback):
        """Call ``callback()`` once, ``delay`` seconds from now."""
        timer = Timer(self.time() + delay, callback)
        heapq.heappush(self._timers, (timer.when, next(self._sequence), timer))
        return timer

    def call_every(self, interval, callback):
        """Call ``callback()`` every ``interval`` seconds until cancelled."""
        every = Every()

        @functools.wraps(callback)  # a trace names the timer after its callback
        def again():
            every.timer = self.call_later(interval, again)
            callback()

        every.timer = self.call_later(interval, again)
        return every

    def call_soon(self, callback):
        """Call ``callback()`` at the end of this pass, after the handlers.

        For news that must not re-enter the code that caused it: a connection
        dropped in the middle of a fan-out is reported after the fan-out.
        """
        self._soon.append(callback)

    def _seconds_to_next_timer(self):
        if self._soon:
            return 0.0  # work is waiting: poll, do not sleep
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        if not self._timers:
            return None  # block until a descriptor is ready
        return max(0.0, self._timers[0][0] - self.time())

    def _run_due_timers(self):
        now = self.time()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            began = time.monotonic()
            self._call(timer.callback, timer)
            if self.observer:
                self.observer.record("timer", callback=getattr(timer.callback, "__qualname__", "timer"),
                                     late=round(began - timer.when, 6), took=round(time.monotonic() - began, 6))

    def _run_soon(self):
        # Only those queued so far: what they queue waits for the next pass.
        soon, self._soon = self._soon, []
        for callback in soon:
            self._call(callback, callback)

    def _call(self, method, handler, fd=None):
        """Call ``method()``; an exception goes to ``handler.handle_error``.

        Traced, a call that held the loop long is noted: a stall to see.
        """
        began = time.monotonic() if self.observer else 0.0
        try:
            method()
        except Exception as error:
            handle_error = getattr(handler, "handle_error", None) or self.on_error
            if handle_error is None:
                raise
            handle_error(error)
        if self.observer and fd is not None:
            took = time.monotonic() - began
            if took >= SLOW_HANDLER:
                self.observer.record("slow", fd=fd, call=method.__name__, took=round(took, 6))

    # --- running ---------------------------------------------------------------

    def run(self):
        """Run until :meth:`stop` is called (by a handler or a timer)."""
        self._running = True
        while self._running:
            self.run_once()

    def stop(self):
        self._running = False

    def run_once(self, timeout=None):
        """One pass: wait for readiness, call the handlers, run due timers and callbacks."""
        next_timer = self._seconds_to_next_timer()
        if timeout is None or (next_timer is not None and next_timer < timeout):
            timeout = next_timer
        self.passes += 1
        if self.observer:
            began = self.time()
        readable, writable = self._wait(timeout)
        self.now = self.time()
        if self.observer:
            self._record_select(began, timeout, readable, writable)
        for fd in readable:
            handler = self.handlers.get(fd)
            if handler is not None:  # an earlier handler may have closed it
                self._call(handler.handle_read, handler, fd)
        for fd in writable:
            handler = self.handlers.get(fd)
            if handler is not None and fd in self.writers:
                self._call(handler.handle_write, handler, fd)
        self._run_due_timers()
        self._run_soon()

    def _wait(self, timeout):
        """Block until a watched descriptor is ready or ``timeout`` passes."""
        if self._selector is None:
            readable, writable, _ = select.select(self.readers, self.writers, [], timeout)
            return readable, writable
        readable, writable = [], []
        if not self._selector.get_map():  # epoll/poll with nothing to watch: just sleep
            time.sleep(timeout if timeout is not None else 0.1)
            return readable, writable
        for key, events in self._selector.select(timeout):
            if events & selectors.EVENT_READ:
                readable.append(key.fd)
            if events & selectors.EVENT_WRITE:
                writable.append(key.fd)
        return readable, writable

    def _record_select(self, began, timeout, readable, writable):
        ended = self.now
        number = {"pass": self.passes}   # ("pass" is a Python keyword: it cannot be a pass= argument)
        self.observer.record("select", **number, began=began, blocked=ended - began, timeout=timeout,
                             backend=self.backend, read=sorted(self.readers), write=sorted(self.writers),
                             ready_read=sorted(readable), ready_write=sorted(writable))

    def close(self):
        """Forget every descriptor (closing them is their owners' job)."""
        for fd in list(self.handlers):
            self.unregister(fd)
        if self._selector is not None:
            self._selector.close()
