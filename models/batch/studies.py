"""Read one meta-analysis's study file in whichever layout it has (2x2, continuous, or effects).

The layout is told by the header: ``e_t`` (2x2: ``study,e_t,n_t,e_c,n_c``), ``mean_t`` (continuous:
``study,n_t,mean_t,sd_t,n_c,mean_c,sd_c``) or ``yi`` (effects: ``study,yi,vi`` on the analysis scale). The 2x2 and
continuous files go through the validated readers of :mod:`models.tables`; every problem raises a ValueError whose
message names the file, row and column (the batch turns it into an ``error`` row).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.effects import EffectTable
from models.tables import BinaryTable, ContinuousTable
from models.validation import (
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
            table: BinaryTable | ContinuousTable | EffectTable = BinaryTable.read_csv(path)
        elif layout == "continuous":
            table = ContinuousTable.read_csv(path)
        else:
            table = read_effects(path, measure)
    except DataValidationError as err:
        raise ValueError(str(err)) from None
    return StudyData(layout, measure, table)
