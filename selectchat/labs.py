"""``selectchat labs``: list, release and grade the labs that instructors assign.

A lab is a folder ``labs/NN-topic/`` holding

* ``README.md`` -- the task, for the student;
* the lab's code, with the reference solution between ``### BEGIN SOLUTION``
  and ``### END SOLUTION`` lines (nbgrader's convention, so the same source
  also works in a notebook graded by nbgrader);
* ``tests/`` -- the pytest tests that grade it, each carrying a category
  (``@pytest.mark.category("framing")``);
* ``rubric.toml`` -- the lab's id and title, and the points of each category:
  a category scores ``points * passed / total`` of its tests, so an
  instructor reweights a lab without touching a test;
* ``INSTRUCTOR.md`` -- common mistakes and what to discuss; never released.

Three commands:

* ``list`` -- the labs found, with their points;
* ``release DEST`` -- the student copy: every solution block becomes a
  ``# TODO`` and a ``raise NotImplementedError``, INSTRUCTOR.md is left out;
* ``grade SUBMISSION`` -- run a lab's tests against a student's copy in a
  subprocess with time limits, and print the score (table, JSON or
  Gradescope's ``results.json``).

Where the labs are: ``--labs-dir``, else ``$SELECTCHAT_LABS``, else the
``labs/`` folder of the checkout this package was imported from.  They are
not packaged into the wheel: instructors work from a checkout of the course
repository, and the released copy is what students get.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
INSTRUCTOR_ONLY = {"INSTRUCTOR.md"}
IGNORED = {"__pycache__", ".pytest_cache", ".git", ".venv", ".ipynb_checkpoints", ".mypy_cache"}
LAB_NAME = re.compile(r"^(\d\d)-[a-z0-9-]+$")
PACKAGE_PARENT = Path(__file__).resolve().parent.parent
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
OUTPUT_LIMIT = 4000   # characters of failure text kept per test

# Exit codes of ``selectchat labs grade`` (documented in docs/labs.md and --help).
EXIT_FULL = 0        # every test passed: full marks
EXIT_PARTIAL = 1     # graded, but below full marks (failures, timeouts, code that does not load)
EXIT_USAGE = 2       # wrong command line: no such lab, no such submission, a bad rubric
EXIT_GRADER = 3      # the grader itself could not run the tests (pytest missing, ...)

EPILOG = """\
examples:
  selectchat labs list
  selectchat labs release ~/course/week5 --lab 01 --lab 02
  selectchat labs grade labs/01-echo                  the reference: full marks
  selectchat labs grade ~/submissions/alice --lab 01 --json
  selectchat labs grade /autograder/submission --lab 04 --gradescope /autograder/results/results.json

grade exit codes: 0 full marks, 1 graded below full marks, 2 usage error
(no such lab or submission, bad rubric), 3 the grader could not run the tests.

