"""Every malformed input is refused before any work: exit 2, one line naming the file, the spreadsheet row (header =
row 1) and the column; nothing computed, nothing written.

Two readers of a user's data: a study CSV (2x2 and continuous here, through ``scripts/pool.py``; the one study-file
reader :mod:`models.reader`, whose every case is in tests/reader/) and the data folder of ``scripts/reanalyse.py``
(``models.msc.datasets``). Each case names the expected row and column; the
expected message is the rule in words. Cases from the issue report are marked ``issue:`` in their id.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
from scripts_loader import _load

from models.msc.datasets import DEFAULT_DATA_DIR, DataValidationError, load_dataset

pool_cli = _load("pool")

HEADER_2X2 = "study,e_t,n_t,e_c,n_c"
GOOD_2X2 = ["a,1,10,2,10", "b,3,20,4,20"]
HEADER_CONT = "study,n_t,mean_t,sd_t,n_c,mean_c,sd_c"
GOOD_CONT = ["a,10,5.0,1.0,10,6.0,1.5", "b,20,4.0,2.0,20,5.0,2.0"]


def _case(row: int | None, column: str | None, message: str, *lines: str):
    return (lines, row, column, message)


# (file lines after the header, or a full file when the first line starts with '#!'), row, column, message
CASES_2X2 = {
    "issue:zero-patients-arm": _case(
        None, None, "has 1 study after dropping 1; a meta-analysis needs at least 2", GOOD_2X2[0], "b,0,10,0,0"
    ),
    "issue:count-2^63": _case(2, "e_t", "too large", "a,9223372036854775808,9223372036854775808,1,2"),
    "count-2^64": _case(2, "n_c", "too large", "a,1,10,1,18446744073709551616"),
    "count-1e30": _case(2, "n_t", "too large", "a,1,1e30,1,10"),
    "issue:duplicated-column": (
        ("#!study,e_t,n_t,e_c,n_c,e_t", "a,1,10,2,10,5"),
        1,
        "e_t",
        "column name appears twice",
    ),
    "empty-column-name": (("#!study,e_t,n_t,,e_c,n_c", "a,1,10,x,2,10"), 1, None, "column 4 has an empty name"),
    "issue:empty-study-id": _case(3, "study", "value is required but empty", GOOD_2X2[0], ",1,10,2,10"),
    "issue:NA-study-id": _case(3, "study", "'NA' is a missing-value marker", GOOD_2X2[0], "NA,1,10,2,10"),
    "nan-study-id": _case(2, "study", "'nan' is a missing-value marker", "nan,1,10,2,10"),
    "null-study-id": _case(2, "study", "'NULL' is a missing-value marker", "NULL,1,10,2,10"),
    "issue:NUL-in-label": _case(3, "study", r"control character '\\x00'", GOOD_2X2[0], "b\x00c,1,10,2,10"),
    "escape-in-label": _case(2, "study", "control character", "a\x1b[31m,1,10,2,10"),
    "tab-in-label": _case(2, "study", "tab or line break", "a\tb,1,10,2,10"),
    "a-label-of-1000-characters": _case(
        2, "study", "a label of 1,000 characters; at most 200", "x" * 1000 + ",1,10,2,10"
    ),
    "events-over-total": _case(2, "e_t", r"e_t \(11\) exceeds n_t \(10\)", "a,11,10,2,10"),
    "control-events-over-total": _case(3, "e_c", r"e_c \(12\) exceeds n_c \(10\)", GOOD_2X2[0], "b,1,10,12,10"),
    "negative-count": _case(2, "e_c", "'-2' is negative", "a,1,10,-2,10"),
    "fractional-count": _case(2, "n_t", r"'10\.5' is not a whole number", "a,1,10.5,2,10"),
    "issue:count-2^53+1": _case(2, "n_t", "too large .* never rounded", "a,1,9007199254740993,2,10"),
    "text-count": _case(2, "e_t", "'one' is not a finite number", "a,one,10,2,10"),
    "infinite-count": _case(2, "n_c", "'inf' is not a finite number", "a,1,10,2,inf"),
    "empty-count": _case(3, "n_t", "value is required but empty", GOOD_2X2[0], "b,1,,2,10"),
    "NA-count": _case(2, "e_t", "'NA' is not a finite number", "a,NA,10,2,10"),
    "missing-column": (("#!study,e_t,n_t,e_c", "a,1,10,2"), 1, None, r"matches no layout: .*which lacks n_c"),
    "header-only": (("#!study,e_t,n_t,e_c,n_c",), None, None, "header but no data rows"),
    "too-many-fields": _case(3, None, "has 6 fields, the header 5", GOOD_2X2[0], "b,1,10,2,10,7"),
}

CASES_CONT = {
    "n-below-2": _case(2, "n_t", "n_t must be at least 2; got 1", "a,1,5.0,1.0,10,6.0,1.5"),
    "zero-sd": _case(
        3, "sd_c", r"'0' is outside the range the engines handle \(0 < SD", GOOD_CONT[0], "b,20,4.0,2.0,20,5.0,0"
    ),
    "negative-sd": _case(2, "sd_t", r"'-1' is outside the range .*0 < SD", "a,10,5.0,-1,10,6.0,1.5"),
    "empty-mean": _case(2, "mean_c", "value is required but empty", "a,10,5.0,1.0,10,,1.5"),
    "text-mean": _case(2, "mean_t", "'five' is not a finite number", "a,10,five,1.0,10,6.0,1.5"),
    "nan-mean": _case(2, "mean_t", "'nan' is not a finite number", "a,10,nan,1.0,10,6.0,1.5"),
    "huge-n": _case(2, "n_c", "too large", "a,10,5.0,1.0,99999999999999999999,6.0,1.5"),
    "NA-study": _case(2, "study", "'N/A' is a missing-value marker", "N/A,10,5.0,1.0,10,6.0,1.5"),
    "NUL-study": _case(2, "study", "control character", "x\x00,10,5.0,1.0,10,6.0,1.5"),
    "duplicated-column": (("#!study,n_t,mean_t,sd_t,n_c,mean_c,sd_c,sd_c", "a,10,5,1,10,6,1.5,2"), 1, "sd_c", "twice"),
    "missing-column": (("#!study,n_t,mean_t,sd_t,n_c,mean_c", "a,10,5,1,10,6"), 1, None, "which lacks sd_c"),
}


def _write(tmp_path: Path, header: str, lines: tuple[str, ...]) -> Path:
    path = tmp_path / "studies in.csv"
    body = [lines[0][2:], *lines[1:]] if lines and lines[0].startswith("#!") else [header, *lines]
    path.write_bytes(("\n".join(body) + "\n").encode())
    return path


def _expect(err: str, path: Path, row: int | None, column: str | None, message: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    where = str(path) + (f", row {row}" if row is not None else "") + (f", column {column!r}" if column else "")
    assert err.startswith(f"pool.py: error: {where}: "), err
    assert re.search(message, err), err


@pytest.mark.parametrize(("lines", "row", "column", "message"), CASES_2X2.values(), ids=CASES_2X2.keys())
def test_bad_2x2_csv_exits_2(tmp_path, capsys, lines, row, column, message) -> None:
    path = _write(tmp_path, HEADER_2X2, lines)
    assert pool_cli.main([str(path), "--measure", "RR", "--method", "MH", "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    _expect(out.err, path, row, column, message)


@pytest.mark.parametrize(("lines", "row", "column", "message"), CASES_CONT.values(), ids=CASES_CONT.keys())
def test_bad_continuous_csv_exits_2(tmp_path, capsys, lines, row, column, message) -> None:
    path = _write(tmp_path, HEADER_CONT, lines)
    assert pool_cli.main([str(path), "--measure", "MD", "--method", "DL"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    _expect(out.err, path, row, column, message)


def test_good_files_pool(tmp_path, capsys) -> None:
    """The base rows of the cases above are valid, so each case fails for its one broken cell."""
    assert pool_cli.main([str(_write(tmp_path, HEADER_2X2, tuple(GOOD_2X2))), "--measure", "RR", "--method", "MH"]) == 0
    assert (
        pool_cli.main([str(_write(tmp_path, HEADER_CONT, tuple(GOOD_CONT))), "--measure", "MD", "--method", "DL"]) == 0
    )
    capsys.readouterr()


def test_bom_is_accepted(tmp_path, capsys) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join([HEADER_2X2, *GOOD_2X2]) + "\n").encode())
    assert pool_cli.main([str(path), "--measure", "OR", "--method", "MH"]) == 0
    assert "a" in capsys.readouterr().out


# ---------------------------------------------------------------- the data folder


def _edit(directory: Path, file: str, match: dict[str, str], **cells: str) -> int:
    path = directory / file
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = list(reader.fieldnames or []), list(reader)
    hits = [i for i, r in enumerate(rows) if all(r[k] == v for k, v in match.items())]
    assert hits, f"test setup: no row of {file} matches {match}"
    rows[hits[0]].update(cells)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return hits[0] + 2


OB, PU, ST, AS, CO = (
    "outcomes_binary.csv",
    "published.csv",
    "studies.csv",
    "analysis_sets.csv",
    "outcomes_continuous.csv",
)
SHU_MSC = {"study_id": "shu2020", "outcome": "mortality", "arm": "msc"}
TANG = {"document": "tang2024", "analysis": "mortality"}
DATA_CASES = {
    "issue:zero-patients-arm": (OB, SHU_MSC, {"total": "0"}, "total", "an arm needs at least one patient"),
    "issue:count-2^63": (
        OB,
        SHU_MSC,
        {"events": "9223372036854775808", "total": "9223372036854775809"},
        "events",
        "too large",
    ),
    "issue:empty-estimate-with-ci": (PU, TANG, {"estimate": ""}, "estimate", "empty while its confidence interval"),
    "issue:missing-ci-low": (PU, TANG, {"ci_low": ""}, "ci_low", "empty while ci_high is given"),
    "issue:missing-ci-high": (PU, TANG, {"ci_high": ""}, "ci_high", "empty while ci_low is given"),
    "issue:zero-width-ci": (
        PU,
        TANG,
        {"estimate": "0.6", "ci_low": "0.6", "ci_high": "0.6"},
        "ci_low",
        r"ci_low \(0\.6\) equals the estimate",
    ),
    "estimate-equals-ci-high": (PU, TANG, {"ci_high": "0.76"}, "ci_high", r"estimate \(0\.76\) equals ci_high"),
    "issue:NUL-in-note": (OB, SHU_MSC, {"note": "fine\x00print"}, "note", "control character"),
    "NUL-in-document": (PU, TANG, {"document": "tang\x002024"}, "document", "control character"),
    "NA-document": (AS, TANG, {"document": "NA"}, "document", "missing-value marker"),
    "NA-study-id": (ST, {"study_id": "shi2021"}, {"study_id": "NA"}, "study_id", "lower-case letters"),
    "empty-study-id": (ST, {"study_id": "shi2021"}, {"study_id": ""}, "study_id", "value is required but empty"),
    "zero-continuous-arm": (CO, {"study_id": "zhu2021"}, {"n_msc": "0"}, "n_msc", "at least one patient"),
    "huge-continuous-n": (CO, {"study_id": "zhu2021"}, {"n_ctl": "1e400"}, "n_ctl", "not a finite number"),
}


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


@pytest.mark.parametrize(("file", "match", "cells", "column", "message"), DATA_CASES.values(), ids=DATA_CASES.keys())
def test_bad_data_folder_is_refused(data_copy, file, match, cells, column, message) -> None:
    row = _edit(data_copy, file, match, **cells)
    with pytest.raises(DataValidationError, match=message) as info:
        load_dataset(data_copy)
    assert (info.value.file, info.value.row, info.value.column) == (file, row, column)


def _header_edit(data_copy: Path, file: str, old: str, new: str) -> None:
    path = data_copy / file
    head, rest = path.read_text(encoding="utf-8").split("\n", 1)
    path.write_text(head.replace(old, new, 1) + "\n" + rest, encoding="utf-8")


def test_duplicated_data_column_is_refused(data_copy) -> None:
    _header_edit(data_copy, OB, "events,total", "events,events")
    with pytest.raises(
        DataValidationError, match=r"^outcomes_binary\.csv, row 1, column 'events': column name appears"
    ):
        load_dataset(data_copy)


def test_empty_data_column_name_is_refused(data_copy) -> None:
    _header_edit(data_copy, ST, ",journal,", ",,")
    with pytest.raises(DataValidationError, match=r"^studies\.csv, row 1: column 4 has an empty name"):
        load_dataset(data_copy)


def test_bad_data_folder_exits_2_and_writes_nothing(data_copy, tmp_path, capsys) -> None:
    from scripts_loader import reanalyse_main

    _edit(data_copy, PU, TANG, ci_low="")
    assert reanalyse_main(["--data", str(data_copy), "--results", str(tmp_path / "res"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"error: published\.csv, row \d+, column 'ci_low': empty while ci_high is given .*\n", err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
