# `b""`: end of file, exactly like `recv()` at EOF. The keyboard is *readable* (so `select()` wakes
# up) and the read says "no more". A client must then stop watching it (or quit), or `select()` would
# report it readable forever.
ctrl_d_reads = b""
