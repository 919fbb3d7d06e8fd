# expect: it keeps checking instead of waiting
def echo_server(listener):
    listener.setblocking(False)
    clients = []
    while True:
        try:
            conn, _ = listener.accept()
            conn.setblocking(False)
            clients.append(conn)
        except BlockingIOError:
            pass
        for conn in list(clients):
            try:
                data = conn.recv(4096)
            except BlockingIOError:
                continue
            if data:
                conn.sendall(data)
            else:
                clients.remove(conn)
                conn.close()
