"""Command-line pieces of the MSC job: the data and results folders, loading the data with a one-line error, and
checking that ``--only DOCUMENT[/ANALYSIS]`` selects some work."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from models.cli import error

if TYPE_CHECKING:  # the data module loads numpy and pandas: imported when the data are read, after the options
    from models.msc.datasets import Dataset


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--data`` (input folder) and ``--results`` (output folder) to a script's parser."""
    parser.add_argument("--data", default=None, help="data folder (default: the repository's data/)")
    parser.add_argument("--results", default="results", help="output folder (default: results/)")


def load_or_report(data_dir: str | None) -> Dataset | None:
    """The validated data set, or None after printing the validation error (file, row, column) on stderr."""
    if data_dir is not None and not data_dir.strip():
        error("--data is empty; name a data folder (default: the repository's data/)")
        return None
    if data_dir is not None and Path(data_dir).exists() and not Path(data_dir).is_dir():
        error(f"--data {data_dir!r} is a file, not a folder")
        return None
    from models.msc.datasets import DataValidationError, load_dataset

    try:
        return load_dataset(data_dir)
    except DataValidationError as err:
        error(str(err))
        return None


def only_problem(dataset: Dataset, only: str | None) -> str | None:
    """Why ``--only DOCUMENT[/ANALYSIS]`` selects no work (one line), or None when it selects some.

    A target selects work when it is the evidence base or one of its analyses (``specs.evidence_base_sets``), the
    3-year follow-up document, or a published analysis (or a document with one) that is a study set of the
    hierarchical models or a ratio with a published interval (the summary-level analysis).
    """
    from models.msc.specs import EVIDENCE_BASE, evidence_base_sets, study_sets

    if only is None:
        return None
    if not only.strip():
        return "--only is empty; name a document or document/analysis (e.g. tang2024/mortality)"
    doc, slash, ana = only.partition("/")
    if slash and not ana:
        return f"--only {only!r}: the analysis after '/' is empty"
    if doc == EVIDENCE_BASE:
        names = [s.analysis for s in evidence_base_sets(dataset)]
        if ana and ana not in names:
            return f"--only {only!r}: {EVIDENCE_BASE} has no analysis {ana!r} (analyses: {', '.join(names)})"
        return None
    published = dataset.published
    docs = list(dict.fromkeys(published["document"]))
    if doc not in docs:
        return f"--only {only!r} names no document/analysis in the data (documents: {EVIDENCE_BASE}, {', '.join(docs)})"
    rows = published[published["document"] == doc]
    if ana and not (rows["analysis"] == ana).any():
        return (
            f"--only {only!r} names no document/analysis in the data (analyses of {doc}: {', '.join(rows['analysis'])})"
        )
    if doc == "shi_followup_3y" and not ana:
        return None  # the single-trial follow-up analyses
    sets = {s.key for s in study_sets(dataset)}
    for _, row in rows.iterrows():
        if ana and row["analysis"] != ana:
            continue
        summary_level = row["measure"] in ("OR", "RR") and row["ci_low"] == row["ci_low"]  # NaN != NaN
        if summary_level or f"{doc}/{row['analysis']}" in sets:
            return None
    what = f"{doc}/{ana}" if ana else doc
    return (
        f"--only {only!r}: nothing to reanalyse for {what} (no study set with known counts and no published ratio "
        "with a 95% interval)"
    )
