"""Registration: how a connection becomes a user (RFC 2812 section 3.1).

A client sends ``NICK`` and ``USER`` (and ``PASS`` first if the server has a
password; ``CAP LS`` ... ``CAP END`` if it negotiates capabilities).  Once
all are in, :func:`try_register` welcomes it; until then it may send only
the commands in ``core.BEFORE_REGISTRATION``.  Also here: staying alive
(``PING``/``PONG``) and leaving (``QUIT``).
"""

import re

from .. import __version__, irc
from ..irc import format_line, irc_lower
from . import modes
from .events import NickChanged, Registered
from .model import NICK_RE


def do_pass(chat, user, msg):
    if user.registered:
        return chat.reply(user, irc.ERR_ALREADYREGISTERED, "You may not reregister")
    if not msg.params:
        return chat.need_more_params(user, msg)
    user.password_ok = msg.params[0] == chat.settings.password


def do_nick(chat, user, msg):
    nick = msg.param(0)
    if not nick:
        return chat.reply(user, irc.ERR_NONICKNAMEGIVEN, "No nickname given")
    if not NICK_RE.match(nick):
        return chat.refuse(user, irc.ERR_ERRONEUSNICKNAME, nick, "Erroneous nickname")
    owner = chat.nicks.get(irc_lower(nick))
    if owner is not None and owner is not user:
        return chat.refuse(user, irc.ERR_NICKNAMEINUSE, nick, "Nickname is already in use")
    if nick == user.nick:
        return
    old_mask, old_nick = user.mask, user.nick
    if old_nick is not None:
        del chat.nicks[irc_lower(old_nick)]
    if user.registered:
        chat.gone.remember(user, chat.unix_time())  # WHOWAS finds the old nick
    chat.nicks[irc_lower(nick)] = user
    user.nick = nick
    if user.registered:
        chat.send_many([user, *chat.peers(user)], format_line(old_mask, "NICK", nick))
        chat.event(NickChanged(old_nick, nick))
    else:
        try_register(chat, user)


def do_user(chat, user, msg):
    if user.registered:
        return chat.reply(user, irc.ERR_ALREADYREGISTERED, "You may not reregister")
    if len(msg.params) < 4 or not msg.params[0] or not msg.params[3]:
        return chat.need_more_params(user, msg)  # an empty name counts as a missing one
    user.username = re.sub(r"[^A-Za-z0-9._-]", "", msg.params[0])[:10] or "user"
    user.realname = msg.params[3][:100]
    try_register(chat, user)


def do_cap(chat, user, msg):
    # We offer no capabilities, but must answer so that clients that ask
    # (most do, before NICK/USER) carry on with registration.
    sub = msg.param(0).upper()
    server, target = chat.settings.server_name, user.nick or "*"
    if sub in ("LS", "LIST"):
        if not user.registered and sub == "LS":
            user.negotiating_caps = True
        chat.send(user, format_line(server, "CAP", target, sub, ""))
    elif sub == "REQ":
        if not user.registered:
            user.negotiating_caps = True
        chat.send(user, format_line(server, "CAP", target, "NAK", msg.param(1)))
    elif sub == "END":
        user.negotiating_caps = False
        try_register(chat, user)
    else:
        chat.reply(user, irc.ERR_INVALIDCAPCMD, msg.param(0) or "*", "Invalid CAP command")


