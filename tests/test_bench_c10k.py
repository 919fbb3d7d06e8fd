"""selectchat.bench.c10k: every point is measured or carries the error Python raised.

No cost is asserted (this machine is shared); what is checked is that each
backend really watched the descriptors (it found exactly the ready ones),
that select() past FD_SETSIZE gives Python's own ValueError while poll and
epoll go on, and that no descriptor is left open.
"""

import os

import pytest

from selectchat.bench import c10k


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def test_every_backend_finds_exactly_the_ready_descriptors():
    before = open_fds()
    rows = c10k.curve(sizes=(50, 200), ready=20, budget=0.02)
    assert [(r["backend"], r["watched"]) for r in rows] == [(b, n) for n in (50, 200) for b in c10k.BACKENDS]
    for row in rows:
        assert "error" not in row, row
        assert row["found_ready"] == 20, row   # not 0 (watched nothing), not all (watched wrongly)
        assert row["us_per_pass"] > 0 and row["us_per_pass_ready"] > 0
        assert row["us_per_ready"] == pytest.approx((row["us_per_pass_ready"] - row["us_per_pass"]) / 20)
    assert open_fds() == before
    table = c10k.format_curve(rows)
    assert table.count("\n") == len(rows) and "epoll" in table


def test_select_past_fd_setsize_is_the_value_error_python_raises_and_poll_goes_on():
    before = open_fds()
    c10k._allow(1200 + before + 64)
    watched = c10k.FD_SETSIZE + 100   # numbers past 1023 whatever was open before
    rows = {r["backend"]: r for r in c10k.curve(sizes=(watched,), ready=5, budget=0.02)}
    assert rows["select"]["error"] == "ValueError: filedescriptor out of range in select()"
    assert rows["select"]["highest_fd"] >= c10k.FD_SETSIZE
    for backend in ("poll", "epoll"):
        assert "error" not in rows[backend] and rows[backend]["found_ready"] == 5
    assert "ValueError: filedescriptor out of range" in c10k.format_curve(rows.values())
    assert open_fds() == before


def test_an_unknown_backend_is_refused_before_anything_is_opened():
    before = open_fds()
    with pytest.raises(ValueError, match="kqueue"):
        c10k.pass_cost("kqueue", 10)
    assert open_fds() == before
