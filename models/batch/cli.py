"""The ``batch`` command: reanalyse a corpus of meta-analyses (``reanalyse batch ...`` / ``scripts/batch.py``).

    reanalyse batch INPUT [--results DIR] [--priors primary|grid|bartos2023] [--tau-prior P] [--effect-prior P]
          [--threshold 0.8] [--threshold-smd 0.2] [--measure M] [--higher-is-benefit] [--workers N]
          [--scheduler ADDRESS] [--chunk-size N] [--seed N] [--max-chunks N] [--no-report] [--quiet]

INPUT is a folder of study CSVs or a manifest (.csv or .json; see :mod:`models.batch.corpus`). Writes
``DIR/results.parquet`` and ``DIR/results.csv`` (one row per meta-analysis x model x prior pair),
``DIR/report.md`` with figures, and ``DIR/chunks/`` (per-chunk results; a rerun skips finished chunks). Needs the
``batch`` extra (Dask, distributed, pyarrow): ``pip install '.[batch]'``.

Exit codes: 0 finished; 2 bad input (options, manifest, folder: one line naming file, row and column, before any
work; or the batch extra not installed); 3 stopped early by ``--max-chunks`` (run again to resume); 1 chunk tasks
failed (run again to retry them), or an unexpected error (one line; ``--debug`` shows the traceback). A malformed
meta-analysis is not an exit code: it gets an ``error`` row.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from models.atomic import OutputFolderError, check_output_folder, claim_output_folder
from models.batch import MEASURES, PRIOR_SETS
from models.cli import int_at_least, stage
from models.prior_policy import PriorError
from models.settings import Settings, add_shared_options, settings_from

if TYPE_CHECKING:
    from models.batch.analyse import Options
    from models.batch.corpus import Entry

USAGE_ERROR, FAILED, STOPPED = 2, 1, 3
PROG = "reanalyse batch"
EXTRA = ("dask", "distributed", "pyarrow")
"""The modules of the ``batch`` extra."""
INSTALL = "pip install '.[batch]' in a checkout, or pip install 'msc-reanalysis[batch]'"


class _UsageError(Exception):
    """Raised by the parser instead of exiting, so that :func:`main` returns the code."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the command (without the subcommand name)."""
    p = _Parser(prog=PROG, description="Reanalyse a corpus of meta-analyses: exact posteriors, REML, Bayes factors.",
                epilog="examples:\n  reanalyse batch data/corpus/manifest.csv --results corpus_batch\n"
                       "  reanalyse batch my_folder_of_csvs/ --results my_batch --workers 2 --priors grid",
                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("input", help="folder of study CSVs, or a manifest (.csv or .json)")
    add_shared_options(p, results_help="output folder: results table, report, chunks/ (default: <input>_batch)")
    p.add_argument("--priors", choices=PRIOR_SETS, default="primary",
                   help="primary: the primary prior pair (as reanalyse fit's); grid: the whole sensitivity grid "
                        "(32 pairs for ratios, 8 for SMD: about that many times the work); bartos2023: Bartoš et "
                        "al.'s empirical pair for each measure (Student-t effect, inverse-gamma tau; about 20 times "
                        "the work)")  # fmt: skip
    p.add_argument("--threshold", type=float, default=0.8, help="clinically important ratio (default 0.8)")
    p.add_argument("--threshold-smd", type=float, default=0.2, help="clinically important SMD (default 0.2)")
    p.add_argument("--measure", choices=MEASURES, help="folder input: measure of every file (default by layout)")
    p.add_argument("--higher-is-benefit", action="store_true", help="folder input: higher outcome is better")
    p.add_argument("--workers", type=int_at_least(0), default=None,
                   help="Dask worker processes (default: one per core; 0 = in this process, no Dask)")  # fmt: skip
    p.add_argument("--scheduler", help="address of an existing Dask scheduler (workers must share --results)")
    p.add_argument("--chunk-size", type=int_at_least(1), default=None,
                   help="meta-analyses per task (default 200; about 16 chunks below 3,200)")  # fmt: skip
    p.add_argument("--max-chunks", type=int_at_least(1), help="stop after computing this many chunks (resume later)")
    p.add_argument("--no-report", action="store_true", help="skip the Markdown/PNG corpus report")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary (implies --no-progress)")
    return p


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr)


