"""``selectchat labs grade``: lay the lab over a submission, run its tests in a subprocess, score them.

The run, step by step (docs/labs.md, "How grades are protected"):

1. A scratch folder: the workspace (the lab's files and the student's files
   only), a home for the student's code, and a private copy of the
   selectchat package (so nothing on ``PYTHONPATH`` leads to the checkout).
2. The lab's own tests are collected from the lab itself, by the grader:
   the list of tests every run must report.
3. pytest runs the tests in a subprocess: as ``nobody`` when the grader is
   root, with a scrubbed environment, in a session of its own.  Its results
   come back signed on a pipe; its output is kept bounded.
4. When the run ends -- or passes its time limit, or the grader gets
   SIGINT/SIGTERM -- every process it started is killed, escapees included,
   and the scratch folder is removed.
"""

import hashlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox
from .catalog import LabError, discover, find_labs_dir, load_lab, solution_lines
from .imports import forbidden_uses
from .recorder import CHILD, KEY_SIZE, decode_record
from .score import _apply_rubric, score_results
from .workspace import locate_submission, prepare_workspace

PACKAGE_DIR = Path(__file__).resolve().parent.parent     # selectchat/
LOG_LIMIT = 64 * 1024           # bytes of pytest's own output kept (the last ones)
RESULTS_LIMIT = 8 * 2**20       # bytes read from the results pipe
DRAIN = 0.5                     # seconds to read what is left once pytest has exited


@dataclass
class Run:
    """What one pytest subprocess left: its signed records, the tail of its output, how it ended."""
    records: list = field(default_factory=list)
    log: str = ""
    returncode: int | None = None
    timed_out: bool = False
    forged: int = 0               # lines on the results pipe without the grader's signature


class Interrupted(Exception):
    """The grader got SIGTERM or SIGHUP: clean up, then stop."""


@contextmanager
def _cleanup_on_signals():
    """SIGTERM and SIGHUP end the grading like Ctrl-C does: through every ``finally``."""
    def stop(signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    if sys.platform == "win32" or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_pytest(args, cwd, env, user, time_limit, hang_after, categories=()):
    """Run pytest (with the recorder) in a contained subprocess; return its :class:`Run`."""
    results_r, results_w = os.pipe()
    key_r, key_w = os.pipe()
    key = os.urandom(KEY_SIZE)
    os.write(key_w, key)
    os.close(key_w)
    command = [sys.executable, "-s", "-c", CHILD, str(results_w), str(key_r), ",".join(categories),
               str(hang_after), *args]
    before = sandbox.children_now()
    owner = {} if user is None else {"user": user[0], "group": user[1], "extra_groups": []}
    try:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, pass_fds=(results_w, key_r), start_new_session=True,
                                   preexec_fn=sandbox.child_setup(limits=user is not None), **owner)
    finally:
        os.close(results_w)
        os.close(key_r)
    try:
        run = _collect(process, results_r, key, time_limit)
    finally:
        sandbox.kill_tree(process, before)     # every process of the run, setsid escapees included
        os.close(results_r)
        process.stdout.close()
    run.returncode = process.returncode
    return run


def _collect(process, results_fd, key, time_limit):
    """Read pytest's output (bounded) and its results pipe until it exits or its time is up."""
    run, log, results = Run(), sandbox.Tail(LOG_LIMIT), bytearray()
    streams = selectors.DefaultSelector()
    streams.register(process.stdout, selectors.EVENT_READ, "log")
    streams.register(results_fd, selectors.EVENT_READ, "results")
    deadline, exited_at = time.monotonic() + time_limit, None
    while streams.get_map():
        now = time.monotonic()
        if now >= deadline:
            run.timed_out = True
            break
        if exited_at is None and process.poll() is not None:
            exited_at = now     # a grandchild may hold the pipes open: read what is there, then stop
        if exited_at is not None and now - exited_at > DRAIN:
            break
        for selected, _ in streams.select(min(deadline - now, 0.1)):
            data = os.read(selected.fd, 65536)
            if not data:
                streams.unregister(selected.fileobj)
            elif selected.data == "log":
                log.add(data)
            elif len(results) < RESULTS_LIMIT:
                results += data
    streams.close()
    for line in bytes(results).splitlines(keepends=True):
        record = decode_record(key, line)
        if record is None:
            run.forged += bool(line.strip())
        else:
            run.records.append(record)
    run.log = log.text()
    return run


def _pytest_args(workspace, test_timeout, collect_only=False):
    args = ["-p", "no:cacheprovider", "-q", "--tb=short", f"--timeout={test_timeout}",
            "--rootdir", str(workspace)]
    if collect_only:
        args.append("--collect-only")
    if (workspace / "tests").is_dir():
        args.append("tests")
    return args


