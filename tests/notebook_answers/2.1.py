def wait_readable(sock, timeout):
    readable, _, _ = select.select([sock], [], [], timeout)
    return bool(readable)
