"""Plots of a trace: they render, headless, with one lane per descriptor."""

import os
import subprocess
import sys

import pytest
from matplotlib.figure import Figure

from selectchat import cli
from selectchat.client import Client
from selectchat.launch import PACKAGE_PARENT, start_server
from selectchat.trace import Trace, lane_labels, latencies, load

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NICKS = ("alice", "bob", "carol")


@pytest.fixture(scope="module")
def trace_path(tmp_path_factory):
    """A short real session: three clients in a room, a few messages, a quit."""
    path = tmp_path_factory.mktemp("plot") / "session.jsonl"
    with start_server("--trace", str(path)) as server:
        clients = [Client(*server.address, nick) for nick in NICKS]
        try:
            for client in clients:
                client.join("#lobby")
            for i in range(3):
                for client in clients:
                    client.say("#lobby", f"line {i} from {client.nick}")
            for client in clients:   # each hears the 3 lines of each of the others
                for _ in range(3 * (len(NICKS) - 1)):
                    client.expect("PRIVMSG")
            clients[0].quit()
        finally:
            for client in clients:
                client.close()
    return path


@pytest.fixture(scope="module")
def trace(trace_path):
    return load(trace_path)


def select(began, t, write, read=(7,)):
    """A hand-made select event: it waited from ``began`` to ``t``, watching ``write`` for writing."""
    return {"t": t, "kind": "select", "began": began, "blocked": t - began, "timeout": None,
            "read": list(read), "write": write, "ready_read": [], "ready_write": write}


def assert_png(path_or_bytes, minimum=10_000):
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else open(path_or_bytes, "rb").read()
    assert data[:8] == PNG_MAGIC
    assert len(data) > minimum
    return data


def test_timeline_has_one_labelled_lane_per_descriptor(trace, tmp_path):
    from selectchat.trace.plot import timeline

    figure = timeline(trace)
    out = tmp_path / "timeline.png"
    figure.savefig(out)
    assert_png(out)
    (ax,) = figure.axes
    lanes = [label.get_text() for label in ax.get_yticklabels()]
    labels = lane_labels(trace)
    assert lanes[0] == "select()"
    assert lanes[1:] == [f"fd {fd}  {name}" for fd, name in labels.items()]
    assert len(lanes) - 1 == len(labels) == len(set(lanes[1:]))
    for name in ("listener", "console", *NICKS):
        assert sum(name in lane for lane in lanes) == 1, (name, lanes)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "select() blocked" in legend and "recv() (area ~ bytes)" in legend
    assert "watched for writing (output queued)" in legend


def test_write_interest_spans_the_select_calls_that_watched_for_writing():
    from selectchat.trace.plot import _write_interest

    trace = Trace({}, [select(1.0, 1.5, []), select(2.0, 2.1, [7]), {"t": 2.15, "kind": "send", "fd": 7},
                       select(2.2, 2.3, [7, 8]), select(2.4, 3.0, [8]), select(3.1, 3.2, [])])
    spans = _write_interest(trace.of("select"))
    assert spans.keys() == {7, 8}
    assert [tuple(round(x, 6) for x in span) for span in spans[7]] == [(2.0, 0.3)]
    assert [tuple(round(x, 6) for x in span) for span in spans[8]] == [(2.2, 0.8)]


def test_timeline_window_and_drawing_into_a_given_axes(trace):
    from selectchat.trace.plot import timeline

    accepts = trace.of("accept")
    start, end = accepts[0]["t"] - 0.001, accepts[-1]["t"] + 0.001
    figure = Figure()
    left, right = figure.subplots(1, 2)
    assert timeline(trace, start=start, end=end, ax=right) is figure
    assert right.get_xlim() == pytest.approx((start, end))
    assert not left.has_data()
    lanes = [label.get_text() for label in right.get_yticklabels()]
    assert any(NICKS[0] in lane for lane in lanes)


def test_utilisation_ready_and_latency_plots_render(trace, tmp_path):
    from selectchat.trace.plot import latency, ready_histogram, utilisation

    figure = utilisation(trace, bins=20)
    (ax,) = figure.axes
    heights = [patch.get_height() for patch in ax.patches]
    assert len(heights) == 40   # busy and blocked bars for 20 slices
    for busy, blocked in zip(heights[:20], heights[20:]):
        assert busy + blocked == pytest.approx(100, abs=1e-6)

    figure = ready_histogram(trace)
    (ax,) = figure.axes
    assert sum(patch.get_height() for patch in ax.patches) == len(trace.of("select"))

    figure = latency(trace)
    points = sum(len(c.get_offsets()) for c in figure.axes[0].collections)
    assert points == len(latencies(trace).deliveries) == 3 * len(NICKS) * (len(NICKS) - 1)

    for name, figure in (("u", utilisation(trace)), ("r", ready_histogram(trace)), ("l", latency(trace))):
        figure.savefig(tmp_path / f"{name}.png")
        assert_png(tmp_path / f"{name}.png")


def test_trace_plot_command_writes_each_kind(trace, trace_path, tmp_path):
    source = trace_path
    for kind in ("timeline", "utilisation", "ready", "latency"):
        image = tmp_path / f"{kind}.png"
        assert cli.run(["trace", "plot", str(source), "-o", str(image), "--kind", kind]) == 0
        assert_png(image)
    first = trace.of("accept")[0]["t"]
    assert cli.run(["trace", "plot", str(source), "-o", str(tmp_path / "w.png"),
                    "--from", str(first), "--to", str(first + 0.01)]) == 0
    assert_png(tmp_path / "w.png")
    assert cli.run(["trace", "plot", str(source), "-o", str(tmp_path / "none.png"), "--from", "1e6"]) == 1
    assert not (tmp_path / "none.png").exists()


def test_importing_plot_needs_no_display_and_no_pyplot():
    code = ("import sys, selectchat.trace.plot, selectchat.trace.cli; "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = PACKAGE_PARENT
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_a_zoom_inside_a_busy_stretch_still_shows_it_and_the_write_band():
    """No select() call returns inside the window: the loop lane and the band
    come from the calls on either side of it."""
    from selectchat.trace.plot import timeline

    trace = Trace({"labels": {7: "alice"}},
                  [select(0.0, 1.0, [7]), {"t": 2.0, "kind": "send", "fd": 7, "asked": 100, "sent": 100},
                   select(3.0, 3.5, [])])
    figure = timeline(trace, start=1.5, end=2.5)
    (ax,) = figure.axes
    spans = {c.get_label(): c.get_paths()[0].vertices[:, 0] for c in ax.collections
             if c.get_label() in ("busy: handlers, timers", "watched for writing (output queued)")}
    assert spans.keys() == {"busy: handlers, timers", "watched for writing (output queued)"}
    busy = spans["busy: handlers, timers"]
    assert busy.min() == pytest.approx(1.0) and busy.max() == pytest.approx(3.0)
