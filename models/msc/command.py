"""``reanalyse run``: the shipped MSC job. Reanalyse every published MSC/COVID-19 meta-analysis into results/.

Writes the reproduction table, one NetCDF file per MCMC fit (results/fits/), summary.csv and summary.md (one row per
analysis x model x prior), figures (results/figures/), report.md and a self-contained report.html, and run_info.json
(run id, seed, settings, data hash, package versions, wall time, "complete": true and a sha256 of every file).

A run writes into a staging folder beside the results folder (results.staging-<pid>/) and replaces results/ only
when it has finished; the run before it is kept as results.prev/. An interrupted run leaves results/ as it was.
An --only run replaces results/ with a folder of its own analyses only. Exit code 0 when every fit passed its
convergence gates, 1 when any failed (the report names it), 2 for bad input (nothing written), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime

from models.atomic import OutputFolderError, check_output_folder, commit_staging, open_staging
from models.cli import Interrupts, OneLineParser, error, seed_value
from models.msc.options import add_data_arguments, load_or_report, only_problem

DEFAULT_SEED = 2026


def main(argv: list[str] | None = None, prog: str = "reanalyse.py") -> int:
    """Run the MSC reanalysis with command-line options ``argv``; returns the exit code (see the module docstring).

    Without ``--data`` the data shipped with the package is read (``models.msc.datasets.DEFAULT_DATA_DIR``: the
    repository's ``data/`` in a checkout, its installed copy otherwise), so the command works from any folder.
    """
    parser = OneLineParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser)
    parser.add_argument(
        "--seed", type=seed_value, default=DEFAULT_SEED, help="run seed in [0, 2^32-1] (default: %(default)s)"
    )
    parser.add_argument("--quick", action="store_true", help="few draws and relaxed gates: a smoke test only")
    parser.add_argument("--only", default=None, metavar="DOCUMENT[/ANALYSIS]",
                        help="restrict to one document or analysis, e.g. tang2024 or tang2024/mortality")  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        target = check_output_folder(args.results)
    except OutputFolderError as err:
        return error(str(err))
    if args.only is not None and not args.only.strip():
        return error("--only is empty; name a document or document/analysis (e.g. tang2024/mortality)")
    with Interrupts() as interrupts:
        dataset = load_or_report(args.data)
        if dataset is None:
            return 2
        problem = only_problem(dataset, args.only)
        if problem:
            return error(problem)
        from models.msc.outputs import write_outputs
        from models.msc.runner import RunSettings, run_reanalysis

        try:
            staging = open_staging(target)
        except OutputFolderError as err:
            return error(str(err))
        interrupts.staging, interrupts.target = staging, target
        started = datetime.now(UTC).isoformat(timespec="seconds")
        settings = RunSettings(seed=args.seed, quick=args.quick, only=args.only)
        try:
            result = run_reanalysis(dataset, settings, staging, progress=not args.no_progress)
            write_outputs(result, staging, run_id=uuid.uuid4().hex, started=started)
        except BaseException:
            print(f"run stopped: {target}/ left unchanged; partial output in {staging}/", file=sys.stderr)
            raise
        with interrupts.deferred():
            previous = commit_staging(staging, target)
            interrupts.committed = True
        files = sum(1 for p in target.rglob("*") if p.is_file())
        kept = f"; the previous run is in {previous}/" if previous is not None else ""
        print(f"wrote {target}/ ({files} files: fits/, figures/, summary, report, run_info.json){kept}")
        failed = result.failed_fits
        print(f"{len(result.fits)} MCMC fits, {len(failed)} failed their gates; wall time {result.wall_seconds:.0f} s")
        for label, fit in failed:
            print(f"FAILED: {label}: {'; '.join(fit.diagnostics.failures)}", file=sys.stderr)
        return 1 if failed else 0
