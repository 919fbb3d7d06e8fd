"""selectchat bench hostile: the accounting of who was dropped, and that it can say so.

Tiny loads, no speed asserted.  The second test is the adversary's: a
server configured to drop readers (a 2,000-byte --max-sendq is less than
one batch of flood lines) must be reported as dropping well-behaved
clients -- a scenario that cannot see a drop would pass any server.
"""

from selectchat.bench import cli as bench
from selectchat.cli import build_parser

SMALL = ["hostile", "--duration", "1.5", "--bystanders", "3", "--flooders", "2", "--readers", "4",
         "--nonreaders", "1", "--askers", "1", "--rooms", "40", "--list-burst", "5"]


def run_bench(*argv):
    args = build_parser().parse_args(["bench", "--no-progress", *argv])
    for name, default in bench.COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    report = bench.run_scenario(args)
    assert bench.human_rows(report)   # the table renders
    return report


def test_selectchat_keeps_every_well_behaved_client_under_hostile_load():
    report = run_bench(*SMALL)
    assert report["complete"], report
    assert report["well_behaved_dropped"] == 0 and report["well_behaved_dropped_nicks"] == []
    assert report["flooders_dropped"] == 0   # held back, not dropped
    ping = report["bystander_ping_ms"]
    assert ping["count"] > 0 and report["pings_lost"] == 0
    assert ping["p50"] <= ping["p99"] <= ping["max"]
    assert report["deliveries"] > 0 and report["list_bytes"] > 40 * 5   # the askers got their LISTs
    assert report["server_rss_peak_kb"] >= report["server_rss_baseline_kb"] > 0
    assert report["params"]["rooms"] == 40


def test_a_server_that_drops_readers_is_reported_as_such():
    report = run_bench(*SMALL, "--", "--max-sendq", "2000")
    assert not report["complete"]
    assert report["well_behaved_dropped"] > 0
    assert any("SendQ exceeded" in reason for reason in report["drop_reasons"]), report["drop_reasons"]
