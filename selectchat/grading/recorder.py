"""The pytest plugin that reports each result to the grader (it runs in the grading subprocess).

Results travel on a pipe the grader opened for this run, never through a
file: the student's programs do not inherit it (subprocess closes every
other descriptor), and nothing on disk can be appended to.  Each line is
signed with a key the grader sends on a second pipe, read before any test
module (or student module) is imported; a line written by anyone else does
not carry a valid signature and is ignored.

Code imported into this very process (a lab whose tests import the
student's module) shares its memory and could still find the key: the
grader's other checks (every collected test reported, the process not
killed by a signal, the test list compared with the lab's own) and the
docs' advice (grade in a container) cover that.
"""

import faulthandler
import hashlib
import hmac
import json
import os

OUTPUT_LIMIT = 4000   # characters of failure text kept per test
KEY_SIZE = 32
_hang_report = None   # where faulthandler writes if loading hangs (kept open for the whole run)


def _clip(text, limit=OUTPUT_LIMIT):
    """Keep the start and the end of a long text."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... ({len(text) - limit} characters left out) ...\n{text[-half:]}"


def sign(key, payload):
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def encode_record(key, record):
    """One signed line: the JSON, a tab, its signature."""
    payload = json.dumps(record).encode()
    return payload + b"\t" + sign(key, payload).encode() + b"\n"


def decode_record(key, line):
    """The record in a signed line, or None if the signature is not the grader's."""
    payload, _, signature = line.rstrip(b"\n").rpartition(b"\t")
    if not payload or not hmac.compare_digest(sign(key, payload).encode(), signature):
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return None


class ResultRecorder:
    """One signed line per collected test (with its category), one per report, one at the end."""

    def __init__(self, fd, key, only_categories=None):
        self.fd, self.key = fd, key
        self.only = set(only_categories or ())

    def _write(self, **record):
        data = encode_record(self.key, record)
        while data:
            data = data[os.write(self.fd, data):]

    def pytest_collection_modifyitems(self, config, items):
        kept, dropped = [], []
        for item in items:
            marker = item.get_closest_marker("category")
            category = marker.args[0] if marker and marker.args else None
            if self.only and category not in self.only:
                dropped.append(item)
                continue
            kept.append(item)
            doc = (getattr(item, "function", None) and item.function.__doc__) or ""
            self._write(kind="test", nodeid=item.nodeid, name=item.name, category=category,
                        doc=doc.strip().splitlines()[0] if doc.strip() else "")
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    def pytest_collection_finish(self, session):
        faulthandler.cancel_dump_traceback_later()   # loading is done; pytest-timeout watches each test
        self._write(kind="collected", count=len(session.items))

    def pytest_collectreport(self, report):
        if report.failed:
            self._write(kind="collect-error", nodeid=report.nodeid, text=str(report.longrepr)[-OUTPUT_LIMIT:])

    def pytest_runtest_logreport(self, report):
        text = ""
        if report.failed:
            # The failure, and what the lab's programs printed (sections the lab's conftest adds).
            text = report.longreprtext + "".join(
                f"\n--- {title}\n{content}" for title, content in report.sections if title.startswith("program "))
        elif report.skipped and isinstance(report.longrepr, tuple):
            text = report.longrepr[2]
        self._write(kind="report", nodeid=report.nodeid, when=report.when, outcome=report.outcome,
                    duration=report.duration, text=_clip(text))

    def pytest_sessionfinish(self, session, exitstatus):
        self._write(kind="finished", exitstatus=int(exitstatus))


def main(argv):
    """Entry point of the grading subprocess: ``RESULTS_FD KEY_FD CATEGORIES HANG_AFTER PYTEST_ARGS...``."""
    results_fd, key_fd, categories, hang_after, *args = argv
    with os.fdopen(int(key_fd), "rb") as key_pipe:   # read and closed before any test module is imported
        key = key_pipe.read(KEY_SIZE)
    # A module that hangs while it is imported stops everything before pytest-timeout is armed:
    # show where, then end the run.  On a copy of stderr: pytest captures descriptor 2 meanwhile.
    global _hang_report
    _hang_report = os.fdopen(os.dup(2), "w")
    faulthandler.dump_traceback_later(float(hang_after), exit=True, file=_hang_report)
    import pytest

    only = [c for c in categories.split(",") if c]
    return pytest.main(args, plugins=[ResultRecorder(int(results_fd), key, only)])


CHILD = "import sys; from selectchat.grading.recorder import main; sys.exit(main(sys.argv[1:]))"
