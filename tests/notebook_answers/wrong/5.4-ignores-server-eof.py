# expect: when the server closed the connection your client did not return
def chat_client(keyboard, sock, screen):
    while True:
        readable, _, _ = select.select([keyboard, sock], [], [])
        if keyboard in readable:
            typed = os.read(keyboard, 1024)
            if not typed:
                sock.close()
                return
            sock.sendall(typed)
        if sock in readable:
            os.write(screen, sock.recv(4096))
