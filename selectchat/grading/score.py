"""From the recorder's lines to a grade: each test's result, the rubric's points."""

from dataclasses import dataclass, field

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


