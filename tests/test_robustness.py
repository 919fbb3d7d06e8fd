"""A classroom of curious students cannot end the server or starve a reader.

One test per way that was found to end, freeze or bloat the server, each
through real sockets (or the real console) against a real server process,
each ending by checking that a fresh client is still served promptly.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from selectchat.client import Client
from selectchat.launch import PACKAGE_PARENT, READY_PREFIX, start_server


def raw(address, rcvbuf=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(address)
    return sock


def register(sock, nick):
    sock.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n".encode())
    read_until(sock, b" 376 ")


def read_until(sock, marker, limit=64 << 20):
    """Everything received up to and including ``marker`` (or EOF)."""
    data = b""
    while marker not in data and len(data) < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def read_all(sock):
    """Everything until the server closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def assert_still_serving(server, within=2.0):
    """A fresh client registers and its PING is answered promptly."""
    with Client(*server.address, f"fresh{time.monotonic_ns() % 100000}", timeout=within) as fresh:
        fresh.send("PING :still-there")
        assert fresh.expect("PONG").params[-1] == "still-there"
    assert server.running()


# --- 1. a rule's bug, and MODE +l with a non-ASCII digit -----------------------

def test_mode_limit_with_a_superscript_digit_is_ignored_not_a_crash():
    with start_server() as server:
        with Client(*server.address, "op") as op:
            op.join("#m")
            for bad in ("²", "٣", "-5", "0", "99999999999999999999", "1e3", ""):
                op.send(f"MODE #m +l {bad}")
            op.send("MODE #m +l 7")
            assert op.expect("MODE").params == ("#m", "+l", "7")
        assert_still_serving(server)


def test_an_exception_in_a_rule_drops_that_client_alone(monkeypatch):
    """socketserver's handle_error: a bug met while serving one client ends that client only."""
    from selectchat.chat import core
    from selectchat.server import Server, ServerConfig

    def crash(chat, user, msg):
        raise RuntimeError("a bug in a rule")

    monkeypatch.setitem(core.COMMANDS, "CRASH", crash)
    server = Server(ServerConfig(console=False))
    host, port = server.start()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with Client(host, port, "alice") as alice, Client(host, port, "bob") as bob, \
                Client(host, port, "mallory") as mallory:
            alice.join("#r")
            bob.join("#r")
            mallory.send("CRASH")
            error = mallory.expect("ERROR")
            assert "Internal server error" in error.params[-1]
            alice.say("#r", "still here?")
            assert bob.expect("PRIVMSG").params == ("#r", "still here?")
        assert any("RuntimeError: a bug in a rule" in line for line in server.log.lines())
    finally:
        server.loop.call_soon(lambda: server.shutdown("test over"))
        thread.join(10)
    assert not thread.is_alive()


# --- 2. the console ---------------------------------------------------------------

def test_console_usage_errors_change_nothing_and_help_lists_everything():
    with start_server("--room", "lobby") as server:
        assert server.console("names")[0].startswith("usage: who ROOM")
        assert server.console("names a b")[0].startswith("usage: who ROOM")
        assert server.console('key lobby "a b"')[0].startswith("error: bad key")
        assert "no" in server.console("rooms")[1]  # still public
        listed = "\n".join(server.console("help"))
        for name in ("rooms", "create", "who", "names", "users", "limit", "key", "topic", "kick",
                     "disconnect", "close", "say", "log", "shutdown", "quit", "exit", "echo", "help"):
            assert f" {name}" in listed, name
        assert server.console("topic lobby welcome all") == ["topic of #lobby set"]
        with Client(*server.address, "t") as t:
            t.join("#lobby")
            t.send("TOPIC #lobby")
            assert t.expect("332").params[-1] == "welcome all"
        assert_still_serving(server)


# --- 3 and 4. long replies: bounded memory and time, and never a drop --------------

def test_a_packet_of_list_lines_neither_bloats_nor_holds_the_loop():
    rooms = [arg for i in range(300) for arg in ("--room", f"room{i:03d}")]
    with start_server(*rooms) as server:
        before = rss_kb(server.pid)
        attacker = raw(server.address, rcvbuf=4096)
        register(attacker, "greedy")
        attacker.sendall(b"LIST\n" * 3276)  # one 16 KiB packet; the attacker reads nothing
        time.sleep(0.5)
        assert_still_serving(server, within=2.0)
        grown_mb = (rss_kb(server.pid) - before) / 1024
        assert grown_mb < 30, f"the server grew by {grown_mb:.0f} MB"
        attacker.close()


def test_a_list_longer_than_the_sendq_arrives_whole():
    # 1,500 rooms make a LIST of about 75 KB, more than this server's 32 KiB --max-sendq:
    # the reply is produced as the asker's socket drains, so asking never gets it dropped.
    rooms = [arg for i in range(1500) for arg in ("--room", f"room{i:04d}:{i % 7}")]
    with start_server("--max-sendq", "32768", *rooms) as server:
        asker = raw(server.address, rcvbuf=4096)
        register(asker, "asker")
        asker.sendall(b"LIST\r\n")
        time.sleep(0.3)  # let the server fill what the small window takes
        reply = read_until(asker, b" 323 ")
        assert b"ERROR" not in reply
        assert reply.count(b" 322 ") == 1500
        assert len(reply) > 32768
        asker.close()
        assert_still_serving(server)


