"""Record a trace to explore (given): a small chat on a real selectchat server.

    python record.py scenario.jsonl
    selectchat trace summary scenario.jsonl

alice, bob and carol join #lab.  alice talks a lot; bob never reads what
he is sent; the room is quiet for a while; then carol speaks.  The tests
record the same story (see tests/test_answers.py, ``record_scenario``).
"""

import socket
import sys
import time

from selectchat.client import Client
from selectchat.launch import start_server

PAUSE = 1.2   # seconds of silence before carol speaks


def record_scenario(path, lines=50, names=("alice", "bob", "carol")):
    """Run the story on a fresh server traced to ``path``; return monotonic times of its moments.

    ``names``: who talks a lot, who never reads, who speaks after the pause.
    """
    moments = {}
    talker, silent, late = names
    with start_server("--trace", str(path), "--max-sendq", "10000000") as server:
        alice = Client(*server.address, talker)
        alice.join("#lab")
        bob = socket.create_connection(server.address, timeout=5)     # a raw socket that never reads
        bob.sendall(f"NICK {silent}\r\nUSER {silent} 0 * :{silent}\r\nJOIN #lab\r\n".encode())
        carol = Client(*server.address, late)
        carol.join("#lab")
        alice.ping()                                  # bob's JOIN is surely done by now
        for n in range(lines):
            alice.say("#lab", f"line {n} " + "blah " * 60)
        alice.ping()
        moments["pause"] = time.monotonic()
        time.sleep(PAUSE)
        moments["late speaks"] = time.monotonic()
        carol.say("#lab", "is anyone there?")
        alice.expect("PRIVMSG")                       # wait until it went around
        for client in (alice, carol):
            client.quit()
        bob.close()
    return moments


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "scenario.jsonl"
    for name, when in record_scenario(target).items():
        print(f"{name}: monotonic {when:.6f}")
    print(f"trace written to {target}; try: selectchat trace summary {target}")
