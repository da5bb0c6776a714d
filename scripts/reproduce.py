"""Write the reproduction table (results/reproduction.csv and .md): published vs recomputed pooled results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models.analyses.outputs import write_reproduction
from models.cli import add_data_arguments, load_or_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_data_arguments(parser)
    args = parser.parse_args(argv)
    dataset = load_or_report(args.data)
    if dataset is None:
        return 2
    out = Path(args.results)
    table, _ = write_reproduction(dataset, out)
    counts = table["status"].value_counts().to_dict()
    print(f"wrote {out / 'reproduction.md'} and .csv: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
