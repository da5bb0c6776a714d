"""Import the Pairwise70 R data package (a local copy) into a corpus for `reanalyse batch` (thin entry point; see
:mod:`models.batch.pairwise70`).

python scripts/import_pairwise70.py PATH/TO/Pairwise70 --out pairwise70_corpus --min-studies 5
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.batch.pairwise70 import main  # noqa: E402
from models.cli import run_script  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_script(main))
