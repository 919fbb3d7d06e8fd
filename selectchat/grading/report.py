"""A grade for people and programs: a terminal table, JSON, Gradescope's results.json."""

import textwrap




def _failure_key(text):
    """The line that says why a test failed: pytest's first ``E`` line, else the last line."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("E ")), lines[-1] if lines else "")


def feedback(result):
    """{test nodeid: what to show} for each failed test: a failure shown in full once; a test that
    failed the same way says so in one line, so each failed behaviour (and its transcript) shows once."""
    shown, out = {}, {}
    for test in result.tests:
        if test.passed:
            continue
        key = _failure_key(test.output)
        if key and key in shown:
            out[test.nodeid] = f"Failed the same way as {shown[key]}:\n{key}"
        else:
            shown[key] = test.name
            out[test.nodeid] = test.output
    return out


def _test_title(test):
    return f"{test.name}: {test.doc}" if test.doc else test.name


def format_table(result, verbose=False):
    """The grade as a terminal table, failures explained below it."""
    lab = result.lab
    rows = [(t.name, t.category or "-", t.status, f"{t.score:.2f}/{t.max_score:.2f}") for t in result.tests]
    head = ("TEST", "CATEGORY", "RESULT", "POINTS")
    widths = [max(len(str(row[i])) for row in rows + [head]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths[:3]) + f"  {{:>{widths[3]}}}"
    out = [f"lab {lab.slug}: {lab.title}", "", line.format(*head)]
    out += [line.format(*row) for row in rows]
    out += ["", f"{'CATEGORY':<16} {'PASSED':>7}  {'POINTS':>13}"]
    for category, passed, total, score in result.categories():
        out.append(f"{category.name:<16} {f'{passed}/{total}':>7}  {f'{score:.2f}/{category.points:.2f}':>13}")
    out.append(f"{'TOTAL':<16} {'':>7}  {f'{result.score:.2f}/{result.max_score:.2f}':>13}")
    failed = [t for t in result.tests if not t.passed]
    explained = feedback(result)
    if failed:
        out += ["", "What failed:"]
        for test in failed:
            text = explained[test.nodeid].strip()
            if not verbose:
                text = "\n".join(text.splitlines()[-12:])
            out += ["", f"--- {_test_title(test)} [{test.status}]", textwrap.indent(text, "    ")]
    if result.output:
        out += ["", result.output]
    for warning in result.warnings:
        out.append(f"warning: {warning}")
    return "\n".join(out)


def to_json(result):
    """The grade as a plain dict (``--json``)."""
    return {
        "lab": result.lab.id, "slug": result.lab.slug, "title": result.lab.title,
        "score": result.score, "max_score": result.max_score,
        "status": result.status, "exit_code": result.exit_code, "seconds": result.seconds,
        "tests_from": result.tests_from,
        "categories": [{"name": c.name, "points": c.points, "passed": passed, "total": total, "score": score}
                       for c, passed, total, score in result.categories()],
        "tests": [{"name": t.name, "nodeid": t.nodeid, "category": t.category, "description": t.doc,
                   "status": t.status, "score": round(t.score, 4), "max_score": round(t.max_score, 4),
                   "duration": round(t.duration, 3), "output": t.output} for t in result.tests],
        "output": result.output, "warnings": result.warnings,
    }


def to_gradescope(result):
    """The grade in Gradescope's ``results.json`` format."""
    lab = result.lab
    tests = []
    explained = feedback(result)
    for test in result.tests:
        category = lab.categories.get(test.category)
        tests.append({
            "name": _test_title(test), "score": test.score, "max_score": test.max_score,
            "status": "passed" if test.passed else "failed",
            "output": explained.get(test.nodeid, ""),
            "tags": [test.category] if test.category else [],
            "visibility": category.visibility if category else "visible",
        })
    summary = f"Lab {lab.slug}: {result.score:.2f}/{result.max_score:.2f} points"
    return {"score": result.score, "max_score": result.max_score, "execution_time": round(result.seconds),
            "output": "\n\n".join(filter(None, [summary, result.output])), "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


