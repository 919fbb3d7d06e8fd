"""One client of the server: its stream, its turn at the core, and flow control.

A :class:`Connection` is the protocol object of a :class:`~selectchat.net.stream.Stream`:
the stream hands it lines; it feeds them to the chat core and lets the
server carry out what the core decided.  What makes it more than a loop
over lines is that serving a client is **bounded both ways**:

* *Its own output.*  Lines are served in batches; once the client's output
  queue passes its high-water mark (a quarter of ``--max-sendq``), or a long
  reply (``LIST``) is being produced, its remaining lines wait and its socket
  is not read (TCP then holds the client back) until the queue drains.  A
  packet of 3,000 ``LIST`` lines costs one reply's worth of memory at a time.
* *Its audience.*  When a message it sent pushes a reader's queue past the
  high-water mark, the sender waits until that reader has taken most of it:
  backpressure, as TCP applies it between two hosts.  A reader that is only
  momentarily behind (twenty flooders' chunks landed in one pass) takes its
  queue in milliseconds, so it is never dropped because others flood.  But
  a room must not crawl at the pace of its slowest member: a reader is waited
  for only while its own pace would clear its excess within ``CATCH_UP``
  seconds (after ``PROBE`` seconds to show it: on a busy machine a reader
  that reads as fast as it can may still be descheduled for a moment).  A slow reader is not waited for; its queue grows to
  ``--max-sendq`` and it alone is dropped -- the slow-reader rule.

Everything here runs inside the loop's handlers, so nothing blocks.
"""

import itertools
from collections import deque

from ..chat import SendLater
from ..irc import closing_link
from ..net.stream import State, Stream

BATCH = 32    # lines served before the server looks at queues again
PROBE = 0.05     # seconds a reader newly behind is given to show its pace
CATCH_UP = 0.25  # a reader that needs longer than this, at its pace, to catch up is not waited for


