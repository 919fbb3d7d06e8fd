# expect: your server waited for the one that does not read
def send_to_all(listener, payload):
    clients = []
    while True:
        readable, _, _ = select.select([listener, *clients], [], [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                clients.append(conn)
                conn.sendall(payload)
            elif not sock.recv(4096):
                clients.remove(sock)
                sock.close()
