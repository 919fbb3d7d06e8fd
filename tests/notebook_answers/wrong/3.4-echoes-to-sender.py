# expect: a client got its own line back
def relay_server(listener):
    clients = []
    while True:
        readable, _, _ = select.select([listener, *clients], [], [])
        for sock in readable:
            if sock is listener:
                clients.append(listener.accept()[0])
                continue
            data = sock.recv(4096)
            if not data:
                clients.remove(sock)
                sock.close()
                continue
            for other in clients:
                other.sendall(data)
