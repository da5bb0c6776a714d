"""Reports of a study other than its main article (follow-ups), and the study lists printed by later sources.

``reports.csv`` holds the follow-up reports of trials already in ``studies.csv`` (Sitbon 2024 is the 1-year
follow-up of monsel2022, not a new trial); ``source_lists.csv`` holds the entries of a source's list of included
studies, each resolved to a study of ``studies.csv`` (and to a report where the entry is a follow-up), so that every
study a source lists is either in the analyses or excluded by a stated rule (:mod:`models.msc.eligibility`).
Loading validates both files and raises :class:`~models.validation.DataValidationError` (file, row, column).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.validation import (
    check_labels,
    check_labels_text,
    check_pattern,
    check_present,
    check_references,
    check_unique,
    fail_where,
    parse_integers,
    read_table,
)

REPORTS = "reports.csv"
SOURCE_LISTS = "source_lists.csv"
REPORT_COLUMNS = ("report_id", "study_id", "kind", "follow_up", "citation", "source", "note")
SOURCE_LIST_COLUMNS = ("document", "position", "entry", "study_id", "report_id", "source", "note")
REPORT_KINDS = ("follow-up",)
REPORT_ID = re.compile(r"[a-z]+[0-9]{4}")


@dataclass(frozen=True)
class Report:
    """A report of a study other than its main article: ``kind`` (follow-up), how long it followed the patients."""

    report_id: str
    study_id: str
    kind: str
    follow_up: str
    citation: str
    source: str
    note: str


@dataclass(frozen=True)
class SourceListEntry:
    """One entry of a source's list of included studies, as the source prints it, resolved to ``study_id``.

    ``report_id`` names the follow-up report when the entry is one (then it is not a separate trial).
    """

    document: str
    position: int
    entry: str
    study_id: str
    report_id: str
    source: str
    note: str

    @property
    def is_follow_up(self) -> bool:
        """True when the entry is a follow-up report of a trial rather than the trial itself."""
        return bool(self.report_id)


def load_reports(directory: Path, study_ids: Collection[str]) -> pd.DataFrame:
    """Read and validate ``reports.csv``: ids like study ids but never one of them, parent studies that exist."""
    f = REPORTS
    raw = read_table(directory / f, REPORT_COLUMNS)
    check_pattern(raw, f, "report_id", REPORT_ID, "report_id must be lower-case letters followed by a 4-digit year")
    check_unique(raw, f, ("report_id",))
    fail_where(
        raw["report_id"].isin(list(study_ids)),
        f,
        "report_id",
        lambda i: f"{raw['report_id'].iloc[i]!r} is a study_id of studies.csv: a report of a trial needs its own id",
    )
    check_references(raw, f, "study_id", study_ids, "studies.csv")
    check_labels(raw, f, "kind", REPORT_KINDS)
    for col in ("follow_up", "citation", "source"):
        check_present(raw, f, col)
    return raw.fillna("")


def load_source_lists(directory: Path, study_ids: Collection[str], reports: pd.DataFrame) -> pd.DataFrame:
    """Read and validate ``source_lists.csv``: every entry resolves to a study (and its report where given)."""
    f = SOURCE_LISTS
    raw = read_table(directory / f, SOURCE_LIST_COLUMNS)
    check_labels_text(raw, f, "document")
    typed = raw.copy()
    typed["position"] = parse_integers(raw, f, "position", required=True, minimum=1)
    check_unique(raw, f, ("document", "position"))
    check_present(raw, f, "entry")
    check_references(raw, f, "study_id", study_ids, "studies.csv")
    parent = dict(zip(reports["report_id"], reports["study_id"], strict=True))
    has_report = raw["report_id"].notna()
    fail_where(
        has_report & ~raw["report_id"].isin(list(parent)),
        f,
        "report_id",
        lambda i: f"{raw['report_id'].iloc[i]!r} is not in reports.csv",
    )
    fail_where(
        has_report & (raw["report_id"].map(parent) != raw["study_id"]),
        f,
        "report_id",
        lambda i: (
            f"report {raw['report_id'].iloc[i]!r} belongs to {parent.get(raw['report_id'].iloc[i])!r}, "
            f"not to {raw['study_id'].iloc[i]!r}"
        ),
    )
    check_present(raw, f, "source")
    out = typed.fillna("")
    out["position"] = typed["position"].astype(int)
    return out


def to_reports(frame: pd.DataFrame) -> tuple[Report, ...]:
    """The rows of a validated ``reports.csv`` frame as :class:`Report` records, in file order."""
    return tuple(Report(**{c: str(row[c]) for c in REPORT_COLUMNS}) for _, row in frame.iterrows())


def to_entries(frame: pd.DataFrame) -> tuple[SourceListEntry, ...]:
    """The rows of a validated ``source_lists.csv`` frame as :class:`SourceListEntry` records, by position."""
    ordered = frame.sort_values(["document", "position"], kind="stable")
    return tuple(
        SourceListEntry(
            document=str(r["document"]),
            position=int(r["position"]),
            entry=str(r["entry"]),
            study_id=str(r["study_id"]),
            report_id=str(r["report_id"]),
            source=str(r["source"]),
            note=str(r["note"]),
        )
        for _, r in ordered.iterrows()
    )
