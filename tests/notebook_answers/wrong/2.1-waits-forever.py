# expect: it must give up after `timeout` seconds
def wait_readable(sock, timeout):
    readable, _, _ = select.select([sock], [], [])
    return bool(readable)
