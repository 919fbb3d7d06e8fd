# expect: keeps asking select() about writing
def send_to_all(listener, payload):
    listener.setblocking(False)
    outbufs = {}
    while True:
        readable, writable, _ = select.select([listener, *outbufs], list(outbufs), [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                conn.setblocking(False)
                outbufs[conn] = bytearray(payload)
            else:
                try:
                    data = sock.recv(4096)
                except ConnectionError:
                    data = b""
                if not data:
                    del outbufs[sock]
                    sock.close()
        for sock in writable:
            if sock in outbufs and outbufs[sock]:
                try:
                    sent = sock.send(outbufs[sock])
                except BlockingIOError:
                    continue
                except ConnectionError:
                    del outbufs[sock]
                    sock.close()
                    continue
                del outbufs[sock][:sent]
