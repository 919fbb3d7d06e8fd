# Nobody: not alice (no messages relayed), not carol (nothing read from her; if she sent long enough,
# her own `sendall()` would block too), not mallory, and no new connections either. One thread, one
# blocking call, one slow reader: the whole server is hers.
served_while_stuck = set()