def try_register(chat, user):
    if user.registered or not user.nick or not user.username or user.negotiating_caps:
        return
    s = chat.settings
    if s.password is not None and not user.password_ok:
        chat.refuse(user, irc.ERR_PASSWDMISMATCH, "Password incorrect")
        return chat.drop(user, "Bad password")
    user.registered = True
    chat.most_users = max(chat.most_users, sum(1 for u in chat.users.values() if u.registered))
    chat.reply(user, irc.RPL_WELCOME, f"Welcome to the {s.network} IRC network {user.mask}")
    chat.reply(user, irc.RPL_YOURHOST, f"Your host is {s.server_name}, running version selectchat-{__version__}")
    chat.reply(user, irc.RPL_CREATED, f"This server was created {s.created}")
    chat.reply(user, irc.RPL_MYINFO, s.server_name, f"selectchat-{__version__}", modes.USER_MODES,
               *modes.myinfo_room_modes())
    tokens = isupport(s)
    for start in range(0, len(tokens), 12):  # at most 13 tokens a line (modern IRC docs)
        chat.reply(user, irc.RPL_ISUPPORT, *tokens[start:start + 12], "are supported by this server")
    send_lusers(chat, user)
    send_motd(chat, user)
    chat.event(Registered(user.nick, user.host))


def isupport(s):
    """The ISUPPORT (005) tokens: what a client may rely on here."""
    return (f"NETWORK={s.network}", "CASEMAPPING=ascii", "CHANTYPES=#",
            f"CHANMODES={modes.chanmodes()}", f"PREFIX={modes.prefix_token()}", "EXCEPTS=e", "INVEX=I",
            f"MAXLIST=beI:{modes.MAX_LIST}", "STATUSMSG=@+", "ELIST=MNU", "WHOX", f"CHANLIMIT=#:{s.max_rooms_per_user}",
            "NICKLEN=30", "CHANNELLEN=50", f"TOPICLEN={s.topic_length}",
            f"TARGMAX=PRIVMSG:{s.max_targets},NOTICE:{s.max_targets},KICK:{s.max_targets}", "MODES=3")


def send_lusers(chat, user):
    # Only registered users count; clients parse the three numbers out of the 251 text.
    registered = [u for u in chat.users.values() if u.registered]
    invisible = sum(1 for u in registered if u.invisible)
    opers = sum(1 for u in registered if u.oper)
    unknown = len(chat.users) - len(registered)
    total, most = str(len(registered)), str(chat.most_users)
    chat.reply(user, irc.RPL_LUSERCLIENT,
               f"There are {len(registered) - invisible} users and {invisible} invisible on 1 servers")
    if opers:
        chat.reply(user, irc.RPL_LUSEROP, str(opers), "operator(s) online")
    if unknown:
        chat.reply(user, irc.RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)")
    chat.reply(user, irc.RPL_LUSERCHANNELS, str(len(chat.rooms)), "rooms formed")
    chat.reply(user, irc.RPL_LUSERME, f"I have {len(registered)} clients and 0 servers")
    # One server: local and global counts are the same.
    chat.reply(user, irc.RPL_LOCALUSERS, total, most, f"Current local users {total}, max {most}")
    chat.reply(user, irc.RPL_GLOBALUSERS, total, most, f"Current global users {total}, max {most}")


def send_motd(chat, user):
    s = chat.settings
    if not s.motd:
        return chat.reply(user, irc.ERR_NOMOTD, "MOTD File is missing")
    chat.reply(user, irc.RPL_MOTDSTART, f"- {s.server_name} Message of the day -")
    for text in s.motd:
        chat.reply(user, irc.RPL_MOTD, f"- {text}")
    chat.reply(user, irc.RPL_ENDOFMOTD, "End of /MOTD command.")


def do_ping(chat, user, msg):
    if not msg.params:
        return chat.reply(user, irc.ERR_NOORIGIN, "No origin specified")
    name = chat.settings.server_name
    chat.send(user, format_line(name, "PONG", name, msg.params[0]))


def do_pong(chat, user, msg):
    pass  # Chat.receive already noted that the client is alive


def do_quit(chat, user, msg):
    chat.drop(user, f"Quit: {msg.param(0)}")  # "Quit: " even when empty, as modern IRC docs say


COMMANDS = {"PASS": do_pass, "NICK": do_nick, "USER": do_user, "CAP": do_cap,
            "PING": do_ping, "PONG": do_pong, "QUIT": do_quit}
