"""Which signals stop the server, and how: cleanly, from the loop.

SIGINT (Ctrl-C), SIGTERM (``kill``, service managers) and SIGHUP (the
terminal closed, the ssh session dropped) each lead to the same clean
shutdown: clients get their ERROR line and the exit status is 0.  Left to
its default action, SIGHUP would kill the server on the spot.  The signals
arrive through :class:`~selectchat.net.signals.SignalSocket` (the self-pipe trick).
"""

import signal

from ..net.signals import SignalSocket

SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def attach(server):
    """Shut ``server`` down on SHUTDOWN_SIGNALS; None when not in the main thread."""
    def shut_down(signals):
        server.shutdown(f"Server shutting down ({', '.join(s.name for s in signals)})")
    return SignalSocket.attach(server.loop, SHUTDOWN_SIGNALS, shut_down)
