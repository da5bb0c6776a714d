"""Load and validate the project's study data (``data/*.csv``) and hand it to the estimators.

The files and their columns are described in ``data/README.md``. Loading checks every rule
listed there and raises :class:`DataValidationError` (file, spreadsheet row, column) at the
first broken one, so a table that loads is safe to analyse.

Counts are kept as given: an unknown count is NaN, never zero. Alternative values for the
known conflicts between sources are extra rows with a named ``variant``; ``primary`` is the
default everywhere, and :meth:`Dataset.binary_table` swaps in a named variant per study for
sensitivity analyses.

Beside the counts: follow-up reports and the study lists of later sources (:mod:`models.msc.sources`), the
inclusion rules that leave studies out with a stated reason (:mod:`models.msc.eligibility`), death counts by time
point (:mod:`models.msc.timepoints`) and the study characteristics and risk-of-bias tables
(:mod:`models.msc.appraisal`), each reached through a typed accessor of :class:`Dataset`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.msc.appraisal import (
    RISK_OF_BIAS,
    RiskOfBias,
    StudyCharacteristics,
    load_risk_of_bias,
    risk_of_bias_table,
    study_characteristics,
    study_label,
)
from models.msc.eligibility import Exclusion, exclusions
from models.msc.outcome_rules import (
    ARMS,
    OUTCOMES,
    POPULATIONS,
    PRIMARY,
    PRODUCTS,
    check_outcomes_against_studies,
    check_rows_population_and_arm,
    check_timepoints,
    check_variant_kinds,
)
from models.msc.sources import (
    REPORTS,
    SOURCE_LISTS,
    Report,
    SourceListEntry,
    load_reports,
    load_source_lists,
    to_entries,
    to_reports,
)
from models.msc.timepoints import TimepointCount, timepoint_counts
from models.tables import BinaryTable
from models.validation import (
    DataValidationError,
    check_grades,
    check_id_lists,
    check_labels,
    check_labels_text,
    check_pattern,
    check_present,
    check_references,
    check_unique,
    fail_where,
    grade_is_not_found,
    parse_booleans,
    parse_integers,
    parse_numbers,
    read_table,
    split_ids,
)

__all__ = [
    "AnalysisSet",
    "DataValidationError",
    "Dataset",
    "DatasetLookupError",
    "Exclusion",
    "Report",
    "RiskOfBias",
    "SourceListEntry",
    "StudyCharacteristics",
    "TimepointCount",
    "COVARIATE_COLUMNS",
    "DATA_FILES",
    "load_dataset",
]

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"
"""The shipped MSC data: a link to the repository's ``data/`` in a checkout, a copy inside an installed package."""

STUDIES = "studies.csv"
CONTINUOUS = "outcomes_continuous.csv"
PUBLISHED = "published.csv"
ANALYSIS_SETS = "analysis_sets.csv"
#: The data files, in the order in which their bytes enter :attr:`Dataset.data_hash`.
DATA_FILES = (STUDIES, OUTCOMES, CONTINUOUS, PUBLISHED, ANALYSIS_SETS, REPORTS, SOURCE_LISTS, RISK_OF_BIAS)

DESIGNS = ("RCT", "NRS")
SEVERITY_CLASSES = ("moderate", "mixed", "severe", "severe-critical", "critical")
DOSE_BASES = ("per_kg", "absolute_70kg")
MEASURES = ("OR", "RR", "WMD", "SMD", "difference", "proportions")
RATIO_MEASURES = ("OR", "RR")
SUMMARIES = ("median (IQR)",)
REPRODUCIBILITY = ("exact", "close", "partial", "not reproducible", "summary only")

#: The machine-usable study covariates returned by :meth:`Dataset.covariates`.
COVARIATE_COLUMNS = (
    "year",
    "design",
    "design_contested",
    "severity_class",
    "includes_moderate",
    "n_infusions",
    "cells_per_kg",
    "cells_per_kg_basis",
)

STUDY_ID = re.compile(r"[a-z]+[0-9]{4}")
SNAKE = re.compile(r"[a-z][a-z0-9_]*")
VARIANT = re.compile(r"primary|[a-z]+_[a-z0-9_]+")

