"""The live view in a real (headless) browser: the page draws, and a room appears in it.

``tests/browser/live_page.js`` drives Debian's Chromium with playwright-core: it opens the
page of a ``selectchat server --live 0``, says ``ready`` once the first update is drawn; this
test then has a client join a room and say a line, and the page must show the room, its
member and the message (without its text), and keep updating at least twice a second.

Needs the same tools as tests/test_notebook_browser.py (Chromium, node, playwright-core).
"""

import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_live import live_address
from test_notebook_browser import BROWSER_DIR, CHROMIUM, alive, children_of, missing_tools

from selectchat.client import Client
from selectchat.launch import start_server

pytestmark = pytest.mark.browser


@pytest.fixture
def tools():
    missing = missing_tools()
    if missing:
        message = "the browser test needs: " + ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message + " -- .ci/run should have installed them")
        pytest.skip(message)


def read_line(process, timeout):
    """The next stdout line of ``process`` within ``timeout`` seconds, or ''."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    return process.stdout.readline().strip() if ready else ""


def stop(process):
    """Stop the driver and every Chromium process it started."""
    descendants = children_of(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in descendants):
        time.sleep(0.1)
    for pid in descendants:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_the_live_page_shows_a_room_appear(tools, tmp_path):
    shots = Path(os.environ.get("SELECTCHAT_SCREENSHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    with start_server("--live", "0", "--room", "lobby:10") as server:
        host, port = live_address(server)
        driver = subprocess.Popen(
            ["node", str(BROWSER_DIR / "live_page.js"), f"http://{host}:{port}/", "#projector", str(shots),
             str(tmp_path / "chromium-profile")],
            cwd=BROWSER_DIR, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=dict(os.environ, CHROMIUM=CHROMIUM))
        try:
            assert read_line(driver, 60) == "ready", driver.stderr.read() if driver.poll() is not None else ""
            with Client(*server.address, "alice") as alice:
                alice.join("#projector")
                alice.say("#projector", "words-not-for-the-projector")
                out, err = driver.communicate(timeout=60)
        finally:
            stop(driver)
    assert driver.returncode == 0, f"{err[-3000:]}\n{out[-2000:]}\nscreenshots: {shots}"
    report = json.loads(out.strip().splitlines()[-1])
    print("browser report:", report, "screenshot in", shots)
    assert report["members"] == ["@alice"], report          # she made the room: its operator
    assert any("alice \u2192 #projector: a message" in line for line in report["eventLines"]), report
    assert not any("words-not-for-the-projector" in line for line in report["eventLines"]), report
    assert report["updatesPerSecond"] >= 2, report
    assert report["descriptorRows"] >= 1 and report["calls"] >= 1, report
    assert report["pageErrors"] == [], report
    image = (shots / "live.png").read_bytes()
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 20_000
