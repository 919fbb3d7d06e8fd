"""The network layer: an event loop, a byte-stream framer, one buffered connection.

Nothing here knows IRC: ``loop`` watches descriptors with ``select()``,
``framing`` cuts a byte stream into lines, ``stream`` moves one socket's
bytes in and out without ever blocking.
"""
