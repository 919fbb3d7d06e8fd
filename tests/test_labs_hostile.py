"""Attacks on the grader: dishonest and broken submissions, each graded through `selectchat labs grade`.

Each test is one submission from issue 14 (results forged, the parent
pytest killed, the reference exec'd, output flooded, processes forked and
escaped with setsid, the grader stopped with SIGTERM, a dangling symlink,
a hang at import, a forbidden import) and proves what the grade says and
that nothing outlives the grading.
"""

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from selectchat.grading import sandbox

ROOT = Path(__file__).resolve().parent.parent
LABS = ROOT / "labs"

pytestmark = pytest.mark.timeout(120)


def submission(tmp_path, slug, files):
    """A student's copy of lab ``slug`` (the reference), with ``files`` ({name: text}) replaced."""
    folder = tmp_path / "submission" / slug
    shutil.copytree(LABS / slug, folder, ignore=shutil.ignore_patterns("wrong", "INSTRUCTOR.md", "__pycache__"))
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def grade(folder, *options, env=None, timeout=90):
    result = subprocess.run([sys.executable, "-m", "selectchat", "labs", "grade", str(folder), "--json", *options],
                            cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    assert result.stdout.strip(), result.stderr[-3000:]
    return result.returncode, json.loads(result.stdout), result


def shared_file(tmp_path, name):
    """A file the student's code (maybe running as nobody) may write to, to tell the test what it did.

    Not in ``tmp_path``: pytest's folder is private to the user running the tests.
    """
    folder = Path(tempfile.mkdtemp(prefix="selectchat-hostile-"))
    folder.chmod(0o755)
    (tmp_path / "shared").symlink_to(folder) if not (tmp_path / "shared").exists() else None
    path = folder / name
    path.touch()
    path.chmod(0o666)
    return path


@pytest.fixture(autouse=True)
def _remove_shared_folders(tmp_path):
    yield
    link = tmp_path / "shared"
    if link.is_symlink():
        shutil.rmtree(os.readlink(link), ignore_errors=True)


def assert_gone(pids, within=5.0):
    deadline = time.monotonic() + within
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _alive(pid)]
        time.sleep(0.05)
    assert not alive, f"processes left behind: {alive}"


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def pids_in(path):
    return [int(word) for word in path.read_text().split()]


# --- forged results --------------------------------------------------------------------

FORGER = '''"""Lab 01, dishonest: forge 'passed' results, then kill the pytest that runs me."""
import glob, json, os, signal
FORGED = json.dumps({"kind": "report", "nodeid": "tests/test_echo.py::test_twenty_clients_at_once_some_leave",
                     "when": "call", "outcome": "passed", "duration": 0.1, "text": ""}) + "\\n"
for path in ["../results.jsonl", "../../results.jsonl", *glob.glob("/tmp/selectchat-grade-*/results.jsonl")]:
    try:
        with open(path, "a") as out:
            out.write(FORGED * 50)
    except OSError:
        pass
for fd in range(3, 64):
    try:
        os.write(fd, FORGED.encode() * 50)
    except OSError:
        pass
os.kill(os.getppid(), signal.SIGKILL)
'''

IN_PROCESS_FORGER = '''"""Lab 02, dishonest: at import (inside pytest), write 'passed' lines on every pipe it has."""
import json, os, stat
LINE = (json.dumps({"kind": "finished", "exitstatus": 0}) + "\\n").encode()
for fd in range(3, 256):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, LINE)
    except OSError:
        pass
''' + (LABS / "02-framing" / "framing.py").read_text()


def test_forged_results_and_a_killed_pytest_get_nothing(tmp_path):
    code, result, _ = grade(submission(tmp_path, "01-echo", {"server.py": FORGER}), "--timeout", "5")
    assert code == 1 and result["score"] == 0
    assert result["status"] in ("killed", "tampered", "incomplete"), result["output"]
    assert "killed by a signal" in result["output"] or "results channel" in result["output"]


