"""Where a submission is graded: the lab's own files, and only the student's files from the submission.

A submission is untrusted.  From it the grader takes the files the student
edits (``server.py``, ...), as plain files, and nothing else: not a
``conftest.py`` that would load into pytest, not a symbolic link that would
make the grader copy a file the student may not read, not an edited test.
Everything else -- tests, rubric, given code -- comes from the lab.  Each
thing left out gets one sentence in the grade, so the student knows.
"""

import os
import shutil
import stat
from pathlib import Path

from .catalog import IGNORED, INSTRUCTOR_ONLY, LAB_NAME, LabError, load_lab, pick_lab

FILE_LIMIT = 4 * 2**20    # bytes of one student file


def locate_submission(submission, labs, wanted):
    """Find the lab of ``submission``: --lab, else its rubric.toml, else its folder name."""
    submission = Path(submission).resolve()
    if not submission.is_dir():
        raise LabError(f"submission {submission} is not a folder")
    lab = pick_lab(labs, wanted) if wanted and labs else None
    if lab is not None:
        inner = submission / lab.slug      # a whole release, or a student's course folder
        if not (submission / "tests").is_dir() and inner.is_dir():
            submission = inner
        return submission, lab
    own = submission / "rubric.toml"
    if own.is_file() and not own.is_symlink():
        lab_id = load_lab(submission).id
        if labs:
            return submission, pick_lab(labs, lab_id)
        return submission, None
    if labs:
        match = LAB_NAME.match(submission.name)
        if match:
            return submission, pick_lab(labs, match.group(1))
    raise LabError(f"which lab is {submission}? pass --lab NN")


def copy_student_file(source, target):
    """Copy one file of the submission if it is a plain file; else the sentence that says why not."""
    try:
        info = os.lstat(source)
    except FileNotFoundError:
        return f"{source.name} is missing from the submission: the tests run without it."
    if stat.S_ISLNK(info.st_mode):
        where = os.readlink(source)
        state = "" if os.path.exists(source) else ", which does not exist"
        return (f"{source.name} is a symbolic link (to {where}{state}): links are not followed; "
                "submit the file itself.")
    if not stat.S_ISREG(info.st_mode):
        return f"{source.name} is not a plain file: it is left out."
    if info.st_size > FILE_LIMIT:
        return f"{source.name} is {info.st_size} bytes, more than {FILE_LIMIT}: it is left out."
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return None


def prepare_workspace(submission, canonical, workspace):
    """Lay out ``workspace`` for grading; return the sentences about what was left out.

    With the lab known (``canonical``): its files, and the student's files
    from the submission.  Without it: the submission's plain files as they
    are (its own tests grade it, with a warning in the grade).
    """
    notes = []
    if canonical is None:
        _copy_plain_tree(submission, workspace, notes)
        return notes
    student = canonical.student_files()
    for rel in canonical.files():
        if rel not in student:
            target = workspace / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(canonical.path / rel, target)
    for rel in student:
        note = copy_student_file(submission / rel, workspace / rel)
        if note:
            notes.append(note)
    known = set(canonical.files()) | set(student)
    extra = sorted(str(rel) for rel in (path.relative_to(submission) for path in _plain_walk(submission))
                   if rel.suffix == ".py" and rel not in known and not (INSTRUCTOR_ONLY | {"tests"}) & set(rel.parts))
    if extra:
        notes.append(f"Only the files you edit are graded ({', '.join(map(str, student))}); "
                     f"these are left out: {', '.join(extra)}.")
    return notes


def _plain_walk(folder):
    for root, dirs, files in os.walk(folder):     # never follows a link to a folder
        dirs[:] = [d for d in dirs if d not in IGNORED]
        for name in files:
            yield Path(root) / name


def _copy_plain_tree(submission, workspace, notes):
    for path in _plain_walk(submission):
        rel = path.relative_to(submission)
        if path.suffix != ".pyc":
            note = copy_student_file(path, workspace / rel)
            if note:
                notes.append(note.replace(path.name, str(rel), 1))
    workspace.mkdir(parents=True, exist_ok=True)
