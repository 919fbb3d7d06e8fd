# expect: waited for the rest of the stalled line
def echo_server(listener):
    watched = [listener]
    while True:
        readable, _, _ = select.select(watched, [], [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                watched.append(conn)
                continue
            line = b""
            while not line.endswith(b"\n"):
                data = sock.recv(4096)
                if not data:
                    break
                line += data
            if line:
                sock.sendall(line)
            else:
                watched.remove(sock)
                sock.close()
