"""Containment for a student's code: who runs it, with what, and that all of it ends.

The grader runs pytest, which runs the student's code, which may start
programs of its own.  Whatever that tree of processes does -- fork, double
fork with ``setsid()``, flood its output, ignore signals -- it must end with
the grading, and it must not reach what the student should not see.

* :func:`become_subreaper` (Linux): orphans of the tree are re-parented to
  the grader instead of to init, so :func:`kill_tree` finds even a process
  that escaped with ``setsid()``.
* :func:`student_user`: when the grader runs as root, the student's code runs
  as ``nobody``, so it cannot read what the grader's user can.
* :func:`child_environment`: a scrubbed environment: no variable of the
  grader's (no tokens, no ``SELECTCHAT_LABS``), and no path into the checkout.
* :class:`Tail`: output kept bounded, the last bytes only.
"""

import ctypes
import os
import pwd
import resource
import shutil
import signal
import sys
import sysconfig
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
STUDENT = "nobody"
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


def _prctl(option, value):
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):   # not Linux
        return False


def become_subreaper():
    """Make this process the reaper of its orphaned descendants (Linux); False elsewhere."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def student_user():
    """(uid, gid) of the unprivileged user the student's code runs as, or None (not root, or no such user)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(STUDENT)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def python_usable_by_others():
    """Whether another user can run this Python and import pytest (not a Python under /root, say)."""
    import pytest

    needed = [Path(sys.executable).resolve(), Path(sysconfig.get_paths()["stdlib"]) / "os.py",
              Path(pytest.__file__).resolve()]
    return all(readable_by_others(path) for path in needed)


def child_setup(limits=True):
    """In the child, before exec: die with the grader, and bounded resources."""
    def setup():
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)   # the grader killed: the tests die too
        if limits:
            for limit, value in ((resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, 64 * 2**20),
                                 (resource.RLIMIT_NPROC, 512)):
                try:
                    resource.setrlimit(limit, (value, value))
                except (ValueError, OSError):
                    pass
    return setup


def child_environment(site, home):
    """The whole environment of the grading subprocess: nothing inherited but the locale."""
    return {
        "PATH": SAFE_PATH,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": str(home),
        "TMPDIR": str(home),
        "PYTHONPATH": str(site),            # selectchat from a private copy, not from the checkout
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONFAULTHANDLER": "1",          # a crash in the tests shows where
    }


def private_site(package_dir, site):
    """Copy the selectchat package (not its checkout, not the labs) into ``site``."""
    shutil.copytree(package_dir, Path(site) / package_dir.name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def hand_over(folder, owner):
    """Give ``folder`` and everything in it to ``owner`` (uid, gid), so the student's code may write there."""
    if owner is None:
        return
    uid, gid = owner
    for root, dirs, files in os.walk(folder):
        os.chown(root, uid, gid)
        for name in files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def passable_by_others(folder):
    """Whether a user who is neither the owner nor in the group can reach into ``folder``."""
    folder = Path(folder).resolve()
    return all(os.stat(part).st_mode & 0o001 for part in [*reversed(folder.parents), folder])


def readable_by_others(path):
    """Whether a user who is neither ``path``'s owner nor in its group can read it."""
    path = Path(path).resolve()
    for folder in reversed(path.parents):
        if not os.stat(folder).st_mode & 0o001:
            return False
    return bool(os.stat(path).st_mode & 0o004)


# --- ending every process -----------------------------------------------------------


def _parents():
    """{pid: parent pid} of every process (Linux /proc)."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    table[int(entry)] = int(stat.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                pass   # gone meanwhile
    return table


def descendants(root, adopted_since=()):
    """Every process below ``root``, and every child of ours that was not ours before (re-parented orphans)."""
    if not os.path.isdir("/proc"):
        return []
    parents = _parents()
    me, found = os.getpid(), set()
    frontier = {pid for pid, parent in parents.items()
                if pid == root or (parent == me and pid not in adopted_since)}
    while frontier:
        found |= frontier
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in found}
    found.discard(me)
    return sorted(found)


def children_now():
    """Our own children at this moment (to tell them from orphans adopted later)."""
    me = os.getpid()
    return {pid for pid, parent in _parents().items() if parent == me} if os.path.isdir("/proc") else set()


def kill_tree(process, ours_before=(), rounds=50):
    """SIGKILL ``process`` and every descendant, escapees included; reap what is ours."""
    for _ in range(rounds):
        alive = descendants(process.pid, ours_before) or ([process.pid] if process.poll() is None else [])
        if not alive:
            break
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _reap(alive, process)
        time.sleep(0.01)
    try:
        process.wait(5)
    except Exception:   # noqa: BLE001 -- a process that will not die must not stop the report
        pass


def _reap(pids, process):
    for pid in pids:
        if pid == process.pid:
            process.poll()
            continue
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass   # not ours: its own parent reaps it


class Tail:
    """The last ``limit`` bytes of a stream, and how many came in all."""

    def __init__(self, limit):
        self.limit, self.data, self.total = limit, bytearray(), 0

    def add(self, chunk):
        self.total += len(chunk)
        self.data += chunk
        if len(self.data) > 2 * self.limit:
            del self.data[:-self.limit]

    def text(self):
        data = bytes(self.data[-self.limit:])
        cut = f"[... {self.total - len(data)} bytes left out ...]\n" if self.total > len(data) else ""
        return cut + data.decode("utf-8", "replace")
