"""selectchat: a chat server, a client and a traced event loop for learning select().

The pieces, one idea per module:

* ``framing``  -- bytes in, complete lines out (TCP is a byte stream);
* ``protocol`` -- IRC lines <-> :class:`~selectchat.protocol.Message`;
* ``chat``     -- rooms, users and every rule, with no I/O (sans-I/O);
* ``loop``     -- the event loop: one ``select()`` over every descriptor;
* ``server``   -- wires sockets, the loop and the chat core together;
* ``console``  -- the operator's commands on the server's stdin;
* ``launch``   -- start a server subprocess on a free port, stop it for sure;
* ``client``   -- a small blocking client for scripts, notebooks and tests.
"""

__version__ = "0.1.0"
