"""The labs and their grader: the graders can fail, the release hides the solutions, time limits hold.

Every lab is graded twice, through the real command line and in parallel:
the reference solution in labs/ (full marks) and the released student copy
(below full marks, with NotImplementedError in the failures).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from selectchat import grading as labs

ROOT = Path(__file__).resolve().parent.parent
LABS = labs.discover(ROOT / "labs")
SLUGS = [lab.slug for lab in LABS]
ECHO_POINTS = LABS[0].categories["echo"].points

pytestmark = pytest.mark.timeout(300)   # the first test waits for every lab to be graded


def selectchat(*args, env=None, timeout=200):
    """Run ``python -m selectchat ARGS``; return the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "selectchat", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    dest = tmp_path_factory.mktemp("release")
    result = selectchat("labs", "release", dest)
    assert result.returncode == 0, result.stderr
    return dest


@pytest.fixture(scope="module")
def graded(released, tmp_path_factory):
    """{(slug, "reference"|"released"): (exit code, JSON grade, Gradescope results)} for every lab."""
    out = tmp_path_factory.mktemp("grades")

    def grade(job):
        slug, which = job
        folder = ROOT / "labs" / slug if which == "reference" else released / slug
        gradescope = out / f"{slug}-{which}.json"
        result = selectchat("labs", "grade", folder, "--json", "--gradescope", gradescope)
        assert result.stdout.strip(), f"no output from grading {slug} ({which}): {result.stderr}"
        return job, (result.returncode, json.loads(result.stdout), json.loads(gradescope.read_text()))

    jobs = [(slug, which) for slug in SLUGS for which in ("reference", "released")]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(grade, jobs))


def test_there_are_seven_labs_and_list_shows_them():
    assert [lab.id for lab in LABS] == ["01", "02", "03", "04", "05", "06", "07"]
    result = selectchat("labs", "list")
    assert result.returncode == 0
    for lab in LABS:
        assert lab.slug in result.stdout and lab.title in result.stdout


@pytest.mark.parametrize("slug", SLUGS)
def test_reference_solution_gets_full_marks(graded, slug):
    code, grade, _ = graded[slug, "reference"]
    failed = {t["name"]: t["output"][-1500:] for t in grade["tests"] if t["status"] != "passed"}
    assert not failed, f"the reference solution of {slug} fails: {failed}"
    assert grade["score"] == pytest.approx(grade["max_score"]) and grade["max_score"] > 0
    assert code == labs.EXIT_FULL
    assert grade["tests_from"] == "lab" and not grade["warnings"]
    assert all(c["total"] > 0 for c in grade["categories"]), "a rubric category has no tests"


@pytest.mark.parametrize("slug", SLUGS)
def test_released_copy_fails_with_not_implemented(graded, slug):
    code, grade, _ = graded[slug, "released"]
    assert code == labs.EXIT_PARTIAL
    assert grade["score"] < grade["max_score"]
    failed = [t for t in grade["tests"] if t["status"] == "failed"]
    assert failed, "no test failed on the student copy"
    assert any("NotImplementedError" in t["output"] for t in failed), \
        "the failures do not show the NotImplementedError of the TODOs"


def solution_lines(text):
    """The distinctive lines inside solution blocks (not markers, not TODO hints)."""
    inside, lines = False, []
    for line in text.splitlines():
        marker = line.strip()
        if marker == labs.BEGIN:
            inside = True
        elif marker == labs.END:
            inside = False
        elif inside and not marker.startswith("#") and len(marker) >= 8:
            lines.append(marker)
    return lines


def given_lines(text):
    """The stripped lines outside solution blocks."""
    return {line.strip() for line in labs.strip_solutions(text).splitlines()}


