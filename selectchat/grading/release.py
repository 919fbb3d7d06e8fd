"""``selectchat labs release``: the student copy of a lab, solutions removed.

Solutions use nbgrader's markers: each block between ``### BEGIN SOLUTION``
and ``### END SOLUTION`` becomes a ``# TODO`` and a ``raise NotImplementedError``.
"""

import shutil
from pathlib import Path

from .catalog import BEGIN, END, INSTRUCTOR_ONLY, LabError, has_solution


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
        if rel.name in INSTRUCTOR_ONLY:
            continue
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


