# expect: went away (a reset connection): your code raised ConnectionResetError
def send_to_all(listener, payload):
    listener.setblocking(False)
    outbufs = {}
    while True:
        wanted = [sock for sock, outbuf in outbufs.items() if outbuf]
        readable, writable, _ = select.select([listener, *outbufs], wanted, [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                conn.setblocking(False)
                outbufs[conn] = bytearray(payload)
            elif not sock.recv(4096):
                del outbufs[sock]
                sock.close()
        for sock in writable:
            if sock in outbufs:
                try:
                    sent = sock.send(outbufs[sock])
                except BlockingIOError:
                    continue
                del outbufs[sock][:sent]
