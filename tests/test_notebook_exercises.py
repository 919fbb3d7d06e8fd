"""The code exercises' checks (``selectchat.exercises``) tell right from wrong.

For every exercise checked by ``verify()``: the reference answer in
``tests/notebook_answers/LABEL.py`` passes, and each known-wrong version in
``tests/notebook_answers/wrong/LABEL-*.py`` fails with the sentence its first line
announces (``# expect: ...``), a sentence about behaviour that never quotes the answer.
Then: a placeholder says "not done yet", a hang is cut off and its process is gone,
the child dies with its parent, and the hints never hold the answer's code.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from selectchat.exercises import EXERCISES, run, verify
from selectchat.exercises.hints import HINTS

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = ROOT / "tests" / "notebook_answers"
WRONG = sorted((ANSWERS / "wrong").glob("*.py"))
EXPECT = re.compile(r"# expect: (.*)")


def label_of(path):
    return path.name.split("-")[0].removesuffix(".py")


@pytest.mark.parametrize("label", sorted(EXERCISES))
def test_reference_answer_passes(label):
    outcome, message = run(label, (ANSWERS / f"{label}.py").read_text())
    assert (outcome, message) == ("correct", "")


@pytest.mark.parametrize("path", WRONG, ids=lambda p: p.stem)
def test_wrong_answer_fails_saying_what_went_wrong(path):
    source = path.read_text()
    expected = EXPECT.match(source).group(1)
    outcome, message = run(label_of(path), source)
    assert outcome == "wrong", f"{path.name} was accepted"
    assert expected in message, message
    answer_lines = {line.strip() for line in (ANSWERS / f"{label_of(path)}.py").read_text().splitlines()
                    if len(line.strip()) > 20 and not line.strip().startswith(("#", '"""', "def "))}
    assert not [line for line in answer_lines if line in message], f"the message quotes the answer: {message}"


def test_every_code_exercise_has_two_wrong_versions_or_more():
    counts = {label: sum(label_of(path) == label for path in WRONG) for label in EXERCISES}
    assert all(count >= 2 for count in counts.values()), counts


def test_a_placeholder_is_not_done_yet(capsys):
    stub = "def echo_server(listener):\n    raise NotImplementedError\n"
    assert run("2.4", stub) == ("not done", "")
    assert run("7.2", "def split_lines(pending, data, max_line=512):\n    raise NotImplementedError\n") == ("not done", "")
    assert verify("2.1", ...) is None
    assert "Exercise 2.1: not done yet" in capsys.readouterr().out


def test_a_cell_that_does_not_define_the_function_says_so():
    outcome, message = run("7.4", "def split_frame(pending, data):\n    return []\n")
    assert outcome == "wrong" and "does not define a function split_frames()" in message
    outcome, message = run("7.4", "def split_frames(pending, data:\n")
    assert outcome == "wrong" and "SyntaxError" in message


def children_of(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rpartition(")")[2].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def gone(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as status:
                if any(line.startswith("State:") and "Z" in line for line in status):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_hang_is_cut_off_and_its_process_is_gone():
    hang = "def choose_backend(available, highest_fd):\n    while True:\n        pass\n"
    started = time.monotonic()
    outcome, message = run("8.4", hang)
    assert outcome == "wrong" and "still running" in message, message
    assert time.monotonic() - started < EXERCISES["8.4"].time_limit + 3
    assert children_of(os.getpid()) == []


@pytest.mark.parametrize("how", ["SIGKILL", "exception"])
def test_the_child_dies_with_the_process_that_started_it(tmp_path, how):
    """A notebook kernel killed (or failing) while a check runs a hanging answer: the child goes too."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import sys\n"
        "from selectchat.exercises import sandbox\n"
        "child = sandbox.Child('2.1', 'def wait_readable(sock, timeout):\\n    while True: pass\\n')\n"
        "print(child.pid, flush=True)\n"
        + ("import time; time.sleep(60)\n" if how == "SIGKILL" else "raise SystemExit(1)\n"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env, text=True)
    child_pid = int(parent.stdout.readline())
    try:
        if how == "SIGKILL":
            parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert gone(child_pid), f"child {child_pid} outlived its parent ({how})"
    finally:
        if parent.poll() is None:
            parent.kill()
        if not gone(child_pid, 0.1):
            os.kill(child_pid, signal.SIGKILL)


def test_hints_are_tiered_and_never_hold_the_code():
    labels = {path.stem for path in ANSWERS.glob("*.py")}
    assert labels <= set(HINTS), f"exercises without hints: {sorted(labels - set(HINTS))}"
    for label, tiers in HINTS.items():
        assert len(tiers) >= 2, label
        answer = (ANSWERS / f"{label}.py").read_text()
        code_lines = {line.strip() for line in answer.splitlines()
                      if line.strip() and not line.strip().startswith("#") and len(line.strip()) > 12}
        for tier in tiers:
            leaked = [line for line in code_lines if line in tier]
            assert not leaked, f"hint for {label} holds the answer's code: {leaked}"


def test_a_process_the_students_code_started_goes_too(tmp_path):
    """The child runs in its own process group, killed whole: a `sleep` it started does not survive."""
    pid_file = tmp_path / "grandchild"
    source = ("import subprocess\n"
              "def wait_readable(sock, timeout):\n"
              f"    helper = subprocess.Popen(['sleep', '60'])\n"
              f"    open({str(pid_file)!r}, 'w').write(str(helper.pid))\n"
              "    return 'maybe'\n")
    outcome, message = run("2.1", source)
    assert outcome == "wrong" and "returned 'maybe'" in message, message
    grandchild = int(pid_file.read_text())
    try:
        assert gone(grandchild), f"the student's subprocess {grandchild} outlived the check"
    finally:
        if not gone(grandchild, 0.1):
            os.kill(grandchild, signal.SIGKILL)
