"""``selectchat labs``: the subcommand's arguments and its three actions."""

import argparse
import json
import signal
import sys
from pathlib import Path

from .catalog import LabError, discover, find_labs_dir, has_solution, pick_lab
from .release import giveaways, gradescope_package, release_lab
from .report import format_table, to_gradescope, to_json
from .run import PACKAGE_DIR, Interrupted, grade
from .score import EXIT_GRADER, EXIT_USAGE

EPILOG = """\
examples:
  selectchat labs list
  selectchat labs release ~/course/week5 --lab 01 --lab 02
  selectchat labs grade labs/01-echo                  the reference: full marks
  selectchat labs grade ~/submissions/alice --lab 01 --json
  selectchat labs grade /autograder/submission --lab 04 --gradescope /autograder/results/results.json

grade exit codes: 0 full marks, 1 graded below full marks, 2 usage error
(no such lab or submission, bad rubric), 3 the grader could not run the tests.

The labs are found in --labs-dir, else $SELECTCHAT_LABS, else the labs/
folder of the selectchat checkout.  See docs/labs.md.
"""


def add_arguments(parser):
    parser.add_argument("--labs-dir", metavar="DIR",
                        help="folder holding the NN-topic labs (default: $SELECTCHAT_LABS, else the checkout's labs/)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the labs and their points")

    release = actions.add_parser("release", help="write the student copy of the labs (solutions removed)")
    release.add_argument("dest", metavar="DEST", help="folder to write the labs into (DEST/NN-topic/)")
    release.add_argument("--lab", action="append", default=[], metavar="NN", help="only this lab (repeatable)")
    release.add_argument("--force", action="store_true", help="replace a lab folder already in DEST")
    release.add_argument("--gradescope", action="store_true",
                         help="write a Gradescope autograder folder per lab (DEST/gradescope-NN-topic/) instead")

    grade_ = actions.add_parser("grade", help="grade a student's copy of a lab",
                                epilog="exit codes: 0 full marks, 1 graded below full marks, "
                                       "2 usage error, 3 the grader could not run the tests")
    grade_.add_argument("submission", metavar="SUBMISSION", help="the student's lab folder (or a folder of labs)")
    grade_.add_argument("--lab", metavar="NN", help="which lab (default: from the submission's rubric.toml or name)")
    grade_.add_argument("--json", action="store_true", help="print the grade as JSON instead of a table")
    grade_.add_argument("--gradescope", metavar="FILE", help="also write Gradescope's results.json to FILE")
    grade_.add_argument("--category", action="append", default=[], metavar="NAME",
                        help="grade only this rubric category (repeatable; one per GitHub Classroom step)")
    grade_.add_argument("--timeout", type=float, metavar="S", help="seconds one test may take (default: the rubric's)")
    grade_.add_argument("--time-limit", type=float, metavar="S",
                        help="seconds the whole run may take before it is killed (default: the rubric's)")
    grade_.add_argument("--verbose", action="store_true", help="show failures in full")
    grade_.add_argument("--keep", action="store_true", help="keep the grading workspace (for debugging)")


def main(args):
    try:
        if args.action == "list":
            return _list(args)
        if args.action == "release":
            return _release(args)
        return _grade(args)
    except LabError as error:
        print(f"selectchat labs: {error}", file=sys.stderr)
        return EXIT_USAGE


def _list(args):
    labs_dir = find_labs_dir(args.labs_dir)
    labs = discover(labs_dir)
    print(f"labs in {labs_dir}:")
    for lab in labs:
        categories = ", ".join(f"{c.name} {c.points:g}" for c in lab.categories.values())
        print(f"  {lab.slug:<20} {lab.title}")
        print(f"  {'':<20} {lab.max_score:g} points: {categories}")
    return 0


def _release(args):
    labs = discover(find_labs_dir(args.labs_dir))
    chosen = [pick_lab(labs, wanted) for wanted in args.lab] if args.lab else labs
    dest = Path(args.dest)
    for lab in chosen:
        if args.gradescope:
            folder = gradescope_package(lab, dest / f"gradescope-{lab.slug}", PACKAGE_DIR, force=args.force)
            print(f"{folder}: the autograder (no solution); upload it zipped: cd {folder} && zip -r ../{folder.name}.zip .")
            continue
        files = release_lab(lab, dest / lab.slug, force=args.force)
        stripped = sum(1 for rel in files if has_solution(lab.path / rel))
        print(f"{dest / lab.slug}: {len(files)} files, solutions removed from {stripped}")
    for warning in giveaways(chosen, labs):
        print(f"selectchat labs: warning: {warning}", file=sys.stderr)
    return 0


def _grade(args):
    try:
        result = grade(args.submission, args.lab, args.labs_dir, args.timeout, args.time_limit,
                       args.category, args.keep)
    except OSError as error:
        print(f"selectchat labs: {error}", file=sys.stderr)
        return EXIT_GRADER
    except (Interrupted, KeyboardInterrupt) as stop:
        name = str(stop) or "SIGINT"
        print(f"selectchat labs: grading stopped ({name}); every process it started was ended and its "
              "temporary folder removed", file=sys.stderr)
        return 128 + getattr(signal.Signals, name, signal.SIGINT).value
    if args.gradescope:
        path = Path(args.gradescope)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(to_gradescope(result), indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(to_json(result), indent=2))
    else:
        print(format_table(result, args.verbose))
    return result.exit_code


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="selectchat labs", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