def test_release_strips_every_solution(released):
    """No line of any solution survives in any released file (unless given code has the same line)."""
    sources, given = {}, set()
    for lab in LABS:
        for rel in lab.files():
            text = (lab.path / rel).read_text(encoding="utf-8")
            given |= given_lines(text)
            if labs.BEGIN in text:
                sources[lab.slug, rel] = text
    assert {slug for slug, _ in sources} == set(SLUGS), "a lab without any solution block"
    secret = {line for text in sources.values() for line in solution_lines(text)} - given
    assert len(secret) > 50
    released_files = [path for path in released.rglob("*") if path.is_file()]
    for path in released_files:
        text = path.read_text(encoding="utf-8")
        assert labs.BEGIN not in text and labs.END not in text, path
        leaked = secret & {line.strip() for line in text.splitlines()}
        assert not leaked, f"{path} still holds solution text: {sorted(leaked)[:3]}"
    assert not [p for p in released_files if p.name == "INSTRUCTOR.md" or "wrong" in p.relative_to(released).parts]
    # The repo shares one harness through symlinks; a student copy must be self-contained.
    assert not [p for p in released.rglob("*") if p.is_symlink()]
    for lab in LABS:
        copy = released / lab.slug
        assert (copy / "tests" / "conftest.py").is_file()
        assert (copy / "rubric.toml").is_file() and (copy / "README.md").is_file()
        assert sorted(p.name for p in (copy / "tests").glob("test_*.py")) == \
            sorted(p.name for p in (lab.path / "tests").glob("test_*.py"))
    for (slug, rel), text in sources.items():
        stubbed = (released / slug / rel).read_text(encoding="utf-8")
        compile(stubbed, str(rel), "exec")
        assert stubbed.count("raise NotImplementedError(") == text.count(labs.BEGIN)


@pytest.mark.parametrize("slug", SLUGS)
def test_readme_and_instructor_notes_match_the_tests_and_rubric(slug):
    """The README's points table is the rubric's; every test INSTRUCTOR.md names exists."""
    lab = next(lab for lab in LABS if lab.slug == slug)
    readme = (lab.path / "README.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| ([a-z0-9-]+) \| ([0-9.]+) \|", readme, re.M)
    assert [(name, float(points)) for name, points in table] == \
        [(c.name, c.points) for c in lab.categories.values()], "README.md's table differs from rubric.toml"
    tests = "".join(path.read_text(encoding="utf-8") for path in (lab.path / "tests").glob("test_*.py"))
    notes = (lab.path / "INSTRUCTOR.md").read_text(encoding="utf-8")
    missing = {name for name in re.findall(r"`(test_\w+)`", notes) if f"def {name}(" not in tests}
    assert not missing, f"INSTRUCTOR.md names tests that do not exist: {sorted(missing)}"
    marked = sorted(str(rel) for rel in lab.files() if labs.BEGIN in (lab.path / rel).read_text(encoding="utf-8"))
    assert sorted(map(str, lab.student_files())) == marked, "rubric.toml's edit differs from the files with solutions"


