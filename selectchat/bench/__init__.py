"""``selectchat bench``: measure an IRC server (this one or any other) under load.

Tooling, not lesson: it sits beside the lesson core and drives any server
through sockets only.  One module per job:

* :mod:`.load` -- the load generator: :class:`~.load.Generator` (one event
  loop, many non-blocking connections), :class:`~.load.Peer`,
  :class:`~.load.Deliveries`, and the server's CPU and memory from ``/proc``;
* :mod:`.scenarios` -- fanout, idle, slow-reader, connect-storm;
* :mod:`.hostile` -- floods, non-readers and big replies against bystanders;
* :mod:`.spread` -- more clients than one process may hold: worker processes;
* :mod:`.c10k` -- the cost of one select()/poll()/epoll() pass at 100 to
  10,000 watched descriptors (notebook 8's curve);
* :mod:`.cli` -- the command line, the server under test, the report.

docs/performance.md says what each figure means.

Why :class:`~.load.Peer` is not a :class:`selectchat.net.stream.Stream`:
the stream frames every line and hands it to a protocol object (a Python
call per line); the generator must count a 256 KiB chunk of stamped
messages with one ``bytes.count`` or it measures itself instead of the
server.  It also opens its connections itself (non-blocking ``connect``),
which a stream, made for accepted or connected sockets, does not do.
"""
