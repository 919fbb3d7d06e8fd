"""One non-blocking connection on the loop: lines in, buffered bytes out.

Every socket that selectchat keeps open (the server's clients, the terminal
client's link to its server) is a :class:`Stream`.  It does the three things
a select() program must do for each connection, and nothing else:

* **read** when the socket is readable: one ``recv()``, framed into lines,
  handed to the *protocol* object (the code that knows what lines mean);
* **write** through an output queue: :meth:`write` never blocks, it queues;
  the socket is watched for writing only while the queue holds something
  (a socket is almost always writable: watching it for nothing spins).
  The queue is a list of chunks, not one growing buffer: a message to a
  room of 50 queues the *same* bytes object 50 times, copying nothing, and
  one ``sendmsg()`` (``writev``) hands the kernel every queued chunk at once;
* **close** in one of two ways, as asyncio's transports do:
  :meth:`close` *drains* (what is queued is still sent), :meth:`abort`
  *discards* (for a peer that does not read).

Its life is a small state machine::

    state     input                      output                     next
    OPEN      framed, given to protocol  buffered, sent when ready  CLOSING (close(), EOF), CLOSED (abort)
    CLOSING   read only to see EOF       drained, then SHUT_WR      CLOSED (peer EOF, linger, timeout)
    CLOSED    none                       none                       --

The protocol is told ``connection_lost(reason)`` exactly once, from the
loop (``call_soon``), never from inside the call that closed the stream: a
server that drops a client in the middle of a fan-out finishes the fan-out
first, and 1,000 drops in one pass are 1,000 calls in a row, not a
1,000-deep recursion.

The protocol object offers ``lines_received(lines)``, ``eof_received()``
(true if it will close the stream itself, once it has answered what it read),
``connection_lost(reason)`` and, if it sets :attr:`Stream.notify_drained`,
``output_drained()``; ``output_overflow()`` is called when the buffer passes
``max_output`` (a server drops such a client).
"""

import enum
import os
import socket
from collections import deque
from itertools import islice

from .framing import MAX_LINE, LineBuffer

RECV_SIZE = 16384     # bytes read per readiness: a flooding peer gets a bounded turn
CLOSE_TIMEOUT = 5.0   # a closing peer has this long to take its last bytes
LINGER = 1.0          # after our last byte, wait this long for the peer's EOF
SEND_CHUNKS = 512     # chunks offered to one sendmsg() (Linux and macOS allow 1,024)


class State(enum.Enum):
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


# The only moves a stream makes (the table in the module's docstring): a
# closed stream never reopens, a closing one never goes back to open.
TRANSITIONS = {
    State.OPEN: {State.CLOSING, State.CLOSED},
    State.CLOSING: {State.CLOSED},
    State.CLOSED: set(),
}


