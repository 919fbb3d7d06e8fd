"""The trace file writer: recorded events in, JSON lines out.

:class:`selectchat.trace.Recorder` keeps events as ``(time, kind, fields)``
tuples.  Turning them into JSON costs a few microseconds each -- a good part
of what the server spends relaying a message -- so by default it is done
here, in a child process of its own, started by its path::

    python -I -S .../selectchat/trace/writer.py FILE START

It reads length-prefixed :mod:`marshal` frames (each a batch of events) on
stdin until EOF and appends them to FILE, one JSON object per line, times
counted from the monotonic time START.  Run by path, not with ``-m``, so
that it imports neither the ``selectchat`` package nor site-packages: it
starts quickly and needs nothing but this file.  (So: no relative imports
here.)  ``docs/trace-format.md`` says what the lines hold.
"""

import json
import marshal
import signal
import sys

FORMAT = "selectchat-trace"
# 2: one `message` event per burst of lines (its `count`); no `interest` events.
# 3: a pass number on `select`; `handler` on `register`; `lines` on `recv`;
#    `timer`, `slow` and `eagain` events (what the step-through view shows).
VERSION = 3


def to_dict(event, start):
    """A recorded ``(time, kind, fields)`` as the dict a file line holds."""
    t, kind, fields = event
    record = {"t": round(t - start, 6), "kind": kind}
    record.update(fields)
    if kind == "select":
        record["began"] = round(fields["began"] - start, 6)
        record["blocked"] = round(fields["blocked"], 6)
        if fields["timeout"] is not None:
            record["timeout"] = round(fields["timeout"], 6)
    return record


# One encoder for every line, set up once: json.dumps() would build a new one per call.
_ENCODE = json.JSONEncoder(separators=(",", ":"), default=str).encode
_QUOTE = json.encoder.encode_basestring_ascii


def write_json(batch, start, file):
    """Write events as JSON lines, times from ``start``; flush."""
    lines = []
    for event in batch:
        t, kind, fields = event
        line, size = _LINE_OF.get(kind, (None, None))
        if len(fields) == size:              # one of the loop's own: a format string
            lines.append(line(t - start, start, fields))
        elif kind == "select" or not fields:   # times to convert inside, or nothing to add
            lines.append(_ENCODE(to_dict(event, start)))
        else:                                # the rest: no dict copy
            lines.append(f'{{"t":{t - start:.6f},"kind":{_QUOTE(kind)},{_ENCODE(fields)[1:]}')
    file.write("\n".join(lines) + "\n")
    file.flush()


# The kinds recorded on every pass of a busy loop get a line of their own
# made by a format string, about twice as fast as the general encoder: the
# writer's time is time the machine does not spend serving.  (The fields
# are the loop's and the server's own: ints, bools, lists of ints.)

def _ints(values):
    """A list of descriptor numbers as JSON, without its brackets.  (repr() of a
    list of ints is JSON but for its spaces, and is made in C: 2.5x faster.)"""
    if type(values) is list:
        return repr(values)[1:-1].replace(" ", "")
    return ",".join(map(str, values))


def _select_line(t, start, f):
    timeout = f["timeout"]
    return ('{"t":%.6f,"kind":"select","pass":%d,"began":%.6f,"blocked":%.6f,"timeout":%s,"backend":%s,'
            '"read":[%s],"write":[%s],"ready_read":[%s],"ready_write":[%s]}'
            % (t, f["pass"], f["began"] - start, f["blocked"], "null" if timeout is None else "%.6f" % timeout,
               _QUOTE(f["backend"]), _ints(f["read"]), _ints(f["write"]), _ints(f["ready_read"]),
               _ints(f["ready_write"])))


def _recv_line(t, start, f):
    return '{"t":%.6f,"kind":"recv","fd":%d,"bytes":%d,"lines":%d}' % (t, f["fd"], f["bytes"], f["lines"])


def _send_line(t, start, f):
    return '{"t":%.6f,"kind":"send","fd":%d,"asked":%d,"sent":%d}' % (t, f["fd"], f["asked"], f["sent"])


# kind -> (its line, how many fields the event must have to be written that way:
# the loop's select, the server's recv and send, as docs/trace-format.md lists them)
_LINE_OF = {"select": (_select_line, 9), "recv": (_recv_line, 3), "send": (_send_line, 3)}


def write_from_pipe(path, start):
    """The child process: read batches on stdin until EOF, append them as JSON lines."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # a Ctrl-C is for the server, which closes us
    pipe = sys.stdin.buffer
    with open(path, "a", encoding="utf-8", buffering=1 << 16) as file:
        while len(header := pipe.read(4)) == 4:
            size = int.from_bytes(header, "little")
            data = pipe.read(size)
            if len(data) < size:
                return   # the parent was killed mid-batch: keep what came before
            write_json(marshal.loads(data), start, file)


if __name__ == "__main__":   # started by selectchat.trace.Recorder; not for people
    if len(sys.argv) != 3:
        sys.exit("usage: python -I -S writer.py FILE START  (batches of events on stdin)")
    write_from_pipe(sys.argv[1], float(sys.argv[2]))
