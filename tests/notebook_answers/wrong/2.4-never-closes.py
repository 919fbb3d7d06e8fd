# expect: did not close its own side
def echo_server(listener):
    watched = [listener]
    while True:
        readable, _, _ = select.select(watched, [], [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                watched.append(conn)
                continue
            try:
                data = sock.recv(4096)
            except ConnectionError:
                data = b""
            if data:
                sock.sendall(data)
            else:
                watched.remove(sock)          # stops watching, but never closes
