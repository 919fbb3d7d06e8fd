"""protocol.py: parse a line into a Message, format one back into bytes."""

import pytest

from selectchat import irc
from selectchat.irc import MAX_LINE, Message, ProtocolError, format_line, parse


@pytest.mark.parametrize("line, expected", [
    ("NICK alice", Message("NICK", ("alice",))),
    ("nick alice", Message("NICK", ("alice",))),  # commands are case-insensitive
    ("USER al 0 * :Alice Liddell", Message("USER", ("al", "0", "*", "Alice Liddell"))),
    ("PRIVMSG #lobby :hello :) there", Message("PRIVMSG", ("#lobby", "hello :) there"))),
    ("PRIVMSG #lobby ::starts with a colon", Message("PRIVMSG", ("#lobby", ":starts with a colon"))),
    ("PRIVMSG #lobby :", Message("PRIVMSG", ("#lobby", ""))),  # an empty trailing parameter
    ("PRIVMSG #lobby word", Message("PRIVMSG", ("#lobby", "word"))),
    ("JOIN #a,#b k1,k2", Message("JOIN", ("#a,#b", "k1,k2"))),
    (":alice!al@host PRIVMSG bob :hi", Message("PRIVMSG", ("bob", "hi"), "alice!al@host")),
    (":irc.example 001 alice :Welcome", Message("001", ("alice", "Welcome"), "irc.example")),
    ("QUIT", Message("QUIT")),
    ("  PING   x   y ", Message("PING", ("x", "y"))),  # runs of spaces separate, as servers allow
    ("PING :", Message("PING", ("",))),
    ("MODE #r +kl key 10", Message("MODE", ("#r", "+kl", "key", "10"))),
])
def test_parse(line, expected):
    assert parse(line) == expected


@pytest.mark.parametrize("line", ["", "   ", ":onlyprefix", ":onlyprefix ", ":prefix :trailing", ":x  ", ":"])
def test_lines_without_a_command_raise_protocol_error(line):
    with pytest.raises(ProtocolError):
        parse(line)


def test_protocol_error_is_a_value_error():
    # Callers that only know "bad input" can catch ValueError.
    assert issubclass(ProtocolError, ValueError)


def test_message_helpers():
    message = parse(":bob!b@h KICK #r alice")
    assert message.nick == "bob"
    assert message.param(0) == "#r"
    assert message.param(5) == ""
    assert message.param(5, "default") == "default"
    assert parse("PING x").nick == ""


@pytest.mark.parametrize("prefix, command, params, wire", [
    ("", "PING", ("token",), b"PING token\r\n"),
    ("", "QUIT", (), b"QUIT\r\n"),
    ("srv", "001", ("alice", "Welcome here"), b":srv 001 alice :Welcome here\r\n"),
    ("a!a@h", "PRIVMSG", ("#r", ":)"), b":a!a@h PRIVMSG #r ::)\r\n"),
    ("a!a@h", "PRIVMSG", ("#r", ""), b":a!a@h PRIVMSG #r :\r\n"),
    ("srv", "CAP", ("*", "LS", ""), b":srv CAP * LS :\r\n"),
    ("", "MODE", ("#r", "+l", "10"), b"MODE #r +l 10\r\n"),
])
def test_format_line(prefix, command, params, wire):
    assert format_line(prefix, command, *params) == wire


@pytest.mark.parametrize("prefix, command, params", [
    ("", "PRIVMSG", ("#lobby", "hello there")),
    ("nick!user@host", "PRIVMSG", ("bob", ":-) a smile first")),
    ("server.name", "353", ("alice", "=", "#r", "@alice bob carol")),
    ("server.name", "322", ("alice", "#r", "3", "[+kl 10] a topic")),
    ("", "TOPIC", ("#r", "")),
    ("", "JOIN", ("#a,#b", "k1,k2")),
    ("x", "NOTICE", ("bob", "caf\u00e9 \u2603 \U0001F600")),
])
def test_format_then_parse_round_trip(prefix, command, params):
    wire = format_line(prefix, command, *params)
    assert wire.endswith(b"\r\n") and wire.count(b"\n") == 1
    assert parse(wire[:-2].decode()) == Message(command, params, prefix)


