"""Generic rule checks for the project's CSV data files.

Every check reads a frame of raw strings (as returned by :func:`read_table`) and raises
:class:`DataValidationError` at the first offending cell, naming the file, the row and the
column, so that a user can open the file in a spreadsheet and go straight to the cell.

Row numbers follow the spreadsheet convention: the header is row 1, the first data row is
row 2. (This matches the line number in a text editor as long as no quoted value spans
several lines, which none of the project's files do.)
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

GRADES = ("P", "S", "INF", "NF")
_GRADE = "(?:" + "|".join(GRADES) + ")"
GRADE_PATTERN = re.compile(rf"^{_GRADE}(?:/{_GRADE})*(?: \([^()]+\))?$")
_TRUE, _FALSE = "true", "false"

MAX_COUNT = 2**53
"""Largest count accepted: counts are held as float64 (NaN = unknown), which holds whole numbers exactly only up to
2^53. Checked on the parsed value before any cast, so a huge count is refused instead of wrapping round in int64."""

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters (NUL, escape, C1 controls, ...) refused in every cell and column name. Tab and newline are
not in the class (a quoted multi-line note is legal CSV); they are refused where a label is checked."""

NA_TOKENS = frozenset({"na", "n/a", "nan", "null", "none", "#n/a", "-nan", "-", "?", "missing"})
"""Spellings of 'not available' that a spreadsheet or pandas would turn into a missing value; never a label."""


