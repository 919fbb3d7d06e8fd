"""Reading traces: every version, the one descriptor-name fold, and bad input.

Version 1 and 2 traces (hand-written here in their own formats) must still
be summarised, cut into passes and stepped through; a file that is not a
trace, or a newer version, gets a clear TraceError and nothing else.
"""

import json

import pytest

from selectchat.trace import (FORMAT, Names, TraceError, find_mistakes, lane_labels, loads, passes,
                              summarize)
from selectchat.trace.reading import CLOSED, OPENED, RENAMED


def text(header, *events):
    return "\n".join(json.dumps(line) for line in (header, *events))


def select(t, read, ready_read=(), write=(), ready_write=(), **extra):
    return {"t": t, "kind": "select", "began": t - 0.01, "blocked": 0.01, "timeout": 1.0, "backend": "select",
            "read": list(read), "write": list(write), "ready_read": list(ready_read),
            "ready_write": list(ready_write), **extra}


V1 = text({"format": FORMAT, "version": 1, "labels": {"3": "listener"}},
          select(0.1, [3], [3]),
          {"t": 0.11, "kind": "accept", "fd": 7, "peer": "127.0.0.1:5000"},
          {"t": 0.12, "kind": "register", "fd": 7, "label": "127.0.0.1:5000", "read": True, "write": False},
          select(0.2, [3, 7], [7]),
          {"t": 0.21, "kind": "recv", "fd": 7, "bytes": 30},
          {"t": 0.22, "kind": "label", "fd": 7, "label": "ada"},
          {"t": 0.23, "kind": "interest", "fd": 7, "read": True, "write": True},
          select(0.3, [3, 7], [], [7], [7]),
          {"t": 0.31, "kind": "send", "fd": 7, "asked": 50, "sent": 50},
          {"t": 0.4, "kind": "end", "recorded": 9, "lost": 0})


@pytest.mark.parametrize("version", [1, 2])
def test_older_versions_are_summarised_cut_into_passes_and_stepped(version):
    trace = loads(V1.replace('"version": 1', f'"version": {version}'))
    summary = summarize(trace)
    assert summary.complete and summary.utilisation.calls == 3 and summary.mistakes == []
    found = passes(trace)
    assert [p.number for p in found] == [1, 2, 3]   # no `pass` field before version 3: counted
    assert [e["kind"] for e in found[1].events] == ["recv", "label", "interest"]
    assert found[2].labels[7] == "ada" and found[0].labels == {3: "listener"}
    pytest.importorskip("ipywidgets")
    from selectchat.trace.stepper import step_through
    stepper = step_through(trace)
    stepper.next_event_on(7)
    (row,) = [h for h in stepper.facts().handled if h.fd == 7]
    assert row.handler == "?"                                 # version 1 names no handler
    assert row.lines[0] == "recv() → 30 bytes"                 # ... nor the lines a read completed


def test_names_follow_a_descriptor_through_its_lives():
    names = Names({"labels": {3: "listener"}})
    assert names.follow({"kind": "register", "fd": 7, "label": "1.2.3.4:5"}) == (OPENED, 7, "1.2.3.4:5")
    assert names.follow({"kind": "label", "fd": 7, "label": "ada"}) == (RENAMED, 7, "ada")
    assert names.follow({"kind": "recv", "fd": 7, "bytes": 3}) is None
    assert names.label == {3: "listener", 7: "ada"} and names.fd_of["ada"] == 7
    assert names.follow({"kind": "unregister", "fd": 7, "label": "ada"}) == (CLOSED, 7, "ada")
    names.follow({"kind": "register", "fd": 7, "label": "bob"})   # the number is reused
    assert names.label[7] == "bob" and names.fd_of == {"listener": 3, "bob": 7}   # ada's names forgotten
    trace = loads(text({"format": FORMAT, "version": 3, "labels": {}},
                       {"t": 0.1, "kind": "register", "fd": 7, "label": "x", "read": True, "write": False},
                       {"t": 0.2, "kind": "label", "fd": 7, "label": "ada"},
                       {"t": 0.3, "kind": "unregister", "fd": 7, "label": "ada"},
                       {"t": 0.4, "kind": "register", "fd": 7, "label": "bob", "read": True, "write": False}))
    assert lane_labels(trace) == {7: "ada, bob"}
    assert trace.window(0.25).header["labels"] == {7: "ada"}


@pytest.mark.parametrize("content, message", [
    ("", "empty file"),
    ("hello\n", "not a selectchat trace"),
    (json.dumps({"format": FORMAT, "version": 4}), "version 4; this selectchat reads up to version 3"),
    (json.dumps({"format": FORMAT, "version": "3"}), "version '3'"),
    (json.dumps({"format": FORMAT, "version": 3, "labels": ["listener"]}), "labels are not"),
    (json.dumps({"format": FORMAT, "version": 3, "labels": {"three": "x"}}), "labels are not"),
    (text({"format": FORMAT, "version": 3}, [1, 2]) + "\n{}", "line 2: not an event"),
    (text({"format": FORMAT, "version": 3}, {"kind": "recv"}) + "\n{}", "line 2: not an event"),
    (text({"format": FORMAT, "version": 3}) + "\n{not json\n{}", "line 2: not JSON"),
])
def test_what_is_not_a_readable_trace_is_refused_clearly(content, message):
    with pytest.raises(TraceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        loads(content, name="bad.jsonl")


def test_a_trace_with_no_select_has_no_passes_and_no_mistakes_and_cannot_be_stepped():
    trace = loads(text({"format": FORMAT, "version": 3}, {"t": 0.1, "kind": "end", "recorded": 1, "lost": 0}))
    assert passes(trace) == [] and find_mistakes(trace) == []
    pytest.importorskip("ipywidgets")
    from selectchat.trace.stepper import step_through
    with pytest.raises(ValueError, match="no select events"):
        step_through(trace)


def test_importing_the_trace_package_loads_no_optional_extra():
    import subprocess
    import sys
    code = ("import sys, selectchat.trace; "
            "bad = [m for m in ('matplotlib', 'ipywidgets', 'IPython', 'numpy') if m in sys.modules]; "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
