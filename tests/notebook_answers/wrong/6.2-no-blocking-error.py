# expect: raised BlockingIOError
def flush(sock, outbuf):
    sent = sock.send(outbuf)
    del outbuf[:sent]
    return not outbuf
