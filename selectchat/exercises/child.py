"""The child process that runs a student's code: ``python -m selectchat.exercises.child LABEL FILE [ARGS]``.

It guards itself first (it must never outlive the notebook that started it), then
runs the student's file in a fresh namespace, then hands the student's function to
the exercise's ``in_child`` step.  It reports to the parent as JSON lines on the
stdout it was given; the student's own prints go to stderr.
"""

import json
import os
import signal
import sys
import threading
import traceback

from selectchat.exercises import EXERCISES, NotDone, Wrong


def guard():
    """Die with the parent: on stdin EOF (the parent's end of the pipe closed, however it
    died), and on Linux also by PR_SET_PDEATHSIG."""
    def exit_on_eof():
        while os.read(0, 4096):
            pass
        os._exit(3)
    threading.Thread(target=exit_on_eof, daemon=True, name="exit on stdin EOF").start()
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:     # the parent died before prctl: nobody is listening
            os._exit(3)
    except (OSError, AttributeError):
        pass


def main():
    guard()
    label, path, *args = sys.argv[1:]
    channel = os.fdopen(os.dup(1), "w", buffering=1)   # our reports: the real stdout
    os.dup2(2, 1)                                        # the student's prints: to stderr

    def report(event, **fields):
        channel.write(json.dumps({"event": event, **fields}) + "\n")

    exercise = EXERCISES[label]
    namespace = {"__name__": "__student__"}
    try:
        exec(exercise.prelude, namespace)
        with open(path) as file:
            exec(compile(file.read(), "<your cell>", "exec"), namespace)
    except BaseException as error:   # a SyntaxError, or the cell's top level raised
        report("verdict", outcome="wrong",
               message=f"running your cell raised {type(error).__name__}: {error}")
        return
    function = namespace.get(exercise.name)
    if not callable(function):
        report("verdict", outcome="wrong", message=f"your cell does not define a function {exercise.name}()")
        return
    try:
        exercise.in_child(function, args, report)
    except (NotDone, NotImplementedError):
        report("verdict", outcome="not done")
    except Wrong as wrong:
        report("verdict", outcome="wrong", message=str(wrong))
    except Exception as error:
        traceback.print_exc()
        report("verdict", outcome="wrong", message=f"your code raised {type(error).__name__}: {error}")
    else:
        report("verdict", outcome="correct")


if __name__ == "__main__":
    main()