def test_lines_forged_on_the_results_pipe_void_the_grade(tmp_path):
    code, result, _ = grade(submission(tmp_path, "02-framing", {"framing.py": IN_PROCESS_FORGER}))
    assert code == 1 and result["score"] == 0 and result["status"] == "tampered"
    assert "results channel" in result["output"]


# --- reaching the reference ---------------------------------------------------------------

SNOOP = '''"""Lab 04, dishonest: find the reference server.py and run it instead of writing one."""
import os, sys
from pathlib import Path

def candidates():
    if os.environ.get("SELECTCHAT_LABS"):
        yield Path(os.environ["SELECTCHAT_LABS"])
    for entry in sys.path + os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if entry:
            yield Path(entry) / "labs"
            yield Path(entry).parent / "labs"
    here = Path.cwd()
    for parent in [here, *here.parents]:
        yield parent / "labs"
        yield parent / "04-slow-reader" / ".." 
    try:
        import selectchat
        yield Path(selectchat.__file__).resolve().parent.parent / "labs"
    except ImportError:
        pass

found = []
for folder in candidates():
    reference = folder / "04-slow-reader" / "server.py"
    try:
        text = reference.read_text()
    except OSError:
        continue
    if "### BEGIN SOLUTION" in text:
        found.append(str(reference))
with open(REPORT, "a") as report:
    report.write("\\n".join(found) + "\\n")
if found:                            # become the reference server
    os.execv(sys.executable, [sys.executable, found[0], *sys.argv[1:]])
'''


def test_the_reference_is_not_within_reach_by_path_or_environment(tmp_path):
    """No SELECTCHAT_LABS, no PYTHONPATH into the checkout, no labs folder above the workspace."""
    report = shared_file(tmp_path, "found")
    source = SNOOP.replace("REPORT", repr(str(report)))
    code, result, _ = grade(submission(tmp_path, "04-slow-reader", {"server.py": source}), "--category", "delivery",
                            env={"SELECTCHAT_LABS": str(LABS)})
    assert not report.read_text().strip(), f"the student's code found the reference at {report.read_text()}"
    assert result["score"] == 0


def test_exec_is_refused_from_the_source(tmp_path):
    report = shared_file(tmp_path, "found")
    source = SNOOP.replace("REPORT", repr(str(report))).replace(
        "os.execv(sys.executable, [sys.executable, found[0], *sys.argv[1:]])",
        'exec(open(found[0]).read(), {"__name__": "__main__"})')
    code, result, _ = grade(submission(tmp_path, "04-slow-reader", {"server.py": source}), "--category", "delivery")
    assert code == 1 and result["score"] == 0 and result["status"] == "forbidden"
    assert "server.py, line" in result["output"] and "exec()" in result["output"]
    assert not report.read_text().strip(), "the submission ran although the source check refused it"


def test_a_lab_forbids_importing_what_it_asks_for(tmp_path):
    text = "from selectchat.framing import LineBuffer  # selectchat's own answer\n" + \
           (LABS / "02-framing" / "framing.py").read_text()
    code, result, _ = grade(submission(tmp_path, "02-framing", {"framing.py": text}))
    assert code == 1 and result["score"] == 0 and result["status"] == "forbidden"
    assert "framing.py, line 1: uses selectchat.framing" in result["output"]


PRINTS_THE_SOLUTION = '''"""Lab 01, dishonest: print the reference solution, hoping the grade shows it to everyone."""
import sys
sys.stderr.write(open(REFERENCE).read())
sys.exit(1)
'''


def test_a_program_that_prints_the_reference_does_not_get_it_shown(tmp_path):
    """(Where the reference is readable by the student's code at all: see the tests above.)"""
    source = PRINTS_THE_SOLUTION.replace("REFERENCE", repr(str(LABS / "01-echo" / "server.py")))
    folder = submission(tmp_path, "01-echo", {"server.py": source})
    code, result, _ = grade(folder, "--category", "echo", "--timeout", "3",
                            "--gradescope", str(tmp_path / "results.json"))
    shown = (tmp_path / "results.json").read_text()
    assert code == 1 and "lines of the reference solution hidden" in shown
    assert "clients.remove(sock)" not in shown and "readable, _, _ = select.select" not in shown


