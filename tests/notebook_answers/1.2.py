# As soon as Alice closes, `recv()` returns `b""` for her, the server leaves her loop, calls
# `accept()`, gets Bob (his connection waited in the backlog), and `recv()` returns the bytes he sent
# two seconds ago (they waited in the kernel's receive buffer).
bob_will_get = b"HELLO FROM BOB"
