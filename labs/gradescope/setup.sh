#!/usr/bin/env bash
# Gradescope autograder setup (runs once, when the image is built).
# Zip this file and run_autograder together with a copy of the selectchat checkout
# in a folder named selectchat/ (so the instructor's tests and rubric are inside
# the image, never in the student's hands):
#   zip -r autograder.zip setup.sh run_autograder selectchat/
set -euo pipefail
python3 -m pip install -q -e "/autograder/source/selectchat[test]"
