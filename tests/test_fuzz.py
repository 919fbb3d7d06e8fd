"""Socket-level fuzzing: 20 clients send random bytes and random IRC-shaped lines.

Bounded to about 20 seconds.  Afterwards the server must be alive, answer a
fresh client's PING promptly, and have logged no internal error.  The seed
is printed on failure; ``SELECTCHAT_FUZZ_SEED=N`` replays one run.
"""

import os
import random
import socket
import threading
import time

from selectchat.client import Client
from selectchat.launch import start_server

COMMANDS = ["NICK", "USER", "JOIN", "PART", "PRIVMSG", "NOTICE", "MODE", "TOPIC", "KICK", "LIST", "NAMES",
            "WHO", "WHOIS", "USERHOST", "ISON", "AWAY", "PING", "PONG", "CAP", "PASS", "QUIT", "MOTD", "LUSERS"]
WORDS = ["#r", "#R", "#room", "0", "+l", "-l", "+k", "-k", "+o", "-o", "+lko", "²", "٣", "99999999999", "*",
         ":", "::", "#ab\u00a0cd", "\x1b[2J", "x" * 600, "LS", "REQ", "END", "NOTACOMMAND", "alice", "bob", ""]
HOSTILE = [b"LIST\n" * 800, b"WHO #r\n" * 500, b"MODE #r +l \xc2\xb2\r\n", b"\xff\xfe\x00\r\r\n",
           b"PRIVMSG #r :" + b"z" * 5000 + b"\r\n", b"NICK\r\n", b":\r\n", b"\r" * 1000]


def random_line(rng):
    if rng.random() < 0.15:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
    if rng.random() < 0.05:
        return rng.choice(HOSTILE)
    words = [rng.choice(COMMANDS)] + [rng.choice(WORDS) for _ in range(rng.randrange(4))]
    if rng.random() < 0.5:
        words.append(":" + " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3))))
    return (" ".join(words) + rng.choice(["\r\n", "\n", "\r"])).encode()


def fuzz_client(address, seed, until):
    rng = random.Random(seed)
    while time.monotonic() < until:
        try:
            with socket.create_connection(address, timeout=2) as sock:
                sock.sendall(f"NICK f{seed}x{rng.randrange(99)}\r\nUSER f 0 * :f\r\nJOIN #r\r\n".encode())
                for _ in range(rng.randrange(5, 60)):
                    sock.sendall(random_line(rng))
                    if rng.random() < 0.3:
                        sock.settimeout(0.01)
                        try:
                            sock.recv(65536)
                        except (TimeoutError, OSError):
                            pass
                    if time.monotonic() > until:
                        break
                if rng.random() < 0.3:
                    sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # dropped by the server: fine, connect again


def test_twenty_random_clients_cannot_hurt_the_server():
    seed = int(os.environ.get("SELECTCHAT_FUZZ_SEED", random.randrange(1 << 30)))
    print(f"fuzz seed {seed} (replay with SELECTCHAT_FUZZ_SEED={seed})")
    with start_server("--max-sendq", "65536") as server:
        until = time.monotonic() + 15
        threads = [threading.Thread(target=fuzz_client, args=(server.address, seed + i, until), daemon=True)
                   for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert server.running(), f"seed {seed}: the server ended"
        with Client(*server.address, "survivor", timeout=3) as fresh:
            start = time.monotonic()
            fresh.send("PING :ok")
            assert fresh.expect("PONG").params[-1] == "ok", f"seed {seed}"
        errors = [line for line in server.log if " error " in line and "internal" in line]
        assert not errors, f"seed {seed}: {errors[:3]}"
        del start
