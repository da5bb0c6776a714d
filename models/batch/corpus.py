"""What a batch analyses: a folder of study CSVs or a manifest (CSV or JSON), validated before any work.

A manifest has one meta-analysis per row (CSV) or object (JSON: a list, or ``{"meta_analyses": [...]}``):

* ``id`` (required, unique) and ``path`` (required; a relative path is relative to the manifest's folder; every path
  is made absolute, so the results name the file read and workers started elsewhere find it);
* ``measure`` (optional): OR or RR for 2x2 files, SMD for continuous files, OR/RR/SMD for effect files (``yi, vi``
  on the analysis scale: log OR/log RR, or SMD); missing or empty means the default of the file's layout (OR for
  2x2, SMD for continuous; an effects file needs one), as for every command (:mod:`models.reader`);
* ``higher_is_benefit`` (optional, ``true``/``false`` in any case, default false when the column is missing or the
  cell empty): the outcome direction, e.g. false for death;
* ``published_estimate`` (optional, empty = none): the published pooled estimate on the reported scale (ratio for
  OR/RR; must be positive when the row's measure is OR or RR), carried through to the results table;
* ``title`` (optional, empty = none): a readable name of the meta-analysis (its outcome), the results' ``title``;
* ``outcome_type`` (optional, empty = unknown): one of Turner et al. 2015's outcome types
  (:data:`models.cochrane_references.OUTCOME_TYPES`, e.g. ``all_cause_mortality``), by which the corpus report
  compares heterogeneity with Turner's predictive distributions.

Other columns are allowed in a CSV manifest and ignored (the Pairwise70 importer writes a few for the reader).

Problems with the manifest itself (a missing column, a repeated id, an unknown measure...) are a
:class:`ManifestError` naming the file, row and column: the command stops with exit code 2 before any work. A study
file that is missing, not a regular file (a folder, FIFO or device: named, never opened) or malformed is *not* such a
problem: it is found when that meta-analysis is analysed and gives it an ``error`` row.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.batch import MEASURES
from models.cochrane_references import OUTCOME_TYPES
from models.reader import LIMITS
from models.validation import (
    DataValidationError,
    check_labels,
    check_labels_text,
    check_unique,
    fail_where,
    parse_numbers,
    read_file_bytes,
    read_table,
)

MANIFEST_COLUMNS = ("id", "path", "measure", "higher_is_benefit", "published_estimate", "title", "outcome_type")


class ManifestError(DataValidationError):
    """The manifest, the input folder or an option breaks a rule; names the file, row and column."""


@dataclass(frozen=True)
class Entry:
    """One meta-analysis of the corpus: its id, study file, measure (None = the layout's default), outcome
    direction, optional published estimate (reported scale), title and outcome type (empty when not given)."""

    id: str
    path: str
    measure: str | None
    higher_is_benefit: bool
    published_estimate: float | None
    title: str = ""
    outcome_type: str = ""

    def digest(self) -> str:
        """SHA-256 of the entry and of its file's bytes: a chunk is reused on resume only when the digests of all its
        entries are unchanged. A file that is not a regular file or is over the reader's size limit is not read
        (its type, size and modification time stand in); one that cannot be read adds a fixed marker."""
        h = hashlib.sha256(repr(self).encode())
        try:
            info = os.stat(self.path)
            if not stat.S_ISREG(info.st_mode) or info.st_size > LIMITS.max_bytes:
                h.update(f"<not read: {stat.S_IFMT(info.st_mode)} {info.st_size} {info.st_mtime_ns}>".encode())
            else:
                h.update(read_file_bytes(self.path, self.path, LIMITS.max_bytes))
        except (OSError, DataValidationError):
            h.update(b"<unreadable>")
        return h.hexdigest()


def _entries_from_frame(frame: pd.DataFrame, name: str, base: Path) -> list[Entry]:
    """Validate a manifest frame of raw strings (rows as in the file) and build the entries (missing optional columns
    and empty optional cells take their defaults; paths made absolute against ``base``)."""
    for column in MANIFEST_COLUMNS[2:]:
        if column not in frame.columns:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
    check_labels_text(frame, name, "id")
    check_unique(frame, name, ("id",))
    fail_where(frame["path"].isna(), name, "path", lambda _: "value is required but empty")
    check_labels(frame, name, "measure", MEASURES, required=False)
    direction = frame["higher_is_benefit"].str.strip().str.lower()
    fail_where(
        direction.notna() & ~direction.isin(["true", "false"]),
        name,
        "higher_is_benefit",
        lambda i: f"{frame['higher_is_benefit'].iloc[i]!r} is not 'true' or 'false' (or empty: false)",
    )
    check_labels(frame, name, "outcome_type", tuple(OUTCOME_TYPES), required=False)
    published = parse_numbers(frame, name, "published_estimate")
    ratio = frame["measure"].isin(["OR", "RR"]).fillna(False).astype(bool)
    fail_where(
        ratio & (published <= 0), name, "published_estimate", lambda i: "a ratio estimate (OR, RR) must be positive"
    )
    out = []
    for i in range(len(frame)):
        measure, title, kind = frame["measure"].iloc[i], frame["title"].iloc[i], frame["outcome_type"].iloc[i]
        out.append(
            Entry(
                id=str(frame["id"].iloc[i]),
                path=os.path.abspath(base / str(frame["path"].iloc[i])),
                measure=None if pd.isna(measure) else str(measure),
                higher_is_benefit=bool(direction.iloc[i] == "true") if not pd.isna(direction.iloc[i]) else False,
                published_estimate=None if pd.isna(published.iloc[i]) else float(published.iloc[i]),
                title="" if pd.isna(title) else " ".join(str(title).split()),
                outcome_type="" if pd.isna(kind) else str(kind),
            )
        )
    return out


def _read_json(path: Path) -> pd.DataFrame:
    name = str(path)
    try:
        data = json.loads(read_file_bytes(path, name).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ManifestError(name, None, None, f"is not valid JSON ({err})") from None
    if isinstance(data, dict):
        data = data.get("meta_analyses")
    if not isinstance(data, list) or not data:
        raise ManifestError(name, None, None, 'expected a non-empty list of objects (or {"meta_analyses": [...]})')
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ManifestError(name, i + 2, None, f"entry {i + 1} is not an object")
        unknown = set(item) - set(MANIFEST_COLUMNS)
        if unknown:
            known = ", ".join(MANIFEST_COLUMNS)
            raise ManifestError(name, i + 2, sorted(unknown)[0], f"unknown field (known: {known})")
    frame = pd.DataFrame(
        [{k: (None if v is None else str(v).lower() if isinstance(v, bool) else str(v)) for k, v in d.items()}
         for d in data]
    )  # fmt: skip
    for column in ("id", "path"):
        if column not in frame.columns:
            raise ManifestError(name, None, column, "required field missing")
    return frame.astype(object).where(frame.notna(), pd.NA).astype("string")


def read_manifest(path: str | Path) -> list[Entry]:
    """The entries of a manifest (``.json`` or CSV); a :class:`ManifestError` names file, row and column.

    Row numbers are spreadsheet rows for a CSV (header = row 1) and ``entry number + 1`` for JSON, so that both read
    the same way in messages ("row 3" = the second meta-analysis).
    """
    path = Path(path)
    name = str(path)
    try:
        if path.suffix.lower() == ".json":
            frame = _read_json(path)
        else:
            frame = read_table(path, ("id", "path"), name=name).astype("string")
        return _entries_from_frame(frame, name, Path(os.path.abspath(path)).parent)
    except ManifestError:
        raise
    except DataValidationError as err:
        raise ManifestError(err.file, err.row, err.column, err.message) from None


def scan_folder(folder: str | Path, measure: str | None, higher_is_benefit: bool) -> list[Entry]:
    """One entry per ``*.csv`` in ``folder`` (sorted by name; id = file stem; absolute paths), all with the same
    measure and direction. A ``manifest.csv`` in the folder is not a study file and is skipped."""
    folder = Path(os.path.abspath(folder))
    if measure is not None and measure not in MEASURES:
        raise ManifestError(str(folder), None, None, f"--measure {measure!r} is not one of {', '.join(MEASURES)}")
    files = sorted(p for p in folder.glob("*.csv") if p.name != "manifest.csv")
    if not files:
        raise ManifestError(str(folder), None, None, "the folder holds no .csv study files")
    return [Entry(p.stem, str(p), measure, higher_is_benefit, None) for p in files]
