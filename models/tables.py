"""Study-level input tables shared by every estimator.

Two layouts, both labelled by study:

* :class:`BinaryTable` -- per-arm event counts and arm sizes (``e_t, n_t`` for the
  experimental arm, MSC in this project; ``e_c, n_c`` for the control arm).
* :class:`ContinuousTable` -- per-arm size, mean and standard deviation.

The tables validate themselves on construction, so that every estimator downstream can
assume clean input: unique non-empty study labels, equal lengths, finite numbers,
non-negative integer counts (at most 2^53) with events <= totals, arms of at least one
patient (two for continuous data), positive SDs.

``read_csv`` reads a user's file with the rules of the project's own data files
(:mod:`models.validation`): every problem is a :class:`TableFileError` naming the file,
the spreadsheet row (header = row 1) and the column, raised before anything is computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.validation import (
    MAX_COUNT,
    DataValidationError,
    check_labels_text,
    check_unique,
    fail_where,
    parse_integers,
    parse_numbers,
    read_table,
)

BINARY_COLUMNS = ("study", "e_t", "n_t", "e_c", "n_c")
CONTINUOUS_COLUMNS = ("study", "n_t", "mean_t", "sd_t", "n_c", "mean_c", "sd_c")


class TableError(ValueError):
    """Raised when a study table is malformed; the message names the study and column."""


class TableFileError(DataValidationError, TableError):
    """A user's study CSV breaks a rule; names the file, the spreadsheet row and the column."""


def _labels(study: Sequence[str]) -> tuple[str, ...]:
    if any(s is None or (isinstance(s, float) and np.isnan(s)) for s in study):
        raise TableError("study labels must be non-empty (a missing label is not the text 'nan')")
    labels = tuple(str(s) for s in study)
    if any(not s.strip() for s in labels):
        raise TableError("study labels must be non-empty")
    control = next((s for s in labels if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in s)), None)
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


def _read_frame(path: str | Path, columns: tuple[str, ...]) -> tuple[pd.DataFrame, str]:
    """The raw strings of a user's study CSV after the file-level checks, and the file's name for messages."""
    name = str(path)
    try:
        frame = read_table(Path(path), columns, name=name)
    except DataValidationError as err:
        if err.row is None and err.column in columns:  # the one file-level rule that names a column
            with open(path, encoding="utf-8-sig") as handle:
                header = handle.readline().rstrip("\r\n").split(",")
            missing = ", ".join(c for c in columns if c not in header)
            raise TableFileError(
                name, None, err.column, f"missing column(s) {missing}; expected {', '.join(columns)}"
            ) from None
        raise TableFileError(err.file, err.row, err.column, err.message) from None
    return frame, name


def _to_file_error(check):
    """Run ``check()`` and re-raise a DataValidationError as a TableFileError (both carry file, row, column)."""
    try:
        return check()
    except TableFileError:
        raise
    except DataValidationError as err:
        raise TableFileError(err.file, err.row, err.column, err.message) from None


def _read_binary(path: str | Path) -> BinaryTable:
    frame, f = _read_frame(path, BINARY_COLUMNS)

    def parse() -> list:
        check_labels_text(frame, f, "study")
        check_unique(frame, f, ("study",))
        values = {}
        for arm in ("t", "c"):
            events, total = f"e_{arm}", f"n_{arm}"
            values[events] = parse_integers(frame, f, events, required=True)
            values[total] = parse_integers(frame, f, total, required=True)
            fail_where(values[total] < 1, f, total, lambda _, c=total: f"{c} is 0: an arm needs at least one patient")
        for arm in ("t", "c"):
            e, n = values[f"e_{arm}"], values[f"n_{arm}"]
            fail_where(
                e > n,
                f,
                f"e_{arm}",
                lambda i, a=arm, e=e, n=n: f"e_{a} ({e.iloc[i]:.0f}) exceeds n_{a} ({n.iloc[i]:.0f})",
            )
        return [frame["study"].tolist(), *(values[c].to_numpy() for c in BINARY_COLUMNS[1:])]

    return BinaryTable(*_to_file_error(parse))


def _read_continuous(path: str | Path) -> ContinuousTable:
    frame, f = _read_frame(path, CONTINUOUS_COLUMNS)

    def parse() -> list:
        check_labels_text(frame, f, "study")
        check_unique(frame, f, ("study",))
        values = {}
        for arm in ("t", "c"):
            n, mean, sd = f"n_{arm}", f"mean_{arm}", f"sd_{arm}"
            values[n] = parse_integers(frame, f, n, required=True)
            fail_where(values[n] < 2, f, n, lambda i, c=n: f"{c} must be at least 2; got {values[c].iloc[i]:.0f}")
            values[mean] = parse_numbers(frame, f, mean, required=True)
            values[sd] = parse_numbers(frame, f, sd, required=True)
            fail_where(values[sd] <= 0, f, sd, lambda i, c=sd: f"{c} must be positive; got {frame[c].iloc[i]}")
        return [frame["study"].tolist(), *(values[c].to_numpy() for c in CONTINUOUS_COLUMNS[1:])]

    return ContinuousTable(*_to_file_error(parse))


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

    @classmethod
    def read_csv(cls, path: str | Path) -> BinaryTable:
        """Read a user's 2x2 CSV (``study,e_t,n_t,e_c,n_c``); a :class:`TableFileError` names file, row, column."""
        return _read_binary(path)

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

    @classmethod
    def read_csv(cls, path: str | Path) -> ContinuousTable:
        """Read a user's continuous CSV; a :class:`TableFileError` names file, row and column."""
        return _read_continuous(path)

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame with one row per study."""
        return pd.DataFrame({c: getattr(self, c) for c in CONTINUOUS_COLUMNS})
