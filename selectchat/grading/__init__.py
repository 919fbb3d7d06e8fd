"""``selectchat labs``: list, release and grade the labs that instructors assign.

A lab is a folder ``labs/NN-topic/`` holding

* ``README.md`` -- the task, for the student;
* the lab's code, with the reference solution between ``### BEGIN SOLUTION``
  and ``### END SOLUTION`` lines (nbgrader's convention);
* ``tests/`` -- the pytest tests that grade it, each carrying a category
  (``@pytest.mark.category("framing")``);
* ``rubric.toml`` -- the lab's id and title, and the points of each category;
* ``INSTRUCTOR.md`` and ``wrong/`` -- common mistakes, and known-wrong
  solutions the grader must fail; never released.

One module per idea: :mod:`.catalog` finds labs and reads rubrics,
:mod:`.release` strips solutions, :mod:`.run` grades a submission in a
subprocess (:mod:`.recorder` is the pytest plugin inside it),
:mod:`.score` turns results into points, :mod:`.report` prints them, and
:mod:`.command` is the command line.

Where the labs are: ``--labs-dir``, else ``$SELECTCHAT_LABS``, else the
``labs/`` folder of the checkout this package was imported from.  They are
not packaged into the wheel: instructors work from a checkout of the course
repository, and the released copy is what students get.
"""

from .catalog import BEGIN, END, VISIBILITIES, Lab, LabError, discover, find_labs_dir, load_lab, pick_lab
from .command import EPILOG, add_arguments, main
from .release import release_lab, strip_solutions
from .run import grade
from .score import EXIT_FULL, EXIT_GRADER, EXIT_PARTIAL, EXIT_USAGE

__all__ = ["BEGIN", "END", "VISIBILITIES", "Lab", "LabError", "discover", "find_labs_dir", "load_lab",
           "pick_lab", "EPILOG", "add_arguments", "main", "release_lab", "strip_solutions", "grade",
           "EXIT_FULL", "EXIT_GRADER", "EXIT_PARTIAL", "EXIT_USAGE"]
