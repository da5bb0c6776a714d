"""A user's study CSV, read into the parts of a :class:`~models.toolkit.spec.MetaAnalysisSpec`.

The layout is told by the header:

* 2x2: ``study,e_t,n_t,e_c,n_c`` (measures OR, RR, RD; default OR);
* continuous: ``study,n_t,mean_t,sd_t,n_c,mean_c,sd_c`` (MD, SMD; ``--measure`` required);
* effects: ``study,yi,vi`` (yi on the analysis scale: log OR / log RR for ratios) or
  ``study,estimate,ci_low,ci_high`` (ratio scale for OR/RR, a 95% Wald interval); ``--measure`` required.

Optional columns: ``year`` (whole number; orders the cumulative analysis), ``design`` (a label such as RCT or NRS;
groups the forest plot), and numeric covariates named by the caller. Every problem raises a
:class:`~models.validation.DataValidationError` naming the file, the spreadsheet row (header = row 1) and the
column, before anything is computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.effects import (
    BINARY_MEASURES,
    CONTINUOUS_MEASURES,
    MEASURES,
    RATIO_MEASURES,
    EffectError,
    EffectTable,
    escalc,
    escalc_continuous,
)
from models.tables import BINARY_COLUMNS, CONTINUOUS_COLUMNS, BinaryTable, ContinuousTable, TableError
from models.toolkit.spec import Covariate
from models.validation import (
    DataValidationError,
    check_labels_text,
    check_unique,
    fail_where,
    parse_integers,
    parse_numbers,
    read_table,
)

LAYOUTS: dict[str, tuple[str, ...]] = {
    "2x2": BINARY_COLUMNS,
    "continuous": CONTINUOUS_COLUMNS,
    "effects": ("study", "yi", "vi"),
    "effects_ci": ("study", "estimate", "ci_low", "ci_high"),
}
"""Layouts and their required columns, in the order they are tried."""

MEASURES_OF: dict[str, tuple[str, ...]] = {
    "2x2": BINARY_MEASURES,
    "continuous": CONTINUOUS_MEASURES,
    "effects": MEASURES,
    "effects_ci": MEASURES,
}
OPTIONAL_COLUMNS = ("year", "design")


@dataclass(frozen=True)
class StudyFile:
    """What a study CSV holds: its layout, effects on the analysis scale, counts when 2x2, and the extra columns."""

    path: str
    layout: str
    effects: EffectTable
    counts: BinaryTable | None
    year: tuple[int, ...] | None
    design: tuple[str, ...] | None
    covariates: tuple[Covariate, ...]


def _header(path: Path, name: str) -> list[str]:
    frame = read_table(path, (), name=name)  # file-level checks only: missing, empty, not UTF-8, repeated names
    return [str(c) for c in frame.columns]


def detect_layout(columns: Sequence[str], name: str) -> str:
    """The layout whose required columns the header holds; else an error naming the layouts."""
    for layout, required in LAYOUTS.items():
        if all(c in columns for c in required):
            return layout
    wanted = "; ".join(",".join(cols) for cols in LAYOUTS.values())
    raise DataValidationError(name, 1, None, f"the header matches no layout (needs one of: {wanted})")


def check_measure(layout: str, measure: str | None, name: str) -> str:
    """The measure for this layout: ``measure`` if it fits, OR for 2x2 when not given; else an error."""
    allowed = MEASURES_OF[layout]
    if measure is None:
        if layout == "2x2":
            return "OR"
        raise DataValidationError(name, None, None, f"a {layout} file needs --measure ({', '.join(allowed)})")
    if measure not in allowed:
        raise DataValidationError(
            name, None, None, f"--measure {measure} does not fit a {layout} file ({', '.join(allowed)})"
        )
    return measure


def _effects_from_frame(frame: pd.DataFrame, name: str, layout: str, measure: str) -> EffectTable:
    study = frame["study"].tolist()
    zeros = np.zeros(len(study), dtype=bool)
    if layout == "effects":
        yi = parse_numbers(frame, name, "yi", required=True)
        vi = parse_numbers(frame, name, "vi", required=True)
        fail_where(vi <= 0, name, "vi", lambda i: f"vi must be positive; got {frame['vi'].iloc[i]}")
        return EffectTable(study, yi.to_numpy(), vi.to_numpy(), measure, "none", zeros)
    est, lo, hi = (parse_numbers(frame, name, c, required=True) for c in ("estimate", "ci_low", "ci_high"))
    if measure in RATIO_MEASURES:
        for col, values in (("estimate", est), ("ci_low", lo), ("ci_high", hi)):
            fail_where(
                values <= 0, name, col, lambda i, c=col: f"{c} must be positive for {measure}; got {frame[c].iloc[i]}"
            )
    fail_where(lo >= est, name, "ci_low", lambda i: f"ci_low ({frame['ci_low'].iloc[i]}) must be below the estimate")
    fail_where(hi <= est, name, "ci_high", lambda i: f"ci_high ({frame['ci_high'].iloc[i]}) must be above the estimate")
    return EffectTable.from_estimate_ci(study, est.to_numpy(), lo.to_numpy(), hi.to_numpy(), measure)


def _first_row_of(frame: pd.DataFrame, study: str) -> int:
    return int(np.flatnonzero(frame["study"].to_numpy() == study)[0]) + 2


def read_study_file(path: str | Path, measure: str | None, covariates: Sequence[str] = ()) -> tuple[StudyFile, str]:
    """Read and check a study CSV; return it with the measure that applies (OR by default for 2x2).

    Raises DataValidationError (file, row, column) for any problem, including a covariate that is not a column.
    """
    path = Path(path)
    name = str(path)
    layout = detect_layout(_header(path, name), name)
    measure = check_measure(layout, measure, name)
    frame = read_table(path, LAYOUTS[layout], name=name)
    check_labels_text(frame, name, "study")
    check_unique(frame, name, ("study",))
    counts = None
    try:
        if layout == "2x2":
            counts = BinaryTable.read_csv(path)
            effects = escalc(counts, measure)
        elif layout == "continuous":
            effects = escalc_continuous(ContinuousTable.read_csv(path), measure)
        else:
            effects = _effects_from_frame(frame, name, layout, measure)
    except (EffectError, TableError) as err:
        if isinstance(err, DataValidationError):
            raise
        study = next((s for s in frame["study"] if repr(str(s)) in str(err)), None)
        row = _first_row_of(frame, study) if study is not None else None
        raise DataValidationError(name, row, None, str(err)) from None
    year = None
    if "year" in frame.columns:
        years = parse_integers(frame, name, "year", required=True, minimum=1)
        year = tuple(int(y) for y in years)
    design = None
    if "design" in frame.columns:
        check_labels_text(frame, name, "design")
        design = tuple(str(d) for d in frame["design"])
    covs = []
    for cov in covariates:
        if cov not in frame.columns:
            raise DataValidationError(name, 1, cov, f"--covariate {cov!r} is not a column of the file")
        if cov in LAYOUTS[layout] or cov in OPTIONAL_COLUMNS:
            raise DataValidationError(name, 1, cov, f"--covariate {cov!r} is a data column, not a covariate")
        values = parse_numbers(frame, name, cov, required=True)
        covs.append(Covariate(cov, tuple(float(v) for v in values)))
    return StudyFile(name, layout, effects, counts, year, design, tuple(covs)), measure
