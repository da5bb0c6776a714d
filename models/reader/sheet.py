"""The text of a study file, from a path to checked records and cells.

File checks (regular file, size), decoding (UTF-8, BOM), the separator (comma, semicolon, tab) and decimal commas,
the study-count limit counted before parsing, control characters, column names, and the cell rules (numbers parsed
from plain decimal text, counts parsed exactly, labels). What the columns and rows mean is
:mod:`models.reader.studies`; the rules are stated in :mod:`models.reader`.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from models.validation import CONTROL, NA_TOKENS, DataValidationError, read_file_bytes

SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
"""A number as the reader accepts it: plain decimal notation with an optional exponent (no inf, nan, 1_000)."""
_BREAK = re.compile(r"[\t\n\r]")
_CONTROL_BUT_CR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters other than the CR of CRLF line ends (a lone CR inside a label is refused as a line break)."""
_FILLED_LINE = re.compile(r"\n[ \t\r,;\"]*[^\s,;\"]")
_SHOWN = 40


class StudyFileError(DataValidationError):
    """A study file breaks a rule; names the file, the spreadsheet row (header = row 1) and the column."""


@dataclass(frozen=True)
class Limits:
    """What the reader accepts (stated in :mod:`models.reader`); a caller may lift a limit, e.g. from an option.

    ``hint`` ends the messages of the size and study-count limits with how to lift them (the command's option),
    e.g. ``"; raise it with --max-file-mb"``.
    """

    max_bytes: int = 50_000_000
    max_studies: int = 10_000
    min_studies: int = 2
    max_label: int = 200
    max_count: int = 1_000_000_000
    max_effect: float = 50.0
    max_raw: float = 1e9
    min_vi: float = 1e-12
    max_vi: float = 1e6
    max_vi_md: float = 1e18
    hint: str = ""

    def effect_bound(self, measure: str) -> float:
        """Largest |yi| on the analysis scale: :attr:`max_raw` for MD (outcome units), else :attr:`max_effect`."""
        return self.max_raw if measure == "MD" else self.max_effect

    def vi_bounds(self, measure: str) -> tuple[float, float]:
        """Smallest and largest sampling variance accepted for ``measure``."""
        return self.min_vi, self.max_vi_md if measure == "MD" else self.max_vi


LIMITS = Limits()


def show(text: str) -> str:
    """A cell for a message: quoted, and cut to a few dozen characters (a message never echoes a foreign file)."""
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "...")


@dataclass(frozen=True)
class Rule:
    """How the cells of one column are read: a count, or a real number in [low, high] (``words`` says the range;
    ``open_low`` excludes ``low`` itself)."""

    count: bool
    low: float = -math.inf
    high: float = math.inf
    words: str = ""
    open_low: bool = False


