"""Write a seeded synthetic corpus for `reanalyse batch` (thin entry point; see :mod:`models.batch.synthetic`).

python scripts/synthetic_corpus.py 10000 synthetic --seed 1
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.batch.synthetic import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
