# expect: it should raise ValueError
def choose_backend(available, highest_fd):
    for name in ("epoll", "kqueue", "poll"):
        if name in available:
            return name
    return "select"