def test_strip_solutions_keeps_indentation_and_the_hint():
    source = textwrap.dedent("""\
        def f(x):
            if x:
                ### BEGIN SOLUTION
                # TODO: double it,
                #       then add one.
                y = 2 * x
                return y + 1
                ### END SOLUTION
            return 0
        """)
    assert labs.strip_solutions(source, "lab.py") == textwrap.dedent("""\
        def f(x):
            if x:
                # TODO: double it,
                #       then add one.
                raise NotImplementedError('lab.py: TODO: double it, then add one.')
            return 0
        """)
    assert "raise NotImplementedError('f.py: TODO: your code here')" in labs.strip_solutions(
        "### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "f.py")
    for broken in ("### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION\n",
                   "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n"):
        with pytest.raises(labs.LabError):
            labs.strip_solutions(broken)


def test_json_and_gradescope_outputs_are_valid(graded):
    for (slug, which), (code, grade, gradescope) in graded.items():
        assert grade["exit_code"] == code and grade["lab"] == slug[:2]
        assert sum(t["score"] for t in grade["tests"]) == pytest.approx(grade["score"], abs=1e-3)
        assert sum(c["points"] for c in grade["categories"]) == pytest.approx(grade["max_score"])
        assert isinstance(gradescope["score"], float) and gradescope["score"] == pytest.approx(grade["score"])
        assert gradescope["max_score"] == pytest.approx(grade["max_score"])
        assert gradescope["tests"], slug
        for test in gradescope["tests"]:
            assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
            assert isinstance(test["name"], str) and test["name"]
            assert 0 <= test["score"] <= test["max_score"] + 1e-9
            assert test["status"] in ("passed", "failed")
            assert test["visibility"] in labs.VISIBILITIES
            assert (test["status"] == "passed") == (test["score"] == test["max_score"] > 0)
        assert sum(t["max_score"] for t in gradescope["tests"]) == pytest.approx(gradescope["max_score"])


# --- time limits: a hung student cannot hang the grader ----------------------------

SPINNING_SERVER = """\
import os, socket, sys
listener = socket.create_server(("127.0.0.1", 0))
with open(PIDFILE, "a") as pids:   # the grader passes no environment variable through
    pids.write(f"{os.getpid()}\\n")
print(f"echo server listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
while True:      # the bug: accepts nothing, never sleeps
    pass
"""


def spinning_submission(tmp_path, pidfile):
    folder = tmp_path / "01-echo"
    shutil.copytree(ROOT / "labs" / "01-echo", folder, ignore=shutil.ignore_patterns("__pycache__", "wrong"))
    (folder / "server.py").write_text(SPINNING_SERVER.replace("PIDFILE", repr(str(pidfile))))
    pidfile.touch()
    pidfile.chmod(0o666)        # the student's code may run as nobody
    (folder / "INSTRUCTOR.md").unlink()
    return folder


def assert_all_gone(pidfile):
    pids = [int(line) for line in pidfile.read_text().split()]
    assert pids, "the spinning server never started"
    deadline = time.monotonic() + 5
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _alive(pid)]
        time.sleep(0.05)
    assert not alive, f"processes left behind: {alive}"


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"   # a zombie is dead
    except FileNotFoundError:
        return False


def test_a_hung_server_fails_its_tests_within_the_per_test_timeout(tmp_path):
    pidfile = tmp_path / "pids"
    began = time.monotonic()
    result = selectchat("labs", "grade", spinning_submission(tmp_path, pidfile), "--lab", "01", "--json",
                        "--category", "echo", "--timeout", "2", timeout=60)
    took = time.monotonic() - began
    grade = json.loads(result.stdout)
    assert result.returncode == labs.EXIT_PARTIAL
    assert grade["score"] == 0 and grade["max_score"] == ECHO_POINTS    # --category echo: only its points
    assert [t["status"] for t in grade["tests"]] == ["failed"] * 3
    assert took < 40
    assert_all_gone(pidfile)


def test_the_whole_run_is_killed_at_its_time_limit(tmp_path):
    """Per-test timeouts too generous: the overall limit kills pytest and every server it started."""
    pidfile = tmp_path / "pids"
    began = time.monotonic()
    result = selectchat("labs", "grade", spinning_submission(tmp_path, pidfile), "--json", "--timeout", "100",
                        "--time-limit", "4", timeout=60)
    took = time.monotonic() - began
    grade = json.loads(result.stdout)
    assert result.returncode == labs.EXIT_PARTIAL
    assert grade["status"] == "timeout" and grade["score"] == 0
    assert "time limit" in grade["output"]
    assert took < 30
    assert_all_gone(pidfile)


# --- rubrics and errors ------------------------------------------------------------


def test_reweighting_the_rubric_changes_the_points_not_the_tests(tmp_path):
    labs_dir = tmp_path / "labs"
    shutil.copytree(ROOT / "labs" / "01-echo", labs_dir / "01-echo", ignore=shutil.ignore_patterns("__pycache__"))
    rubric = labs_dir / "01-echo" / "rubric.toml"
    rubric.write_text(rubric.read_text().replace(f"[categories.echo]\npoints = {ECHO_POINTS:g}",
                                                 "[categories.echo]\npoints = 30"))
    result = selectchat("labs", "--labs-dir", labs_dir, "grade", labs_dir / "01-echo", "--category", "echo", "--json")
    grade = json.loads(result.stdout)
    assert result.returncode == labs.EXIT_FULL, result.stdout[-2000:]
    assert grade["max_score"] == 30 and grade["score"] == pytest.approx(30)
    assert [t["max_score"] for t in grade["tests"]] == [10, 10, 10]