The labs are found in --labs-dir, else $SELECTCHAT_LABS, else the labs/
folder of the selectchat checkout.  See docs/labs.md.
"""


class LabError(Exception):
    """A problem with a lab, a rubric or a submission (exit code 2)."""


# --- labs and rubrics ---------------------------------------------------------


@dataclass
class Category:
    name: str
    points: float
    description: str = ""
    visibility: str = "visible"   # Gradescope's visibility of this category's tests


@dataclass
class Lab:
    path: Path
    id: str
    title: str
    categories: dict = field(default_factory=dict)   # name -> Category
    test_timeout: float = 20.0    # seconds one test may take
    time_limit: float = 120.0     # seconds the whole grading run may take

    @property
    def slug(self):
        return self.path.name

    @property
    def max_score(self):
        return sum(category.points for category in self.categories.values())

    def files(self):
        """Every file of the lab, as paths relative to its folder."""
        return sorted(path.relative_to(self.path) for path in _walk(self.path))

    def student_files(self):
        """The files the student edits: those holding a solution block."""
        return [rel for rel in self.files() if has_solution(self.path / rel)]


def _walk(folder):
    for path in sorted(folder.iterdir()):
        if path.name in IGNORED or path.name.endswith(".pyc"):
            continue
        if path.is_dir():
            yield from _walk(path)
        else:
            yield path


def load_lab(folder):
    """Read ``folder/rubric.toml`` into a :class:`Lab`."""
    folder = Path(folder).resolve()
    rubric = folder / "rubric.toml"
    if not rubric.is_file():
        raise LabError(f"{folder} is not a lab: it has no rubric.toml")
    try:
        data = tomllib.loads(rubric.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise LabError(f"{rubric}: {error}") from None
    meta = data.get("lab", {})
    match = LAB_NAME.match(folder.name)
    lab = Lab(path=folder, id=str(meta.get("id") or (match.group(1) if match else folder.name)),
              title=meta.get("title", folder.name),
              test_timeout=float(meta.get("test_timeout", 20)),
              time_limit=float(meta.get("time_limit", 120)))
    for name, spec in data.get("categories", {}).items():
        if not isinstance(spec, dict) or "points" not in spec:
            raise LabError(f"{rubric}: category {name!r} needs points = N")
        visibility = spec.get("visibility", "visible")
        if visibility not in VISIBILITIES:
            raise LabError(f"{rubric}: category {name!r}: visibility must be one of {', '.join(VISIBILITIES)}")
        lab.categories[name] = Category(name, float(spec["points"]), spec.get("description", ""), visibility)
    if not lab.categories:
        raise LabError(f"{rubric}: no [categories.NAME] with points")
    return lab


def find_labs_dir(explicit=None):
    """The folder holding ``NN-topic/`` labs: the option, the environment, or the checkout."""
    for candidate, source in ((explicit, "--labs-dir"), (os.environ.get("SELECTCHAT_LABS"), "$SELECTCHAT_LABS"),
                              (PACKAGE_PARENT / "labs", None)):
        if candidate is None:
            continue
        path = Path(candidate).expanduser().resolve()
        if path.is_dir():
            return path
        if source:
            raise LabError(f"{source}: {candidate} is not a folder")
    raise LabError("no labs folder: run from a selectchat checkout, or pass --labs-dir "
                   "(or set SELECTCHAT_LABS)")


def discover(labs_dir):
    """Every lab in ``labs_dir``, in order."""
    return [load_lab(path) for path in sorted(Path(labs_dir).iterdir())
            if path.is_dir() and LAB_NAME.match(path.name) and (path / "rubric.toml").is_file()]


def pick_lab(labs, wanted):
    """The lab named ``wanted``: ``01``, ``1``, ``01-echo`` or ``echo``."""
    wanted = str(wanted).strip().rstrip("/")
    for lab in labs:
        topic = lab.slug.partition("-")[2]
        if wanted in (lab.id, lab.slug, topic) or (wanted.isdigit() and int(wanted) == int(lab.id)):
            return lab
    raise LabError(f"no lab {wanted!r}; the labs are: {', '.join(lab.slug for lab in labs)}")


# --- release: strip the solutions ---------------------------------------------


def has_solution(path):
    if path.suffix not in (".py", ".md", ".txt", ".toml", ".ipynb"):
        return False
    try:
        return BEGIN in path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False


def strip_solutions(text, where="<text>"):
    """Replace each solution block with a TODO that raises NotImplementedError.

    The stub takes the indentation of the ``### BEGIN SOLUTION`` line.  Comment
    lines starting with ``# TODO`` right after it are the hint: they are kept,
    and the first one becomes the exception's message.  Everything else in the
    block is dropped.
    """
    out, block, begin_line = [], None, 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        marker = line.strip()
        if marker == BEGIN:
            if block is not None:
                raise LabError(f"{where}:{number}: {BEGIN} inside another solution block "
                               f"(opened on line {begin_line})")
            block, begin_line, indent = [], number, line[:len(line) - len(line.lstrip())]
        elif marker == END:
            if block is None:
                raise LabError(f"{where}:{number}: {END} without {BEGIN}")
            out.extend(_stub(block, indent, where))
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise LabError(f"{where}:{begin_line}: {BEGIN} is never closed")
    return "".join(out)


def _stub(block, indent, where):
    hint = []
    for line in block:   # "# TODO: ..." and the comment lines that continue it
        text = line.strip()
        if text.startswith("# TODO") or (hint and text.startswith("#")):
            hint.append(text)
        else:
            break
    if not hint:
        hint = ["# TODO: your code here"]
    message = " ".join(line.lstrip("#").strip() for line in hint)
    return [f"{indent}{line}\n" for line in hint] + [
        f"{indent}raise NotImplementedError({f'{Path(where).name}: {message}'!r})\n"]


def release_lab(lab, dest, force=False):
    """Write the student copy of ``lab`` into ``dest`` (a new folder); return its files."""
    dest = Path(dest)
    if dest.exists():
        if not force:
            raise LabError(f"{dest} exists (use --force to replace it)")
        shutil.rmtree(dest)
    written = []
    for rel in lab.files():
        if rel.name in INSTRUCTOR_ONLY:
            continue
        source, target = lab.path / rel, dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if has_solution(source):
            text = strip_solutions(source.read_text(encoding="utf-8"), str(rel))
            if rel.suffix == ".py":
                try:
                    compile(text, str(rel), "exec")
                except SyntaxError as error:
                    raise LabError(f"{lab.slug}/{rel}: the released copy does not compile "
                                   f"(line {error.lineno}: {error.msg}); check the solution markers") from None
            target.write_text(text, encoding="utf-8")
        else:
            shutil.copy2(source, target)
        written.append(rel)
    return written


# --- grade: run the tests in a subprocess --------------------------------------


def _clip(text, limit=OUTPUT_LIMIT):
    """Keep the start and the end of a long text."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... ({len(text) - limit} characters left out) ...\n{text[-half:]}"


