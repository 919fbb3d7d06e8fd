"""The server: sockets, the console and signals on one loop; the rules in the core.

* ``server``        -- :class:`Server`: start-up steps, ``apply`` (effects -> I/O), shutdown;
* ``connection``    -- one client: its stream, bounded turns, backpressure, long replies;
* ``listener``      -- ``accept()``, refusing politely past ``--max-clients``;
* ``console``       -- the operator's commands (sans-I/O);
* ``console_input`` -- reading stdin through the loop (a thread bridge on Windows);
* ``signals``       -- SIGINT/SIGTERM/SIGHUP through the loop (the self-pipe trick);
* ``log``           -- a log and console output that never block the loop;
* ``live``          -- ``--live``: a read-only web page (HTTP, Server-Sent Events) on the same loop;
  ``live_feed`` gathers what it shows while someone watches, ``live_page`` is the page;
* ``config``        -- :class:`ServerConfig`.
"""

from .config import ServerConfig
from .server import Server, run
