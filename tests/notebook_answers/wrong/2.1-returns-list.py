# expect: it should return True or False
def wait_readable(sock, timeout):
    readable, _, _ = select.select([sock], [], [], timeout)
    return readable
