"""What each line from the server means to the person at the keyboard.

The ``on_COMMAND`` methods of :class:`~selectchat.client.session.Session`:
one per command or numeric reply worth showing, each turning the server's
words into a sentence (``471`` -> "#small is full.") or a move of the state
machine (a refused JOIN asks again; ``475`` asks for the key, masked).
"""

import re

from .. import irc
from .blocking import RoomInfo
from .commands import fold, same_name
from .modes import mode_sentences
from .states import State

END_OF_INPUT = "end-of-input"   # our PING token: its PONG says the server has answered all we asked

class Replies:
    """The ``on_COMMAND`` methods of the session."""

    def _mine(self, message):
        return same_name(message.nick, self.nick or "")

    def _by(self, message):
        return "the operator" if "!" not in message.prefix else message.nick

    # --- registration ------------------------------------------------------------

    def on_PING(self, message):
        self._send("PONG", *message.params)

    def on_PONG(self, message):
        if message.params and message.params[-1] == END_OF_INPUT:
            self._quit("Leaving")

    def on_001(self, message):          # RPL_WELCOME: registered
        self.nick = message.param(0) or self.nick
        self.registered = True

    def on_372(self, message):          # RPL_MOTD: the message of the day
        self._show(message.param(1).removeprefix("- "))

    def on_376(self, message):          # RPL_ENDOFMOTD (or 422 ERR_NOMOTD): ready
        if self.state is not State.REGISTERING:
            return
        if self.wanted:
            (room, key), self.wanted = self.wanted, None
            self._join(room, key)
        else:
            self._pick_room()

    on_422 = on_376

    def on_433(self, message):          # ERR_NICKNAMEINUSE
        self._nick_refused(f"The nickname {message.param(1)} is taken.")

    def on_432(self, message):          # ERR_ERRONEUSNICKNAME
        self._nick_refused(f"{message.param(1)} cannot be a nickname: start with a letter, then letters, "
                           "digits or - _ [ ] { } \\ ` ^ |, at most 30.")

    def _nick_refused(self, sentence):
        self._show(sentence, "error")
        if self.state is State.REGISTERING:   # not in yet: ask for another one
            self._go(State.ASK_NICK)
        else:
            self._show(f"You are still {self.nick}.")

    def on_464(self, message):          # ERR_PASSWDMISMATCH; the server closes next
        self._show("The server needs a password." if self.password is None
                   else "The server refused that password.", "error")
        self.password_refused = True

    def on_ERROR(self, message):
        text = message.param(0)
        found = re.search(r"\((.*)\)$", text)   # "Closing Link: 127.0.0.1 (Quit: bye)"
        self.closing_reason = found.group(1) if found else text

    # --- rooms ---------------------------------------------------------------------

    def on_322(self, message):          # RPL_LIST: one room
        try:
            self.listed.append(RoomInfo.from_list_reply(message))
        except (IndexError, ValueError):   # not our server's format: skip the line
            pass

    def on_323(self, message):          # RPL_LISTEND
        why = self.lists.popleft() if self.lists else "show"
        listed, self.listed = self.listed, []
        if why == "create" and self.state is State.CHECKING:
            return self._create_checked(listed)
        self.rooms = listed
        self._show_rooms()
        if why == "pick" and self.state in (State.LISTING, State.ASK_ROOM):
            self._go(State.ASK_ROOM)

    def _show_rooms(self):
        if not self.rooms:
            return self._show("There are no rooms yet: type a name to make one.")
        self._show("Rooms:")
        for number, info in enumerate(self.rooms, 1):
            people = f"{info.members}/{info.limit}" if info.limit else f"{info.members} (no limit)"
            flags = ", ".join(f for f, on in (("full", info.limit and info.members >= info.limit),
                                                ("private", info.private)) if on)
            line = f"  {number:>2}. {info.name:<20} {people:<14} {flags:<13}"
            self._show((line + (f" {info.topic}" if info.topic else "")).rstrip())

    def _create_checked(self, listed):
        name = self.creating[0]
        if listed:
            self._show(f"{name} exists already: /join {name} to go there.", "error")
            self.creating = None
            return self._go(State.CHATTING if self.room else State.ASK_ROOM)
        self._join(name)

    def on_353(self, message):          # RPL_NAMREPLY
        self.names += message.param(3).split()

    def on_366(self, message):          # RPL_ENDOFNAMES
        room, names, self.names = message.param(1), self.names, []
        if self.state is State.JOINING and same_name(room, self.target):
            return self._joined(room, names)
        if same_name(room, self.room):
            self._set_members(names)
        self._show(f"In {room}: {', '.join(names) or 'no one'}.")

    def on_JOIN(self, message):
        room = message.param(0)
        if self._mine(message):
            self.prefix = message.prefix   # now we know how long our prefix is
        elif same_name(room, self.room):
            self.members[fold(message.nick)] = message.nick
            self._show(f"{message.nick} joined {room}", "event")

    def on_PART(self, message):
        room, reason = message.param(0), message.param(1)
        because = f" ({reason})" if reason else ""
        if not self._mine(message):
            self._forget(message.nick)
            return self._show(f"{message.nick} left {room}{because}", "event")
        self._show(f"You left {room}.", "event")
        if same_name(room, self.room):
            self._lost_room()

    def on_QUIT(self, message):
        self._forget(message.nick)
        reason = message.param(0)
        self._show(f"{message.nick} left the chat" + (f" ({reason})" if reason else ""), "event")

    def on_KICK(self, message):
        room, nick, reason = message.param(0), message.param(1), message.param(2)
        if not same_name(nick, self.nick):
            self._forget(nick)
            return self._show(f"{nick} was removed from {room} by {self._by(message)} ({reason})", "event")
        self._show(f"You were removed from {room} by {self._by(message)}: {reason}", "error")
        if same_name(room, self.room):
            self._lost_room()

    def _lost_room(self):
        """We are out of our room: pick another now, or once the question or JOIN in progress ends."""
        self.room = None
        if self.state in (State.CHATTING, State.LEAVING):
            self._pick_room()

    def _forget(self, nick):
        self.members.pop(fold(nick), None)

    def on_NICK(self, message):
        new = message.param(0)
        if fold(message.nick) in self.members:
            self._forget(message.nick)
            self.members[fold(new)] = new
        if self._mine(message):
            self.nick = new
            if self.prefix:   # same user@host, new nick: the prefix the server adds changes length
                self.prefix = new + self.prefix[self.prefix.index("!"):]
            self._show(f"You are now known as {new}.", "event")
        else:
            self._show(f"{message.nick} is now known as {new}", "event")

    # --- what a room is like ---------------------------------------------------------

    def on_MODE(self, message):
        if not message.param(0).startswith("#"):
            return
        room, changes, args = message.param(0), message.param(1), list(message.params[2:])
        sentences = mode_sentences(changes, args)
        if sentences:
            self._show(f"{room} now: {', '.join(sentences)} (set by {self._by(message)})", "event")

    def on_324(self, message):          # RPL_CHANNELMODEIS: the answer to /mode alone
        room, changes, args = message.param(1), message.param(2), list(message.params[3:])
        sentences = mode_sentences(changes, args) or ["public, no limit"]
        self._show(f"{room} is: {', '.join(sentences)}.")

    def on_367(self, message):          # RPL_BANLIST: one ban, in the answer to /mode b
        self._show(f"{message.param(1)} bans {message.param(2)}.")

    def on_INVITE(self, message):
        room = message.param(1)
        self._show(f"{message.nick} invites you to {room}: /join {room} to go there.", "event")

    def on_341(self, message):          # RPL_INVITING
        self._show(f"You invited {message.param(1)} to {message.param(2)}.")

    def on_TOPIC(self, message):
        self._show(f"{message.nick} set the topic of {message.param(0)}: {message.param(1)}", "event")

    def on_332(self, message):          # RPL_TOPIC
        self._show(f"Topic of {message.param(1)}: {message.param(2)}", "event")

    def on_331(self, message):          # RPL_NOTOPIC
        self._show(f"{message.param(1)} has no topic.")

    # --- messages ------------------------------------------------------------------

    def on_PRIVMSG(self, message, notice=False):
        target, text = message.param(0), message.param(1)
        if "!" not in message.prefix:   # from the server itself (the operator's "say")
            return self._show(f"the server: {text}", "server")
        if text.startswith("\x01"):     # CTCP: show actions, ignore the rest
            if text.startswith("\x01ACTION ") and not notice:
                self._show(text[8:].rstrip("\x01"), "action", message.nick)
            return
        if notice:                      # a NOTICE asks for no answer: shown apart
            return self._show(text, "notice", message.nick)
        self._show(text, "chat" if target.startswith("#") else "private", message.nick)

    def on_NOTICE(self, message):
        self.on_PRIVMSG(message, notice=True)

    # --- refusals --------------------------------------------------------------------

    def on_401(self, message):          # ERR_NOSUCHNICK
        self._show(f"There is no one called {message.param(1)} here.", "error")

    def on_404(self, message):          # ERR_CANNOTSENDTOCHAN
        room = message.param(1)
        if same_name(room, self.room):  # in it, yet refused: the room is moderated (+m)
            return self._show(f"{room} is moderated: only its operators and those they voice may talk.", "error")
        self._show(f"You are not in {room}, so you cannot talk there.", "error")

    def on_442(self, message):          # ERR_NOTONCHANNEL
        self._show(f"You are not in {message.param(1)}.", "error")
        if self.state is State.LEAVING:
            self._pick_room()

    def on_482(self, message):          # ERR_CHANOPRIVSNEEDED
        self._show(f"Only an operator of {message.param(1)} may do that.", "error")

    def on_other(self, message):
        if message.command in irc.JOIN_REFUSALS and self.state is State.JOINING:
            return self._join_refused(message)
        if message.command.isdigit() and message.command[0] in "45":   # any other error
            self._show(message.params[-1] if message.params else message.command, "error")
        # Other replies (the welcome numbers, WHO lines...) are not worth showing.

    def _join_refused(self, message):
        room = message.param(1)
        if message.command == irc.ERR_BADCHANNELKEY:
            # Private: ask for the key, masked -- never "type /join #staff KEY" where all can see.
            self._show(irc.JOIN_REFUSALS[message.command].format(room=room) if self.target_key
                       else f"{room} is private.", "error")
            self.target = room
            return self._go(State.ASK_KEY, f"{room} is private. Its key: ", secret=True)
        self._show(irc.JOIN_REFUSALS[message.command].format(room=room), "error")
        self._settle()
