"""Shared script helpers: options and loading with a clear, one-line validation error."""

import argparse
import shutil
from pathlib import Path

from models.msc.options import add_data_arguments, load_or_report

DATA = Path(__file__).resolve().parents[1] / "data"


def test_data_arguments_have_defaults():
    parser = argparse.ArgumentParser()
    add_data_arguments(parser)
    args = parser.parse_args([])
    assert args.data is None and args.results == "results"


def test_load_or_report_returns_the_dataset():
    assert load_or_report(None).studies.shape[0] == 27  # 24 candidates in the extraction + 3 later studies


def test_load_or_report_prints_file_row_and_column(tmp_path, capsys):
    shutil.copytree(DATA, tmp_path / "data")
    path = tmp_path / "data" / "studies.csv"
    path.write_text(path.read_text().replace(",RCT,", ",RCTX,", 1))
    assert load_or_report(str(tmp_path / "data")) is None
    err = capsys.readouterr().err
    assert err.startswith("error: studies.csv, row 2") and "design" in err
