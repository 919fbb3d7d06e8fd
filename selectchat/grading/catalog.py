"""The labs and their rubrics: find them, read them, pick one.

A lab is a folder ``labs/NN-topic/`` with a ``rubric.toml``: the lab's id and
title, its time limits, and the points of each category (a category scores
``points * passed / total`` of its tests, so an instructor reweights a lab
without touching a test).
"""

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
INSTRUCTOR_ONLY = {"INSTRUCTOR.md", "wrong"}   # never released, never laid over a submission
IGNORED = {"__pycache__", ".pytest_cache", ".git", ".venv", ".ipynb_checkpoints", ".mypy_cache"}
LAB_NAME = re.compile(r"^(\d\d)-[a-z0-9-]+$")
PACKAGE_PARENT = Path(__file__).resolve().parent.parent.parent
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


class LabError(Exception):
    """A problem with a lab, a rubric or a submission (exit code 2)."""


@dataclass
class Category:
    name: str
    points: float
    description: str = ""
    visibility: str = "visible"   # Gradescope's visibility of this category's tests


@dataclass
class Lab:
    path: Path
    id: str
    title: str
    categories: dict = field(default_factory=dict)   # name -> Category
    test_timeout: float = 20.0    # seconds one test may take
    time_limit: float = 120.0     # seconds the whole grading run may take
    forbid_imports: tuple = ()    # modules the student's files may not use (it asks them to write those)
    edit: tuple = ()              # the files the student edits, when rubric.toml names them
    gives_away: dict = field(default_factory=dict)   # lab id -> what of its answer this lab's given code holds

    @property
    def slug(self):
        return self.path.name

    @property
    def max_score(self):
        return sum(category.points for category in self.categories.values())

    def files(self):
        """Every file of the lab students may see, as paths relative to its folder.

        Not INSTRUCTOR.md, not wrong/ (the known-wrong solutions): those never
        leave the instructor's labs folder.
        """
        return sorted(rel for rel in (path.relative_to(self.path) for path in _walk(self.path))
                      if not INSTRUCTOR_ONLY & set(rel.parts))

    def student_files(self):
        """The files the student edits: ``edit`` in rubric.toml, else those holding a solution block."""
        if self.edit:
            return [Path(name) for name in self.edit]
        return [rel for rel in self.files() if has_solution(self.path / rel)]


def _walk(folder):
    for path in sorted(folder.iterdir()):
        if path.name in IGNORED or path.name.endswith(".pyc"):
            continue
        if path.is_dir():
            yield from _walk(path)
        else:
            yield path


def load_lab(folder):
    """Read ``folder/rubric.toml`` into a :class:`Lab`."""
    folder = Path(folder).resolve()
    rubric = folder / "rubric.toml"
    if not rubric.is_file():
        raise LabError(f"{folder} is not a lab: it has no rubric.toml")
    try:
        data = tomllib.loads(rubric.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise LabError(f"{rubric}: {error}") from None
    meta = data.get("lab", {})
    match = LAB_NAME.match(folder.name)
    lab = Lab(path=folder, id=str(meta.get("id") or (match.group(1) if match else folder.name)),
              title=meta.get("title", folder.name),
              test_timeout=float(meta.get("test_timeout", 20)),
              time_limit=float(meta.get("time_limit", 120)),
              forbid_imports=tuple(meta.get("forbid_imports", ())), edit=tuple(meta.get("edit", ())),
              gives_away=dict(meta.get("gives_away", {})))
    for name, spec in data.get("categories", {}).items():
        if not isinstance(spec, dict) or "points" not in spec:
            raise LabError(f"{rubric}: category {name!r} needs points = N")
        visibility = spec.get("visibility", "visible")
        if visibility not in VISIBILITIES:
            raise LabError(f"{rubric}: category {name!r}: visibility must be one of {', '.join(VISIBILITIES)}")
        lab.categories[name] = Category(name, float(spec["points"]), spec.get("description", ""), visibility)
    if not lab.categories:
        raise LabError(f"{rubric}: no [categories.NAME] with points")
    return lab


def find_labs_dir(explicit=None):
    """The folder holding ``NN-topic/`` labs: the option, the environment, or the checkout."""
    for candidate, source in ((explicit, "--labs-dir"), (os.environ.get("SELECTCHAT_LABS"), "$SELECTCHAT_LABS"),
                              (PACKAGE_PARENT / "labs", None)):
        if candidate is None:
            continue
        path = Path(candidate).expanduser().resolve()
        if path.is_dir():
            return path
        if source:
            raise LabError(f"{source}: {candidate} is not a folder")
    raise LabError("no labs folder: run from a selectchat checkout, or pass --labs-dir "
                   "(or set SELECTCHAT_LABS)")


def discover(labs_dir):
    """Every lab in ``labs_dir``, in order."""
    return [load_lab(path) for path in sorted(Path(labs_dir).iterdir())
            if path.is_dir() and LAB_NAME.match(path.name) and (path / "rubric.toml").is_file()]


def pick_lab(labs, wanted):
    """The lab named ``wanted``: ``01``, ``1``, ``01-echo`` or ``echo``."""
    wanted = str(wanted).strip().rstrip("/")
    for lab in labs:
        topic = lab.slug.partition("-")[2]
        if wanted in (lab.id, lab.slug, topic) or (wanted.isdigit() and int(wanted) == int(lab.id)):
            return lab
    raise LabError(f"no lab {wanted!r}; the labs are: {', '.join(lab.slug for lab in labs)}")


def has_solution(path):
    if path.suffix not in (".py", ".md", ".txt", ".toml", ".ipynb"):
        return False
    try:
        return BEGIN in path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False




def solution_lines(lab):
    """The distinctive lines of the lab's solutions (to keep them out of what a student is shown)."""
    lines = set()
    for rel in lab.student_files():
        inside = False
        try:
            text = (lab.path / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for line in text.splitlines():
            marker = line.strip()
            if marker in (BEGIN, END):
                inside = marker == BEGIN
            elif inside and len(marker) >= 12 and not marker.startswith("#"):
                lines.add(marker)
    return lines
