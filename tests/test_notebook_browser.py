"""Notebook 4's widgets render in a real JupyterLab, in a real (headless) browser.

JupyterLab runs on 127.0.0.1, on a port the kernel picks, with a token, over a copy of the
notebook in a temporary directory (so that Lab's autosave never writes outputs into the
repository).  ``tests/browser/run_notebook.js`` drives Debian's Chromium with
playwright-core: open the notebook, *Run > Run All Cells*, wait for a slider and for a plot
inside the dashboard's output widget, then press *Run the scenario* and read the status line
(it reports the new run, or its error), take screenshots.

Needs ``chromium`` (Debian) and ``npm install`` in tests/browser/; ``.ci/run`` installs both.
Without them the test is skipped on a developer's machine, and fails under CI.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BROWSER_DIR = ROOT / "tests" / "browser"
NOTEBOOK = ROOT / "notebooks" / "04-reading-a-timeline.ipynb"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TOKEN = "selectchat-test-token"

pytestmark = pytest.mark.browser


def missing_tools():
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if shutil.which("node") is None:
        missing.append("node (apt-get install nodejs npm)")
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        missing.append("playwright-core (cd tests/browser && npm ci)")
    return missing


@pytest.fixture
def tools():
    missing = missing_tools()
    if missing:
        message = "the browser test needs: " + ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message + " -- .ci/run should have installed them")
        pytest.skip(message)


def children_of(pid):
    """PIDs of every process descended from ``pid`` (read from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            state = next(line for line in status if line.startswith("State:"))
        return "Z" not in state.split(":", 1)[1].split()[0]
    except (OSError, StopIteration):
        return False


def start_lab(workdir):
    """Start JupyterLab over ``workdir``; return (process, base URL). Port 0: Lab picks one."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for name, sub in (("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                      ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("JUPYTER_CONFIG_DIR", "config")):
        env[name] = str(workdir / sub)
    # A fresh Lab asks whether to fetch Jupyter news, in a toast over the screenshot: no.
    notification = workdir / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    log = open(workdir / "lab.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", "--port=0",
         "--port-retries=0", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={workdir / 'nb'}",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    info = workdir / "runtime" / f"jpserver-{process.pid}.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if info.exists():
            try:
                url = json.loads(info.read_text())["url"].rstrip("/")
                with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2) as reply:
                    if reply.status == 200:
                        return process, url
            except (OSError, ValueError, KeyError):
                pass
        time.sleep(0.2)
    return process, None


def stop(process):
    """Stop JupyterLab (it shuts its kernels down), then anything of ours still running."""
    descendants = children_of(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in descendants):
        time.sleep(0.1)
    left = [pid for pid in descendants if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


def test_notebook_4_renders_sliders_and_plots_and_runs_again(tools, tmp_path):
    (tmp_path / "nb").mkdir()
    shutil.copy(NOTEBOOK, tmp_path / "nb" / NOTEBOOK.name)
    shots = Path(os.environ.get("SELECTCHAT_SCREENSHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    process, url = start_lab(tmp_path)
    left = []
    try:
        assert url, f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-3000:]}"
        driver = subprocess.run(
            ["node", str(BROWSER_DIR / "run_notebook.js"), url, TOKEN, NOTEBOOK.name, str(shots),
             str(tmp_path / "chromium-profile")],
            cwd=BROWSER_DIR, capture_output=True, text=True, timeout=300)
        assert driver.returncode == 0, f"{driver.stderr[-3000:]}\n{driver.stdout[-2000:]}\nscreenshot: {shots}"
        report = json.loads(driver.stdout.strip().splitlines()[-1])
    finally:
        left = stop(process)
    print("browser report:", report, "screenshots in", shots)
    assert report["sliders"] >= 4, report          # clients, rate, size, and the time window
    assert report["widgetImages"] >= 1, report     # the dashboard's timeline
    assert report["images"] >= 3, report           # two static timelines and the dashboard's
    assert report["errors"] == 0, report           # nothing printed to stderr by a cell
    # Run pressed after Run All: the status line says what the new run found (or, if it failed, why)
    assert report["statusBefore"] == "", report
    assert re.fullmatch(r"\d+ events, \d+ select\(\) calls, busy [\d.]+%, largest ready set \d+",
                        report["statusAfterRun"]), report
    assert report["runButtonEnabled"], report
    for name in report["screenshots"]:
        image = (shots / name).read_bytes()
        assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 20_000, name
    assert not left, f"processes left after JupyterLab stopped: {left}"
