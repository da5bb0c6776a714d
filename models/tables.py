"""Study-level input tables shared by every estimator.

Two layouts, both labelled by study:

* :class:`BinaryTable` -- per-arm event counts and arm sizes (``e_t, n_t`` for the
  experimental arm, MSC in this project; ``e_c, n_c`` for the control arm).
* :class:`ContinuousTable` -- per-arm size, mean and standard deviation.

The tables validate themselves on construction, so that every estimator downstream can
assume clean input: unique non-empty study labels, equal lengths, finite numbers,
non-negative integer counts (at most 2^53) with events <= totals, arms of at least one
patient (two for continuous data), positive SDs.

A user's study file is read into these tables by the one study-file reader, :mod:`models.reader`
(every problem named by file, row and column before anything is computed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.validation import MAX_COUNT

BINARY_COLUMNS = ("study", "e_t", "n_t", "e_c", "n_c")
CONTINUOUS_COLUMNS = ("study", "n_t", "mean_t", "sd_t", "n_c", "mean_c", "sd_c")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""Control characters (tab and line breaks included) refused in a study label."""


class TableError(ValueError):
    """Raised when a study table is malformed; the message names the study and column."""


def _labels(study: Sequence[str]) -> tuple[str, ...]:
    if any(s is None or (isinstance(s, float) and np.isnan(s)) for s in study):
        raise TableError("study labels must be non-empty (a missing label is not the text 'nan')")
    labels = tuple(str(s) for s in study)
    if any(not s.strip() for s in labels):
        raise TableError("study labels must be non-empty")
    control = next((s for s in labels if _CONTROL_CHARACTER.search(s)), None)
    if control is not None:
        raise TableError(f"study label {control!r} contains a control character")
    seen: set[str] = set()
    for s in labels:
        if s in seen:
            raise TableError(f"study label {s!r} appears more than once")
        seen.add(s)
    return labels


def _numeric(name: str, values: Sequence[float], labels: tuple[str, ...]) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise TableError(f"column {name!r} must be numeric ({err})") from None
    if arr.shape != (len(labels),):
        raise TableError(f"column {name!r} has {arr.size} values for {len(labels)} studies")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise TableError(f"column {name!r} is missing or not finite for study {labels[int(np.argmax(bad))]!r}")
    return arr


def _counts(name: str, values: Sequence[float], labels: tuple[str, ...], minimum: int = 0) -> np.ndarray:
    """Whole numbers in [minimum, MAX_COUNT], checked on float64 values before the cast to int64."""
    given = np.asarray(values)
    if given.dtype.kind in "iu" and given.shape == (len(labels),) and given.size:  # integers: only the range to check
        if given.min() >= max(minimum, 0) and given.max() <= MAX_COUNT:
            return given.astype(np.int64, copy=False)
    arr = _numeric(name, values, labels)
    bad = (arr < 0) | (arr != np.round(arr))
    if bad.any():
        i = int(np.argmax(bad))
        raise TableError(f"column {name!r} must hold non-negative whole numbers; study {labels[i]!r} has {arr[i]:g}")
    if (arr > MAX_COUNT).any():
        i = int(np.argmax(arr > MAX_COUNT))
        raise TableError(f"column {name!r}: study {labels[i]!r} has {arr[i]:g}, above the largest count 2^53")
    if (arr < minimum).any():
        i = int(np.argmax(arr < minimum))
        raise TableError(f"study {labels[i]!r}: {name} must be at least {minimum}; got {arr[i]:g}")
    return arr.astype(np.int64)


def _columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[list]:
    """The values of ``columns`` (all required) as lists, in that order."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise TableError(f"missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")
    return [frame[c].tolist() for c in columns]


@dataclass(frozen=True)
class BinaryTable:
    """Per-arm events and totals, one row per study (arm t = experimental, arm c = control)."""

    study: tuple[str, ...]
    e_t: np.ndarray
    n_t: np.ndarray
    e_c: np.ndarray
    n_c: np.ndarray

    def __post_init__(self) -> None:
        labels = _labels(self.study)
        object.__setattr__(self, "study", labels)
        for name in ("e_t", "n_t", "e_c", "n_c"):
            minimum = 1 if name.startswith("n_") else 0  # an arm with no patients has no risk to compare
            object.__setattr__(self, name, _counts(name, getattr(self, name), labels, minimum))
        for e, n in (("e_t", "n_t"), ("e_c", "n_c")):
            over = getattr(self, e) > getattr(self, n)
            if over.any():
                i = int(np.argmax(over))
                raise TableError(
                    f"study {labels[i]!r}: {e} = {getattr(self, e)[i]} exceeds {n} = {getattr(self, n)[i]}"
                )
        if not labels:
            raise TableError("a study table needs at least one study")

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.study)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> BinaryTable:
        """Build from a frame with columns ``study, e_t, n_t, e_c, n_c``."""
        return cls(*_columns(frame, BINARY_COLUMNS))

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame with one row per study."""
        return pd.DataFrame({c: getattr(self, c) for c in BINARY_COLUMNS})

    def subset(self, studies: Sequence[str]) -> BinaryTable:
        """The rows of ``studies``, in the order given."""
        index = {s: i for i, s in enumerate(self.study)}
        unknown = [s for s in studies if s not in index]
        if unknown:
            raise TableError(f"unknown study label(s): {', '.join(unknown)}")
        rows = [index[s] for s in studies]
        return BinaryTable(tuple(studies), self.e_t[rows], self.n_t[rows], self.e_c[rows], self.n_c[rows])


@dataclass(frozen=True)
class ContinuousTable:
    """Per-arm size, mean and SD, one row per study (arm t = experimental, arm c = control)."""

    study: tuple[str, ...]
    n_t: np.ndarray
    mean_t: np.ndarray
    sd_t: np.ndarray
    n_c: np.ndarray
    mean_c: np.ndarray
    sd_c: np.ndarray

    def __post_init__(self) -> None:
        labels = _labels(self.study)
        object.__setattr__(self, "study", labels)
        for name in ("n_t", "n_c"):
            arr = _counts(name, getattr(self, name), labels)
            if (arr < 2).any():
                raise TableError(f"study {labels[int(np.argmax(arr < 2))]!r}: {name} must be at least 2")
            object.__setattr__(self, name, arr)
        for name in ("mean_t", "mean_c", "sd_t", "sd_c"):
            object.__setattr__(self, name, _numeric(name, getattr(self, name), labels))
        for name in ("sd_t", "sd_c"):
            bad = getattr(self, name) <= 0
            if bad.any():
                raise TableError(f"study {labels[int(np.argmax(bad))]!r}: {name} must be positive")
        if not labels:
            raise TableError("a study table needs at least one study")

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.study)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> ContinuousTable:
        """Build from a frame with columns ``study, n_t, mean_t, sd_t, n_c, mean_c, sd_c``."""
        return cls(*_columns(frame, CONTINUOUS_COLUMNS))

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame with one row per study."""
        return pd.DataFrame({c: getattr(self, c) for c in CONTINUOUS_COLUMNS})