class Connection:
    """A client: a stream, the lines waiting for their turn, a long reply in progress."""

    def __init__(self, server, sock, peer):
        self.server = server
        self.peer = peer
        self.high_water = server.config.max_sendq // 4
        self.stream = Stream(server.loop, sock, self, label=f"{peer[0]}:{peer[1]}",
                             max_output=server.config.max_sendq, low_water=self.high_water // 2)
        self.fd = self.stream.fd
        self.pending = deque()    # lines received, not yet served
        self.long_reply = None    # the rest of a long reply: an iterator of lines
        self.waiting_for = None   # the reader whose full queue holds this sender back
        self.waiting = []         # senders held back by this reader's queue
        self.full_since = None    # when our queue went above the high-water mark (None: it is not)
        self.sent_when_full = 0   # what our stream had sent by then: our pace since is measured
        self.peer_closed = False  # EOF seen: answer what was read, then close

    def __repr__(self):
        return f"<Connection fd={self.fd} {self.peer[0]}:{self.peer[1]}>"

    # --- input: served in bounded turns ----------------------------------------

    def lines_received(self, lines):
        self.pending.extend(lines)
        self.serve()

    def serve(self):
        """Feed waiting lines to the core while this client may be served."""
        server, chat = self.server, self.server.chat
        while self.pending and self._may_be_served():
            now = server.loop.now
            effects = []
            for _ in range(min(BATCH, len(self.pending))):
                new = chat.receive(self, self.pending.popleft(), now)
                effects += new
                if SendLater in map(type, new):
                    break  # what it says next waits until the long reply is out
            server.apply(effects, origin=self)
        if self.stream.state is not State.OPEN:
            self.pending.clear()  # it said QUIT, or was dropped: the rest is not served
            return
        if self.pending and self.stream.buffer_size > self.high_water:
            self.stream.notify_drained = True
        if self.pending:
            self.stream.pause_reading()
        elif self.peer_closed and self.long_reply is None:
            self._finish("Connection closed")
        else:
            self.stream.resume_reading()

    def _may_be_served(self):
        return (self.stream.state is State.OPEN and self.long_reply is None
                and self.waiting_for is None and self.stream.buffer_size <= self.high_water)

    def eof_received(self):
        """The client closed its sending side: answer what it sent, then close."""
        self.peer_closed = True
        self.serve()
        return True  # we close the stream ourselves, once the answers are queued

    def _finish(self, reason):
        self.server.apply(self.server.chat.disconnect(self, reason))
        self.stream.close("connection closed by peer")

    # --- long replies: produced as the socket drains -----------------------------

    def send_later(self, lines):
        """Start a long reply (or queue it behind the one in progress)."""
        self.long_reply = lines if self.long_reply is None else itertools.chain(self.long_reply, lines)
        self._continue_long_reply()

    def _continue_long_reply(self):
        stream = self.stream
        for line in self.long_reply:
            if stream.write(line) > self.high_water:
                stream.notify_drained = True
                return
            if stream.state is not State.OPEN:
                break
        self.long_reply = None

    def output_drained(self):
        """Our queue fell below the low-water mark: resume what it held back."""
        self.full_since = None
        for sender in self.waiting:
            if sender.waiting_for is self:
                sender.waiting_for = None
                self.server.loop.call_soon(sender.serve)
        self.waiting.clear()
        if self.long_reply is not None:
            self._continue_long_reply()
        if self.long_reply is None:
            self.serve()

    # --- backpressure on senders ---------------------------------------------------

    def wait_for(self, reader):
        """Serve this sender no more, for now, if ``reader`` is behind but keeps up."""
        now = self.server.loop.now
        if reader.full_since is None:  # it just went above the mark: a new episode
            reader.full_since, reader.sent_when_full = now, reader.stream.bytes_sent
            reader.stream.notify_drained = True  # output_drained() ends the episode
        if self.waiting_for is None and reader.keeps_up(now):
            self.waiting_for = reader
            reader.waiting.append(self)
            self.server.loop.call_later(PROBE, lambda: self._stop_waiting_for(reader))  # then look again

    def keeps_up(self, now):
        """Would this reader, at its pace since it went above the mark, catch up within CATCH_UP?"""
        elapsed = now - self.full_since
        if elapsed < PROBE:
            return True  # newly behind: give it a moment to show its pace
        pace = (self.stream.bytes_sent - self.sent_when_full) / elapsed
        return pace * CATCH_UP >= self.stream.buffer_size - self.stream.low_water

    def _stop_waiting_for(self, reader):
        if self.waiting_for is reader:
            self.waiting_for = None
            self.serve()

    # --- the end ---------------------------------------------------------------------

    def close(self, reason):
        """The core said goodbye (its ERROR line is queued): send it, then close."""
        self.pending.clear()
        self.long_reply = None
        self.stream.close(reason)

    def output_overflow(self):
        """The client does not read: its queue passed ``--max-sendq``."""
        self.abort(f"SendQ exceeded ({self.stream.max_output} bytes)")

    def abort(self, reason):
        self.pending.clear()
        self.long_reply = None
        self.stream.abort(reason, farewell=closing_link(self.peer[0], reason))

    def connection_lost(self, reason):
        """The stream is closed (called from the loop, after whatever closed it)."""
        server = self.server
        server.connections.discard(self)
        for sender in self.waiting:
            if sender.waiting_for is self:
                sender.waiting_for = None
                server.loop.call_soon(sender.serve)
        self.waiting.clear()
        server.apply(server.chat.disconnect(self, reason))

    def handle_error(self, error):
        """A bug met while serving this client: log it, drop this client alone.

        As ``socketserver``'s ``handle_error`` teaches: one request's failure
        must not end the service for everyone.
        """
        self.server.log_error(f"internal error while serving {self.peer[0]}:{self.peer[1]}", error)
        self.abort("Internal server error")
