# expect: it should hold exactly what the kernel did not take
def flush(sock, outbuf):
    try:
        sock.send(outbuf)
    except BlockingIOError:
        return False
    outbuf.clear()
    return False
