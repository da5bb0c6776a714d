"""Reanalyse a corpus of meta-analyses at once (thin entry point; see :mod:`models.batch.cli`).

    python scripts/batch.py data/corpus/manifest.csv --out results/corpus
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.batch.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