STUDY_COLUMNS = (
    "study_id",
    "first_author",
    "year",
    "journal",
    "registration",
    "country",
    "design",
    "design_contested",
    "design_note",
    "blinding",
    "severity_reported",
    "severity_class",
    "includes_moderate",
    "msc_source",
    "n_infusions_reported",
    "n_infusions",
    "cells_per_infusion",
    "cells_per_kg",
    "cells_per_kg_basis",
    "route",
    "control",
    "product",
    "population",
    "grade",
    "source",
    "covariate_note",
)
OUTCOME_COLUMNS = (
    "study_id",
    "outcome",
    "timepoint",
    "timepoint_days",
    "timepoint_class",
    "timepoint_grade",
    "arm",
    "events",
    "total",
    "grade_events",
    "grade_total",
    "variant",
    "variant_kind",
    "population",
    "msc_arm_product",
    "source",
    "note",
)
OUTCOME_KEY = ("study_id", "outcome", "timepoint", "arm", "variant")
CONTINUOUS_COLUMNS = (
    "study_id",
    "outcome",
    "timepoint",
    "summary",
    "msc_center",
    "msc_q1",
    "msc_q3",
    "n_msc",
    "ctl_center",
    "ctl_q1",
    "ctl_q3",
    "n_ctl",
    "grade",
    "source",
    "note",
)
PUBLISHED_COLUMNS = (
    "document",
    "source_file",
    "analysis",
    "outcome",
    "subgroup",
    "measure",
    "model",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "i2_percent",
    "q_p",
    "k_studies",
    "n_msc",
    "n_control",
    "n_total",
    "note",
)
ANALYSIS_SET_COLUMNS = (
    "document",
    "analysis",
    "outcome",
    "timepoint_rule",
    "studies",
    "candidate_studies",
    "set_status",
    "reproducibility",
    "note",
)
ANALYSIS_KEY = ("document", "analysis")


