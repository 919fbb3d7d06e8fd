def chat_client(keyboard, sock, screen):
    """Copy typed lines to the socket and the socket's bytes to the screen, from one select()."""
    while True:
        readable, _, _ = select.select([keyboard, sock], [], [])
        if keyboard in readable:
            typed = os.read(keyboard, 1024)
            if not typed:                      # Ctrl-D: end of input
                sock.close()
                return
            sock.sendall(typed)
        if sock in readable:
            try:
                data = sock.recv(4096)
            except ConnectionError:            # ECONNRESET
                data = b""
            if not data:                       # the server closed
                sock.close()
                return
            os.write(screen, data)
