# expect: it keeps reacting to the closed connection
def echo_server(listener):
    watched = [listener]
    while True:
        readable, _, _ = select.select(watched, [], [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                watched.append(conn)
            else:
                data = sock.recv(4096)
                if data:
                    sock.sendall(data)
