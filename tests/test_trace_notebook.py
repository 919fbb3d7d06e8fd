"""Notebook 9 (step through the loop) runs headless, and its widget steps.

The notebook is executed with nbclient on the ``python3`` kernel, as
``tests/test_notebooks.py`` does, with cells added (none removed or
changed): after each exercise's hidden answer, the answer and its check
again; at the end, cells that press the stepper's buttons in the kernel and
print what it then shows.  We check those facts against the trace the
notebook recorded.  Then, marked ``browser``, the same notebook in JupyterLab in
headless Chromium (``tests/browser/step_through.js``): the widget renders, and
its buttons step.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from test_notebook_browser import BROWSER_DIR, TOKEN, start_lab, stop, tools  # noqa: F401 (tools: a fixture)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "09-step-through.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Added at the end of the notebook (after its clean-up: the trace is in memory).
FACTS = r'''
import json, re
from selectchat.trace.stepper import fd_set_bits
selects = trace.of("select")
rows_ok = True
for index in range(0, len(selects), max(1, len(selects) // 40)):   # about 40 passes, spread out
    stepper.go(index)
    rows = re.findall(r"data-fdset='([01]+)'", stepper.view.value)
    rows_ok &= rows == [fd_set_bits(selects[index][k], stepper.fd_bits)
                        for k in ("read", "ready_read", "write", "ready_write")]
stepper.go(0)
stepper.next_button.click(); stepper.next_button.click(); stepper.previous_button.click()
after_buttons = stepper.index
stepper.fd_menu.value = fd_of["sleepy"]
stepper.jump_button.click()
jumped = stepper.facts()
partial = next(e for e in trace.of("send") if e["sent"] < e["asked"])
stepper.go(next(p.index for p in passes(trace) if partial in p.events))
print("NBFACTS " + json.dumps({
    "passes": len(stepper.passes), "selects": len(selects), "rows_ok": rows_ok,
    "after_buttons": after_buttons,
    "jumped_touches_sleepy": any(h.fd == fd_of["sleepy"] and (h.readable or h.writable or h.lines)
                                 for h in jumped.handled),
    "jumped_pass": jumped.number,
    "partial_shown": f"PARTIAL send, {partial['asked'] - partial['sent']} bytes stay" in stepper.view.value,
    "cursor": f"pass {stepper.facts().number}</text>" in stepper.view.value,
}))
'''


@pytest.fixture
def executed(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        label = re.search(r'check\("(9\.\d)"', cell.source) if cell.cell_type == "code" else None
        if label:   # the reference answer (kept outside the notebook), then the check again
            answer = (ROOT / "tests" / "notebook_answers" / f"{label.group(1)}.py").read_text()
            cells += [nbformat.v4.new_code_cell(answer), nbformat.v4.new_code_cell(cell.source)]
    nb.cells = cells + [nbformat.v4.new_code_cell(FACTS)]
    NotebookClient(nb, timeout=90, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return nb


def outputs_text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def test_notebook_9_runs_and_its_step_through_widget_steps(executed):
    stepper_cell = next(c for c in executed.cells if c.cell_type == "code" and c.source.startswith("stepper = "))
    assert any(WIDGET_VIEW in o.get("data", {}) for o in stepper_cell.outputs), "the widget was not displayed"
    facts = json.loads(outputs_text(executed.cells[-1]).split("NBFACTS ", 1)[1])
    assert facts["passes"] == facts["selects"] > 20
    assert facts["rows_ok"], "an fd_set row differs from the trace"
    assert facts["after_buttons"] == 1
    assert facts["jumped_touches_sleepy"] and facts["jumped_pass"] > 1
    assert facts["partial_shown"] and facts["cursor"]
    mistakes = next(c for c in executed.cells if c.cell_type == "code" and "format_mistakes(" in c.source)
    assert "none found" in outputs_text(mistakes)
    checks = [outputs_text(c) for c in executed.cells if c.cell_type == "code" and 'check("9.' in c.source]
    assert len(checks) == 6, checks   # each exercise: the placeholder, then the hidden answer
    for label, (placeholder, answered) in zip(("9.1", "9.2", "9.3"), zip(checks[::2], checks[1::2])):
        assert f"Exercise {label}: not done yet" in placeholder, placeholder
        assert f"Exercise {label}: correct." in answered, answered


def test_notebook_9_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert not [c for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert "widgets" not in nb.metadata


@pytest.mark.browser
def test_notebook_9_steps_in_jupyterlab_in_a_real_browser(tools, tmp_path):
    (tmp_path / "nb").mkdir()
    shutil.copy(NOTEBOOK, tmp_path / "nb" / NOTEBOOK.name)
    shots = Path(os.environ.get("SELECTCHAT_SCREENSHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    process, url = start_lab(tmp_path)
    try:
        assert url, f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-3000:]}"
        driver = subprocess.run(
            ["node", str(BROWSER_DIR / "step_through.js"), url, TOKEN, NOTEBOOK.name, str(shots),
             str(tmp_path / "chromium-profile")],
            cwd=BROWSER_DIR, capture_output=True, text=True, timeout=300)
        assert driver.returncode == 0, f"{driver.stderr[-3000:]}\n{driver.stdout[-2000:]}\nscreenshots: {shots}"
        report = json.loads(driver.stdout.strip().splitlines()[-1])
    finally:
        left = stop(process)
    print("browser report:", report, "screenshots in", shots)
    assert report["fdRows"] == 4, report                 # given and returned, for reading and writing
    shown = report["shownAfterRunAll"]
    assert report["afterNext"] == shown + 1 and report["afterPrevious"] == shown, report
    assert report["afterJump"] > report["afterPrevious"] and report["jumpRowMentionsSleepy"], report
    assert report["errors"] == 0, report
    for name in report["screenshots"]:
        image = (shots / name).read_bytes()
        assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 20_000, name
    assert not left, f"processes left after JupyterLab stopped: {left}"
