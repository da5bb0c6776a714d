"""Reanalyse a corpus of meta-analyses at once (thin entry point of ``reanalyse batch``; see :mod:`models.batch.cli`).

python scripts/batch.py data/corpus/manifest.csv --results corpus_batch
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.batch.cli import main  # noqa: E402
from models.cli import run_script  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_script(main))
