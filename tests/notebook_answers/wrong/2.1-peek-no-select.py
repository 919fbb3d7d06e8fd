# expect: changed the socket's timeout
def wait_readable(sock, timeout):
    sock.settimeout(timeout)
    try:
        return len(sock.recv(1, socket.MSG_PEEK)) > 0
    except (TimeoutError, BlockingIOError):
        return False
