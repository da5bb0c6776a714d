"""The ``batch`` command: reanalyse a corpus of meta-analyses (``reanalyse batch ...`` / ``scripts/batch.py``).

    batch INPUT --out DIR [--priors primary|grid] [--threshold 0.8] [--threshold-smd 0.2] [--measure M]
          [--higher-is-benefit] [--workers N] [--scheduler ADDRESS] [--chunk-size N] [--seed 0]
          [--max-chunks N] [--no-report] [--quiet]

INPUT is a folder of study CSVs or a manifest (.csv or .json; see :mod:`models.batch.corpus`). Writes
``DIR/results.parquet`` and ``DIR/results.csv`` (one row per meta-analysis x model x prior pair),
``DIR/report.md`` with figures, and ``DIR/chunks/`` (per-chunk results; a rerun skips finished chunks).

Exit codes: 0 finished; 2 bad input (options, manifest, folder: one line naming file, row and column, before any
work); 3 stopped early by ``--max-chunks`` (run again to resume); 1 chunk tasks failed (run again to retry them).
A malformed meta-analysis is not an exit code: it gets an ``error`` row.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from models.atomic import OutputFolderError, check_output_folder, claim_output_folder
from models.batch.analyse import Options
from models.batch.corpus import MEASURES, ManifestError, read_manifest, scan_folder
from models.batch.priors import PRIOR_SETS
from models.batch.report import write_report
from models.batch.runner import run_batch
from models.cli import int_at_least

USAGE_ERROR, FAILED, STOPPED = 2, 1, 3
PROG = "reanalyse batch"


class _UsageError(Exception):
    """Raised by the parser instead of exiting, so that :func:`main` returns the code."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the command (without the subcommand name)."""
    p = _Parser(prog=PROG, description="Reanalyse a corpus of meta-analyses: exact posteriors, REML, Bayes factors.")
    p.add_argument("input", help="folder of study CSVs, or a manifest (.csv or .json)")
    p.add_argument("--out", required=True, help="output folder (results table, report, chunks/)")
    p.add_argument("--priors", choices=PRIOR_SETS, default="primary", help="prior set (default primary)")
    p.add_argument("--threshold", type=float, default=0.8, help="clinically important ratio (default 0.8)")
    p.add_argument("--threshold-smd", type=float, default=0.2, help="clinically important SMD (default 0.2)")
    p.add_argument("--measure", choices=MEASURES, help="folder input: measure of every file (default by layout)")
    p.add_argument("--higher-is-benefit", action="store_true", help="folder input: higher outcome is better")
    p.add_argument("--workers", type=int_at_least(0), default=None,
                   help="Dask worker processes (default: one per core; 0 = in this process, no Dask)")  # fmt: skip
    p.add_argument("--scheduler", help="address of an existing Dask scheduler (workers must share --out)")
    p.add_argument("--chunk-size", type=int_at_least(1), default=None,
                   help="meta-analyses per task (default 200; about 16 chunks below 3,200)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed (same seed, same table; default 0)")
    p.add_argument("--max-chunks", type=int_at_least(1), help="stop after computing this many chunks (resume later)")
    p.add_argument("--no-report", action="store_true", help="skip the Markdown/PNG corpus report")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    return p


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command on ``argv`` (without the subcommand name); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        options = Options(prior_set=args.priors, threshold=args.threshold, threshold_smd=args.threshold_smd,
                          seed=args.seed)  # fmt: skip
        out = check_output_folder(args.out, "--out")
        source = Path(args.input)
        if source.is_dir():
            entries = scan_folder(source, args.measure, args.higher_is_benefit)
        else:
            if args.measure or args.higher_is_benefit:
                raise _UsageError("--measure and --higher-is-benefit are for folder input; a manifest states them")
            entries = read_manifest(source)
        claim_output_folder(out, "--out")  # after every input check: nothing is written for bad input
    except _UsageError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return USAGE_ERROR
    except SystemExit as err:  # --help
        return int(err.code or 0)
    except (ManifestError, OutputFolderError, ValueError) as err:
        print(f"{PROG}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return USAGE_ERROR
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    summary = run_batch(entries, options, out, chunk_size=args.chunk_size, workers=workers,
                        scheduler=args.scheduler, max_chunks=args.max_chunks, progress=not args.quiet)  # fmt: skip
    _say(args.quiet, f"{PROG}: {summary.n_meta} meta-analyses in {summary.n_chunks} chunks: {summary.computed} "
         f"computed, {summary.skipped} already finished, {len(summary.failed)} failed ({summary.seconds:.1f} s)")
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
        path = write_report(out, options.threshold)
        _say(args.quiet, f"{PROG}: report in {path}")
    return 0
