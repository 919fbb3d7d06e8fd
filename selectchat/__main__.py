"""``python -m selectchat`` is the ``selectchat`` command."""

import sys

from .cli import run

sys.exit(run())
