"""Write the reproduction table (results/reproduction.csv and .md): published vs recomputed pooled results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models.analyses.outputs import write_reproduction
from models.datasets import DataValidationError, load_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=None, help="data folder (default: the repository's data/)")
    parser.add_argument("--results", default="results", help="output folder (default: results/)")
    args = parser.parse_args(argv)
    try:
        dataset = load_dataset(args.data)
    except DataValidationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = Path(args.results)
    table, _ = write_reproduction(dataset, out)
    counts = table["status"].value_counts().to_dict()
    print(f"wrote {out / 'reproduction.md'} and .csv: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
