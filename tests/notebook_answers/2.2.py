# (a) has an empty send buffer: writable. (b) has a full one, because the peer's receive buffer is
# full too: not writable until the peer reads.
writable_answer = "a"
