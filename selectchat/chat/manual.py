"""HELP, the manual: every command with its parameters and one line on what it does.

The table is checked against ``core.COMMANDS`` by a test, so a command
cannot be added without its help.  ``HELP`` alone lists the commands;
``HELP <command>`` shows one (704 start, 705 lines, 706 end; 524 for a
subject we have no help on).  ``HELPOP`` is another name for it.
"""

from .. import irc

HELP = {
    "AWAY": ("AWAY [:<text>]", "mark yourself away (with a text) or back (without)"),
    "CAP": ("CAP LS|LIST|REQ|END", "capability negotiation: this server offers none"),
    "HELP": ("HELP [<command>]", "this help"),
    "INFO": ("INFO", "about this server"),
    "INVITE": ("INVITE <nick> <#room>", "let someone into a room once (+i rooms: operators only)"),
    "ISON": ("ISON <nick> ...", "which of these nicknames are online"),
    "JOIN": ("JOIN <#room>{,<#room>} [<key>{,<key>}]", "enter rooms; a new room is made, and you are its operator"),
    "KICK": ("KICK <#room> <nick>{,<nick>} [:<reason>]", "room operators: remove someone from the room"),
    "KILL": ("KILL <nick> [:<reason>]", "server operators: disconnect someone"),
    "LIST": ("LIST [<#room>{,<#room>}]", "the rooms, their members, limit, key and topic"),
    "LUSERS": ("LUSERS", "how many users and rooms there are"),
    "MODE": ("MODE <#room> [+|-<modes> [<parameters>]]", "show or change a room's modes: b e I k l i m n s t o v"),
    "MOTD": ("MOTD", "the message of the day"),
    "NAMES": ("NAMES [<#room>{,<#room>}]", "who is in a room (@ operator, + voice)"),
    "NICK": ("NICK <nick>", "choose or change your nickname"),
    "NOTICE": ("NOTICE <target> :<text>", "like PRIVMSG, but never answered automatically"),
    "OPER": ("OPER <name> <password>", "become a server operator"),
    "PART": ("PART <#room>{,<#room>} [:<reason>]", "leave rooms"),
    "PASS": ("PASS <password>", "the server password, before NICK and USER"),
    "PING": ("PING <token>", "the server answers PONG with the same token"),
    "PONG": ("PONG <token>", "the answer to the server's PING"),
    "PRIVMSG": ("PRIVMSG <target>{,<target>} :<text>", "a message to a room or to someone"),
    "QUIT": ("QUIT [:<reason>]", "leave the server"),
    "TIME": ("TIME", "the server's time of day"),
    "TOPIC": ("TOPIC <#room> [:<text>]", "show or set a room's topic (+t rooms: operators)"),
    "USER": ("USER <user> 0 * :<real name>", "with NICK, registers you"),
    "USERHOST": ("USERHOST <nick> ...", "user@host of up to 5 nicknames (- away, + here)"),
    "WALLOPS": ("WALLOPS :<text>", "server operators: a message to everyone with user mode +w"),
    "WHO": ("WHO <#room>|<nick>|<mask> [o][%<fields>[,<token>]]",
            "who matches: room members, or users by mask (* and ?); %fields: WHOX, e.g. %tnf,42"),
    "WHOIS": ("WHOIS <nick>", "about someone: user, host, rooms, away, operator"),
    "WHOWAS": ("WHOWAS <nick> [<count>]", "about someone who left or changed nickname recently"),
}


def do_help(chat, user, msg):
    subject = msg.param(0).upper()
    if subject and subject not in HELP:
        return chat.reply(user, irc.ERR_HELPNOTFOUND, msg.param(0), "No help available on this topic")
    topic = subject or "*"
    if subject:
        usage, meaning = HELP[subject]
        lines = [usage, meaning]
    else:
        lines = ["Commands (HELP <command> for one):"]
        lines += [" ".join(sorted(HELP)[i:i + 10]) for i in range(0, len(HELP), 10)]
    chat.reply(user, irc.RPL_HELPSTART, topic, lines[0])
    for line in lines[1:]:
        chat.reply(user, irc.RPL_HELPTXT, topic, line)
    chat.reply(user, irc.RPL_ENDOFHELP, topic, "End of /HELP")


COMMANDS = {"HELP": do_help, "HELPOP": do_help}
