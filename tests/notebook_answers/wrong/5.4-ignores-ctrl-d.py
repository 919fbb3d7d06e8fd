# expect: after Ctrl-D (end of input) your client did not close its connection
def chat_client(keyboard, sock, screen):
    while True:
        readable, _, _ = select.select([keyboard, sock], [], [])
        if keyboard in readable:
            sock.sendall(os.read(keyboard, 1024))
        if sock in readable:
            data = sock.recv(4096)
            if not data:
                return
            os.write(screen, data)