# --- floods, forks, escapes -------------------------------------------------------------

FLOOD = '''"""Lab 01, broken: flood stdout, with and without newlines, forever."""
import socket
listener = socket.create_server(("127.0.0.1", 0))
print(f"echo server listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
import sys
while True:
    sys.stdout.write("x" * 1_000_000)
    sys.stdout.write("\\n" + "flood line\\n" * 10000)
'''


def test_a_flood_of_output_costs_bounded_memory_and_shows_bounded(tmp_path):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    code, result, run = grade(submission(tmp_path, "01-echo", {"server.py": FLOOD}), "--category", "echo",
                              "--timeout", "3")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert code == 1 and result["score"] == 0
    assert len(run.stdout) < 200_000, f"the grade is {len(run.stdout)} characters long"
    assert peak_mib < 300 or before / 1024 >= 300, f"a process of the grading used {peak_mib:.0f} MiB"


FORKER = '''"""Lab 01, broken: a child that holds the output pipes, and a double fork with setsid that escapes."""
import os, socket, sys, time
listener = socket.create_server(("127.0.0.1", 0))
print(f"echo server listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
if os.fork() == 0:                  # holds stdout and stderr, sleeps
    with open(PIDS, "a") as pids:
        pids.write(f"{os.getpid()}\\n")
    time.sleep(300)
    os._exit(0)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:              # the escapee: a new session, its parent gone
        with open(PIDS, "a") as pids:
            pids.write(f"{os.getpid()}\\n")
        time.sleep(300)
    os._exit(0)
time.sleep(300)                     # and serves no one
'''


def test_forked_and_setsid_escapees_end_with_the_grading(tmp_path):
    pids = shared_file(tmp_path, "pids")
    began = time.monotonic()
    code, result, _ = grade(submission(tmp_path, "01-echo", {"server.py": FORKER.replace("PIDS", repr(str(pids)))}),
                            "--category", "echo", "--timeout", "3")
    assert time.monotonic() - began < 60, "the grading waited for a pipe the fork holds"
    assert code == 1 and result["score"] == 0 and result["status"] == "ok"
    assert len(pids_in(pids)) >= 2, "the forks never ran"
    assert_gone(pids_in(pids))


# --- the grader interrupted ----------------------------------------------------------------

