"""From the recorder's lines to a grade: each test's result, the rubric's points."""

import re
import signal
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import Lab
from .recorder import OUTPUT_LIMIT

# Exit codes of ``selectchat labs grade`` (documented in docs/labs.md and --help).
EXIT_FULL = 0        # every test passed: full marks
EXIT_PARTIAL = 1     # graded, but below full marks (failures, timeouts, code that does not load)
EXIT_USAGE = 2       # wrong command line: no such lab, no such submission, a bad rubric
EXIT_GRADER = 3      # the grader itself could not run the tests (pytest missing, ...)


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
    status: str = "ok"             # ok, timeout, error; or void (see VOID): forbidden, hung, tampered, killed, incomplete
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


VOID = {   # statuses of a run that cannot be graded: every test fails, with the reason once
    "forbidden": "Your code uses what this lab does not allow, so it was not run:",
    "hung": "Loading the tests hung",
    "tampered": "Something other than the grader wrote on the grader's results channel: the grade is void.",
    "killed": "The test run was killed by a signal",
    "incomplete": "The test run did not report every test",
}


def score_results(lab, run, expected, time_limit, hang_after, notes=(), forbidden=(), workspace=None, secret=()):
    """Turn a :class:`~selectchat.grading.run.Run` into a :class:`Grade`.

    ``expected``: the lab's own tests ({nodeid: record}, collected by the
    grader), or None when grading with the submission's own tests.
    """
    tests = {}
    if expected is not None:
        for nodeid, record in expected.items():
            tests[nodeid] = TestResult(nodeid, record["name"], record["category"], record["doc"])
    collect_errors, finished = [], None
    for record in run.records:
        kind = record["kind"]
        if kind == "test" and expected is None:
            tests[record["nodeid"]] = TestResult(record["nodeid"], record["name"], record["category"], record["doc"])
        elif kind == "report" and record["nodeid"] in tests:
            _add_report(tests[record["nodeid"]], record, secret)
        elif kind == "collect-error":
            collect_errors.append(f"{record['nodeid'] or 'collection'}: {hide_solution(record['text'], secret)}")
        elif kind == "finished":
            finished = record["exitstatus"]
    grade = Grade(lab, list(tests.values()))
    status, reason = _void_reason(run, grade, finished, collect_errors, forbidden, hang_after, workspace)
    out = list(notes)
    if status:
        grade.status = status
        out.append(reason)
        for result in grade.tests:
            result.status, result.output = "failed", "not graded: " + VOID[status].rstrip(":.") + " (see above)"
    elif run.timed_out:
        grade.status = "timeout"
        out.append(f"The whole run took longer than its time limit ({time_limit:g} s) and was stopped; "
                   "tests that had not finished count as failed.")
    elif expected is None and not run.records and run.returncode not in (0, 1):
        grade.status = "error"
    elif expected is None and finished in (2, 3, 4) and not tests:
        grade.status = "error"    # interrupted, internal error, usage error: not the student's doing
    if collect_errors:
        out.append("Some tests could not be loaded (does your code import?):\n" + "\n".join(collect_errors))
    if grade.status == "error" or (not tests and not collect_errors):
        out.append("pytest said:\n" + hide_solution(run.log[-OUTPUT_LIMIT:], secret))
    for result in grade.tests:
        if result.status == "not run":
            result.status = "failed"
            result.output = ("did not finish: the run was stopped at its time limit" if run.timed_out
                             else "did not run")
    grade.output = "\n\n".join(out)
    _apply_rubric(grade)
    return grade


def _add_report(result, record, secret):
    result.duration += record["duration"]
    if record["outcome"] == "failed":
        if result.status != "failed":
            where = "" if record["when"] == "call" else f"(in {record['when']}) "
            result.output = where + hide_solution(record["text"], secret)
        result.status = "failed"
    elif record["outcome"] == "skipped" and result.status == "not run":
        result.status, result.output = "skipped", record["text"]
    elif record["outcome"] == "passed" and record["when"] == "call" and result.status == "not run":
        result.status = "passed"


def _void_reason(run, grade, finished, collect_errors, forbidden, hang_after, workspace):
    """(status, one sentence) when the run cannot be graded, else (None, None)."""
    if forbidden:
        return "forbidden", VOID["forbidden"] + "\n" + "\n".join(forbidden)
    loaded = any(record["kind"] == "collected" for record in run.records)
    hang = None if loaded else where_it_hung(run.log, workspace)
    if hang and not run.timed_out:
        return "hung", f"{VOID['hung']} for {hang_after:g} s, at {hang}: nothing was graded."
    if run.forged:
        return "tampered", VOID["tampered"] + f" ({run.forged} lines)"
    if run.timed_out:
        return None, None
    if run.returncode is not None and run.returncode < 0:
        name = signal.Signals(-run.returncode).name if -run.returncode in signal.valid_signals() else -run.returncode
        return "killed", f"{VOID['killed']} ({name}) before it finished: a grade needs a run that reports every test."
    if run.returncode is not None and finished is None:
        return "incomplete", (f"{VOID['incomplete']}: it ended (exit code {run.returncode}) before pytest "
                              "finished. Does your code exit the process (sys.exit, os._exit)?")
    missing = [t.name for t in grade.tests if t.status == "not run"]
    if missing and not collect_errors and run.returncode is not None:
        return "incomplete", f"{VOID['incomplete']}: {len(missing)} of the lab's tests never ran ({', '.join(missing[:5])})."
    return None, None


HANG_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)', re.M)


def where_it_hung(log, workspace):
    """'framing.py, line 12 (in <module>)' from faulthandler's dump, or None if nothing hung."""
    start = log.rfind("Timeout (")
    if start < 0:
        return None
    frames = [m for m in HANG_FRAME.finditer(log[start:])]
    if not frames:
        return "an unknown place"
    inside = [m for m in frames if workspace and m["file"].startswith(str(workspace))]
    frame = (inside or frames)[0]
    where = Path(frame["file"])
    name = where.relative_to(workspace) if workspace and inside else where.name
    return f"{name}, line {frame['line']} (in {frame['func']})"


def hide_solution(text, secret, run_length=3):
    """Replace runs of ``run_length`` or more lines of the reference solution (a program that prints it)."""
    if not secret or not text:
        return text
    lines, out, run = text.splitlines(), [], []
    for line in lines + [None]:
        if line is not None and line.strip() in secret:
            run.append(line)
            continue
        if len(run) >= run_length:
            out.append(f"[... {len(run)} lines of the reference solution hidden ...]")
        else:
            out += run
        run = []
        if line is not None:
            out.append(line)
    return "\n".join(out)


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


