# expect: timeout 0 means answer at once
def wait_readable(sock, timeout):
    readable, _, _ = select.select([sock], [], [], timeout or None)
    return bool(readable)
