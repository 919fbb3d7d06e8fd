"""The notebooks: they run top to bottom on a student's kernel, their exercises check, their
figures are drawn, their outputs are not committed, and they leave no server behind.

Each notebook is executed once, headless, with nbclient and the ``python3`` kernel (the one
``jupyter lab`` gives a student), a per-cell timeout, and the kernel's working directory in
``notebooks/``.  Into that run we add cells, none removed or changed:

* after each exercise's check cell, the reference answer (``tests/notebook_answers/LABEL.py``,
  kept out of the notebooks students open) and the check again: the committed placeholder
  must say "not done yet", the answer must say "correct";
* at the end, a cell that prints facts about the figures (lanes of each timeline), which
  we compare with what the scenario put in it.

Then two tests make a notebook fail on purpose -- a cell raises, or the kernel is killed
outright -- and check that its ``selectchat server`` subprocess is gone.
"""

import base64
import json
import os
import re
import signal
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]-*.ipynb"))
CELL_TIMEOUT = 90          # seconds, per cell
KERNEL = "python3"

# How many figures (image/png outputs) each notebook draws.
FIGURES = {"01": 1, "02": 0, "03": 3, "04": 2, "05": 1, "06": 2, "07": 1, "08": 2, "09": 0}

# Printed by a cell added at the end of the notebook: the lanes of each timeline figure
# (y tick labels: the loop's lane plus one per descriptor) and what they should be.
# The server watches the console (stdin), the listener and its signal socket: 3
# descriptors, plus one per client.
FACTS = {
    "03": """{"timeline": len(timeline_fig.axes[0].get_yticklabels()),
              "zoom": len(zoom_fig.axes[0].get_yticklabels()),
              "clients": len(clients)}""",
    "04": """{"timeline": len(timeline_fig.axes[0].get_yticklabels()),
              "zoom": len(zoom_fig.axes[0].get_yticklabels()),
              "dashboard": len(dashboard_state["figure"].axes[0].get_yticklabels()),
              "clients": clients_slider.value,
              "window": list(window_slider.value)}""",
    "06": """{"timeline": len(timeline_fig.axes[0].get_yticklabels()),
              "clients": 3, "dropped": [e["reason"] for e in trace.of("close") if "SendQ" in e["reason"]]}""",
}

# Notebook 4's dashboard, when a run fails (the server cannot start, the trace cannot be written):
# the error must be on its status line, not only in JupyterLab's log console, and the button usable.
DASHBOARD_FAILS = """
def _cannot_write(*args):
    raise OSError("cannot write the trace")
_play, _play_before = _cannot_write, _play
run_clicked()
print("DASHBOARD", json.dumps({"status": status.value, "disabled": run_button.disabled}))
_play = _play_before
"""

ANSWERS = ROOT / "tests" / "notebook_answers"
# From notebook 2 on, each has an exercise in which the student writes the code of the lesson (verify()).
LIVE_CODE = {"02", "03", "04", "05", "06", "07", "08"}
CHECK_LABEL = re.compile(r"""(?:check|verify)\(\s*["']([\d.]+)["']""")