# --- 5. half-close ---------------------------------------------------------------------

@pytest.mark.parametrize("attempt", range(3))
def test_a_half_closing_client_gets_its_replies(attempt):
    with start_server() as server:
        sock = raw(server.address)
        sock.sendall(b"NICK half\r\nUSER half 0 * :h\r\nPING :t\r\nQUIT :bye\r\n")
        sock.shutdown(socket.SHUT_WR)  # what nc -N and `printf ... | nc -q1` do
        data = read_all(sock)
        assert b" 001 half " in data
        assert b"PONG" in data and data.index(b"PONG") < data.index(b"ERROR")
        sock.close()


def test_a_half_closing_client_without_quit_gets_its_replies_and_its_peers_see_it_leave():
    with start_server() as server:
        with Client(*server.address, "watcher") as watcher:
            watcher.join("#r")
            sock = raw(server.address)
            sock.sendall(b"NICK leaver\r\nUSER l 0 * :l\r\nJOIN #r\r\nLIST\r\n")
            sock.shutdown(socket.SHUT_WR)
            data = read_all(sock)
            assert b" 366 " in data and b" 323 " in data
            assert watcher.expect("QUIT").prefix.startswith("leaver!")
            sock.close()


# --- 6 and 7. fan-out: drops carried out after it, readers never starved ---------------

def test_a_room_of_500_non_readers_is_dropped_without_ending_the_server():
    with start_server("--max-sendq", "8192") as server:
        sleepers = []
        for i in range(500):
            sock = raw(server.address, rcvbuf=2048)
            sock.sendall(f"NICK s{i}\r\nUSER s 0 * :s\r\nJOIN #big\r\n".encode())
            sleepers.append(sock)
        talker = raw(server.address)
        register(talker, "talker")
        talker.sendall(b"JOIN #big\r\n")
        line = b"PRIVMSG #big :" + b"x" * 400 + b"\r\n"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            talker.sendall(line * 20)
            if len(server.console("users")) < 100:
                break
        assert server.running()
        assert len(server.console("users")) < 100, "the non-readers were not dropped"
        assert_still_serving(server)
        for sock in sleepers:
            sock.close()
        talker.close()


def test_a_reader_that_keeps_reading_is_not_dropped_when_twenty_clients_flood():
    with start_server() as server:
        reader = raw(server.address)
        register(reader, "reader")
        reader.sendall(b"JOIN #flood\r\n")
        read_until(reader, b" 366 ")
        received = bytearray()
        stop = threading.Event()

        def keep_reading():
            reader.settimeout(0.2)
            while not stop.is_set():
                try:
                    chunk = reader.recv(1 << 20)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                received.extend(chunk[-200:])
                if b"ERROR" in chunk:
                    received.extend(b"<<DROPPED>>")
                    return

        thread = threading.Thread(target=keep_reading, daemon=True)
        thread.start()
        floods = []
        for i in range(20):
            sock = raw(server.address)
            register(sock, f"flood{i}")
            sock.sendall(b"JOIN #flood\r\n")
            floods.append(sock)
        payload = b"".join(b"PRIVMSG #flood :" + b"y" * 300 + b"\r\n" for _ in range(40))

        def flood(sock):
            end = time.monotonic() + 3
            try:
                while time.monotonic() < end:
                    sock.sendall(payload)
            except OSError:
                pass

        flooders = [threading.Thread(target=flood, args=(s,), daemon=True) for s in floods]
        for t in flooders:
            t.start()
        for t in flooders:
            t.join(15)
        stop.set()
        thread.join(5)
        assert b"<<DROPPED>>" not in received, bytes(received[-300:])
        reader.settimeout(10)
        reader.sendall(b"PING :alive\r\n")
        assert b"alive" in read_until(reader, b"alive")
        for sock in floods:
            sock.close()
        reader.close()


# --- 8. logging never stops the loop --------------------------------------------------

