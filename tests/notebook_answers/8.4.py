def choose_backend(available, highest_fd):
    """The cheapest readiness call among `available` that can watch descriptor `highest_fd`."""
    for name in ("epoll", "kqueue", "poll"):     # they remember the set, or have no number limit
        if name in available:
            return name
    if "select" in available and highest_fd < 1024:    # FD_SETSIZE
        return "select"
    raise ValueError(f"nothing in {available} can watch descriptor {highest_fd}")
