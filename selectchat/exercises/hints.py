"""Tiered hints, kept out of the notebooks: ``hint("2.4")`` prints the next tier.

The first tier names the idea, the second the tool, the last points to the
documentation.  None contains the code of the answer.
"""

HINTS = {
    "1.1": ["The server accepted Alice and echoed her first message. What does its inner loop do next?",
            "Alice is connected but silent. Which call waits for her?",
            "https://docs.python.org/3/library/socket.html#socket.socket.recv"],
    "1.2": ["Bob's bytes have been waiting in the kernel since he sent them.",
            "When the server gets back to Bob, it does to his bytes what it did to Alice's.",
            "Look again at the server's code, above exercise 1.1."],
    "1.3": ["Count one thread for each connected client.",
            "Is there a thread that is not serving any client?",
            "https://docs.python.org/3/library/threading.html"],
    "2.1": ["select() can already wait at most a given time: you need no clock, loop or sleep.",
            "Watch the socket for reading only, pass the timeout through, and look at whether the first list "
            "it returns is empty. Return a real bool, not a list.",
            "https://docs.python.org/3/library/select.html#select.select"],
    "2.2": ["Writable means: room in the kernel's send buffer.",
            "When does the send buffer fill up?",
            "Reread the section 'Writable is not always true'."],
    "2.3": ["A waiting connection makes a listening socket readable.",
            "Arrived bytes make a connected socket readable. Both can happen before one select() call.",
            "Give the names as a set (or a list) of strings."],
    "2.4": ["One list of sockets to watch: the listener and every client. One select() per pass, with no "
            "timeout: it waits until something happens.",
            "Readable listener: accept() and add the new socket to the list. Readable client: one recv(); "
            "b'' (or ConnectionResetError) means the client left: remove it from the list, then close it. "
            "Never wait for a whole line.",
            "select_echo_server above is close; the select module docs: "
            "https://docs.python.org/3/library/select.html#select.select"],
    "3.1": ["The server's answer is a line whose command is a three-digit number.",
            "Its name in selectchat.irc starts with ERR_ and says the channel is full.",
            "RFC 2812, section 5.2 (error replies)."],
    "3.2": ["Create a Client the way the cell above created the others.",
            "join() takes the room and, for a room with a key, the key.",
            "help(Client.join)"],
    "3.3": ["Each accepted connection is one event in the trace.",
            "trace.of(kind) keeps the events of one kind; which kind is an accept?",
            "docs/trace-format.md lists the kinds."],
    "3.4": ["Your echo server from exercise 2.4, with two changes: each client has a buffer of bytes that do not "
            "form a complete line yet, and a complete line goes to every client but the one who sent it.",
            "A dict from socket to bytearray; after each recv(), cut out the complete lines (up to and "
            "including each \\n) and send each to the others. At EOF, forget the client in both places.",
            "Notebook 7 is all about buffers like this one; https://docs.python.org/3/library/stdtypes.html#bytearray"],
    "4.1": ["Everyone in the room gets the message, except one person.",
            "Who does not get their own message back?",
            "Look at the send() squares on the timeline after one recv()."],
    "4.2": ["Each select event lists what was ready for reading and for writing.",
            "For each select event, add the sizes of its two ready lists; keep the largest.",
            "docs/trace-format.md, the 'select' event; the built-in max()."],
    "4.3": ["Each select event says how long the loop was blocked in it.",
            "Add up one field over all the select events.",
            "docs/trace-format.md, the 'select' event; the built-in sum()."],
    "4.4": ["Two steps: how long each bin is, and how much of it the loop spent blocked; busy is the difference.",
            "For each select event, walk from its start to its end, giving each bin the part of the wait that "
            "falls inside it. Bins are counted from the first select's start; the last one stops at the "
            "trace's end.",
            "docs/trace-format.md (the select event); selectchat.trace.utilisation_bins is the library's "
            "version: read it after you have tried."],
    "5.1": ["In canonical mode, the terminal driver keeps the line you are typing until it is finished.",
            "What finishes a line?",
            "https://docs.python.org/3/library/termios.html and man 3 termios (ICANON)."],
    "5.2": ["Ctrl-D at the start of a line means end of input.",
            "What does recv() return when a socket's peer closes? A terminal does the same.",
            "https://docs.python.org/3/library/os.html#os.read"],
    "5.3": ["Three cases: a line starting with /join, /quit, and anything else.",
            "str.startswith() and str.split(maxsplit=1) are enough.",
            "RFC 2812 section 3.2.1 (JOIN) and 3.3.1 (PRIVMSG)."],
    "5.4": ["Both the keyboard and the socket are descriptors: one select() over both, with no timeout.",
            "Keyboard readable: os.read() it; b'' is Ctrl-D (close the socket and return), anything else goes "
            "to the socket. Socket readable: recv(); b'' means the server left (return); anything else goes "
            "to the screen with os.write().",
            "full_duplex_client above; https://docs.python.org/3/library/os.html#os.read"],
    "6.1": ["A non-blocking send() never waits.",
            "It copies what fits into the kernel's buffer, and returns a number.",
            "https://docs.python.org/3/library/socket.html#socket.socket.send"],
    "6.2": ["One send(); it may take part of the buffer, all of it, or raise because there is no room.",
            "send() returns how many bytes it took: remove exactly those from the front of outbuf. "
            "BlockingIOError means it took nothing.",
            "https://docs.python.org/3/library/socket.html#socket.socket.send and "
            "https://docs.python.org/3/library/exceptions.html#BlockingIOError"],
    "6.3": ["A thread inside sendall() runs no other code.",
            "Who can it read from, accept, or write to, while it waits there?",
            "The empty set is written set()."],
    "6.4": ["Keep an output buffer per client. Watch every client for reading (to see it leave), and for "
            "writing only while its buffer holds something.",
            "When writable: one send(), remove what it took. BlockingIOError: try later. "
            "BrokenPipeError or ConnectionResetError: the client is gone, forget it and close it. "
            "recv() returning b'': the same.",
            "flush() from exercise 6.2; https://docs.python.org/3/library/select.html and "
            "https://docs.python.org/3/library/exceptions.html#os-exceptions"],
    "7.1": ["Where does read_until_brace stop reading?",
            "Can that character appear inside a JSON string?",
            "https://www.json.org/"],
    "7.2": ["Append, then cut out complete lines, keeping the unfinished tail in pending.",
            "bytearray.find() finds a line end; del pending[:n] removes the front. A line over max_line is "
            "None; after the loop, an unfinished line must not keep more than max_line + 1 bytes.",
            "https://docs.python.org/3/library/stdtypes.html#bytearray"],
    "7.3": ["Count the line ends in each piece.",
            "A line is returned only when its end arrives, even if it began in an earlier piece.",
            "Reread LineBuffer's cell above."],
    "7.4": ["A frame is complete only when its 10-byte header AND all the bytes it announces have arrived; "
            "both may come in pieces.",
            "Loop: while the header is all there, read the length; check it before waiting for the payload; "
            "if the whole frame is there, cut it out, else stop and wait for more.",
            "int() accepts bytes with spaces around digits: https://docs.python.org/3/library/functions.html#int"],
    "8.1": ["Think about what each call hands to the kernel.",
            "Which one keeps the watched set inside the kernel between calls?",
            "man 7 epoll"],
    "8.2": ["What matters is each descriptor's number, not how many there are.",
            "Compare every number with FD_SETSIZE.",
            "man 2 select (section NOTES, FD_SETSIZE)"],
    "8.3": ["Make idle + 1 socket pairs, send one byte so exactly one is ready, register the readers.",
            "Time many select(timeout=0) calls one by one with time.perf_counter(); return the median; "
            "close everything in a finally.",
            "https://docs.python.org/3/library/selectors.html and "
            "https://docs.python.org/3/library/statistics.html#statistics.median"],
    "8.4": ["Prefer the ones whose cost does not grow with idle descriptors.",
            "epoll and kqueue first, then poll; select only if the highest number is below FD_SETSIZE; "
            "otherwise nothing fits.",
            "https://docs.python.org/3/library/selectors.html (DefaultSelector picks the same way)"],
    "9.1": ["The first pass is the first select() call of the trace: what was it asked to watch for reading?",
            "Each bit set to 1 in the first row of the view is one descriptor number in that set.",
            "docs/tracing.md, the section on the step-through view."],
    "9.2": ["A partial send: the kernel took fewer bytes than the server asked it to take.",
            "Find the first send event whose 'sent' is smaller than its 'asked'; what stays behind is the difference.",
            "docs/trace-format.md, the send event."],
    "9.3": ["Each pass says why select() returned: a descriptor, a timer, a signal.",
            "Count the passes whose reason is a ready descriptor.",
            "help(selectchat.trace.passes)"],
}

_shown = {}


def hint(label, tier=None):
    """Print hint number ``tier`` (1, 2, ...) of exercise ``label``; without ``tier``, the next one."""
    tiers = HINTS.get(str(label))
    if not tiers:
        print(f"No hints for exercise {label}.")
        return
    if tier is None:
        tier = min(_shown.get(label, 0) + 1, len(tiers))
    tier = max(1, min(int(tier), len(tiers)))
    _shown[label] = tier
    more = f" (hint({label!r}) again for hint {tier + 1} of {len(tiers)})" if tier < len(tiers) else " (the last one)"
    print(f"Hint {tier} for exercise {label}{more}:\n  {tiers[tier - 1]}")
