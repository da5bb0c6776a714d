"""Write the reproduction table (results/reproduction.csv and .md): published vs recomputed pooled results.

Bad input (options or data) exits 2 with one line naming the option, or the file, row and column; nothing is written.
"""

from __future__ import annotations

import sys
from collections import Counter

from models.atomic import OutputFolderError, check_output_folder, claim_output_folder
from models.cli import OneLineParser, error, run_script
from models.msc.options import add_data_arguments, load_or_report


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="reproduce.py", description=__doc__)
    add_data_arguments(parser)
    args = parser.parse_args(argv)
    try:
        out = check_output_folder(args.results)
    except OutputFolderError as err:
        return error(str(err))
    dataset = load_or_report(args.data)
    if dataset is None:
        return 2
    from models.msc.outputs import write_reproduction

    try:
        claim_output_folder(out)
    except OutputFolderError as err:
        return error(str(err))
    records, _ = write_reproduction(dataset, out)
    counts = dict(Counter(r.status for r in records).most_common())
    print(f"wrote {out / 'reproduction.md'} and .csv: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
