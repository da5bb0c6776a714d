"""Tests of the generic CSV rule checks (models/validation.py).

Expected values are closed-form facts of the rules themselves (message layout from the data-layer spec,
grade grammar from data/README.md); file-level rules are exercised on the real data in test_datasets.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from models.validation import (
    GRADE_PATTERN,
    DataValidationError,
    check_unique,
    parse_integers,
    parse_numbers,
    read_file_bytes,
    read_table,
    sheet_row,
    split_ids,
)


def test_error_message_names_file_row_and_column() -> None:
    # Layout given in the data-layer spec: "outcomes_binary.csv, row 7, column 'events': events (12) exceed total (10)".
    err = DataValidationError("outcomes_binary.csv", 7, "events", "events (12) exceed total (10)")
    assert str(err) == "outcomes_binary.csv, row 7, column 'events': events (12) exceed total (10)"
    assert (err.file, err.row, err.column) == ("outcomes_binary.csv", 7, "events")
    assert isinstance(err, ValueError)


def test_error_message_without_row_or_column() -> None:
    err = DataValidationError("published.csv", None, None, "the file is empty (no header, no rows)")
    assert str(err) == "published.csv: the file is empty (no header, no rows)"


def test_sheet_row_counts_the_header_as_row_one() -> None:
    assert sheet_row(0) == 2


@pytest.mark.parametrize("grade", ["P", "S", "INF", "NF", "P/S", "S/INF", "P/INF", "P (planned)"])
def test_grade_grammar_accepts_the_extraction_grades(grade: str) -> None:
    # Every grade text that occurs in the shared extraction (mortality.csv, outcomes_binary.csv, studies.csv).
    assert GRADE_PATTERN.fullmatch(grade)


@pytest.mark.parametrize("grade", ["", "p", "X", "P/", "PS", "P/X", "(planned)", "INF?", " P"])
def test_grade_grammar_rejects_unknown_grades(grade: str) -> None:
    assert not GRADE_PATTERN.fullmatch(grade)


def test_split_ids_empty_cell_is_empty_tuple() -> None:
    assert split_ids(float("nan")) == ()
    assert split_ids("a2020;b2021") == ("a2020", "b2021")


def test_parse_integers_reports_the_spreadsheet_row() -> None:
    frame = pd.DataFrame({"n": ["3", "4", "2.5"]}, dtype=str)
    with pytest.raises(DataValidationError, match=r"^f\.csv, row 4, column 'n': 2\.5 is not a whole number$"):
        parse_integers(frame, "f.csv", "n")


def test_parse_numbers_rejects_infinity() -> None:
    frame = pd.DataFrame({"x": ["1", "inf"]}, dtype=str)
    with pytest.raises(DataValidationError, match=r"row 3, column 'x': 'inf' is not a finite number"):
        parse_numbers(frame, "f.csv", "x")


def test_check_unique_names_the_first_occurrence() -> None:
    frame = pd.DataFrame({"k": ["a", "b", "a"]}, dtype=str)
    with pytest.raises(DataValidationError, match=r"row 4, column 'k': duplicate key \(k='a'\) already on row 2"):
        check_unique(frame, "f.csv", ("k",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9007199254740993", "9007199254740993 is too large (at most 2^53 = 9007199254740992; a larger count cannot be "
                             "held exactly)"),
        ("4503599627370496.5", "4503599627370496.5 is not a whole number"),
    ],
)  # fmt: skip
def test_parse_integers_decides_large_values_on_the_text(text: str, message: str) -> None:
    """issue 22: 2^53 + 1 was accepted as 2^53 (float parsing rounds from 2^52 on)."""
    with pytest.raises(DataValidationError) as info:
        parse_integers(pd.DataFrame({"n": ["3", text]}, dtype=str), "f.csv", "n")
    assert str(info.value) == f"f.csv, row 3, column 'n': {message}"
    exact = parse_integers(pd.DataFrame({"n": ["9007199254740992", None]}, dtype=str), "f.csv", "n")
    assert exact.iloc[0] == 2**53


def test_read_file_bytes_refuses_what_is_not_a_regular_file(tmp_path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path, message in (
        (fifo, "is a named pipe (FIFO), not a regular file; it was not read"),
        (tmp_path, "is a folder, not a CSV file"),
        (Path("/dev/zero"), "is a device, not a regular file; it was not read"),
        (tmp_path / "absent", "file not found"),
    ):
        with pytest.raises(DataValidationError) as info:
            read_file_bytes(path, "x")
        assert str(info.value) == f"x: {message}"
    big = tmp_path / "big"
    big.write_bytes(b"0" * 2_000_001)
    with pytest.raises(DataValidationError, match=r"^x: is 2\.0 MB, above the limit of 1\.0 MB; lift it$"):
        read_file_bytes(big, "x", 1_000_000, "; lift it")
    assert read_file_bytes(big, "x") == b"0" * 2_000_001


def test_read_table_refuses_a_fifo_without_blocking(tmp_path) -> None:
    """The project's own data files (and batch manifests) go through read_table: a FIFO there must not hang."""
    fifo = tmp_path / "studies.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataValidationError, match=r"^studies\.csv: is a named pipe \(FIFO\), not a regular file"):
        read_table(fifo, ("study",))