@dataclass
class Sheet:
    """The records of a file: the header as written (trimmed), the non-blank data rows with their spreadsheet row
    numbers, the separator and whether numbers use decimal commas. Cell readers raise :class:`StudyFileError`."""

    name: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    separator: str
    limits: Limits
    decimal_comma: bool = False

    def error(self, row: int | None, column: str | None, message: str) -> StudyFileError:
        """The error for a cell, a row (``column`` None) or the file (both None)."""
        return StudyFileError(self.name, row, column, message)

    def columns(self) -> dict[str, int]:
        """Column index by lower-case name; refuses a repeated name, and a nameless column that holds values."""
        index: dict[str, int] = {}
        for i, raw in enumerate(self.header):
            key = raw.lower()
            if not key:
                if any(i < len(f) and f[i].strip() for _, f in self.rows):
                    raise self.error(1, None, f"column {i + 1} has an empty name but holds values")
                continue
            if key in index:
                raise self.error(
                    1, raw, f"column name appears twice (columns {index[key] + 1} and {i + 1}; case is ignored)"
                )
            index[key] = i
        return index

    def detect_decimal_comma(self, used: Sequence[int]) -> None:
        """A semicolon- or tab-separated file writes decimal commas when any cell of the ``used`` columns has one."""
        self.decimal_comma = self.separator != "," and any(
            i < len(f) and "," in f[i] for _, f in self.rows for i in used
        )

    def _number_text(self, cell: str, row: int, column: str) -> str:
        if self.decimal_comma:
            if "." in cell:
                raise self.error(
                    row, column, f"{show(cell)} has a point in a file with decimal commas (a thousands separator?): "
                    "write numbers without thousands separators"
                )  # fmt: skip
            return cell.replace(",", ".")
        if "," in cell and NUMBER.fullmatch(cell.replace(",", ".")):
            raise self.error(
                row, column, f"{show(cell)} has a decimal comma: in a comma-separated file write it with a point "
                "(0.5), or save the file with ';' as separator"
            )  # fmt: skip
        return cell

    def number(self, cell: str, rule: Rule, row: int, column: str) -> float:
        """A real number inside ``rule``'s range."""
        text = self._number_text(cell, row, column)
        value = float(text) if NUMBER.fullmatch(text) else math.nan
        if not math.isfinite(value):
            raise self.error(row, column, f"{show(cell)} is not a finite number")
        if value < rule.low or value > rule.high or (rule.open_low and value <= rule.low):
            raise self.error(row, column, f"{show(cell)} is outside the range the engines handle ({rule.words})")
        return value

    def count(self, cell: str, row: int, column: str) -> int:
        """A whole number in [0, max_count], parsed exactly from the text (never rounded)."""
        if cell.isdigit() and cell.isascii():
            value = int(cell) if len(cell) < 20 else self.limits.max_count + 1
        else:
            text = self._number_text(cell, row, column)
            if not NUMBER.fullmatch(text):
                raise self.error(row, column, f"{show(cell)} is not a finite number")
            exact = Decimal(text)
            if exact < 0:
                raise self.error(row, column, f"{show(cell)} is negative")
            if exact > self.limits.max_count:
                value = self.limits.max_count + 1
            elif exact != exact.to_integral_value():
                raise self.error(row, column, f"{show(cell)} is not a whole number")
            else:
                value = int(exact)
        if value > self.limits.max_count:
            raise self.error(
                row, column, f"{show(cell)} is too large (a count is at most {self.limits.max_count:,}; larger counts "
                "are refused, never rounded)"
            )  # fmt: skip
        return value

    def label(self, cell: str, row: int, column: str) -> str:
        """A usable label: present, not a missing-value marker, not too long, no tab or line break."""
        if not cell:
            raise self.error(row, column, "value is required but empty")
        if cell.lower() in NA_TOKENS:
            raise self.error(row, column, f"{show(cell)} is a missing-value marker, not a label")
        if len(cell) > self.limits.max_label:
            raise self.error(
                row, column, f"a label of {len(cell):,} characters; at most {self.limits.max_label} are allowed"
            )
        if _BREAK.search(cell):
            raise self.error(row, column, f"{show(cell)} contains a tab or line break")
        return cell

    def year(self, cell: str, row: int, column: str) -> int:
        """A year: a whole number from 1 to 9999."""
        if not cell:
            raise self.error(row, column, "value is required but empty")
        if not (cell.isdigit() and cell.isascii()) or not 1 <= int(cell) <= 9999:
            raise self.error(row, column, f"{show(cell)} is not a year (a whole number 1 to 9999)")
        return int(cell)

    def covariate(self, cell: str, row: int, column: str) -> float:
        """A covariate value, NaN when empty or a missing-value marker (NA, n/a, ...)."""
        if not cell or cell.lower() in NA_TOKENS:
            return math.nan
        return self.number(cell, Rule(False, words="finite"), row, column)


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise StudyFileError(name, None, None, "is UTF-16 text; save it as 'CSV UTF-8' (comma-separated)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        row = data[: err.start].count(b"\n") + 1
        raise StudyFileError(
            name, row, None, f"is not UTF-8 text ({err.reason}); save it as 'CSV UTF-8' (comma-separated)"
        ) from None
    if not text.strip():
        raise StudyFileError(name, None, None, "the file is empty (no header, no rows)")
    return text


def _separator(text: str) -> str:
    """Comma, semicolon or tab: whichever splits the first line into most fields (comma on a tie)."""
    first = text.split("\n", 1)[0]
    fields = {sep: first.count(sep) for sep in SEPARATORS}
    if '"' in first:  # a separator inside quotes does not count
        for sep in SEPARATORS:
            try:
                fields[sep] = len(next(csv.reader([first], delimiter=sep)))
            except (csv.Error, StopIteration):
                fields[sep] = 0
    return max(SEPARATORS, key=lambda s: (fields[s], s == ","))


def _records(text: str, sep: str, name: str) -> list[tuple[int, list[str]]]:
    """(spreadsheet row, fields) of every record with a non-blank field; a record's row is the line it starts on."""
    out = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    line = 1
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                out.append((line, fields))
            line = reader.line_num + 1
    except csv.Error as err:
        raise StudyFileError(name, line, None, f"cannot be read as CSV ({err})") from None
    return out


def _refuse_control_characters(sheet: Sheet) -> None:
    for i, column in enumerate(sheet.header):
        if CONTROL.search(column):
            raise sheet.error(1, None, f"column {i + 1} has a control character in its name")
    for row, fields in sheet.rows:
        for i, cell in enumerate(fields):
            hit = CONTROL.search(cell)
            if hit:
                column = sheet.header[i] if i < len(sheet.header) else None
                raise sheet.error(row, column, f"contains the control character {hit.group()!r}")


def read_sheet(path: str | Path, name: str, limits: Limits) -> Sheet:
    """The records of the file at ``path`` (messages name it ``name``), after the file-level checks: a regular file
    within the size limit, UTF-8 text, a header on row 1 and 1 to ``max_studies`` data rows, no control character."""
    try:
        data = read_file_bytes(path, name, limits.max_bytes, limits.hint)
    except DataValidationError as err:
        raise StudyFileError(err.file, err.row, err.column, err.message) from None
    text = _decode(data, name)
    too_many = f"the limit is {limits.max_studies:,} studies{limits.hint}"
    if text.count("\n") > limits.max_studies + 1:  # before parsing: count lines with content, up to the limit
        filled = _FILLED_LINE.finditer(text)
        if next(itertools.islice(filled, limits.max_studies + 1, None), None) is not None:
            raise StudyFileError(name, None, None, f"has more than {limits.max_studies:,} rows; {too_many}")
    sep = _separator(text)
    records = _records(text, sep, name)
    if not records:
        raise StudyFileError(name, None, None, "the file is empty (no header, no rows)")
    if records[0][0] != 1:
        raise StudyFileError(name, 1, None, "the first line is blank; the header must be on row 1")
    (_, header), rows = records[0], records[1:]
    sheet = Sheet(name, [h.strip() for h in header], rows, sep, limits)
    if _CONTROL_BUT_CR.search(text):
        _refuse_control_characters(sheet)
    if not rows:
        raise StudyFileError(name, None, None, "the file has a header but no data rows")
    if len(rows) > limits.max_studies:
        raise StudyFileError(name, None, None, f"has {len(rows):,} rows; {too_many}")
    return sheet