class ResultRecorder:
    """A pytest plugin (in the grading subprocess) that writes each result as a JSON line.

    One line per collected test (with its category), one per report, so
    that whatever ran before a timeout or crash is still on disk.
    """

    def __init__(self, path, only_categories=None):
        self.file = open(path, "a", encoding="utf-8")
        self.only = set(only_categories or ())

    def _write(self, **record):
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()

    def pytest_collection_modifyitems(self, config, items):
        kept, dropped = [], []
        for item in items:
            marker = item.get_closest_marker("category")
            category = marker.args[0] if marker and marker.args else None
            if self.only and category not in self.only:
                dropped.append(item)
                continue
            kept.append(item)
            doc = (getattr(item, "function", None) and item.function.__doc__) or ""
            self._write(kind="test", nodeid=item.nodeid, name=item.name, category=category,
                        doc=doc.strip().splitlines()[0] if doc.strip() else "")
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    def pytest_collectreport(self, report):
        if report.failed:
            self._write(kind="collect-error", nodeid=report.nodeid, text=str(report.longrepr)[-OUTPUT_LIMIT:])

    def pytest_runtest_logreport(self, report):
        text = ""
        if report.failed:
            # The failure, and what the lab's programs printed (sections the lab's conftest adds).
            text = report.longreprtext + "".join(
                f"\n--- {title}\n{content}" for title, content in report.sections if title.startswith("program "))
        elif report.skipped and isinstance(report.longrepr, tuple):
            text = report.longrepr[2]
        self._write(kind="report", nodeid=report.nodeid, when=report.when, outcome=report.outcome,
                    duration=report.duration, text=_clip(text))

    def pytest_sessionfinish(self, session, exitstatus):
        self._write(kind="finished", exitstatus=int(exitstatus))
        self.file.close()


def _pytest_child(argv):
    """Entry point of the grading subprocess: pytest with the recorder."""
    import pytest

    results, categories, *args = argv
    only = [c for c in categories.split(",") if c]
    return pytest.main(args, plugins=[ResultRecorder(results, only)])


CHILD = "import sys; from selectchat.labs import _pytest_child; sys.exit(_pytest_child(sys.argv[1:]))"


@dataclass
class TestResult:
    nodeid: str
    name: str
    category: str | None
    doc: str = ""
    status: str = "not run"    # passed, failed, skipped, not run
    output: str = ""
    duration: float = 0.0
    score: float = 0.0
    max_score: float = 0.0

    @property
    def passed(self):
        return self.status == "passed"


@dataclass
class Grade:
    lab: Lab
    tests: list
    status: str = "ok"             # ok, timeout, error
    output: str = ""               # about the run as a whole (collection errors, timeouts)
    warnings: list = field(default_factory=list)
    tests_from: str = "lab"        # "lab" (the instructor's tests) or "submission"
    seconds: float = 0.0

    @property
    def score(self):
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self):
        return self.lab.max_score

    def categories(self):
        """Per category of the rubric: (category, passed, total, score)."""
        rows = []
        for category in self.lab.categories.values():
            members = [t for t in self.tests if t.category == category.name]
            rows.append((category, sum(t.passed for t in members), len(members),
                         round(sum(t.score for t in members), 4)))
        return rows

    @property
    def exit_code(self):
        if self.status == "error":
            return EXIT_GRADER
        return EXIT_FULL if self.status == "ok" and self.score >= self.max_score - 1e-9 else EXIT_PARTIAL


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


