def relay_server(listener):
    """Each complete line a client sends goes to every other client; one select() loop."""
    listener.setblocking(False)
    pending = {}                                   # socket -> bytes of a line not finished yet
    while True:
        readable, _, _ = select.select([listener, *pending], [], [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                pending[conn] = bytearray()
                continue
            try:
                data = sock.recv(4096)
            except ConnectionError:
                data = b""
            if not data:                           # EOF: forget the client, then close it
                del pending[sock]
                sock.close()
                continue
            buffer = pending[sock]
            buffer += data
            end = buffer.rfind(b"\n") + 1          # everything up to the last complete line
            if end:
                lines = bytes(buffer[:end])
                del buffer[:end]
                for other in pending:
                    if other is not sock:
                        other.sendall(lines)
