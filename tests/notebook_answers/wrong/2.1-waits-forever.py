# expect: it does not stop at the timeout
def wait_readable(sock, timeout):
    readable, _, _ = select.select([sock], [], [])
    return bool(readable)
