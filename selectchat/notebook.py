"""Small helpers for the notebooks in ``notebooks/``: exercise checks, bounded waits.

The notebooks keep every idea they teach in plain sight, in their own cells;
this module holds only the scaffolding a lesson should not have to repeat:

* :func:`check` prints a friendly verdict on a prediction or a small function
  (and never raises, so "Run All" goes on past an exercise not done yet);
  :func:`verify` runs the code exercises in a child process, :func:`hint`
  shows tiered hints (both from :mod:`selectchat.exercises`);
* :func:`wait_until` polls a condition for a bounded time, instead of a
  ``time.sleep()`` that is too short on a busy JupyterHub and too long
  everywhere else;
* :func:`background` runs a function in a daemon thread: the little servers
  the notebooks write live in a thread of the kernel, so they end with it
  and can never outlive the notebook.

Servers started with :func:`selectchat.launch.start_server` need nothing
more: their stdin is a pipe from the kernel, so they exit with it.
"""

import threading
import time

from selectchat.exercises import hint, verify   # noqa: F401  (the notebooks import them from here)

UNANSWERED = ...   # the placeholder an exercise starts with: ``answer = ...``


def check(label, answer, expected):
    """Say whether ``answer`` is right; return True, False, or None (not done yet).

    ``expected`` is either the right value, or a function that takes the
    answer and returns True when it is right (it may also raise
    ``AssertionError`` with a sentence for the student: what went wrong,
    never the answer).  Exercises where the student writes a loop or a
    server use :func:`selectchat.exercises.verify` instead, which runs the
    code in a child process.
    """
    if answer is UNANSWERED:
        print(f"Exercise {label}: not done yet -- replace the ... above, run that cell, then this one.")
        return None
    try:
        ok = expected(answer) if callable(expected) else answer == expected
        reason = ""
    except NotImplementedError:
        print(f"Exercise {label}: not done yet -- your function still raises NotImplementedError.")
        return None
    except AssertionError as error:
        ok, reason = False, str(error)
    except Exception as error:  # the student's code raised: show it, don't stop "Run All"
        ok, reason = False, f"your code raised {type(error).__name__}: {error}"
    if ok:
        print(f"Exercise {label}: correct.")
        return True
    print(f"Exercise {label}: not yet{': ' + reason if reason else ''}.")
    print(f"  Stuck? hint({label!r}) shows a hint; call it again for the next one.")
    return False


def wait_until(condition, timeout=5.0, interval=0.01):
    """Call ``condition()`` until it returns something true, for at most ``timeout`` seconds.

    Returns that value, or the last false one when time ran out.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def background(target, *args, name=None):
    """Start ``target(*args)`` in a daemon thread (it dies with the kernel); return the thread."""
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread


def clear_outputs(path):
    """Strip a notebook file to the form it is committed in: no outputs, no execution
    counts, no saved widget state.  (``jupyter nbconvert --clear-output`` keeps the
    widget state, which holds a run's data.)"""
    import nbformat   # only needed here: the notebooks extra installs it

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)   # JupyterLab's per-cell timings
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)


def main(argv=None):
    """``python -m selectchat.notebook clear FILE...``: what to run before committing a notebook."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2 or args[0] != "clear":
        print("usage: python -m selectchat.notebook clear NOTEBOOK.ipynb...", file=sys.stderr)
        return 2
    for path in args[1:]:
        clear_outputs(path)
        print("cleared", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
