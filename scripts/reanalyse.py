"""The main job: reanalyse every published MSC/COVID-19 meta-analysis into results/.

Writes the reproduction table, one NetCDF file per MCMC fit (results/fits/), summary.csv and summary.md (one row per
analysis x model x prior), figures (results/figures/), report.md and a self-contained report.html, and run_info.json
(seed, settings, data hash, package versions, wall time). Exit code 0 when every fit passed its convergence gates,
1 when any failed (the report names it), 2 for bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models.analyses.outputs import write_outputs
from models.analyses.runner import RunSettings, known_target, run_reanalysis
from models.cli import add_data_arguments, load_or_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser)
    parser.add_argument("--seed", type=int, default=RunSettings.seed, help="run seed (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="few draws and relaxed gates: a smoke test only")
    parser.add_argument("--only", default=None, metavar="DOCUMENT[/ANALYSIS]",
                        help="restrict to one document or analysis, e.g. tang2024 or tang2024/mortality")  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    dataset = load_or_report(args.data)
    if dataset is None:
        return 2
    settings = RunSettings(seed=args.seed, quick=args.quick, only=args.only)
    if args.only and not known_target(dataset, args.only):
        print(f"error: --only {args.only!r} names no document/analysis in the data", file=sys.stderr)
        return 2
    out = Path(args.results)
    result = run_reanalysis(dataset, settings, out, progress=not args.no_progress)
    paths = write_outputs(result, out)
    print(f"wrote {', '.join(str(p) for p in paths)}")
    failed = result.failed_fits
    print(f"{len(result.fits)} MCMC fits, {len(failed)} failed their gates; wall time {result.wall_seconds:.0f} s")
    for label, fit in failed:
        print(f"FAILED: {label}: {'; '.join(fit.diagnostics.failures)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