class DatasetLookupError(KeyError):
    """A requested study, outcome, timepoint, variant or analysis is not in the data.

    A KeyError so that ``except KeyError`` works; the message is shown without KeyError's quoting.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class AnalysisSet:
    """Which studies a published analysis pooled (``studies``; empty when the paper's set is unknown).

    ``candidate_studies`` is the best candidate set where the paper does not say; ``reproducibility``
    says whether the published number can be recomputed from the data (exact / close / partial /
    not reproducible / summary only) and ``note`` why.
    """

    document: str
    analysis: str
    outcome: str
    timepoint_rule: str
    studies: tuple[str, ...]
    candidate_studies: tuple[str, ...]
    set_status: str
    reproducibility: str
    note: str

    @property
    def best_studies(self) -> tuple[str, ...]:
        """The published set if known, else the candidate set (possibly empty)."""
        return self.studies if self.studies else self.candidate_studies


@dataclass(frozen=True, eq=False)
class Dataset:
    """The validated data files as typed frames, plus accessors that return estimator inputs.

    ``studies`` is indexed by ``study_id``; the other frames keep the files' row order. Counts are
    float columns with NaN for unknown values; optional text cells are empty strings.
    ``data_hash`` is the sha256 over the raw bytes of the data files (in :data:`DATA_FILES` order),
    for stamping results with the exact data they came from.
    """

    studies: pd.DataFrame
    outcomes: pd.DataFrame
    continuous: pd.DataFrame
    published: pd.DataFrame
    analysis_sets: pd.DataFrame
    data_hash: str
    reports: pd.DataFrame
    source_lists: pd.DataFrame
    risk_of_bias: pd.DataFrame

    def binary_table(
        self,
        outcome: str,
        studies: Sequence[str] | None = None,
        timepoint: str | None = None,
        variants: Mapping[str, str] | None = None,
    ) -> tuple[BinaryTable, tuple[str, ...]]:
        """Arm counts of a binary outcome as a :class:`BinaryTable` (t = msc, c = control).

        ``studies``: the studies wanted, in that order; None takes every study reporting the outcome
        (at ``timepoint`` if given), in ``studies.csv`` order. ``timepoint`` selects one timepoint
        label; without it, a study with several timepoints for the outcome is an error.
        ``variants`` maps study_id -> variant name to use instead of ``primary`` (sensitivity
        analyses); entries for studies outside the selection are ignored.

        Returns the table and the requested studies left out because a count (events or total of
        either arm) is unknown or the study has no row for the outcome at that timepoint.
        Raises DatasetLookupError (a KeyError) for an unknown outcome, study id or variant, or for
        an ambiguous timepoint; ValueError when no requested study has known counts.
        """
        rows = self.outcomes[self.outcomes["outcome"] == outcome]
        if rows.empty:
            known = ", ".join(sorted(self.outcomes["outcome"].unique()))
            raise DatasetLookupError(f"unknown outcome {outcome!r} (known: {known})")
        if isinstance(studies, str):
            raise TypeError(f"studies must be a sequence of study ids, not the string {studies!r}")
        variants = dict(variants or {})
        self._check_study_ids(list(studies or ()) + list(variants), "binary_table")
        if studies is not None and len(set(studies)) != len(studies):
            raise ValueError(f"studies: a study_id is listed twice in {list(studies)}")

        explicit = studies is not None
        reporting = set(rows["study_id"])
        requested = list(studies) if explicit else [s for s in self.studies.index if s in reporting]
        kept: list[tuple[str, float, float, float, float]] = []
        left_out: list[str] = []
        for sid in requested:
            chosen = self._study_rows(rows, sid, outcome, variants.get(sid, PRIMARY), timepoint)
            if chosen is None:
                if explicit:
                    left_out.append(sid)
                continue
            msc = chosen[chosen["arm"] == "msc"].iloc[0]
            ctl = chosen[chosen["arm"] == "control"].iloc[0]
            counts = (msc["events"], msc["total"], ctl["events"], ctl["total"])
            if any(np.isnan(counts)):
                left_out.append(sid)
            else:
                kept.append((sid, *counts))
        if not kept:
            raise ValueError(
                f"no requested study has known counts for outcome {outcome!r}"
                + (f" at timepoint {timepoint!r}" if timepoint is not None else "")
            )
        sid, e_t, n_t, e_c, n_c = zip(*kept, strict=True)
        return BinaryTable(sid, e_t, n_t, e_c, n_c), tuple(left_out)

    def _study_rows(
        self, rows: pd.DataFrame, sid: str, outcome: str, variant: str, timepoint: str | None
    ) -> pd.DataFrame | None:
        """The two arm rows of one study, or None when it has none at ``timepoint``."""
        mine = rows[rows["study_id"] == sid]
        chosen = mine[mine["variant"] == variant]
        if variant != PRIMARY and chosen.empty:
            have = sorted(set(mine["variant"]))
            raise DatasetLookupError(
                f"study {sid!r} has no variant {variant!r} for outcome {outcome!r} (available: {', '.join(have)})"
            )
        if timepoint is not None:
            chosen = chosen[chosen["timepoint"] == timepoint]
        timepoints = list(dict.fromkeys(chosen["timepoint"]))
        if len(timepoints) > 1:
            raise DatasetLookupError(
                f"study {sid!r} reports {outcome!r} at several timepoints ({'; '.join(timepoints)}): "
                "pass timepoint= to choose one"
            )
        return None if chosen.empty else chosen

    def _check_study_ids(self, ids: Sequence[str], argument: str) -> None:
        unknown = [s for s in ids if s not in self.studies.index]
        if unknown:
            raise DatasetLookupError(f"{argument}: unknown study_id(s) {', '.join(map(repr, unknown))}")

    def _analysis_row(self, frame: pd.DataFrame, file: str, document: str, analysis: str) -> pd.Series:
        hit = frame[(frame["document"] == document) & (frame["analysis"] == analysis)]
        if hit.empty:
            known = ", ".join(sorted(frame.loc[frame["document"] == document, "analysis"]))
            detail = (
                f"analyses of {document!r}: {known}" if known else f"documents: {', '.join(frame['document'].unique())}"
            )
            raise DatasetLookupError(f"no row ({document!r}, {analysis!r}) in {file} ({detail})")
        return hit.iloc[0]

    def analysis_set(self, document: str, analysis: str) -> AnalysisSet:
        """The study set of one published analysis (key: document, analysis)."""
        return _to_analysis_set(self._analysis_row(self.analysis_sets, ANALYSIS_SETS, document, analysis))

    def analysis_sets_list(self) -> list[AnalysisSet]:
        """Every analysis set, in file order."""
        return [_to_analysis_set(row) for _, row in self.analysis_sets.iterrows()]

    def published_result(self, document: str, analysis: str) -> pd.Series:
        """The published pooled result (one row of published.csv; ratio measures on their own scale, not log)."""
        return self._analysis_row(self.published, PUBLISHED, document, analysis).copy()

    def covariates(self, studies: Sequence[str]) -> pd.DataFrame:
        """The machine-usable covariates (:data:`COVARIATE_COLUMNS`) of ``studies``, indexed by study_id."""
        self._check_study_ids(list(studies), "covariates")
        return self.studies.loc[list(studies), list(COVARIATE_COLUMNS)].copy()

    def label(self, study: str) -> str:
        """'Author Year' of a study for readers (``Shu 2020``), from ``first_author`` and ``year``."""
        self._check_study_ids([study], "label")
        return self._labels()[study]

    def _labels(self) -> dict[str, str]:
        return {sid: study_label(str(s["first_author"]), int(s["year"])) for sid, s in self.studies.iterrows()}

    def exclusions(self) -> tuple[Exclusion, ...]:
        """The studies the inclusion rules leave out of every evidence-base set, each with its rule and reason
        (:mod:`models.msc.eligibility`), in ``studies.csv`` order."""
        return exclusions(self.studies, self.outcomes, self._labels())

    def eligible_studies(self) -> tuple[str, ...]:
        """The studies the inclusion rules keep (every study not in :meth:`exclusions`), in ``studies.csv`` order."""
        excluded = {e.study_id for e in self.exclusions()}
        return tuple(s for s in self.studies.index if s not in excluded)

    def reports_list(self, study: str | None = None) -> tuple[Report, ...]:
        """The follow-up reports (of ``study`` only, when given), in file order."""
        if study is not None:
            self._check_study_ids([study], "reports_list")
        return tuple(r for r in to_reports(self.reports) if study is None or r.study_id == study)

    def source_list(self, document: str) -> tuple[SourceListEntry, ...]:
        """The entries of a source's list of included studies (``source_lists.csv``), by position."""
        entries = tuple(e for e in to_entries(self.source_lists) if e.document == document)
        if not entries:
            known = ", ".join(sorted(set(self.source_lists["document"])))
            raise DatasetLookupError(f"no list of {document!r} in {SOURCE_LISTS} (lists: {known})")
        return entries

    def timepoint_counts(self, outcome: str = "mortality") -> tuple[TimepointCount, ...]:
        """Every study's counts of ``outcome`` by variant, with the structured time point of each (file order)."""
        return timepoint_counts(self.outcomes, outcome)

    def study_characteristics(self) -> tuple[StudyCharacteristics, ...]:
        """The characteristics table (design, blinding, control, cell source, dose, infusions, severity, time point of
        the death count, country, patients per arm), one record per study in ``studies.csv`` order."""
        return study_characteristics(self.studies, self.outcomes, self._labels())

    def risk_of_bias_table(self) -> tuple[RiskOfBias, ...]:
        """Every risk-of-bias domain of every study (RoB 2 for RCTs, ROBINS-I for NRS), 'not assessed' where no
        source gives a judgement; judgements derived here are graded INF with their reasoning."""
        return risk_of_bias_table(self.studies, self.risk_of_bias, self._labels())


def _to_analysis_set(row: pd.Series) -> AnalysisSet:
    return AnalysisSet(
        document=row["document"],
        analysis=row["analysis"],
        outcome=row["outcome"],
        timepoint_rule=row["timepoint_rule"],
        studies=split_ids(row["studies"]),
        candidate_studies=split_ids(row["candidate_studies"]),
        set_status=row["set_status"],
        reproducibility=row["reproducibility"],
        note=row["note"],
    )


def _text(frame: pd.DataFrame, numeric: Sequence[str]) -> pd.DataFrame:
    """Replace NaN by '' in the text columns (everything not in ``numeric``)."""
    out = frame.copy()
    for col in out.columns:
        if col not in numeric:
            out[col] = out[col].fillna("").astype(object)
    return out


def _load_studies(directory: Path) -> pd.DataFrame:
    f = STUDIES
    raw = read_table(directory / f, STUDY_COLUMNS)
    check_pattern(raw, f, "study_id", STUDY_ID, "study_id must be lower-case letters followed by a 4-digit year")
    check_unique(raw, f, ("study_id",))
    typed = raw.copy()
    typed["year"] = parse_integers(raw, f, "year", required=True, minimum=1900).astype(np.int64)
    check_labels(raw, f, "design", DESIGNS)
    check_labels(raw, f, "severity_class", SEVERITY_CLASSES)
    typed["design_contested"] = parse_booleans(raw, f, "design_contested")
    typed["includes_moderate"] = parse_booleans(raw, f, "includes_moderate")
    typed["n_infusions"] = parse_integers(raw, f, "n_infusions", minimum=1)
    typed["cells_per_kg"] = parse_numbers(raw, f, "cells_per_kg")
    fail_where(typed["cells_per_kg"] <= 0, f, "cells_per_kg", lambda i: "cells_per_kg must be positive")
    check_labels(raw, f, "cells_per_kg_basis", DOSE_BASES, required=False)
    fail_where(
        typed["cells_per_kg"].isna() != raw["cells_per_kg_basis"].isna(),
        f,
        "cells_per_kg_basis",
        lambda _: "cells_per_kg and cells_per_kg_basis must both be given or both be empty",
    )
    check_labels(raw, f, "product", PRODUCTS)
    check_labels(raw, f, "population", POPULATIONS)
    check_grades(raw, f, "grade")
    check_present(raw, f, "source")
    numeric = ("year", "design_contested", "includes_moderate", "n_infusions", "cells_per_kg")
    return _text(typed, numeric).set_index("study_id")


def _load_outcomes(directory: Path, study_ids: pd.Index) -> pd.DataFrame:
    f = OUTCOMES
    raw = read_table(directory / f, OUTCOME_COLUMNS)
    check_references(raw, f, "study_id", study_ids, STUDIES)
    check_pattern(raw, f, "outcome", SNAKE, "outcome names are lower-case snake_case")
    check_present(raw, f, "timepoint")
    check_labels(raw, f, "arm", ARMS)
    check_pattern(raw, f, "variant", VARIANT, "variant is 'primary' or '<author>_<what>' in snake_case")
    prefix = raw["study_id"].str.replace(r"[0-9]+$", "", regex=True)
    fail_where(
        (raw["variant"] != PRIMARY)
        & ~np.array([v.startswith(p + "_") for v, p in zip(raw["variant"], prefix, strict=True)]),
        f,
        "variant",
        lambda i: (
            f"variant {raw['variant'].iloc[i]!r} must start with the study's author prefix {prefix.iloc[i] + '_'!r}"
        ),
    )
    check_unique(raw, f, OUTCOME_KEY)
    typed = raw.copy()
    typed["events"] = parse_integers(raw, f, "events")
    typed["total"] = parse_integers(raw, f, "total")
    fail_where(typed["total"] < 1, f, "total", lambda _: "total is 0: an arm needs at least one patient")
    for grade_col, value_col in (("grade_events", "events"), ("grade_total", "total")):
        check_grades(raw, f, grade_col)
        not_found = grade_is_not_found(raw[grade_col])
        fail_where(
            not_found & typed[value_col].notna(),
            f,
            value_col,
            lambda _, g=grade_col: f"a value is given although {g} is NF (not found)",
        )
        fail_where(
            ~not_found & typed[value_col].isna(),
            f,
            value_col,
            lambda _, g=grade_col: f"empty (unknown) value must have {g} NF; unknown counts are never zero",
        )
    fail_where(
        typed["events"].notna() & typed["total"].isna(),
        f,
        "total",
        lambda i: f"arm has events ({typed['events'].iloc[i]:.0f}) but no total",
    )
    fail_where(
        typed["events"] > typed["total"],
        f,
        "events",
        lambda i: f"events ({typed['events'].iloc[i]:.0f}) exceed total ({typed['total'].iloc[i]:.0f})",
    )
    _check_both_arms(raw)
    _check_variants_have_primary(raw)
    check_present(raw, f, "source")
    typed["timepoint_days"] = check_timepoints(raw)
    check_variant_kinds(raw)
    check_rows_population_and_arm(raw)
    return _text(typed, ("events", "total", "timepoint_days"))


def _check_both_arms(raw: pd.DataFrame) -> None:
    group = ["study_id", "outcome", "timepoint", "variant"]
    arms = raw.groupby(group, sort=False)["arm"].transform("nunique")
    fail_where(
        arms < len(ARMS),
        OUTCOMES,
        "arm",
        lambda i: (
            f"only the {raw['arm'].iloc[i]!r} arm is given for ("
            + ", ".join(f"{g}={raw[g].iloc[i]!r}" for g in group)
            + "); each binary outcome needs both arms (msc and control)"
        ),
    )


def _check_variants_have_primary(raw: pd.DataFrame) -> None:
    with_primary = set(map(tuple, raw.loc[raw["variant"] == PRIMARY, ["study_id", "outcome"]].to_numpy()))
    orphan = pd.Series(
        [v != PRIMARY and (s, o) not in with_primary for s, o, v in raw[["study_id", "outcome", "variant"]].to_numpy()]
    )
    fail_where(
        orphan,
        OUTCOMES,
        "variant",
        lambda i: (
            f"variant {raw['variant'].iloc[i]!r} has no 'primary' row for "
            f"({raw['study_id'].iloc[i]!r}, {raw['outcome'].iloc[i]!r})"
        ),
    )


def _load_continuous(directory: Path, study_ids: pd.Index) -> pd.DataFrame:
    f = CONTINUOUS
    raw = read_table(directory / f, CONTINUOUS_COLUMNS)
    check_references(raw, f, "study_id", study_ids, STUDIES)
    check_pattern(raw, f, "outcome", SNAKE, "outcome names are lower-case snake_case")
    check_present(raw, f, "timepoint")
    check_unique(raw, f, ("study_id", "outcome", "timepoint"))
    check_labels(raw, f, "summary", SUMMARIES)
    typed = raw.copy()
    numeric = []
    for arm in ("msc", "ctl"):
        for part in ("center", "q1", "q3"):
            col = f"{arm}_{part}"
            typed[col] = parse_numbers(raw, f, col)
            numeric.append(col)
        n_col = f"n_{arm}"
        typed[n_col] = parse_integers(raw, f, n_col)
        fail_where(typed[n_col] < 1, f, n_col, lambda _, c=n_col: f"{c} is 0: an arm needs at least one patient")
        numeric.append(n_col)
        center, q1, q3 = (typed[f"{arm}_{p}"] for p in ("center", "q1", "q3"))
        fail_where(q1 > center, f, f"{arm}_q1", lambda i, a=arm: f"{a}_q1 exceeds {a}_center")
        fail_where(center > q3, f, f"{arm}_q3", lambda i, a=arm: f"{a}_center exceeds {a}_q3")
    check_grades(raw, f, "grade")
    check_present(raw, f, "source")
    return _text(typed, numeric)


def _load_published(directory: Path) -> pd.DataFrame:
    f = PUBLISHED
    raw = read_table(directory / f, PUBLISHED_COLUMNS)
    for col in ("document", "analysis"):
        check_labels_text(raw, f, col)
    check_present(raw, f, "source_file")
    check_unique(raw, f, ANALYSIS_KEY)
    check_labels(raw, f, "measure", MEASURES)
    typed = raw.copy()
    for col in ("estimate", "ci_low", "ci_high"):
        typed[col] = parse_numbers(raw, f, col)
    typed["p_value"] = parse_numbers(raw, f, "p_value", low=0, high=1)
    typed["q_p"] = parse_numbers(raw, f, "q_p", low=0, high=1)
    typed["i2_percent"] = parse_numbers(raw, f, "i2_percent", low=0, high=100)
    counts = ("k_studies", "n_msc", "n_control", "n_total")
    for col in counts:
        typed[col] = parse_integers(raw, f, col)
    _check_published_interval(typed)
    ratio = raw["measure"].isin(RATIO_MEASURES)
    for col in ("estimate", "ci_low", "ci_high"):
        fail_where(
            ratio & (typed[col] <= 0),
            f,
            col,
            lambda i, c=col: (
                f"{c} of a ratio measure ({raw['measure'].iloc[i]}) must be positive (ratio scale, not log)"
            ),
        )
    arm_sum = typed["n_msc"] + typed["n_control"]
    fail_where(
        arm_sum.notna() & typed["n_total"].notna() & (arm_sum != typed["n_total"]),
        f,
        "n_total",
        lambda i: f"n_total ({typed['n_total'].iloc[i]:.0f}) is not n_msc + n_control ({arm_sum.iloc[i]:.0f})",
    )
    return _text(typed, ("estimate", "ci_low", "ci_high", "p_value", "q_p", "i2_percent", *counts))


def _check_published_interval(typed: pd.DataFrame) -> None:
    """A published interval has both limits and an estimate, and ci_low < estimate < ci_high (strictly).

    An estimate may stand alone (a single trial's OR printed without an interval); one limit alone, or an interval
    without its estimate, is refused, as is a zero-width or reversed interval (its standard error would be 0 or
    negative).
    """
    f = PUBLISHED
    est, lo, hi = typed["estimate"], typed["ci_low"], typed["ci_high"]
    fail_where(lo.isna() & hi.notna(), f, "ci_low", lambda _: "empty while ci_high is given (an interval needs both)")
    fail_where(hi.isna() & lo.notna(), f, "ci_high", lambda _: "empty while ci_low is given (an interval needs both)")
    fail_where(est.isna() & lo.notna(), f, "estimate", lambda _: "empty while its confidence interval is given")

    def word(a: float, b: float) -> str:
        return "exceeds" if a > b else "equals"

    fail_where(lo > hi, f, "ci_low", lambda i: f"ci_low ({lo.iloc[i]:g}) exceeds ci_high ({hi.iloc[i]:g})")
    fail_where(
        lo >= est,
        f,
        "ci_low",
        lambda i: f"ci_low ({lo.iloc[i]:g}) {word(lo.iloc[i], est.iloc[i])} the estimate ({est.iloc[i]:g})",
    )
    fail_where(
        est >= hi,
        f,
        "ci_high",
        lambda i: f"the estimate ({est.iloc[i]:g}) {word(est.iloc[i], hi.iloc[i])} ci_high ({hi.iloc[i]:g})",
    )


def _load_analysis_sets(directory: Path, study_ids: pd.Index, published: pd.DataFrame) -> pd.DataFrame:
    f = ANALYSIS_SETS
    raw = read_table(directory / f, ANALYSIS_SET_COLUMNS)
    for col in ("document", "analysis"):
        check_labels_text(raw, f, col)
    for col in ("outcome", "reproducibility"):
        check_present(raw, f, col)
    check_unique(raw, f, ANALYSIS_KEY)
    check_pattern(raw, f, "outcome", SNAKE, "outcome names are lower-case snake_case")
    check_id_lists(raw, f, "studies", study_ids)
    check_id_lists(raw, f, "candidate_studies", study_ids)
    fail_where(
        ~raw["reproducibility"].map(lambda v: any(v == r or v.startswith(r + ":") for r in REPRODUCIBILITY)),
        f,
        "reproducibility",
        lambda i: (
            f"{raw['reproducibility'].iloc[i]!r} must be one of {', '.join(REPRODUCIBILITY)} "
            "(optionally followed by ': reason')"
        ),
    )
    _check_pairing(raw, ANALYSIS_SETS, published, PUBLISHED)
    _check_pairing(published, PUBLISHED, raw, ANALYSIS_SETS)
    return _text(raw, ())


def _check_pairing(frame: pd.DataFrame, file: str, other: pd.DataFrame, other_file: str) -> None:
    """Every (document, analysis) of ``frame`` also has a row in ``other``."""
    keys = set(zip(other["document"], other["analysis"], strict=True))
    missing = pd.Series([k not in keys for k in zip(frame["document"], frame["analysis"], strict=True)])
    fail_where(
        missing,
        file,
        "analysis",
        lambda i: f"({frame['document'].iloc[i]!r}, {frame['analysis'].iloc[i]!r}) has no row in {other_file}",
    )


def data_hash(directory: Path) -> str:
    """sha256 over the raw bytes of the data files (name, length and content of each, in DATA_FILES order)."""
    digest = hashlib.sha256()
    for name in DATA_FILES:
        content = (directory / name).read_bytes()
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def load_dataset(data_dir: str | Path | None = None) -> Dataset:
    """Read and validate the data files of ``data_dir`` (default: the repository's ``data/``).

    The default is located relative to this package, not the working directory. Raises
    DataValidationError naming file, spreadsheet row (header = row 1) and column for the first
    broken rule.
    """
    directory = DEFAULT_DATA_DIR if data_dir is None else Path(data_dir)
    studies = _load_studies(directory)
    outcomes = _load_outcomes(directory, studies.index)
    check_outcomes_against_studies(outcomes, studies)
    continuous = _load_continuous(directory, studies.index)
    published = _load_published(directory)
    analysis_sets = _load_analysis_sets(directory, studies.index, published)
    reports = load_reports(directory, studies.index)
    source_lists = load_source_lists(directory, studies.index, reports)
    risk_of_bias = load_risk_of_bias(directory, studies)
    return Dataset(
        studies=studies,
        outcomes=outcomes,
        continuous=continuous,
        published=published,
        analysis_sets=analysis_sets,
        data_hash=data_hash(directory),
        reports=reports,
        source_lists=source_lists,
        risk_of_bias=risk_of_bias,
    )
