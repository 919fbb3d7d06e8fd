"""Room modes in words: what a ``MODE`` line or a ``324`` reply means to the person reading it.

``+ntl 5`` becomes "only members may talk, only operators set the topic,
limit 5".  The letters and what they do are the server's table
(``selectchat.chat.modes.ROOM_MODES``); here is only how to say them.
"""

# flag -> (said when set, said when removed)
FLAGS = {
    "i": ("invite only", "open to all"),
    "m": ("moderated: only operators and voiced members talk", "not moderated"),
    "n": ("only members may talk", "outsiders may talk too"),
    "s": ("secret", "not secret"),
    "t": ("only operators set the topic", "anyone in it may set the topic"),
}
# list mode -> (what a mask added means, what removing it means)
LISTS = {
    "b": ("{} is banned", "{} is no longer banned"),
    "e": ("{} may join despite a ban", "{} is no longer an exception to the bans"),
    "I": ("{} may join without an invitation", "{} needs an invitation again"),
}


def mode_sentences(changes, args):
    """``("+ml", ["5"])`` -> ``["moderated: ...", "limit 5"]``; unknown letters are shown as they are."""
    sentences, sign = [], "+"
    for flag in changes:
        adding = sign == "+"
        if flag in "+-":
            sign = flag
        elif flag == "l":
            sentences.append(f"limit {args.pop(0)}" if adding and args else "no limit")
        elif flag == "k":
            if adding and args:
                args.pop(0)
            sentences.append("private" if adding else "public")
        elif flag in FLAGS:
            sentences.append(FLAGS[flag][0 if adding else 1])
        elif flag in "ov" and args:
            nick = args.pop(0)
            status = "a room operator" if flag == "o" else "allowed to talk when moderated (voice)"
            sentences.append(f"{nick} {'is' if adding else 'is no longer'} {status}")
        elif flag in LISTS and args:
            sentences.append(LISTS[flag][0 if adding else 1].format(args.pop(0)))
        else:
            sentences.append(sign + flag)
    return sentences