def test_usage_errors_exit_2(tmp_path):
    assert selectchat("labs", "grade", tmp_path, "--lab", "99").returncode == labs.EXIT_USAGE
    assert selectchat("labs", "grade", tmp_path / "missing", "--lab", "01").returncode == labs.EXIT_USAGE
    assert selectchat("labs", "grade", tmp_path).returncode == labs.EXIT_USAGE   # which lab?
    assert selectchat("labs", "--labs-dir", tmp_path / "nowhere", "list").returncode == labs.EXIT_USAGE
    result = selectchat("labs", "release", tmp_path / "out", "--lab", "01")
    assert result.returncode == 0
    again = selectchat("labs", "release", tmp_path / "out", "--lab", "01")
    assert again.returncode == labs.EXIT_USAGE and "--force" in again.stderr


def test_release_warns_when_a_lab_gives_away_another_labs_answer(tmp_path):
    result = selectchat("labs", "release", tmp_path / "out", "--lab", "02", "--lab", "03", "--lab", "07")
    assert result.returncode == 0
    assert "03-rooms gives away lab 02's answer" in result.stderr and "both are in this release" in result.stderr
    assert "07-selectors gives away lab 01's answer" in result.stderr


def test_the_gradescope_package_holds_no_solution_and_grades(tmp_path):
    """The autograder an instructor uploads: the released lab, selectchat, two scripts -- and it grades."""
    result = selectchat("labs", "release", tmp_path, "--lab", "01", "--gradescope")
    assert result.returncode == 0, result.stderr
    package = tmp_path / "gradescope-01-echo"
    assert (package / "setup.sh").is_file() and (package / "run_autograder").is_file()
    assert "--lab 01" in (package / "run_autograder").read_text()
    lab = LABS[0]
    secret = {line for rel in lab.student_files() for line in solution_lines((lab.path / rel).read_text())}
    secret -= {line for rel in lab.files() for line in given_lines((lab.path / rel).read_text())}
    for path in package.rglob("*"):
        assert path.name != "INSTRUCTOR.md" and "wrong" not in path.relative_to(package).parts, path
        assert not path.name.endswith((".whl", ".pyc")), path
        if path.is_file() and path.suffix in (".py", ".md", ".toml"):
            text = path.read_text(encoding="utf-8")
            if "labs" in path.relative_to(package).parts:
                assert labs.BEGIN not in text, path
                leaked = secret & {line.strip() for line in text.splitlines()}
                assert not leaked, f"{path} holds solution text: {sorted(leaked)[:2]}"
    labs_dir = package / "labs"
    student = tmp_path / "alice" / "01-echo"
    shutil.copytree(ROOT / "labs" / "01-echo", student, ignore=shutil.ignore_patterns("wrong", "INSTRUCTOR.md"))
    right = selectchat("labs", "--labs-dir", labs_dir, "grade", student, "--lab", "01", "--json")
    assert right.returncode == labs.EXIT_FULL, right.stdout[-2000:]
    stub = selectchat("labs", "--labs-dir", labs_dir, "grade", labs_dir / "01-echo", "--json")
    assert stub.returncode == labs.EXIT_PARTIAL and json.loads(stub.stdout)["score"] == 0


def test_the_classroom_workflow_gives_each_category_its_points():
    workflow = (ROOT / "labs" / "classroom" / "classroom.yml").read_text()
    steps = re.findall(r"--category ([a-z0-9-]+)\n\s+timeout: \d+\n\s+max-score: ([0-9.]+)", workflow)
    assert {name: float(points) for name, points in steps} == \
        {c.name: c.points for c in LABS[0].categories.values()}
