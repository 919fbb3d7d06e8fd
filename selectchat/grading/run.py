"""``selectchat labs grade``: lay the lab over a submission, run its tests in a subprocess, score them."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .catalog import IGNORED, INSTRUCTOR_ONLY, LAB_NAME, PACKAGE_PARENT, LabError, discover, find_labs_dir, load_lab, pick_lab
from .recorder import CHILD
from .score import _apply_rubric, score_results


def prepare_workspace(submission, canonical, workspace):
    """Copy the submission, then lay the lab's own tests and given files over it.

    The student's files (those with solution blocks in the lab) come from the
    submission; everything else -- tests, rubric, given code -- comes from
    the instructor's lab, so an edited test cannot change a grade.
    """
    shutil.copytree(submission, workspace, ignore=shutil.ignore_patterns(*IGNORED, "*.pyc"))
    if canonical is None:
        return
    student = set(canonical.student_files())
    for rel in canonical.files():
        if rel in student or rel.name in INSTRUCTOR_ONLY:
            continue
        target = workspace / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(canonical.path / rel, target)


def _kill_group(process):
    """Kill the grading subprocess and everything it started (its own process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_tests(lab, workspace, test_timeout, time_limit, categories=()):
    """Run pytest on ``workspace`` in its own process group; return the recorder's lines and the run's log."""
    results = workspace.parent / "results.jsonl"
    log_path = workspace.parent / "pytest.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    command = [sys.executable, "-c", CHILD, str(results), ",".join(categories),
               "-p", "no:cacheprovider", "-q", "--tb=short",
               f"--timeout={test_timeout}", "--rootdir", str(workspace)]
    if (workspace / "tests").is_dir():
        command.append("tests")
    timed_out = False
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=workspace, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            process.wait(time_limit)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(process)   # also every server a test left behind
            process.wait()
    records = []
    if results.exists():
        for line in results.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pass   # a line cut short by the kill
    return records, log_path.read_text(encoding="utf-8", errors="replace"), process.returncode, timed_out


def locate_submission(submission, labs, wanted):
    """Find the lab of ``submission``: --lab, else its rubric.toml, else its folder name."""
    submission = Path(submission).resolve()
    if not submission.is_dir():
        raise LabError(f"submission {submission} is not a folder")
    lab = pick_lab(labs, wanted) if wanted and labs else None
    if lab is not None:
        inner = submission / lab.slug      # a whole release, or a student's course folder
        if not (submission / "tests").is_dir() and inner.is_dir():
            submission = inner
        return submission, lab
    own = submission / "rubric.toml"
    if own.is_file():
        lab_id = load_lab(submission).id
        if labs:
            return submission, pick_lab(labs, lab_id)
        return submission, None
    if labs:
        match = LAB_NAME.match(submission.name)
        if match:
            return submission, pick_lab(labs, match.group(1))
    raise LabError(f"which lab is {submission}? pass --lab NN")


def grade(submission, lab_id=None, labs_dir=None, test_timeout=None, time_limit=None,
          categories=(), keep=False):
    """Grade ``submission`` (a folder); return a :class:`Grade`."""
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
    scratch = Path(tempfile.mkdtemp(prefix=f"selectchat-grade-{lab.id}-"))
    started = time.monotonic()
    try:
        workspace = scratch / lab.slug
        prepare_workspace(folder, canonical, workspace)
        records, log, returncode, timed_out = run_tests(lab, workspace, test_timeout, time_limit, categories)
    finally:
        if keep:
            print(f"grading workspace kept in {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    result = score_results(lab, records, log, returncode, timed_out, time_limit)
    if categories:   # graded on part of the rubric: only those categories count
        lab.categories = {name: lab.categories[name] for name in categories}
        _apply_rubric(result)
    result.seconds = round(time.monotonic() - started, 2)
    if canonical is None:
        result.tests_from = "submission"
        result.warnings.append("no labs folder found: graded with the submission's own tests")
    return result


