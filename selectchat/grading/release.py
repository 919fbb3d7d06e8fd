"""``selectchat labs release``: the student copy of a lab, solutions removed.

Solutions use nbgrader's markers: each block between ``### BEGIN SOLUTION``
and ``### END SOLUTION`` becomes a ``# TODO`` and a ``raise NotImplementedError``.
"""

import shutil
from pathlib import Path

from .catalog import BEGIN, END, LabError, has_solution


def strip_solutions(text, where="<text>"):
    """Replace each solution block with a TODO that raises NotImplementedError.

    The stub takes the indentation of the ``### BEGIN SOLUTION`` line.  Comment
    lines starting with ``# TODO`` right after it are the hint: they are kept,
    and the first one becomes the exception's message.  Everything else in the
    block is dropped.
    """
    out, block, begin_line = [], None, 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        marker = line.strip()
        if marker == BEGIN:
            if block is not None:
                raise LabError(f"{where}:{number}: {BEGIN} inside another solution block "
                               f"(opened on line {begin_line})")
            block, begin_line, indent = [], number, line[:len(line) - len(line.lstrip())]
        elif marker == END:
            if block is None:
                raise LabError(f"{where}:{number}: {END} without {BEGIN}")
            out.extend(_stub(block, indent, where))
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise LabError(f"{where}:{begin_line}: {BEGIN} is never closed")
    return "".join(out)


def _stub(block, indent, where):
    hint = []
    for line in block:   # "# TODO: ..." and the comment lines that continue it
        text = line.strip()
        if text.startswith("# TODO") or (hint and text.startswith("#")):
            hint.append(text)
        else:
            break
    if not hint:
        hint = ["# TODO: your code here"]
    message = " ".join(line.lstrip("#").strip() for line in hint)
    return [f"{indent}{line}\n" for line in hint] + [
        f"{indent}raise NotImplementedError({f'{Path(where).name}: {message}'!r})\n"]


def release_lab(lab, dest, force=False):
    """Write the student copy of ``lab`` into ``dest`` (a new folder); return its files."""
    dest = Path(dest)
    if dest.exists():
        if not force:
            raise LabError(f"{dest} exists (use --force to replace it)")
        shutil.rmtree(dest)
    written = []
    for rel in lab.files():
        source, target = lab.path / rel, dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if has_solution(source):
            text = strip_solutions(source.read_text(encoding="utf-8"), str(rel))
            if rel.suffix == ".py":
                try:
                    compile(text, str(rel), "exec")
                except SyntaxError as error:
                    raise LabError(f"{lab.slug}/{rel}: the released copy does not compile "
                                   f"(line {error.lineno}: {error.msg}); check the solution markers") from None
            target.write_text(text, encoding="utf-8")
        else:
            shutil.copy2(source, target)
        written.append(rel)
    return written




def giveaways(chosen, labs):
    """Warnings: a released lab whose given code is another lab's answer (``gives_away`` in its rubric)."""
    ids = {lab.id for lab in chosen}
    warnings = []
    for lab in chosen:
        for other, what in lab.gives_away.items():
            together = " -- and both are in this release" if other in ids else ""
            warnings.append(f"{lab.slug} gives away lab {other}'s answer ({what}){together}: release it "
                            f"after lab {other} is graded (docs/labs.md)")
    return warnings


GRADESCOPE_SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
python3 -m pip install -q /autograder/source/selectchat-src pytest==9.2.0 pytest-timeout==2.4.0
chmod -R go-rwx /autograder/source   # the student's code runs as nobody: keep the lab out of its reach
"""

GRADESCOPE_RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission; it must leave /autograder/results/results.json.
set -uo pipefail
mkdir -p /autograder/results
selectchat labs --labs-dir /autograder/source/labs grade /autograder/submission --lab {lab_id} \\
    --gradescope /autograder/results/results.json
status=$?
# 0 full marks, 1 graded below full marks: results.json holds the grade either way.
if [ "$status" -ge 2 ] && [ ! -s /autograder/results/results.json ]; then
    printf '{{"score": 0, "output": "The autograder could not run (exit %s). Please tell your instructor."}}\\n' \\
        "$status" > /autograder/results/results.json
fi
exit 0
"""


def gradescope_package(lab, dest, package_dir, force=False):
    """An autograder folder for Gradescope: the released lab (no solution), selectchat, two scripts.

    Zip its contents (``cd DEST && zip -r ../autograder.zip .``) and upload.
    """
    dest = Path(dest)
    if dest.exists():
        if not force:
            raise LabError(f"{dest} exists (use --force to replace it)")
        shutil.rmtree(dest)
    release_lab(lab, dest / "labs" / lab.slug)
    source = dest / "selectchat-src"
    shutil.copytree(package_dir, source / package_dir.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        if (package_dir.parent / name).is_file():
            shutil.copy2(package_dir.parent / name, source / name)
    for name, text in (("setup.sh", GRADESCOPE_SETUP), ("run_autograder", GRADESCOPE_RUN.format(lab_id=lab.id))):
        (dest / name).write_text(text, encoding="utf-8")
        (dest / name).chmod(0o755)
    return dest
