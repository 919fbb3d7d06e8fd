# expect: BlockingIOError instead of keeping the rest
def flush(sock, outbuf):
    sock.sendall(outbuf)
    outbuf.clear()
    return True
