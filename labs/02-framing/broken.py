"""How the first selectchat read its messages -- and why it broke (read, do not edit).

Each message was one JSON object, and the reader took everything up to the
first ``}`` as one message.  It worked in every demo.  Then a student sent
a message with a ``}`` in its text.
"""

import json


def read_until_brace(buffer):
    """Cut the messages out of ``buffer`` (a bytearray); leave an unfinished one in it.

    Returns the list of decoded messages; raises ``json.JSONDecodeError`` when
    what it cut out is not a whole JSON object.
    """
    messages = []
    while b"}" in buffer:
        end = buffer.index(b"}") + 1
        chunk = bytes(buffer[:end])
        del buffer[:end]
        messages.append(json.loads(chunk))
    return messages