class Stream:
    """A connected non-blocking socket, registered with an event loop."""

    def __init__(self, loop, sock, protocol, label=None, max_line=MAX_LINE,
                 max_output=None, low_water=0):
        self.loop = loop
        self.sock = sock
        self.fd = sock.fileno()
        self.protocol = protocol
        self.lines = LineBuffer(max_line)
        self.output = deque()         # chunks (bytes) queued, oldest first; a partial send leaves a rest at the head
        self.buffer_size = 0          # bytes queued, kept as we go (summing the chunks would cost a pass per write)
        self.max_output = max_output  # None: no cap (the peer is trusted, e.g. our own server)
        self.low_water = low_water    # output_drained() when the buffer is at or below this
        self.notify_drained = False   # one-shot: the protocol asked for output_drained()
        self.state = State.OPEN
        self.reading = True
        self.eof = False
        self.bytes_sent = 0           # taken by the kernel so far: the peer's pace can be measured
        self.close_reason = ""
        self._timers = []
        sock.setblocking(False)
        loop.register(sock, self, read=True, label=label)

    def __repr__(self):
        return f"<Stream fd={self.fd} {self.state.value} {self.buffer_size} bytes queued>"

    # --- reading ---------------------------------------------------------------

    def handle_read(self):
        observer = self.loop.observer
        try:
            data = self.sock.recv(RECV_SIZE)
        except BlockingIOError:  # a spurious wake-up: nothing to read after all
            if observer:
                observer.record("eagain", fd=self.fd, call="recv")
            return
        except OSError as error:  # e.g. ECONNRESET: the peer vanished, nobody to send to
            return self.abort(f"read error: {_describe(error)}")
        if observer:  # (lines: how many this read completes, one per line feed)
            observer.record("recv", fd=self.fd, bytes=len(data), lines=data.count(b"\n"))
        if not data:
            return self._at_eof()
        if self.state is State.OPEN:
            lines = self.lines.feed(data)
            if lines:
                self.protocol.lines_received(lines)
        # (CLOSING: we said goodbye; what the peer still sends is read and dropped.)

    def _at_eof(self):
        # At EOF a socket stays readable forever: stop watching it for reading.
        self.eof = True
        self._watch(read=False)
        if self.state is State.OPEN and not self.protocol.eof_received():
            self.close("connection closed by peer")  # what is queued is still sent
        elif self.state is State.CLOSING and not self.output:
            self._finish(self.close_reason)

    def pause_reading(self):
        """Stop reading (TCP then holds the peer back): flow control."""
        self._watch(read=False)

    def resume_reading(self):
        if self.state is not State.CLOSED and not self.eof:
            self._watch(read=True)

    # --- writing ---------------------------------------------------------------

    def write(self, data):
        """Queue ``data`` (bytes); it goes out when the socket is writable. Returns the queue's size."""
        if self.state is not State.OPEN or not data:
            return self.buffer_size
        if not self.output:
            self.loop.modify(self.sock, read=self.reading, write=True)
        self.output.append(data)  # not copied: bytes never change
        self.buffer_size += len(data)
        if self.max_output is not None and self.buffer_size > self.max_output:
            self.protocol.output_overflow()
        return self.buffer_size

    def handle_write(self):
        chunks = list(islice(self.output, SEND_CHUNKS))
        observer = self.loop.observer
        try:
            sent = _send_chunks(self.sock, chunks)
        except BlockingIOError:  # the kernel's buffer filled since select() said writable
            if observer:
                observer.record("eagain", fd=self.fd, call="send", asked=sum(map(len, chunks)))
            return
        except OSError as error:  # EPIPE, ECONNRESET: the peer is gone
            return self.abort(f"write error: {_describe(error)}")
        if observer:
            observer.record("send", fd=self.fd, asked=sum(map(len, chunks)), sent=sent)
        self._forget(sent)
        self.bytes_sent += sent
        if self.notify_drained and self.buffer_size <= self.low_water and self.state is State.OPEN:
            self.notify_drained = False
            self.protocol.output_drained()  # it may queue more
        if not self.output:
            self._watch(write=False)
            if self.state is State.CLOSING:
                self._half_close()

    def _forget(self, sent):
        """Remove the ``sent`` bytes the kernel took from the front of the queue."""
        self.buffer_size -= sent
        output = self.output
        while sent:
            size = len(output[0])
            if size > sent:  # a partial send: the rest of this chunk goes first next time
                output[0] = output[0][sent:]
                return
            output.popleft()
            sent -= size

    # --- closing ---------------------------------------------------------------

    def close(self, reason):
        """Stop taking input; close once what is queued has been sent."""
        if self.state is not State.OPEN:
            return
        self._move(State.CLOSING)
        self.close_reason = reason
        self._later(CLOSE_TIMEOUT, lambda: self.abort(reason + "; output not taken"))
        if not self.output:
            self._half_close()

    def _half_close(self):
        # Closing a socket with unread input makes the kernel send a reset,
        # which can destroy our last lines before the peer reads them.  So:
        # shut down our side, and close when the peer closes its side.
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            return self._finish(self.close_reason)
        if self.eof:
            return self._finish(self.close_reason)
        self._later(LINGER, lambda: self._finish(self.close_reason))

    def abort(self, reason, farewell=b""):
        """Close now, discarding the output; try to send ``farewell`` first.

        The buffer may stop in the middle of a line: its rest goes first, so
        the farewell is not glued to half a line.
        """
        if self.state is State.CLOSED:
            return
        if farewell:
            last = self._rest_of_line() + farewell
            try:
                sent = self.sock.send(last)
            except OSError:
                sent = 0
            if self.loop.observer:  # the trace accounts for every byte sent
                self.loop.observer.record("send", fd=self.fd, asked=len(last), sent=sent)
        self._finish(reason)

    def _finish(self, reason):
        if self.state is State.CLOSED:
            return
        self._move(State.CLOSED)
        self.output.clear()
        self.buffer_size = 0
        for timer in self._timers:
            timer.cancel()
        if self.loop.observer:
            self.loop.observer.record("close", fd=self.fd, reason=reason)
        self.loop.unregister(self.sock)
        self.sock.close()
        self.loop.call_soon(lambda: self.protocol.connection_lost(reason))

    def handle_error(self, error):
        """An exception in the protocol's code: it decides, or the stream is dropped."""
        handle_error = getattr(self.protocol, "handle_error", None)
        if handle_error is None:
            raise error
        handle_error(error)

    # --- helpers ---------------------------------------------------------------

    def _move(self, state):
        if state not in TRANSITIONS[self.state]:
            raise RuntimeError(f"a stream cannot go from {self.state.value} to {state.value}")
        self.state = state

    def _watch(self, read=None, write=None):
        if self.state is State.CLOSED:
            return
        if read is not None:
            self.reading = read
        self.loop.modify(self.sock, read=self.reading,
                         write=bool(self.output) if write is None else write)

    def _later(self, delay, callback):
        self._timers.append(self.loop.call_later(delay, callback))

    def _rest_of_line(self):
        """The queued bytes up to the first line end: what finishes a line a send cut short."""
        rest = b""
        for chunk in self.output:
            end = chunk.find(b"\n")
            if end >= 0:
                return rest + chunk[: end + 1]
            rest += chunk
        return b""  # no line end queued: nothing to finish


if hasattr(socket.socket, "sendmsg"):
    def _send_chunks(sock, chunks):
        return sock.sendmsg(chunks)  # writev(): the kernel gathers the chunks; nothing is joined here
else:  # Windows has no sendmsg()
    def _send_chunks(sock, chunks):
        return sock.send(b"".join(chunks))


def _describe(error):
    return os.strerror(error.errno) if error.errno else str(error)
