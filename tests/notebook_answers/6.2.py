def flush(sock, outbuf):
    try:
        sent = sock.send(outbuf)
    except BlockingIOError:       # no room at all: keep everything for later
        return False
    del outbuf[:sent]
    return not outbuf