def expected_tests(lab, site, home, categories, time_limit):
    """The lab's own tests (the grader collects them from the lab folder): {nodeid: record}.

    Kept in the grader's own cache (private to its user), under a hash of every file of the lab:
    a second grading of the same lab does not collect again.
    """
    digest = hashlib.sha256(repr((sorted(categories), sys.version)).encode())
    for rel in lab.files():
        digest.update(str(rel).encode() + b"\0" + (lab.path / rel).read_bytes())
    cache = Path.home() / ".cache" / "selectchat-grading" / f"{digest.hexdigest()}.json"
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    tests = _collect_lab_tests(lab, site, home, categories, time_limit)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        cache.write_text(json.dumps(tests), encoding="utf-8")
    except OSError:
        pass   # no cache: collect again next time
    return tests


def _collect_lab_tests(lab, site, home, categories, time_limit):
    env = sandbox.child_environment(site, home)
    run = run_pytest(_pytest_args(lab.path, 60, collect_only=True), lab.path, env, None, time_limit, time_limit,
                     categories)
    tests = {r["nodeid"]: r for r in run.records if r["kind"] == "test"}
    if not tests or any(r["kind"] == "collect-error" for r in run.records):
        raise LabError(f"the lab's own tests in {lab.path} do not load:\n{run.log[-3000:]}")
    return tests


@contextmanager
def scratch_folder(lab, keep, shared=False):
    """A temporary folder for one grading, removed afterwards (also on SIGINT/SIGTERM).

    ``shared``: the student's user must be able to reach it, so its parent must let others pass.
    """
    parent = Path(tempfile.gettempdir())
    if shared and not sandbox.passable_by_others(parent):
        parent = Path("/tmp")
    scratch = Path(tempfile.mkdtemp(prefix=f"selectchat-grade-{lab.id}-", dir=parent))
    try:
        yield scratch
    finally:
        if keep:
            print(f"grading workspace kept in {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def grade(submission, lab_id=None, labs_dir=None, test_timeout=None, time_limit=None,
          categories=(), keep=False):
    """Grade ``submission`` (a folder); return a :class:`~selectchat.grading.score.Grade`."""
    try:
        labs = discover(find_labs_dir(labs_dir))
    except LabError:
        if labs_dir:
            raise
        labs = []
    folder, canonical = locate_submission(submission, labs, lab_id)
    lab = canonical or load_lab(folder)
    for name in categories:
        if name not in lab.categories:
            raise LabError(f"lab {lab.slug} has no category {name!r}; it has {', '.join(lab.categories)}")
    test_timeout = test_timeout or lab.test_timeout
    time_limit = time_limit or lab.time_limit
    started = time.monotonic()
    sandbox.become_subreaper()
    user = sandbox.student_user()
    if user is not None and not sandbox.python_usable_by_others():
        print(f"selectchat labs: warning: the grader runs as root, but {sandbox.STUDENT} cannot run "
              f"{sys.executable}: the student's code runs as root (install Python and selectchat where "
              "every user can read them, or grade in a container; docs/labs.md)", file=sys.stderr)
        user = None
    with _cleanup_on_signals(), scratch_folder(lab, keep, shared=user is not None) as scratch:
        site, home, workspace = scratch / "site", scratch / "home", scratch / "work" / lab.slug
        sandbox.private_site(PACKAGE_DIR, site)
        home.mkdir(mode=0o700)
        notes = prepare_workspace(folder, canonical, workspace)
        expected = expected_tests(canonical, site, home, categories, time_limit) if canonical else None
        forbidden = [sentence for rel in lab.student_files() if (workspace / rel).is_file()
                     for sentence in forbidden_uses((workspace / rel).read_text("utf-8", "replace"),
                                                    lab.forbid_imports, str(rel))]
        if user is not None:
            os.chmod(scratch, 0o711)           # the student's user may pass through, not look around
            sandbox.hand_over(home, user)      # and write only in its home: the workspace stays the grader's
        run = Run() if forbidden else run_pytest(
            _pytest_args(workspace, test_timeout), workspace, sandbox.child_environment(site, home), user,
            time_limit, test_timeout, categories)
    result = score_results(lab, run, expected, time_limit, test_timeout, notes=notes, forbidden=forbidden,
                           workspace=workspace, secret=solution_lines(canonical) if canonical else ())
    if categories:   # graded on part of the rubric: only those categories count
        lab.categories = {name: lab.categories[name] for name in categories}
        _apply_rubric(result)
    result.seconds = round(time.monotonic() - started, 2)
    if canonical is None:
        result.tests_from = "submission"
        result.warnings.append("no labs folder found: graded with the submission's own tests")
    elif user is not None and any(sandbox.readable_by_others(canonical.path / rel)
                                   for rel in canonical.student_files()):
        print(f"selectchat labs: warning: the reference solutions in {canonical.path} are readable by "
              f"{sandbox.STUDENT}, whose code this grading ran: make the labs folder private "
              "(chmod -R go-rwx) or grade in a container (docs/labs.md)", file=sys.stderr)
    return result
