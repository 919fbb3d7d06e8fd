"""The pytest plugin that reports each result to the grader (it runs in the grading subprocess)."""

import json

OUTPUT_LIMIT = 4000   # characters of failure text kept per test


def _clip(text, limit=OUTPUT_LIMIT):
    """Keep the start and the end of a long text."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... ({len(text) - limit} characters left out) ...\n{text[-half:]}"


class ResultRecorder:
    """A pytest plugin (in the grading subprocess) that writes each result as a JSON line.

    One line per collected test (with its category), one per report, so
    that whatever ran before a timeout or crash is still on disk.
    """

    def __init__(self, path, only_categories=None):
        self.file = open(path, "a", encoding="utf-8")
        self.only = set(only_categories or ())

    def _write(self, **record):
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()

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
        self.file.close()


def _pytest_child(argv):
    """Entry point of the grading subprocess: pytest with the recorder."""
    import pytest

    results, categories, *args = argv
    only = [c for c in categories.split(",") if c]
    return pytest.main(args, plugins=[ResultRecorder(results, only)])


CHILD = "import sys; from selectchat.grading.recorder import _pytest_child; sys.exit(_pytest_child(sys.argv[1:]))"


