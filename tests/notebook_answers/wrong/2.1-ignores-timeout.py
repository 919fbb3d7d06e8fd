# expect: does not wait for the timeout
def wait_readable(sock, timeout):
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)