SLOW = '''"""Lab 01, slow: writes its pid, then listens after a long nap."""
import os, socket, time
with open(PIDS, "a") as pids:
    pids.write(f"{os.getpid()}\\n")
if os.fork() == 0:
    os.setsid()
    with open(PIDS, "a") as pids:
        pids.write(f"{os.getpid()}\\n")
    time.sleep(300)
time.sleep(300)
'''


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_sigint_to_the_grader_ends_everything_and_removes_its_folder(tmp_path, signum):
    pids = shared_file(tmp_path, "pids")
    scratch = pids.parent / "tmp"      # where the grader makes its folder (reachable by nobody)
    scratch.mkdir(mode=0o755)
    folder = submission(tmp_path, "01-echo", {"server.py": SLOW.replace("PIDS", repr(str(pids)))})
    grader = subprocess.Popen([sys.executable, "-m", "selectchat", "labs", "grade", str(folder), "--json"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(scratch)})
    try:
        deadline = time.monotonic() + 30
        while len(pids_in(pids)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(pids_in(pids)) >= 2, "the student's program never started"
        grader.send_signal(signum)
        out, err = grader.communicate(timeout=15)
    finally:
        if grader.poll() is None:
            grader.kill()
    assert grader.returncode == 128 + signum, err
    assert "grading stopped" in err
    assert_gone(pids_in(pids))
    assert not list(scratch.glob("selectchat-grade-*")), "the grading folder was left behind"


# --- broken submissions: one clear sentence each ---------------------------------------------


def test_a_dangling_symlink_gets_one_sentence(tmp_path):
    folder = submission(tmp_path, "01-echo", {})
    (folder / "server.py").unlink()
    (folder / "server.py").symlink_to("/nowhere/server.py")
    code, result, _ = grade(folder, "--category", "echo", "--timeout", "3")
    assert code == 1 and result["score"] == 0
    assert "server.py is a symbolic link (to /nowhere/server.py, which does not exist): links are not " \
           "followed; submit the file itself." in result["output"]


def test_a_symlink_to_the_reference_is_not_followed(tmp_path):
    folder = submission(tmp_path, "01-echo", {})
    (folder / "server.py").unlink()
    (folder / "server.py").symlink_to(LABS / "01-echo" / "server.py")
    code, result, _ = grade(folder, "--category", "echo", "--timeout", "3")
    assert code == 1 and result["score"] == 0
    assert "symbolic link" in result["output"]


def test_deleted_and_edited_tests_change_nothing(tmp_path):
    folder = submission(tmp_path, "01-echo", {})
    shutil.rmtree(folder / "tests")
    (folder / "conftest.py").write_text("import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
                                        "def pytest_runtest_makereport(item, call):\n"
                                        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")
    code, result, _ = grade(folder, "--category", "echo")
    assert code == 0 and len(result["tests"]) == 3          # the lab's tests, all of them
    assert "these are left out: conftest.py" in result["output"]
    wrong = submission(tmp_path / "wrong", "01-echo", {"server.py": (LABS / "01-echo/wrong/server/teaching_bug.py")
                                                      .read_text()})
    (wrong / "conftest.py").write_text((folder / "conftest.py").read_text())
    code, result, _ = grade(wrong, "--category", "many-clients", "--timeout", "5")
    assert result["score"] < result["max_score"], "a conftest.py in the submission rewrote the results"


HANGS_AT_IMPORT = '''"""Lab 02, broken: a loop at import time."""
import time

def wait_for_ever():
    while True:
        time.sleep(0.1)

wait_for_ever()
'''


def test_a_hang_at_import_names_the_file_and_line(tmp_path):
    began = time.monotonic()
    code, result, _ = grade(submission(tmp_path, "02-framing", {"framing.py": HANGS_AT_IMPORT}), "--timeout", "3")
    assert time.monotonic() - began < 40
    assert code == 1 and result["score"] == 0 and result["status"] == "hung"
    assert "Loading the tests hung for 3 s, at framing.py, line 6 (in wait_for_ever)" in result["output"], \
        result["output"]


def test_the_student_runs_as_nobody_when_the_grader_is_root(tmp_path):
    """Only where the grader is root and this Python is readable by every user (a container, Gradescope)."""
    if sandbox.student_user() is None or not sandbox.python_usable_by_others():
        pytest.skip("needs a root grader and a Python that nobody can run (here: "
                    f"uid {os.geteuid()}, {sys.executable})")
    report = shared_file(tmp_path, "who")
    source = ('import os\nwith open(%r, "a") as out:\n'
              '    out.write(f"{os.getuid()} {os.access(\'tests/test_echo.py\', os.W_OK)} {sorted(os.environ)}\\n")\n'
              % str(report)) + (LABS / "01-echo" / "server.py").read_text()
    code, result, _ = grade(submission(tmp_path, "01-echo", {"server.py": source}), "--category", "echo",
                            env={"SECRET_TOKEN": "x"})
    uid, can_edit_tests, names = report.read_text().splitlines()[0].split(" ", 2)
    assert int(uid) == sandbox.student_user()[0]
    assert can_edit_tests == "False", "the student's code may rewrite the workspace's tests"
    assert "SECRET_TOKEN" not in names
    assert code == 0, result["output"]
