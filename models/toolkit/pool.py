"""Pool a meta-analysis from a CSV of study data (frequentist, as R metafor).

    reanalyse pool FILE.csv --measure {OR,RR,RD,MD,SMD} --method {MH,MH-RevMan,Peto,IV,DL,REML,PM}
                           [--hksj] [--json]
    (from a checkout also: python scripts/pool.py FILE.csv ...)

2x2 CSV columns: study,e_t,n_t,e_c,n_c (OR, RR, RD). Continuous CSV columns: study,n_t,mean_t,sd_t,n_c,mean_c,sd_c
(MD, SMD). Prints a per-study table and the pooled line (ratio scale for OR/RR), or with --json one strict JSON
object (null where a value is not defined, never NaN). Bad input gives a one-line message naming file, row and column
on stderr and exit code 2, before anything is computed. All computation lives in ``models.frequentist``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import NoReturn

from models.effects import MEASURES
from models.frequentist.pooling import METHODS, check_method, format_report, pool, read_study_table, study_effects

USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None, prog: str = "pool.py") -> int:
    """Pool the CSV named in ``argv``; print a table or JSON; return 0, or 2 after a one-line error."""
    parser = _Parser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("file", help="study CSV")
    parser.add_argument("--measure", required=True, choices=MEASURES)
    parser.add_argument("--method", required=True, choices=[m for m in METHODS if m != "EE"], help="IV = EE")
    parser.add_argument("--hksj", action="store_true", help="Hartung-Knapp-Sidik-Jonkman interval (DL, REML, PM)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    try:
        check_method(args.measure, args.method, args.hksj)
        table = read_study_table(args.file, args.measure)
        result = pool(table, args.measure, args.method, hksj=args.hksj)
        effects = None if args.json else study_effects(table, args.measure)
    except (OSError, ValueError, RuntimeError) as err:
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"{prog}: error: {message}", file=sys.stderr)
        return USAGE_ERROR
    if args.json:
        print(json.dumps(result.to_dict(), allow_nan=False))
    else:
        print(format_report(effects, result))
    return 0
