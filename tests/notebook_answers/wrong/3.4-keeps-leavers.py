# expect: it keeps reacting to the closed connection
def relay_server(listener):
    clients, pending = [], {}
    while True:
        readable, _, _ = select.select([listener, *clients], [], [])
        for sock in readable:
            if sock is listener:
                conn = listener.accept()[0]
                clients.append(conn)
                pending[conn] = b""
                continue
            pending[sock] += sock.recv(4096)
            if b"\n" in pending[sock]:
                lines, _, pending[sock] = pending[sock].rpartition(b"\n")
                for other in clients:
                    if other is not sock:
                        other.sendall(lines + b"\n")