class DataValidationError(ValueError):
    """A data file breaks a rule; names the file, the row and the column.

    ``row`` is the spreadsheet row number (header = row 1, first data row = row 2) or None
    when the problem concerns the whole file or a whole column. ``column`` is None when the
    problem concerns a whole row or the whole file.
    """

    def __init__(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


def sheet_row(position: int) -> int:
    """Spreadsheet row number of the data row at 0-based ``position`` (header = row 1)."""
    return position + 2


_NOT_REGULAR = (
    (stat.S_ISDIR, "is a folder, not a CSV file"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a regular file; it was not read"),
    (stat.S_ISCHR, "is a device, not a regular file; it was not read"),
    (stat.S_ISBLK, "is a device, not a regular file; it was not read"),
    (stat.S_ISSOCK, "is a socket, not a regular file; it was not read"),
)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


def _refuse_unless_regular(mode: int, name: str) -> None:
    for test, message in _NOT_REGULAR:
        if test(mode):
            raise DataValidationError(name, None, None, message)
    if not stat.S_ISREG(mode):
        raise DataValidationError(name, None, None, "is not a regular file; it was not read")


def read_file_bytes(path: str | Path, name: str, max_bytes: int | None = None, limit_hint: str = "") -> bytes:
    """The bytes of a regular file, refused by name before anything is read when it is not one.

    ``os.stat`` decides first, so a folder, a FIFO (which would block), a device such as ``/dev/zero`` (which never
    ends) or a socket is refused without being opened for reading. The file is then opened non-blocking and checked
    again on the open descriptor (it may have been swapped since), and at most ``max_bytes`` are read: a larger file
    is refused with its size and the limit (``limit_hint`` says how to raise it). Messages name ``name``.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataValidationError(name, None, None, "file not found") from None
    except OSError as err:
        raise DataValidationError(name, None, None, f"cannot be read ({err.strerror or err})") from None
    _refuse_unless_regular(info.st_mode, name)
    _refuse_if_larger(info.st_size, max_bytes, name, limit_hint)
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as err:
        raise DataValidationError(name, None, None, f"cannot be read ({err.strerror or err})") from None
    chunks: list[bytes] = []
    try:
        opened = os.fstat(fd)
        _refuse_unless_regular(opened.st_mode, name)
        want, total = opened.st_size + 1, 0
        while chunk := os.read(fd, want):  # to the end, or just past the limit if the file grew since the stat
            chunks.append(chunk)
            total += len(chunk)
            if max_bytes is not None and total > max_bytes:
                break
            want = 1 << 20
    except OSError as err:
        raise DataValidationError(name, None, None, f"cannot be read ({err.strerror or err})") from None
    finally:
        os.close(fd)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    _refuse_if_larger(len(data), max_bytes, name, limit_hint)
    return data


def _refuse_if_larger(size: int, max_bytes: int | None, name: str, hint: str) -> None:
    if max_bytes is not None and size > max_bytes:
        raise DataValidationError(
            name, None, None, f"is {size / 1e6:,.1f} MB, above the limit of {max_bytes / 1e6:,.1f} MB{hint}"
        )


def read_table(path: Path, required: Sequence[str], *, name: str | None = None) -> pd.DataFrame:
    """Read a CSV as raw strings (empty cells become NaN, nothing else is converted).

    ``name`` is how messages name the file (default: the file name). Raises DataValidationError when the file is
    missing, empty, not UTF-8 text, not parseable as CSV, has an empty or repeated column name, a control character
    (NUL etc.) in any cell, no data rows, or lacks one of the ``required`` columns. Blank lines inside the file are
    kept as empty rows so that row numbers in later messages match the file; blank lines at its end are dropped.
    A UTF-8 byte-order mark (as spreadsheet programs write) is ignored.
    """
    name = path.name if name is None else name
    if not path.exists() and not path.is_symlink():
        raise DataValidationError(name, None, None, f"file not found in {path.parent.name or '.'}/")
    data = read_file_bytes(path, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        row = data[: err.start].count(b"\n") + 1
        raise DataValidationError(name, row, None, f"cannot be read as UTF-8 text ({err.reason})") from None
    if not text.strip():
        raise DataValidationError(name, None, None, "the file is empty (no header, no rows)")
    header = _header(text, name)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""],
                            skip_blank_lines=False)  # fmt: skip
    except pd.errors.EmptyDataError:
        raise DataValidationError(name, None, None, "the file is empty (no header, no rows)") from None
    except pd.errors.ParserError as err:
        line = re.search(r"line (\d+)", str(err))
        row = int(line.group(1)) if line else None
        raise DataValidationError(name, row, None, f"cannot be read as CSV ({' '.join(str(err).split())})") from None
    frame.columns = header
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataValidationError(name, None, missing[0], f"required column missing (needs {', '.join(required)})")
    blank = frame.isna().all(axis=1).to_numpy()
    end = len(frame)
    while end and blank[end - 1]:
        end -= 1
    frame = frame.iloc[:end]
    if frame.empty:
        raise DataValidationError(name, None, None, "the file has a header but no data rows")
    frame = frame.reset_index(drop=True)
    _check_control_characters(frame, name)
    return frame


def _header(text: str, file: str) -> list[str]:
    """The column names of the first line; refuses empty, padded-to-nothing and repeated names."""
    try:
        names = next(csv.reader(io.StringIO(text)))
    except (csv.Error, StopIteration) as err:
        raise DataValidationError(file, 1, None, f"cannot read the header line ({err})") from None
    seen: dict[str, int] = {}
    for i, col in enumerate(names, start=1):
        if CONTROL.search(col):
            raise DataValidationError(file, 1, col, "column name contains a control character")
        if not col.strip():
            raise DataValidationError(file, 1, None, f"column {i} has an empty name")
        if col in seen:
            raise DataValidationError(file, 1, col, f"column name appears twice (columns {seen[col]} and {i})")
        seen[col] = i
    return names


def _check_control_characters(frame: pd.DataFrame, file: str) -> None:
    """No cell holds a control character (NUL, escape, ...); the first offending cell by row is named."""
    hits = pd.DataFrame({c: frame[c].str.contains(CONTROL, na=False) for c in frame.columns})
    rows = hits.any(axis=1)
    pos = _first(rows)
    if pos is not None:
        column = next(c for c in frame.columns if hits[c].iloc[pos])
        char = CONTROL.search(frame[column].iloc[pos]).group()
        raise DataValidationError(file, sheet_row(pos), column, f"contains the control character {char!r}")


def _first(mask: pd.Series) -> int | None:
    hits = mask.to_numpy().nonzero()[0]
    return int(hits[0]) if hits.size else None


def fail_where(mask: pd.Series, file: str, column: str | None, message: Callable[[int], str]) -> None:
    """Raise for the first row where ``mask`` is true; ``message(position)`` words the problem."""
    pos = _first(mask)
    if pos is not None:
        raise DataValidationError(file, sheet_row(pos), column, message(pos))


def check_present(frame: pd.DataFrame, file: str, column: str) -> None:
    """Every row has a non-empty value in ``column``."""
    fail_where(frame[column].isna(), file, column, lambda _: "value is required but empty")


def parse_numbers(
    frame: pd.DataFrame,
    file: str,
    column: str,
    *,
    required: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> pd.Series:
    """Convert ``column`` to float (NaN where empty), checking finiteness and an optional [low, high] range."""
    raw = frame[column]
    if required:
        check_present(frame, file, column)
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = raw.notna() & ~np.isfinite(values)
    fail_where(bad, file, column, lambda i: f"{raw.iloc[i]!r} is not a finite number")
    if low is not None:
        fail_where(values < low, file, column, lambda i: f"{raw.iloc[i]} is below the allowed minimum {low:g}")
    if high is not None:
        fail_where(values > high, file, column, lambda i: f"{raw.iloc[i]} is above the allowed maximum {high:g}")
    return values


def parse_integers(
    frame: pd.DataFrame, file: str, column: str, *, required: bool = False, minimum: int | None = 0
) -> pd.Series:
    """Convert ``column`` to whole numbers held as float (NaN where empty); counts use ``minimum=0``.

    Values above :data:`MAX_COUNT` are refused before anything casts them (they would lose digits, or wrap round in
    int64); the comparison is made on the text, so 2^53 + 1 is refused rather than read as 2^53.
    """
    values = parse_numbers(frame, file, column, required=required)
    raw = frame[column]
    exact = raw.where(values >= 2**52).map(_decimal, na_action="ignore")  # from 2^52 on, floats round: use the text
    fail_where(
        (values > MAX_COUNT) | (exact > MAX_COUNT),
        file,
        column,
        lambda i: f"{raw.iloc[i]} is too large (at most 2^53 = {MAX_COUNT}; a larger count cannot be held exactly)",
    )
    whole = values == values.round()
    whole[exact.notna()] = exact[exact.notna()].map(lambda d: d == d.to_integral_value()).astype(bool)
    fail_where(values.notna() & ~whole, file, column, lambda i: f"{raw.iloc[i]} is not a whole number")
    if minimum is not None:
        fail_where(
            values < minimum,
            file,
            column,
            lambda i: f"{raw.iloc[i]} is negative" if minimum == 0 else f"{raw.iloc[i]} is below {minimum}",
        )
    return values


def _decimal(text: str) -> Decimal:
    """The number written in ``text``, exactly (the text already parsed as a finite float)."""
    return Decimal(text.strip())


def parse_booleans(frame: pd.DataFrame, file: str, column: str) -> pd.Series:
    """Convert a required ``true``/``false`` column to bool."""
    raw = frame[column]
    check_present(frame, file, column)
    fail_where(~raw.isin([_TRUE, _FALSE]), file, column, lambda i: f"{raw.iloc[i]!r} is not 'true' or 'false'")
    return raw == _TRUE


def check_labels(
    frame: pd.DataFrame, file: str, column: str, allowed: Collection[str], *, required: bool = True
) -> None:
    """Values of ``column`` are among ``allowed`` (empty allowed only when not ``required``)."""
    raw = frame[column]
    if required:
        check_present(frame, file, column)
    fail_where(
        raw.notna() & ~raw.isin(list(allowed)),
        file,
        column,
        lambda i: f"unknown label {raw.iloc[i]!r} (allowed: {', '.join(allowed)})",
    )


def check_pattern(frame: pd.DataFrame, file: str, column: str, pattern: re.Pattern[str], rule: str) -> None:
    """Every value of a required ``column`` matches ``pattern``; ``rule`` says the rule in words."""
    raw = frame[column]
    check_present(frame, file, column)
    fail_where(~raw.map(lambda v: bool(pattern.fullmatch(v))), file, column, lambda i: f"{raw.iloc[i]!r}: {rule}")


def check_grades(frame: pd.DataFrame, file: str, column: str, *, required: bool = True) -> None:
    """Grade text starts with a known grade (P, S, INF, NF).

    Combined grades (``P/S``, ``S/INF``) and a bracketed qualifier (``P (planned)``) are kept
    as text; every component must be a known grade. With ``required=False`` empty cells pass.
    """
    rule = f"grade must be one of {', '.join(GRADES)}, optionally combined with '/' and followed by ' (qualifier)'"
    if required:
        check_pattern(frame, file, column, GRADE_PATTERN, rule)
        return
    raw = frame[column]
    bad = raw.notna() & ~raw.fillna("").map(lambda v: bool(GRADE_PATTERN.fullmatch(v)))
    fail_where(bad, file, column, lambda i: f"{raw.iloc[i]!r}: {rule}")


def grade_is_not_found(grades: pd.Series) -> pd.Series:
    """True where the (validated) grade text starts with NF, i.e. the value was not found."""
    return grades.str.match(r"NF\b")


def check_unique(frame: pd.DataFrame, file: str, key: Sequence[str]) -> None:
    """No two rows share the same values in the ``key`` columns."""
    dup = frame.duplicated(subset=list(key), keep="first")
    column = key[-1] if len(key) > 1 else key[0]
    fail_where(
        dup,
        file,
        column,
        lambda i: (
            "duplicate key ("
            + ", ".join(f"{k}={frame[k].iloc[i]!r}" for k in key)
            + f") already on row {sheet_row(_duplicate_of(frame, key, i))}"
        ),
    )


def _duplicate_of(frame: pd.DataFrame, key: Sequence[str], position: int) -> int:
    same = (frame[list(key)] == frame[list(key)].iloc[position]).all(axis=1)
    return _first(same) or 0


def split_ids(value: object, separator: str = ";") -> tuple[str, ...]:
    """Split a ``;``-separated id list; an empty cell gives an empty tuple."""
    if not isinstance(value, str) or not value:
        return ()
    return tuple(value.split(separator))


def check_id_lists(frame: pd.DataFrame, file: str, column: str, known: Collection[str]) -> None:
    """Each ``;``-separated id in ``column`` is in ``known``, non-empty and not repeated within the cell."""
    known = set(known)
    for pos, value in enumerate(frame[column]):
        ids = split_ids(value)
        for sid in ids:
            if not sid or sid != sid.strip():
                raise DataValidationError(
                    file, sheet_row(pos), column, f"empty or padded id in {value!r} (use 'a;b;c')"
                )
            if sid not in known:
                raise DataValidationError(file, sheet_row(pos), column, f"unknown study_id {sid!r}")
        if len(set(ids)) != len(ids):
            raise DataValidationError(file, sheet_row(pos), column, f"a study_id is listed twice in {value!r}")


def check_references(frame: pd.DataFrame, file: str, column: str, known: Collection[str], target: str) -> None:
    """Every value of ``column`` exists in ``known`` (the keys of the ``target`` file)."""
    raw = frame[column]
    check_present(frame, file, column)
    fail_where(~raw.isin(list(known)), file, column, lambda i: f"{raw.iloc[i]!r} is not in {target}")


def check_labels_text(frame: pd.DataFrame, file: str, column: str) -> None:
    """Every value of ``column`` is a usable label: present, not an NA spelling, not padded, no tab or newline."""
    raw = frame[column]
    check_present(frame, file, column)
    fail_where(
        raw.str.strip().str.lower().isin(NA_TOKENS),
        file,
        column,
        lambda i: f"{raw.iloc[i]!r} is a missing-value marker, not a label",
    )
    fail_where(raw != raw.str.strip(), file, column, lambda i: f"{raw.iloc[i]!r} has leading or trailing spaces")
    fail_where(
        raw.str.contains(r"[\t\n\r]", regex=True),
        file,
        column,
        lambda i: f"{raw.iloc[i]!r} contains a tab or line break",
    )