@pytest.fixture(autouse=True)
def kernel_imports_this_checkout(monkeypatch):
    """The kernel (a child process, started in notebooks/) imports this checkout's selectchat."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def key(path):
    return path.name[:2]


def run(nb, timeout=CELL_TIMEOUT):
    """Execute ``nb`` in place in a fresh kernel started in notebooks/."""
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()
    return nb


def text_of(cell):
    """Everything a code cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("display_data", "execute_result"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "".join(parts)


def pngs(nb):
    """The decoded image/png outputs of an executed notebook."""
    return [base64.b64decode(output.data["image/png"])
            for cell in nb.cells if cell.cell_type == "code"
            for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]


def exercises(nb):
    """[(label, exercise cell index, check cell index, reference answer code)] in order."""
    found, exercise = [], None
    for index, cell in enumerate(nb.cells):
        if "exercise" in cell.metadata.get("tags", []):
            exercise = index
        elif cell.cell_type == "code" and exercise is not None and CHECK_LABEL.search(cell.source):
            label = CHECK_LABEL.search(cell.source).group(1)
            found.append((label, exercise, index, (ANSWERS / f"{label}.py").read_text()))
            exercise = None
    return found


def with_answers_and_facts(nb, facts):
    """A copy of ``nb`` with, after each check cell, the reference answer and the check again;
    and a last cell printing ``NBFACTS {json}``. Returns (copy, [(label, first, second)])."""
    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    added, checks = 0, []
    for label, _, check_index, answer in exercises(nb):
        at = check_index + added + 1
        copy.cells.insert(at, nbformat.v4.new_code_cell(answer))
        copy.cells.insert(at + 1, nbformat.v4.new_code_cell(nb.cells[check_index].source))
        checks.append((label, copy.cells[at - 1], copy.cells[at + 1]))
        added += 2
    if facts:
        copy.cells.append(nbformat.v4.new_code_cell(f"import json\nprint('NBFACTS', json.dumps({facts}))"))
    if "run_clicked" in "".join(cell.source for cell in nb.cells):
        copy.cells.append(nbformat.v4.new_code_cell("import json\n" + DASHBOARD_FAILS))
    for number, cell in enumerate(copy.cells):   # fresh ids: inserted cells must not clash
        cell["id"] = f"test-{number}"
    return copy, checks


# --- what is committed ---------------------------------------------------------------------


def test_the_arc_is_complete():
    assert [key(p) for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07", "08", "09"]
    readme = (NOTEBOOK_DIR / "README.md").read_text()
    for path in NOTEBOOKS:
        assert path.name in readme, f"notebooks/README.md does not list {path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=key)
def test_committed_without_outputs(path):
    """Outputs are not committed: no outputs, no execution counts, no widget state."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    clear = f"python -m selectchat.notebook clear {path.relative_to(ROOT)}"
    assert not dirty, f"{path.name}: cells {dirty} have outputs; run: {clear}"
    assert "widgets" not in nb.metadata, f"{path.name}: saved widget state in the metadata; run: {clear}"
    assert nb.metadata["kernelspec"]["name"] == KERNEL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=key)
def test_shape_of_a_lesson(path):
    """Objectives first, exercises with a check and a hidden answer, a summary last."""
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and "Learning objectives" in nb.cells[0].source
    assert any(c.cell_type == "markdown" and c.source.startswith("## Summary") for c in nb.cells[-3:])
    found = exercises(nb)
    assert len(found) >= 2, f"{path.name}: fewer than two exercises"
    labels = [label for label, *_ in found]
    assert len(set(labels)) == len(labels), f"{path.name}: exercise labels repeat: {labels}"
    tagged = sum("exercise" in c.metadata.get("tags", []) for c in nb.cells)
    assert tagged == len(found), f"{path.name}: {tagged} exercise cells but {len(found)} with a check and an answer"
    if key(path) in LIVE_CODE:   # the student writes the code of the lesson, checked live
        assert any("verify(" in nb.cells[check].source for _, _, check, _ in found), \
            f"{path.name}: no exercise checked with verify() (code run in a child process)"
    answers_here = [index for index, cell in enumerate(nb.cells) if "<details>" in cell.source]
    assert not answers_here, f"{path.name}: cells {answers_here} hold answers; they live in tests/notebook_answers/"
    source = "\n".join(cell.source for cell in nb.cells)
    assert not re.search(r"127\.0\.0\.1[\"']?,\s*[1-9]\d*\)|--port[\"']?,?\s*[\"']?[1-9]", source), \
        f"{path.name}: a fixed port (use port 0)"


# --- running them ------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=key)
def test_notebook_runs_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    copy, checks = with_answers_and_facts(nb, FACTS.get(key(path)))
    started = time.monotonic()
    try:
        run(copy)
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed: {error}")
    took = time.monotonic() - started

    for label, placeholder, answered in checks:
        assert f"Exercise {label}: not done yet" in text_of(placeholder), \
            f"{path.name}, exercise {label}: the committed placeholder was not recognised: {text_of(placeholder)!r}"
        assert f"Exercise {label}: correct." in text_of(answered), \
            f"{path.name}, exercise {label}: the reference answer does not pass: {text_of(answered)!r}"

    images = pngs(copy)
    assert len(images) == FIGURES[key(path)], f"{path.name}: {len(images)} figures"
    for image in images:
        assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 1024

    if key(path) in FACTS:
        line = next(line for cell in copy.cells if cell.cell_type == "code"
                    for line in text_of(cell).splitlines() if line.startswith("NBFACTS "))
        facts = json.loads(line.split(" ", 1)[1])
        lanes = 1 + 3 + facts["clients"]   # the loop, console + listener + signals, each client
        if key(path) == "06":   # a flood's log may back up its pipe: the log then has a lane of its own
            assert facts["timeline"] in (lanes, lanes + 1), facts
        else:
            assert facts["timeline"] == lanes, facts
        if key(path) == "03":
            assert facts["clients"] == 5, "erin (exercise 3.2's answer) should have made five clients"
            assert facts["zoom"] == lanes - 1, facts   # alice's hello came before erin connected
        if key(path) == "04":
            assert facts["zoom"] == lanes, facts
            assert facts["dashboard"] == lanes, facts
            line = next(line for cell in copy.cells if cell.cell_type == "code"
                        for line in text_of(cell).splitlines() if line.startswith("DASHBOARD "))
            dashboard = json.loads(line.split(" ", 1)[1])
            assert "the run failed: OSError: cannot write the trace" in dashboard["status"], dashboard
            assert dashboard["disabled"] is False, dashboard
            assert facts["window"][1] - facts["window"][0] == pytest.approx(0.003, abs=0.0011), facts
        if key(path) == "06":
            assert facts["dropped"] and "65536" in facts["dropped"][0], facts
    print(f"{path.name}: {took:.1f} s")


# --- leaving nothing behind ---------------------------------------------------------------


def process_state(pid):
    """The State: line of /proc/PID/status ("R (running)", "Z (zombie)", ...), or None if gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(line.split(":", 1)[1].strip() for line in status if line.startswith("State:"))
    except (FileNotFoundError, ProcessLookupError, StopIteration):
        return None


def wait_gone(pid, timeout=10.0):
    """Wait until PID has exited (gone, or a zombie waiting for init); return its last state."""
    deadline = time.monotonic() + timeout
    while True:
        state = process_state(pid)
        if state is None or state.startswith("Z") or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def server_notebook_until_started():
    """Notebook 3 up to and including the cell that starts the server, plus a cell that
    shows the server's command line (so we know the PID was really the server)."""
    nb = nbformat.read(NOTEBOOK_DIR / "03-the-chat-server.ipynb", as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "start_server(" in c.source)
    nb.cells = nb.cells[:start + 1] + [nbformat.v4.new_code_cell(
        "print('CMDLINE', open(f'/proc/{server.pid}/cmdline').read().replace(chr(0), ' '))")]
    return nb, start


def pid_and_cmdline(nb, start):
    pid = int(re.search(r"server pid (\d+)", text_of(nb.cells[start])).group(1))
    cmdline = re.search(r"CMDLINE (.*)", text_of(nb.cells[start + 1])).group(1)
    return pid, cmdline


def test_a_failing_cell_leaves_no_server_behind():
    nb, start = server_notebook_until_started()
    nb.cells += [nbformat.v4.new_code_cell("raise RuntimeError('a cell fails midway')"),
                 nbformat.v4.new_code_cell("print('never reached')")]
    with pytest.raises(CellExecutionError, match="a cell fails midway"):
        run(nb, timeout=60)
    pid, cmdline = pid_and_cmdline(nb, start)
    assert "selectchat server" in cmdline and "--exit-on-eof" in cmdline, cmdline
    state = wait_gone(pid)
    assert state is None or state.startswith("Z"), f"server pid {pid} still running after the kernel ended: {state}"


def test_a_killed_kernel_leaves_no_server_behind():
    """Even SIGKILL on the kernel (no atexit, no finally): the server's stdin pipe closes, it exits."""
    nb, start = server_notebook_until_started()
    client = NotebookClient(nb, timeout=60, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    pid = None
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            pid, cmdline = pid_and_cmdline(nb, start)
            assert "selectchat server" in cmdline, cmdline
            assert process_state(pid) is not None
            os.kill(client.km.provisioner.process.pid, signal.SIGKILL)
            state = wait_gone(pid)
    finally:
        left = process_state(pid) if pid is not None else None
        if left is not None and not left.startswith("Z"):
            os.kill(pid, signal.SIGKILL)   # never leave it to the next test, whatever happened
    assert state is None or state.startswith("Z"), f"server pid {pid} outlived its killed kernel: {state}"