def score_results(lab, records, log, returncode, timed_out, time_limit):
    """Turn the recorder's lines into a :class:`Grade`."""
    tests, order = {}, []
    collect_errors, finished = [], None
    for record in records:
        kind = record["kind"]
        if kind == "test":
            tests[record["nodeid"]] = TestResult(record["nodeid"], record["name"], record["category"], record["doc"])
            order.append(record["nodeid"])
        elif kind == "report" and record["nodeid"] in tests:
            result = tests[record["nodeid"]]
            result.duration += record["duration"]
            if record["outcome"] == "failed":
                if result.status != "failed":
                    where = "" if record["when"] == "call" else f"(in {record['when']}) "
                    result.output = where + record["text"]
                result.status = "failed"
            elif record["outcome"] == "skipped" and result.status == "not run":
                result.status, result.output = "skipped", record["text"]
            elif record["outcome"] == "passed" and record["when"] == "call" and result.status == "not run":
                result.status = "passed"
        elif kind == "collect-error":
            collect_errors.append(f"{record['nodeid'] or 'collection'}: {record['text']}")
        elif kind == "finished":
            finished = record["exitstatus"]
    grade = Grade(lab, [tests[n] for n in order])
    notes = []
    if timed_out:
        grade.status = "timeout"
        notes.append(f"The whole run took longer than its time limit ({time_limit:g} s) and was stopped; "
                     "tests that had not finished count as failed.")
    elif finished is None:
        if not records and returncode not in (0, 1):
            grade.status = "error"
        notes.append(f"pytest ended without finishing (exit code {returncode}).")
    elif finished in (2, 3, 4) and not tests:
        grade.status = "error"    # interrupted, internal error, usage error: not the student's doing
    if collect_errors:
        notes.append("Some tests could not be loaded (does your code import?):\n" + "\n".join(collect_errors))
    if grade.status == "error" or (not tests and not collect_errors):
        notes.append("pytest said:\n" + log[-OUTPUT_LIMIT:])
    for result in grade.tests:
        if result.status == "not run":
            result.output = "did not finish: the run was stopped at its time limit" if timed_out else "did not run"
    grade.output = "\n\n".join(notes)
    _apply_rubric(grade)
    return grade


def _apply_rubric(grade):
    """Points per test: a category's points shared equally by its tests."""
    lab = grade.lab
    for category in lab.categories.values():
        members = [t for t in grade.tests if t.category == category.name]
        for test in members:
            test.max_score = category.points / len(members)
            test.score = test.max_score if test.passed else 0.0
    for test in grade.tests:
        if test.category not in lab.categories:
            grade.warnings.append(f"{test.nodeid}: category {test.category!r} is not in rubric.toml (0 points)")
    if grade.tests:
        for category in lab.categories.values():
            if not any(t.category == category.name for t in grade.tests):
                grade.warnings.append(f"category {category.name!r} has no tests: its {category.points:g} points "
                                      "cannot be earned")


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


# --- reports ------------------------------------------------------------------


def _test_title(test):
    return f"{test.name}: {test.doc}" if test.doc else test.name


