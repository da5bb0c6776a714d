"""The main job: reanalyse every published MSC/COVID-19 meta-analysis into results/ (``reanalyse run``).

A thin wrapper: the job lives in :mod:`models.msc.command` so that the installed ``reanalyse run`` command runs it
too. ``python scripts/reanalyse.py --help`` lists the options.
"""

from __future__ import annotations

import sys

from models.cli import run_script
from models.msc.command import DEFAULT_SEED, main

__all__ = ["DEFAULT_SEED", "main"]

if __name__ == "__main__":
    sys.exit(run_script(main))
