# expect: consumed the byte
def wait_readable(sock, timeout):
    readable, _, _ = select.select([sock], [], [], timeout)
    if readable and sock.type == socket.SOCK_STREAM:
        try:
            sock.recv(1)
        except OSError:
            pass
    return bool(readable)
