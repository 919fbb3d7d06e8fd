"""Mutation-tested graders: each lab fails its known-wrong solutions.

Every lab keeps, on the instructor's side only, ``wrong/STEM/NAME.py``: a
whole student file (it replaces ``STEM.py``) with one known mistake, named
in its one-line docstring.  ``teaching_bug.py`` is the bug the lab is about.
Each is graded through the real ``selectchat labs grade``, as a student's
submission would be: the reference must get full marks, the teaching bug at
most half, every other wrong solution at most 60 %.

Run alone, ``python tests/test_labs_mutants.py [LAB]`` prints every grade
(which tests each wrong solution fails): the table to read when a lab's
tests or rubric change.
"""

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LABS = ROOT / "labs"
TEACHING_BUG = "teaching_bug"
WORKERS = 3   # gradings at once: most of a wrong solution's time is a test waiting for what never comes

pytestmark = pytest.mark.timeout(400)


def wrong_solutions(lab):
    """[(replaced file, mistake name, path)] of a lab folder, sorted."""
    return [(path.parent.name + ".py", path.stem, path)
            for path in sorted((lab / "wrong").glob("*/*.py"))]


def mistake(path):
    """The wrong solution's one-line docstring."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    return first.strip('"').strip()


def submission(lab, replaced=None, wrong=None, dest=None):
    """A student's folder for ``lab``: the reference, with ``wrong`` as ``replaced`` if given."""
    folder = dest / lab.name
    shutil.copytree(lab, folder, ignore=shutil.ignore_patterns("wrong", "INSTRUCTOR.md", "__pycache__"),
                    symlinks=False)   # a student has a real copy of the harness
    if wrong is not None:
        shutil.copyfile(wrong, folder / replaced)
    return folder


def grade(folder, lab_id):
    result = subprocess.run([sys.executable, "-m", "selectchat", "labs", "grade", str(folder), "--lab", lab_id,
                             "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip(), f"no grade for {folder}: {result.stderr[-2000:]}"
    return json.loads(result.stdout)


def jobs(labs):
    """(lab, mistake name or 'reference', replaced file, wrong path) for every grading."""
    out = []
    for lab in labs:
        out.append((lab, "reference", None, None))
        out += [(lab, name, replaced, path) for replaced, name, path in wrong_solutions(lab)]
    return sorted(out, key=lambda job: job[1] != TEACHING_BUG)   # the slowest first: they wait the most


def grade_all(labs, scratch):
    def run(job):
        lab, name, replaced, path = job
        where = scratch / f"{lab.name}-{name}"
        where.mkdir(parents=True)
        return (lab.name, name), grade(submission(lab, replaced, path, where), lab.name[:2])

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return dict(pool.map(run, jobs(labs)))


ALL_LABS = sorted(path for path in LABS.iterdir() if (path / "rubric.toml").is_file())


@pytest.fixture(scope="module")
def grades(tmp_path_factory):
    return grade_all(ALL_LABS, tmp_path_factory.mktemp("mutants"))


def share(grade):
    return grade["score"] / grade["max_score"]


def failures(grade):
    """{test: the line that says why it failed} of a grade's failed tests."""
    def why(output):
        lines = output.strip().splitlines() or [""]
        return next((line for line in lines if line.startswith("E ")), lines[-1])
    return {t["name"]: why(t["output"]) for t in grade["tests"] if t["status"] != "passed"}


@pytest.mark.parametrize("lab", ALL_LABS, ids=lambda lab: lab.name)
def test_every_lab_keeps_its_teaching_bug_and_three_other_mistakes(lab):
    wrong = wrong_solutions(lab)
    names = [name for _, name, _ in wrong]
    assert TEACHING_BUG in names, f"{lab.name}/wrong/ has no {TEACHING_BUG}.py"
    assert len(names) - 1 >= 3, f"{lab.name}/wrong/ has {len(names) - 1} mistakes besides the teaching bug"
    for replaced, name, path in wrong:
        assert (lab / replaced).is_file(), f"{path} replaces {replaced}, which the lab does not have"
        text = path.read_text(encoding="utf-8")
        assert text.startswith('"""') and text.splitlines()[0].endswith('"""'), \
            f"{path}: the first line must be a one-line docstring naming the mistake"
        assert "### BEGIN SOLUTION" not in text and text != (lab / replaced).read_text(encoding="utf-8")


@pytest.mark.parametrize("lab", ALL_LABS, ids=lambda lab: lab.name)
def test_the_reference_gets_full_marks(grades, lab):
    grade = grades[lab.name, "reference"]
    assert share(grade) == pytest.approx(1.0), failures(grade)


@pytest.mark.parametrize("lab, name", [(lab, name) for lab in ALL_LABS for _, name, _ in wrong_solutions(lab)],
                         ids=lambda value: getattr(value, "name", value))
def test_a_wrong_solution_is_graded_down(grades, lab, name):
    grade = grades[lab.name, name]
    limit = 0.5 if name == TEACHING_BUG else 0.6
    assert grade["status"] != "error", grade["output"]
    assert share(grade) <= limit + 1e-9, (
        f"{lab.name}: '{mistake(next(p for _, n, p in wrong_solutions(lab) if n == name))}' got "
        f"{grade['score']:.2f}/{grade['max_score']:.2f} (at most {limit:.0%}); it fails only {failures(grade)}")


if __name__ == "__main__":
    import tempfile

    wanted = [lab for lab in ALL_LABS if not sys.argv[1:] or lab.name[:2] in sys.argv[1:]]
    with tempfile.TemporaryDirectory() as scratch:
        for (slug, name), result in grade_all(wanted, Path(scratch)).items():
            failed = [t["name"] for t in result["tests"] if t["status"] != "passed"]
            print(f"{slug:18} {name:36} {result['score']:5.2f}/{result['max_score']:g} "
                  f"{share(result):4.0%} {result['seconds']:5.1f}s  fails: {', '.join(failed) or '-'}")
