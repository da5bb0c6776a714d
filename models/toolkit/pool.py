"""Pool a meta-analysis from a CSV of study data (frequentist, as R metafor).

    reanalyse pool FILE.csv [--measure {OR,RR,RD,MD,SMD}] [--method {MH,MH-RevMan,Peto,IV,DL,REML,PM}]
                           [--hksj] [--json]
    (from a checkout also: python scripts/pool.py FILE.csv ...)

The file is read by the one study-file reader (:mod:`models.reader`), so every layout ``reanalyse fit`` reads is
read here the same way: 2x2 (``study,e_t,n_t,e_c,n_c`` or metafor's names), continuous
(``study,n_t,mean_t,sd_t,n_c,mean_c,sd_c``), effects (``study,yi,vi``) and estimates with a 95% CI. Defaults, as for
every command: measure OR for 2x2 and SMD for continuous files (effects files need --measure); method REML (metafor's
``rma`` default). MH and Peto need a 2x2 file. Prints a per-study table and the pooled line (ratio scale for OR/RR),
or with --json one strict JSON object (null where a value is not defined, never NaN); what the reader did to the data
(studies renamed or dropped, how the file was read) is printed to stderr as notes. Bad input gives a one-line message
naming file, row and column on stderr and exit code 2, before anything is computed. All computation lives in
``models.frequentist`` (imported after the options are checked, so ``--help`` and a bad option answer at once).
"""

from __future__ import annotations

import json
import sys

from models.cli import USAGE_ERROR, OneLineParser, stage
from models.measures import MEASURES, POOLING_METHODS


def main(argv: list[str] | None = None, prog: str = "pool.py") -> int:
    """Pool the CSV named in ``argv``; print a table or JSON; return 0, or 2 after a one-line error."""
    parser = OneLineParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("file", help="study CSV: 2x2, continuous, effects or estimate-with-CI layout")
    parser.add_argument("--measure", choices=MEASURES,
                        help="default: OR for 2x2, SMD for continuous; effects files need one")  # fmt: skip
    parser.add_argument("--method", default="REML", choices=[m for m in POOLING_METHODS if m != "EE"],
                        help="default REML (metafor's default); IV = inverse-variance fixed effect")  # fmt: skip
    parser.add_argument("--hksj", action="store_true", help="Hartung-Knapp-Sidik-Jonkman interval (DL, REML, PM)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    stage.at("pooling", args.file)
    from models.frequentist.pooling import check_method, format_report, pool
    from models.reader import read_study_file

    try:
        if args.measure is not None:
            check_method(args.measure, args.method, args.hksj)
        study = read_study_file(args.file, args.measure)
        check_method(study.measure, args.method, args.hksj)
        counts_method = args.method in ("MH", "MH-RevMan", "Peto") and study.counts is not None
        result = pool(study.counts if counts_method else study.effects, study.measure, args.method, hksj=args.hksj)
    except (OSError, ValueError, RuntimeError) as err:
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"{prog}: error: {message}", file=sys.stderr)
        return USAGE_ERROR
    for note in study.notes:
        print(f"{prog}: note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), allow_nan=False))
    else:
        print(format_report(study.effects, result))
    return 0
