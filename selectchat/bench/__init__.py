"""``selectchat bench``: measure an IRC server (this one or any other) under load.

Tooling, not lesson: it sits beside the lesson core and drives any server
through sockets only.  One module per job:

* :mod:`.load` -- the load generator: :class:`~.load.Generator` (one event
  loop, many non-blocking connections), :class:`~.load.Peer`,
  :class:`~.load.Deliveries`, and the server's CPU and memory from ``/proc``;
* :mod:`.scenarios` -- fanout, idle, slow-reader, connect-storm;
* :mod:`.cli` -- the command line, the server under test, the report.

docs/performance.md says what each figure means.
"""
