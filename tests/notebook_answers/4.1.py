# Everyone in `#lobby` but the sender. Each message is one `recv()` on the sender's lane and three
# `send()`s (or fewer, when one `send()` carries several queued messages at once: look for bigger
# squares at high rates).
recipients_per_message = 3
