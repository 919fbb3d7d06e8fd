# expect: chose select(), which cannot watch
def choose_backend(available, highest_fd):
    return "select"
