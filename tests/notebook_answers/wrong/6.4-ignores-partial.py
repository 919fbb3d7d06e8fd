# expect: did not get the payload intact
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
                outbufs[conn] = [payload[i:i + 65536] for i in range(0, len(payload), 65536)]
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
                    sock.send(outbufs[sock].pop(0))       # what send() did not take is lost
                except (BlockingIOError, ConnectionError):
                    pass
