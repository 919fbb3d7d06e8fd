# expect: your server stopped when a client reset its connection: your code raised ConnectionResetError
def echo_server(listener):
    listener.setblocking(False)
    watched = [listener]
    while True:
        readable, _, _ = select.select(watched, [], [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                conn.setblocking(False)
                watched.append(conn)
                continue
            data = sock.recv(4096)
            if data:
                sock.sendall(data)
            else:
                watched.remove(sock)
                sock.close()