def missing_extra() -> list[str]:
    """The modules of the ``batch`` extra that are not installed."""
    return [name for name in EXTRA if importlib.util.find_spec(name) is None]


def _checked(argv: list[str] | None) -> tuple[argparse.Namespace, Settings]:
    """The options, checked without loading the batch's dependencies (raises _UsageError, OutputFolderError,
    PriorError)."""
    args = build_parser().parse_args(argv)
    missing = missing_extra()
    if missing:
        raise _UsageError(f"the batch needs the batch extra ({', '.join(missing)} not installed): {INSTALL}")
    if not 0.0 < args.threshold < 1.0:
        raise _UsageError(f"--threshold must be a ratio between 0 and 1 (benefit side), got {args.threshold!r}")
    if not 0.0 < args.threshold_smd < float("inf"):
        raise _UsageError(f"--threshold-smd must be a positive SMD magnitude, got {args.threshold_smd!r}")
    source = Path(args.input)
    if not source.is_dir() and (args.measure or args.higher_is_benefit):
        raise _UsageError("--measure and --higher-is-benefit are for folder input; a manifest states them")
    if args.priors == "bartos2023" and (args.tau_prior is not None or args.effect_prior is not None):
        raise _UsageError("--priors bartos2023 sets both priors (Bartoš et al.'s empirical pair); drop --tau-prior "
                          "and --effect-prior")  # fmt: skip
    default = f"{source.stem or source.resolve().name}_batch"
    target = check_output_folder(default if args.results is None else args.results)
    args.no_progress = args.no_progress or args.quiet
    return args, settings_from(args, target)


def main(argv: list[str] | None = None) -> int:
    """Run the command on ``argv`` (without the subcommand name); returns the exit code."""
    try:
        args, settings = _checked(argv)
    except _UsageError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return USAGE_ERROR
    except SystemExit as err:  # --help
        return int(err.code or 0)
    except (OutputFolderError, PriorError) as err:
        print(f"{PROG}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return USAGE_ERROR
    stage.at("reading the manifest", args.input)
    from models.batch.analyse import Options
    from models.batch.corpus import ManifestError, read_manifest, scan_folder

    try:
        options = Options(priors=settings.priors, prior_set=args.priors, threshold=args.threshold,
                          threshold_smd=args.threshold_smd, seed=settings.seed)  # fmt: skip
        source = Path(args.input)
        if source.is_dir():
            entries = scan_folder(source, args.measure, args.higher_is_benefit)
        else:
            entries = read_manifest(source)
        claim_output_folder(settings.results, "--results")  # after every input check: nothing written for bad input
    except (ManifestError, OutputFolderError, ValueError) as err:
        print(f"{PROG}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return USAGE_ERROR
    return _run(args, settings, options, entries)


def _run(args: argparse.Namespace, settings: Settings, options: Options, entries: list[Entry]) -> int:
    from models.batch.report import write_report
    from models.batch.runner import run_batch

    out = settings.results
    stage.at("analysing the meta-analyses")
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    summary = run_batch(entries, options, out, chunk_size=args.chunk_size, workers=workers,
                        scheduler=args.scheduler, max_chunks=args.max_chunks, progress=settings.progress)  # fmt: skip
    _say(
        args.quiet,
        f"{PROG}: {summary.n_meta} meta-analyses in {summary.n_chunks} chunks: {summary.computed} "
        f"computed, {summary.skipped} already finished, {len(summary.failed)} failed ({summary.seconds:.1f} s)",
    )
    for index, message in summary.failed:
        print(f"{PROG}: chunk {index} failed: {message}", file=sys.stderr)
    if summary.failed:
        print(f"{PROG}: error: {len(summary.failed)} chunk(s) failed; run again to retry them", file=sys.stderr)
        return FAILED
    if not summary.complete:
        _say(args.quiet, f"{PROG}: stopped after --max-chunks {args.max_chunks}; run again to resume")
        return STOPPED
    _say(args.quiet, f"{PROG}: {summary.n_rows} rows ({summary.n_error_rows} errors) in {out / 'results.parquet'}")
    if not args.no_report:
        stage.at("writing the corpus report")
        path = write_report(out, options, entries)
        _say(args.quiet, f"{PROG}: report in {path}")
    return 0
