def echo_server(listener):
    """Send back to each client what it sends, serving all clients from one select() loop."""
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
            try:
                data = sock.recv(4096)
            except ConnectionError:           # ECONNRESET: the peer went away abruptly
                data = b""
            if data:
                sock.sendall(data)
            else:                             # EOF: stop watching, then close
                watched.remove(sock)
                sock.close()
