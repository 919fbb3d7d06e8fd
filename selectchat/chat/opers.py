"""Server operators: OPER, then KILL and WALLOPS (RFC 2812 sections 3.1.4, 3.7.1, 4.7).

The server is given operator credentials at start (``--oper-file`` or
``--oper-env``, never the command line, where ``ps`` would show them); a user
who sends a matching ``OPER name password`` becomes a server operator (user
mode +o, ``*`` in WHO, 313 in WHOIS) and may disconnect anyone with ``KILL``
and write to everyone with user mode +w with ``WALLOPS``.  The console
stays the all-powerful operator: it needs no password and cannot be killed.
"""

import hmac

from .. import irc
from ..irc import format_line, irc_lower
from .events import BecameOperator, Killed

MAX_OPER_FAILURES = 3   # then the connection is closed: guessing costs a reconnect every few tries


def do_oper(chat, user, msg):
    if len(msg.params) < 2:
        return chat.need_more_params(user, msg)
    name, password = msg.params[0], msg.params[1]
    expected = dict(chat.settings.operators).get(name)
    if expected is None:
        chat.refuse(user, irc.ERR_NOOPERHOST, "No operator credentials for that name")
        return _failed(chat, user)
    # compare_digest takes as long for a near miss as for a wild guess.
    if not hmac.compare_digest(password.encode(), expected.encode()):
        chat.refuse(user, irc.ERR_PASSWDMISMATCH, "Password incorrect")
        return _failed(chat, user)
    if not user.oper:
        user.oper = True
        chat.send(user, format_line(user.mask, "MODE", user.nick, "+o"))
    chat.reply(user, irc.RPL_YOUREOPER, "You are now an IRC operator")
    chat.event(BecameOperator(user.nick, name))


def _failed(chat, user):
    user.oper_failures += 1
    if user.oper_failures >= MAX_OPER_FAILURES:
        chat.drop(user, "Too many failed OPER attempts")


def require_oper(chat, user):
    if not user.oper:
        chat.refuse(user, irc.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")
    return user.oper


def do_kill(chat, user, msg):
    if not msg.params:
        return chat.need_more_params(user, msg)
    if not require_oper(chat, user):
        return
    nick, reason = msg.params[0], msg.param(1) or user.nick
    if irc_lower(nick) == irc_lower(chat.settings.server_name):
        return chat.reply(user, irc.ERR_CANTKILLSERVER, "You cannot kill a server")
    target = chat.find_user(nick)
    if target is None:
        return chat.reply(user, irc.ERR_NOSUCHNICK, nick, "No such nick/room")
    chat.send(target, format_line(user.mask, "KILL", target.nick, text=reason))
    chat.event(Killed(user.nick, target.nick, reason))
    chat.drop(target, f"Killed ({user.nick} ({reason}))")


def do_wallops(chat, user, msg):
    if not msg.params or not msg.params[0]:
        return chat.need_more_params(user, msg)
    if not require_oper(chat, user):
        return
    readers = [u for u in chat.users.values() if u.registered and u.wallops]
    chat.send_many(readers, format_line(user.mask, "WALLOPS", text=msg.params[0]))


COMMANDS = {"OPER": do_oper, "KILL": do_kill, "WALLOPS": do_wallops}
