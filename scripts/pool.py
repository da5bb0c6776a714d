"""Pool a meta-analysis from a CSV of study data (frequentist, as R metafor): ``reanalyse pool``.

A thin wrapper around :mod:`models.toolkit.pool`; ``python scripts/pool.py --help`` lists the options.
"""

from __future__ import annotations

import sys

from models.cli import run_script
from models.toolkit.pool import USAGE_ERROR, main

__all__ = ["USAGE_ERROR", "main"]

if __name__ == "__main__":
    sys.exit(run_script(main))
