"""Pieces shared by the command-line scripts: the ``--data``/``--results`` options and loading with a clear error."""

from __future__ import annotations

import argparse
import sys

from models.datasets import Dataset, DataValidationError, load_dataset


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--data`` (input folder) and ``--results`` (output folder) to a script's parser."""
    parser.add_argument("--data", default=None, help="data folder (default: the repository's data/)")
    parser.add_argument("--results", default="results", help="output folder (default: results/)")


def load_or_report(data_dir: str | None) -> Dataset | None:
    """The validated data set, or None after printing the validation error (file, row, column) on stderr."""
    try:
        return load_dataset(data_dir)
    except DataValidationError as err:
        print(f"error: {err}", file=sys.stderr)
        return None
