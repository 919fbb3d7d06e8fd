"""selectchat: a chat server, clients and a traced event loop for learning select().

The folders are the architecture (docs/architecture.md draws the map):

* ``net``     -- the event loop (one ``select()`` in plain sight), framing, one buffered stream;
* ``irc``     -- the protocol on the wire: messages, numerics, case mapping, shared replies;
* ``chat``    -- rooms, users and every rule, with no I/O (sans-I/O);
* ``server``  -- sockets, console and signals on one loop, carrying out what the core decides;
* ``client``  -- a blocking client for scripts, and the terminal client on one loop;
* ``trace``   -- record the loop, read, summarise, plot and step through a trace;
* ``bench``, ``grading``, ``exercises`` -- the load generator, the labs' grader, the notebooks' checks;
* ``launch``  -- start a server subprocess on a free port, stop it for sure.
"""

__version__ = "0.1.0"
