# The real client (`selectchat/terminal.py`, the `Session` class) does the same for a dozen commands,
# and turns every server refusal into a plain sentence.
def to_irc(typed, room):
    if typed.startswith("/join "):
        return "JOIN " + typed.split(maxsplit=1)[1]
    if typed == "/quit":
        return "QUIT"
    return f"PRIVMSG {room} :{typed}"
