# expect: connected but silent
def echo_server(listener):
    while True:
        conn, _ = listener.accept()
        while True:
            data = conn.recv(4096)
            if not data:
                break
            conn.sendall(data)
        conn.close()