def spawn(*options, stderr=subprocess.PIPE):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen([sys.executable, "-m", "selectchat", "server", "--port", "0", "--exit-on-eof", *options],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
    first = process.stdout.readline().decode()
    assert first.startswith(READY_PREFIX), first
    host, _, port = first[len(READY_PREFIX):].strip().rpartition(":")
    return process, (host, int(port))


def chat_a_while(address, lines=200, tag=""):
    with Client(*address, "talk" + tag) as a, Client(*address, "listen" + tag) as b:
        a.join("#r")
        b.join("#r")
        for i in range(lines):
            a.say("#r", f"line {i}")
        b.send("PING :after")
        b.expect("PONG")


@pytest.mark.parametrize("where", ["closed pipe", "/dev/full", "stalled pipe"])
def test_a_broken_or_stalled_log_does_not_stop_the_server(where):
    if where == "/dev/full":
        process, address = spawn("--log", "/dev/full", stderr=subprocess.DEVNULL)
    else:
        process, address = spawn("--log", "-")
        if where == "closed pipe":
            process.stderr.close()  # the launcher that read it went away
    try:
        chat_a_while(address, lines=1500)  # ~100 KB of log: a stalled pipe (64 KiB) fills and stays full
        chat_a_while(address, tag="2")
        assert process.poll() is None
        if where == "/dev/full":
            process.stdin.write(b"log 50\necho done\n")
            process.stdin.flush()
            out = b""
            while b"done" not in out:
                out += process.stdout.readline()
            assert out.count(b"cannot write to /dev/full") == 1
    finally:
        process.stdin.close()
        assert process.wait(10) == 0
        process.stdout.close()
        if process.stderr and not process.stderr.closed:
            process.stderr.close()


# --- 9. SIGHUP --------------------------------------------------------------------------

def test_sighup_is_a_clean_shutdown():
    process, address = spawn(stderr=subprocess.DEVNULL)
    try:
        sock = raw(address)
        register(sock, "hup")
        process.send_signal(signal.SIGHUP)
        assert b"ERROR :Closing Link" in read_all(sock)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdin.close()
        process.stdout.close()


# --- 10. escape sequences never reach the operator's terminal raw ----------------------

def test_escape_sequences_from_clients_are_shown_escaped_in_the_log_and_console():
    with start_server() as server:
        with Client(*server.address, "esc") as esc:
            esc.join("#r")
            esc.say("#r", "\x1b]0;pwned\x07\x1b[2J hello")
            esc.send("JOIN #evil\x1b[2J")
            esc.send("PING :x")
            esc.expect("PONG")
        time.sleep(0.2)
        logged = [line for line in server.log if "hello" in line]
        assert logged and "\x1b" not in logged[0] and "\\x1b]0;pwned\\x07" in logged[0]
        console = server.console("log 50")
        assert all("\x1b" not in line and "\x07" not in line for line in console)
        assert "#evil" not in "".join(server.console("rooms"))  # a name with controls is refused


# --- 11. text hygiene --------------------------------------------------------------------

def test_parameters_split_on_ascii_space_only_and_text_always_has_its_colon():
    with start_server() as server:
        with Client(*server.address, "alice") as alice, Client(*server.address, "bob") as bob:
            alice.send("JOIN #ab\u00a0cd")
            alice.expect("366")
            assert "#ab\u00a0cd" in "".join(server.console("rooms"))
            raw_bob = bob.sock
            alice.send("PRIVMSG bob psst")
            line = bob.expect("PRIVMSG")
            assert line.params == ("bob", "psst")
            del raw_bob
        with Client(*server.address, "carol") as carol:
            sock = raw(server.address)
            register(sock, "dave")
            carol.send("PRIVMSG dave psst")
            assert b"PRIVMSG dave :psst\r\n" in read_until(sock, b"psst")
            sock.close()


def test_a_slow_reader_is_dropped_and_does_not_set_the_pace_of_its_room():
    """Backpressure waits for readers that keep up, not for one that trickles: the room goes on."""
    with start_server("--max-sendq", "65536") as server:
        slow = raw(server.address, rcvbuf=2048)
        register(slow, "trickle")
        slow.sendall(b"JOIN #room\r\n")
        read_until(slow, b" 366 ")
        fast = raw(server.address)
        register(fast, "fast")
        fast.sendall(b"JOIN #room\r\n")
        read_until(fast, b" 366 ")
        sender = raw(server.address)
        register(sender, "talker")
        sender.sendall(b"JOIN #room\r\nPING :joined\r\n")
        read_until(sender, b"joined")
        dropped = threading.Event()

        def trickle():  # 512 bytes every 50 ms: about 10 KB/s, reading all the while
            slow.settimeout(0.05)
            while not dropped.is_set():
                try:
                    chunk = slow.recv(512)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                time.sleep(0.05)

        threading.Thread(target=trickle, daemon=True).start()
        received = [0]

        def read_fast():
            fast.settimeout(0.5)
            while not dropped.is_set():
                try:
                    received[0] += len(fast.recv(1 << 20))
                except TimeoutError:
                    pass

        threading.Thread(target=read_fast, daemon=True).start()
        chunk = b"".join(b"PRIVMSG #room :" + b"m" * 200 + b"\r\n" for _ in range(500))  # 110 KB
        def trickle_dropped():  # (its ERROR line may never reach it: its socket is full)
            return any("trickle disconnected (SendQ exceeded" in line for line in server.log)

        sent, deadline = 0, time.monotonic() + 30
        while not trickle_dropped() and time.monotonic() < deadline:
            sender.sendall(chunk)   # blocks whenever the server holds the talker back
            sent += len(chunk)
        if trickle_dropped():
            dropped.set()
        # Were the room paced to the trickle (10 KB/s), its queue would never pass --max-sendq.
        assert dropped.is_set(), f"after {sent} bytes the trickling reader still sets the room's pace"
        assert received[0] > 0
        assert_still_serving(server)
        for sock in (slow, fast, sender):
            sock.close()
