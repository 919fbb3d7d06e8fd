# expect: it keeps checking instead of letting one call wait
def wait_readable(sock, timeout):
    deadline = time.monotonic() + timeout
    while True:
        if select.select([sock], [], [], 0)[0]:
            return True
        if time.monotonic() >= deadline:
            return False
