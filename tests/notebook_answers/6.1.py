# A non-blocking `send()` copies what fits into the kernel's send buffer and returns that count: a
# **partial send**. The caller must keep the rest (its *output buffer*) and try again later. Once the
# buffer is full, `send()` raises `BlockingIOError`, and `select()` stops reporting the socket
# writable.
first_send = "part"
