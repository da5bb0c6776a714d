"""Read one meta-analysis's study file in whichever layout it has (2x2, continuous, or effects).

The layout is told by the header: ``e_t`` (2x2: ``study,e_t,n_t,e_c,n_c``), ``mean_t`` (continuous:
``study,n_t,mean_t,sd_t,n_c,mean_c,sd_c``) or ``yi`` (effects: ``study,yi,vi`` on the analysis scale). The 2x2 and
continuous files go through the validated readers of :mod:`models.tables`; every problem raises a ValueError whose
message names the file, row and column (the batch turns it into an ``error`` row).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.effects import EffectTable
from models.tables import BinaryTable, ContinuousTable
from models.validation import (
    CONTROL,
    NA_TOKENS,
    DataValidationError,
    check_labels_text,
    check_unique,
    fail_where,
    parse_numbers,
    read_table,
)

LAYOUTS = ("2x2", "continuous", "effects")
_DEFAULT_MEASURE = {"2x2": "OR", "continuous": "SMD"}
_ALLOWED = {"2x2": ("OR", "RR"), "continuous": ("SMD",), "effects": ("OR", "RR", "SMD")}


@dataclass(frozen=True)
class StudyData:
    """The studies of one meta-analysis: its layout, the measure analysed and the table (arm counts, arm summaries
    or effects)."""

    layout: str
    measure: str
    table: BinaryTable | ContinuousTable | EffectTable

    @property
    def k(self) -> int:
        """Number of studies in the file."""
        return self.table.k


def detect_layout(path: str | Path) -> str:
    """The layout of a study CSV from its header line."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ValueError(f"{path}: cannot be read ({err})") from None
    for column, layout in (("e_t", "2x2"), ("mean_t", "continuous"), ("yi", "effects")):
        if column in header:
            return layout
    raise ValueError(
        f"{path}, row 1: unknown layout (header {','.join(header)!r}); expected study,e_t,n_t,e_c,n_c or "
        "study,n_t,mean_t,sd_t,n_c,mean_c,sd_c or study,yi,vi"
    )


def read_effects(path: str | Path, measure: str) -> EffectTable:
    """A ``study,yi,vi`` file (analysis scale) as an EffectTable; problems name file, row and column."""
    name = str(path)
    frame = read_table(Path(path), ("study", "yi", "vi"), name=name)
    check_labels_text(frame, name, "study")
    check_unique(frame, name, ("study",))
    yi = parse_numbers(frame, name, "yi", required=True)
    vi = parse_numbers(frame, name, "vi", required=True)
    fail_where(vi <= 0, name, "vi", lambda i: f"sampling variance must be positive; got {frame['vi'].iloc[i]}")
    k = len(frame)
    return EffectTable(tuple(frame["study"]), yi.to_numpy(), vi.to_numpy(), measure, "none", np.zeros(k, dtype=bool))


_PLAIN_HEADER = ["study", "e_t", "n_t", "e_c", "n_c"]
_PLAIN_COUNT = re.compile(r"[0-9]{1,15}")
_PLAIN_FIELD = re.compile(r'"[^"]*"|[^"]*')


def _plain_fields(line: str) -> list[str] | None:
    """The comma-separated fields of a line, each bare or wholly quoted with no quote or comma inside; else None."""
    fields = line.split(",")
    if not all(_PLAIN_FIELD.fullmatch(f) for f in fields):
        return None
    return [f[1:-1] if f.startswith('"') else f for f in fields]


def read_plain_binary(path: str | Path) -> BinaryTable | None:
    """The 2x2 table of a plain file, or None when the file is not plain (the caller then uses the validated reader).

    Plain: UTF-8, header exactly ``study,e_t,n_t,e_c,n_c``, fields bare or wholly quoted (no quote or comma inside),
    LF or CRLF line ends, no tab, lone carriage return or control character, no blank line before the last row,
    five fields per row, labels present, unpadded, unique and not an NA spelling, counts plain digits with
    ``n >= 1`` and ``e <= n``. Such a file passes every rule of :meth:`BinaryTable.read_csv` and gives the same
    table; reading it without the frame-based checks costs tens of microseconds instead of milliseconds, which
    matters when a batch reads thousands of files. Anything else (including every invalid file) returns None, so
    messages always come from the validated reader.
    """
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    text = text.replace("\r\n", "\n")
    if "\t" in text or "\r" in text or CONTROL.search(text):
        return None
    lines = text.rstrip("\n").split("\n")
    if len(lines) < 2 or _plain_fields(lines[0]) != _PLAIN_HEADER:
        return None
    labels: list[str] = []
    counts: list[list[float]] = [[], [], [], []]
    for line in lines[1:]:
        fields = _plain_fields(line)
        if fields is None or len(fields) != 5:
            return None
        label = fields[0]
        if not label or label != label.strip() or label.lower() in NA_TOKENS:
            return None
        if not all(_PLAIN_COUNT.fullmatch(x) for x in fields[1:]):
            return None
        e_t, n_t, e_c, n_c = (float(x) for x in fields[1:])
        if n_t < 1 or n_c < 1 or e_t > n_t or e_c > n_c:
            return None
        labels.append(label)
        for column, value in zip(counts, (e_t, n_t, e_c, n_c), strict=True):
            column.append(value)
    if len(set(labels)) != len(labels):
        return None
    return BinaryTable(tuple(labels), *(np.array(c) for c in counts))


def read_studies(path: str | Path, measure: str | None) -> StudyData:
    """The study file at ``path`` with the measure to analyse (``None``: OR for 2x2, SMD for continuous)."""
    layout = detect_layout(path)
    if measure is None:
        if layout == "effects":
            raise ValueError(f"{path}: an effects file (study,yi,vi) needs a measure (manifest column 'measure')")
        measure = _DEFAULT_MEASURE[layout]
    if measure not in _ALLOWED[layout]:
        raise ValueError(f"{path}: measure {measure} does not fit a {layout} file (use {', '.join(_ALLOWED[layout])})")
    try:
        if layout == "2x2":
            plain = read_plain_binary(path)
            table: BinaryTable | ContinuousTable | EffectTable
            table = plain if plain is not None else BinaryTable.read_csv(path)
        elif layout == "continuous":
            table = ContinuousTable.read_csv(path)
        else:
            table = read_effects(path, measure)
    except DataValidationError as err:
        raise ValueError(str(err)) from None
    return StudyData(layout, measure, table)