def format_table(result, verbose=False):
    """The grade as a terminal table, failures explained below it."""
    lab = result.lab
    rows = [(t.name, t.category or "-", t.status, f"{t.score:.2f}/{t.max_score:.2f}") for t in result.tests]
    head = ("TEST", "CATEGORY", "RESULT", "POINTS")
    widths = [max(len(str(row[i])) for row in rows + [head]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths[:3]) + f"  {{:>{widths[3]}}}"
    out = [f"lab {lab.slug}: {lab.title}", "", line.format(*head)]
    out += [line.format(*row) for row in rows]
    out += ["", f"{'CATEGORY':<16} {'PASSED':>7}  {'POINTS':>13}"]
    for category, passed, total, score in result.categories():
        out.append(f"{category.name:<16} {f'{passed}/{total}':>7}  {f'{score:.2f}/{category.points:.2f}':>13}")
    out.append(f"{'TOTAL':<16} {'':>7}  {f'{result.score:.2f}/{result.max_score:.2f}':>13}")
    failed = [t for t in result.tests if not t.passed]
    if failed:
        out += ["", "What failed:"]
        for test in failed:
            text = test.output.strip()
            if not verbose:
                text = "\n".join(text.splitlines()[-12:])
            out += ["", f"--- {_test_title(test)} [{test.status}]", textwrap.indent(text, "    ")]
    if result.output:
        out += ["", result.output]
    for warning in result.warnings:
        out.append(f"warning: {warning}")
    return "\n".join(out)


def to_json(result):
    """The grade as a plain dict (``--json``)."""
    return {
        "lab": result.lab.id, "slug": result.lab.slug, "title": result.lab.title,
        "score": result.score, "max_score": result.max_score,
        "status": result.status, "exit_code": result.exit_code, "seconds": result.seconds,
        "tests_from": result.tests_from,
        "categories": [{"name": c.name, "points": c.points, "passed": passed, "total": total, "score": score}
                       for c, passed, total, score in result.categories()],
        "tests": [{"name": t.name, "nodeid": t.nodeid, "category": t.category, "description": t.doc,
                   "status": t.status, "score": round(t.score, 4), "max_score": round(t.max_score, 4),
                   "duration": round(t.duration, 3), "output": t.output} for t in result.tests],
        "output": result.output, "warnings": result.warnings,
    }


def to_gradescope(result):
    """The grade in Gradescope's ``results.json`` format."""
    lab = result.lab
    tests = []
    for test in result.tests:
        category = lab.categories.get(test.category)
        tests.append({
            "name": _test_title(test), "score": test.score, "max_score": test.max_score,
            "status": "passed" if test.passed else "failed",
            "output": test.output if not test.passed else "",
            "tags": [test.category] if test.category else [],
            "visibility": category.visibility if category else "visible",
        })
    summary = f"Lab {lab.slug}: {result.score:.2f}/{result.max_score:.2f} points"
    return {"score": result.score, "max_score": result.max_score, "execution_time": round(result.seconds),
            "output": "\n\n".join(filter(None, [summary, result.output])), "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


# --- the subcommand -------------------------------------------------------------


def add_arguments(parser):
    parser.add_argument("--labs-dir", metavar="DIR",
                        help="folder holding the NN-topic labs (default: $SELECTCHAT_LABS, else the checkout's labs/)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the labs and their points")

    release = actions.add_parser("release", help="write the student copy of the labs (solutions removed)")
    release.add_argument("dest", metavar="DEST", help="folder to write the labs into (DEST/NN-topic/)")
    release.add_argument("--lab", action="append", default=[], metavar="NN", help="only this lab (repeatable)")
    release.add_argument("--force", action="store_true", help="replace a lab folder already in DEST")

    grade_ = actions.add_parser("grade", help="grade a student's copy of a lab",
                                epilog="exit codes: 0 full marks, 1 graded below full marks, "
                                       "2 usage error, 3 the grader could not run the tests")
    grade_.add_argument("submission", metavar="SUBMISSION", help="the student's lab folder (or a folder of labs)")
    grade_.add_argument("--lab", metavar="NN", help="which lab (default: from the submission's rubric.toml or name)")
    grade_.add_argument("--json", action="store_true", help="print the grade as JSON instead of a table")
    grade_.add_argument("--gradescope", metavar="FILE", help="also write Gradescope's results.json to FILE")
    grade_.add_argument("--category", action="append", default=[], metavar="NAME",
                        help="grade only this rubric category (repeatable; one per GitHub Classroom step)")
    grade_.add_argument("--timeout", type=float, metavar="S", help="seconds one test may take (default: the rubric's)")
    grade_.add_argument("--time-limit", type=float, metavar="S",
                        help="seconds the whole run may take before it is killed (default: the rubric's)")
    grade_.add_argument("--verbose", action="store_true", help="show failures in full")
    grade_.add_argument("--keep", action="store_true", help="keep the grading workspace (for debugging)")


def main(args):
    try:
        if args.action == "list":
            return _list(args)
        if args.action == "release":
            return _release(args)
        return _grade(args)
    except LabError as error:
        print(f"selectchat labs: {error}", file=sys.stderr)
        return EXIT_USAGE


def _list(args):
    labs_dir = find_labs_dir(args.labs_dir)
    labs = discover(labs_dir)
    print(f"labs in {labs_dir}:")
    for lab in labs:
        categories = ", ".join(f"{c.name} {c.points:g}" for c in lab.categories.values())
        print(f"  {lab.slug:<20} {lab.title}")
        print(f"  {'':<20} {lab.max_score:g} points: {categories}")
    return 0


def _release(args):
    labs = discover(find_labs_dir(args.labs_dir))
    chosen = [pick_lab(labs, wanted) for wanted in args.lab] if args.lab else labs
    dest = Path(args.dest)
    for lab in chosen:
        files = release_lab(lab, dest / lab.slug, force=args.force)
        stripped = sum(1 for rel in files if has_solution(lab.path / rel))
        print(f"{dest / lab.slug}: {len(files)} files, solutions removed from {stripped}")
    return 0


def _grade(args):
    try:
        result = grade(args.submission, args.lab, args.labs_dir, args.timeout, args.time_limit,
                       args.category, args.keep)
    except OSError as error:
        print(f"selectchat labs: {error}", file=sys.stderr)
        return EXIT_GRADER
    if args.gradescope:
        path = Path(args.gradescope)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(to_gradescope(result), indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(to_json(result), indent=2))
    else:
        print(format_table(result, args.verbose))
    return result.exit_code


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="selectchat labs", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
