# The server accepted Alice and echoed her `hello`; then its inner loop called `conn.recv(1024)`
# again, and it will stay there until Alice sends more or closes. `accept()`, which would take Bob,
# only runs after that.
blocked_in = "recv"
