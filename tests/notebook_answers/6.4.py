def send_to_all(listener, payload):
    """Send ``payload`` to every client; one select() loop; write only when writable."""
    listener.setblocking(False)
    outbufs = {}                                    # socket -> bytes still to send
    while True:
        wanted = [sock for sock, outbuf in outbufs.items() if outbuf]   # write interest
        readable, writable, _ = select.select([listener, *outbufs], wanted, [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                conn.setblocking(False)
                outbufs[conn] = bytearray(payload)
                continue
            try:
                data = sock.recv(4096)
            except ConnectionError:
                data = b""
            if not data:                             # EOF (or a reset): drop the client
                del outbufs[sock]
                sock.close()
        for sock in writable:
            if sock not in outbufs:                  # closed above, in this same pass
                continue
            try:
                sent = sock.send(outbufs[sock])
            except BlockingIOError:
                continue
            except (BrokenPipeError, ConnectionResetError):   # EPIPE, ECONNRESET: the client is gone
                del outbufs[sock]
                sock.close()
                continue
            del outbufs[sock][:sent]
