# expect: another one costs less per call
def choose_backend(available, highest_fd):
    for name in ("poll", "epoll", "kqueue"):
        if name in available:
            return name
    if highest_fd < 1024:
        return "select"
    raise ValueError("none")
