# Note `(4, 5, 1100)`: three descriptors, but one *numbered* past the wall. A long-running program
# that opened and closed many files can hit this with few descriptors open.
def select_can_watch(fds):
    return all(fd < FD_SETSIZE for fd in fds)
