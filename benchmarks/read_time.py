"""Per-file read time of the one study-file reader on typical 2x2 files (what ``reanalyse batch`` pays per file).

    python benchmarks/read_time.py [--repeat 15]

Prints the best per-file time (microseconds) of :func:`models.reader.read_study_file` over the repeats on

* a seeded synthetic corpus of 200 files (k 3-30 studies, CRLF, as ``reanalyse batch`` benchmarks use), and
* the 2x2 files of the shipped corpus ``data/corpus`` (quoted, as R's ``write.csv`` writes them).

A read includes the file checks, parsing, validation and the per-study effects (escalc), which the batch computed
after its old reader. A timing script, not a test: the machine is shared, so compare runs made under the same load.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.batch.synthetic import write_corpus  # noqa: E402
from models.reader import read_study_file  # noqa: E402


def per_file_us(files: list[Path], repeat: int) -> float:
    """The best over ``repeat`` passes of the mean read time per file, in microseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for path in files:
            read_study_file(path)
        best = min(best, (time.perf_counter() - start) / len(files) * 1e6)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = sorted(write_corpus(Path(tmp), 200, seed=1).parent.glob("ma0*.csv"))
        shipped = [
            p
            for p in sorted((ROOT / "data" / "corpus").glob("*.csv"))
            if p.name != "manifest.csv" and p.read_text().split("\n", 1)[0].replace('"', "").startswith("study,e_t")
        ]
        print(f"read_synthetic_2x2_us  {per_file_us(synthetic, args.repeat):.1f}  # 200 files, k 3-30")
        print(f"read_shipped_2x2_us  {per_file_us(shipped, args.repeat):.1f}  # {len(shipped)} files of data/corpus")
    return 0


if __name__ == "__main__":
    sys.exit(main())
