"""A small event loop (given): one select() over every registered socket.

A *handler* is any object with a ``handle_read()`` method; the loop calls it
when its socket is readable.  This is selectchat's ``loop.py`` cut down to
what this lab needs: no write interest, no timers.
"""

import select


class EventLoop:
    def __init__(self):
        self.handlers = {}   # socket -> handler

    def register(self, sock, handler):
        """Call ``handler.handle_read()`` whenever ``sock`` is readable."""
        self.handlers[sock] = handler

    def unregister(self, sock):
        """Stop watching ``sock``.  Do this before closing it."""
        self.handlers.pop(sock, None)

    def run(self):
        while True:
            readable, _, _ = select.select(list(self.handlers), [], [])
            for sock in readable:
                handler = self.handlers.get(sock)
                if handler is not None:   # an earlier handler may have dropped it
                    handler.handle_read()
