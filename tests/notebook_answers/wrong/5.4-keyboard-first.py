# expect: your client waits for the keyboard before it looks at the socket
def chat_client(keyboard, sock, screen):
    while True:
        typed = os.read(keyboard, 1024)        # blocks until Enter
        if not typed:
            sock.close()
            return
        sock.sendall(typed)
        sock.settimeout(0.2)
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        if not data:
            return
        os.write(screen, data)