def test_parse_then_format_round_trip_keeps_the_meaning():
    for line in ["PRIVMSG #a :x y z", ":p NOTICE b :hi", "JOIN #a", "PART #a :gone home"]:
        message = parse(line)
        again = parse(format_line(message.prefix, message.command, *message.params)[:-2].decode())
        assert again == message


def test_long_lines_are_cut_to_512_bytes():
    wire = format_line("a!a@h", "PRIVMSG", "#r", "hi " + "x" * 1000)
    assert len(wire) == MAX_LINE
    assert wire.endswith(b"\r\n")
    assert parse(wire[:-2].decode()).params[1] == "hi " + "x" * (MAX_LINE - 2 - len(":a!a@h PRIVMSG #r :hi "))


@pytest.mark.parametrize("char", ["\u00e9", "\u2603", "\U0001F600"])  # 2, 3 and 4 bytes in UTF-8
@pytest.mark.parametrize("shift", range(4))
def test_truncation_never_splits_a_utf8_character(char, shift):
    wire = format_line("p", "PRIVMSG", "#r", "a" * shift + char * 400)
    assert len(wire) <= MAX_LINE and wire.endswith(b"\r\n")
    text = wire[:-2].decode("utf-8")  # strict: raises if a character was cut in half
    body = parse(text).params[1]
    assert body.startswith("a" * shift) and set(body[shift:]) == {char}
    # It was cut as late as possible: one more character would not have fitted.
    assert len(wire) + len(char.encode()) > MAX_LINE


def test_a_line_just_under_the_limit_is_not_touched():
    text = "a " + "y" * (MAX_LINE - 2 - len("PRIVMSG #r :a "))
    wire = format_line("", "PRIVMSG", "#r", text)
    assert len(wire) == MAX_LINE and parse(wire[:-2].decode()).params[1] == text


def test_lone_surrogates_do_not_crash_formatting():
    wire = format_line("", "PRIVMSG", "#r", "bad \ud800 surrogate")
    assert wire.endswith(b"\r\n")
    wire[:-2].decode("utf-8")


def test_numerics_are_three_digit_strings_and_unique():
    numerics = {name: value for name, value in vars(irc).items() if name.startswith(("RPL_", "ERR_"))}
    assert len(numerics) > 40
    for name, value in numerics.items():
        assert isinstance(value, str) and len(value) == 3 and value.isdigit(), name
    assert len(set(numerics.values())) == len(numerics)
    # Spot-check the numerics real clients rely on against RFC 2812 / modern IRC docs.
    assert (irc.RPL_WELCOME, irc.RPL_ISUPPORT, irc.RPL_LIST, irc.RPL_NAMREPLY, irc.RPL_ENDOFNAMES) == \
        ("001", "005", "322", "353", "366")
    assert (irc.ERR_NOSUCHCHANNEL, irc.ERR_UNKNOWNCOMMAND, irc.ERR_NICKNAMEINUSE, irc.ERR_NOTREGISTERED,
            irc.ERR_NEEDMOREPARAMS, irc.ERR_CHANNELISFULL, irc.ERR_BADCHANNELKEY, irc.ERR_CHANOPRIVSNEEDED) == \
        ("403", "421", "433", "451", "461", "471", "475", "482")


def test_a_middle_parameter_from_user_input_cannot_shift_the_others():
    # NICK :a b is answered with 432; the bad nickname must stay one parameter.
    line = format_line("srv", "432", "*", "a b", "Erroneous nickname")
    message = parse(line.decode().rstrip("\r\n"))
    assert message.params == ("*", "a_b", "Erroneous nickname")
    empty = parse(format_line("srv", "401", "alice", "", "No such nick").decode().rstrip("\r\n"))
    assert len(empty.params) == 3
