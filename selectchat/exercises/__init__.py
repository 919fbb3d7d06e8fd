"""Exercises in which the student writes the code of a lesson, and the checks that run it.

A notebook cell defines the student's function; the check cell calls
:func:`verify` with its label::

    verify("2.4", echo_server)

The cell's code runs in a child process with a time limit (``sandbox.py``), so a
hang or a blocking call cannot freeze the notebook.  Code that talks to sockets is
checked live, on 127.0.0.1 with port 0.  The verdict is one line:

* ``Exercise 2.4: correct.``
* ``Exercise 2.4: not done yet ...`` (the placeholder is still there; never an error,
  so *Run All* goes on);
* ``Exercise 2.4: not yet: <the behaviour that went wrong>.`` -- never the answer.

Hints are not in the notebook: ``hint("2.4")`` shows the next of its tiers.
"""

import time

from .base import NotDone, Wrong, server_ended
from .backends import CHOOSE, MEASURE
from .client_loop import CLIENT_LOOP
from .echo import ECHO_SERVER, RELAY_SERVER, WAIT_READABLE
from .flush import FLUSH, SEND_TO_ALL
from .framing import SPLIT_FRAMES, SPLIT_LINES
from .hints import hint
from .sandbox import Child, source_of
from .timeline import BUSY_BINS

EXERCISES = {
    "2.1": WAIT_READABLE,
    "2.4": ECHO_SERVER,
    "3.4": RELAY_SERVER,
    "4.4": BUSY_BINS,
    "5.4": CLIENT_LOOP,
    "6.2": FLUSH,
    "6.4": SEND_TO_ALL,
    "7.2": SPLIT_LINES,
    "7.4": SPLIT_FRAMES,
    "8.3": MEASURE,
    "8.4": CHOOSE,
}

__all__ = ["EXERCISES", "NotDone", "Wrong", "hint", "run", "verify"]


def run(label, answer):
    """Run exercise ``label`` on ``answer`` (a function, or its source text).

    Returns ``(outcome, message)``: ``("correct", "")``, ``("not done", "")`` or
    ``("wrong", sentence)``.  The child process is gone when this returns.
    """
    exercise = EXERCISES[label]
    if exercise.runner is not None:
        problem = exercise.runner(label, source_of(answer))
        return _outcome(problem)
    with Child(label, source_of(answer)) as child:
        deadline = time.monotonic() + exercise.time_limit
        if exercise.in_parent is not None:
            try:
                return _outcome(exercise.in_parent(child))
            except OSError as error:        # a refused or reset connection: did the server end?
                if child.stopped():
                    return _outcome(server_ended(child, None, "while the check talked to it"))
                return "wrong", f"a connection to your server failed: {type(error).__name__}: {error}"
        while True:
            message = child.message(max(0.0, deadline - time.monotonic()))
            if message is None:
                if not child.stopped():
                    return "wrong", f"your code did not finish: {exercise.hang}"
                printed = child.printed(300)
                return "wrong", "your code ended the process" + (f"; it printed: {printed}" if printed else "")
            if message["event"] == "verdict":
                return message["outcome"], message.get("message", "")


def _outcome(problem):
    if problem == "not done":
        return "not done", ""
    return ("wrong", problem) if problem else ("correct", "")


def verify(label, answer):
    """Check the student's ``answer`` to exercise ``label``; print the verdict; return
    True (correct), False (wrong) or None (not done yet).  Never raises."""
    if answer is ... or answer is None:
        outcome, message = "not done", ""
    else:
        try:
            outcome, message = run(label, answer)
        except (OSError, TypeError) as error:   # e.g. no source for the answer
            outcome, message = "wrong", f"the check could not run your code ({type(error).__name__}: {error})"
    if outcome == "correct":
        print(f"Exercise {label}: correct.")
        return True
    if outcome == "not done":
        print(f"Exercise {label}: not done yet -- write your code in the cell above, run it, then run this cell.")
        return None
    print(f"Exercise {label}: not yet: {message}.")
    print(f"  Stuck? hint({label!r}) shows a hint; call it again for the next one.")
    return False
