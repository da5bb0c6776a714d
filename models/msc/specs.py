"""What the reanalysis analyses: study sets built from the data, benefit direction, published comparators, priors.

A :class:`StudySet` is one set of studies with known arm counts for one binary outcome, with the studies of the
intended set whose counts are unknown listed (never filled in), the direction in which an effect is a benefit
(fewer deaths: ratio < 1; more clinical improvement: ratio > 1) and the published pooled result to set beside it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd

from models.msc.datasets import Dataset
from models.msc.reproduction import SUBGROUP_FILTERS
from models.msc.timepoints import COMMON_DAY, TimepointCount, longest_follow_up, nearest_day
from models.msc.wording import set_name
from models.prior_policy import RATIO_EFFECT_GRID, RATIO_TAU_GRID
from models.tables import BinaryTable

BINARY_TAU_PRESETS = RATIO_TAU_GRID
"""Tau presets of the prior grid for log-OR/log-RR analyses (Rhodes 2015 is for SMD and is left out)."""

EFFECT_PRESETS_GRID = RATIO_EFFECT_GRID
"""Effect priors of the prior grid."""

HIGHER_IS_BENEFIT = ("clinical_improvement", "ct_normal", "sf36_general_health")
"""Outcomes for which a ratio above 1 (or a positive difference) is a benefit; all others: below 1."""

EVIDENCE_BASE = "evidence_base"
"""Pseudo-document of the analyses of all studies with known counts (not a published meta-analysis)."""

PRIMARY_ANALYSIS = "rct"
"""The pre-specified primary analysis of the evidence base: randomised trials only (binomial-normal model, primary
priors). Non-randomised studies enter only through the bias model (``nrs_bias``); pooling them as exchangeable with
the trials (``all``) is a sensitivity analysis."""

MULTI_ARM_SENSITIVITY = {"zarrabi2023": "zarrabi_msc_ev_arm"}
"""Multi-arm rule: the primary takes each trial's MSC-alone arm; this sensitivity swaps in the arm that added
MSC-derived vesicles (zarrabi2023: MSC + vesicles 0/8 instead of MSC alone 3/11, same control 8/24)."""

TIMEPOINT_ANALYSES = ("rct_day28", "rct_longest")
"""The primary randomised set at the earliest common time point (day 28 or nearest) and at the longest follow-up
(:func:`timepoint_sets`)."""


@dataclass(frozen=True)
class Published:
    """A published pooled result on the reported scale (ratio scale for OR/RR)."""

    document: str
    analysis: str
    measure: str
    estimate: float
    ci_low: float
    ci_high: float
    label: str
    model: str = ""
    k: int | None = None

    @property
    def is_fixed_effect(self) -> bool:
        """True when the paper pooled with a fixed-effect (common-effect) model."""
        return self.model.startswith("fixed")

    @property
    def has_ci(self) -> bool:
        """True when estimate and both 95% limits are known."""
        return not any(math.isnan(x) for x in (self.estimate, self.ci_low, self.ci_high))


@dataclass(frozen=True)
class StudySet:
    """One study set for the hierarchical models.

    ``key`` is ``document/analysis[/variant]``; ``table`` holds the studies with known counts; ``missing`` the
    intended studies whose counts are unknown; ``measure`` is the measure the paper reported (OR or RR);
    ``set_source`` says whether the studies are the paper's list, a candidate set, or our own selection.
    """

    key: str
    document: str
    analysis: str
    title: str
    outcome: str
    measure: str
    table: BinaryTable
    missing: tuple[str, ...]
    set_source: str
    published: Published | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def higher_is_benefit(self) -> bool:
        """True when a ratio above 1 is a benefit (e.g. clinical improvement)."""
        return self.outcome in HIGHER_IS_BENEFIT

    @property
    def crude_control_risk(self) -> float:
        """Pooled control-arm risk of the studies with known counts (sum of events / sum of totals)."""
        return float(self.table.e_c.sum() / self.table.n_c.sum())

    @property
    def file_stem(self) -> str:
        """A file-name-safe version of ``key``."""
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.key.replace("/", "__"))


def published_of(dataset: Dataset, document: str, analysis: str) -> Published | None:
    """The published result of (document, analysis), or None when the data have no such row."""
    hit = dataset.published[(dataset.published["document"] == document) & (dataset.published["analysis"] == analysis)]
    if hit.empty:
        return None
    row = hit.iloc[0]
    label = f"{document} published {row['measure']} ({row['model']})"
    return Published(
        document,
        analysis,
        str(row["measure"]),
        float(row["estimate"]),
        float(row["ci_low"]),
        float(row["ci_high"]),
        label,
        str(row["model"]),
        None if pd.isna(row["k_studies"]) else int(row["k_studies"]),
    )


def _timepoint_for(dataset: Dataset, outcome: str, rule: str) -> str | None:
    """The timepoint label a study set uses: a concrete label (e.g. ``day 7``) when the rule names one."""
    labels = set(dataset.outcomes.loc[dataset.outcomes["outcome"] == outcome, "timepoint"])
    return rule if rule in labels else None


def study_sets(dataset: Dataset) -> list[StudySet]:
    """Every published binary analysis with a known or candidate study set, plus the evidence-base sets.

    Subgroup analyses without their own study list are not study sets (they are answered by meta-regression).
    """
    sets: list[StudySet] = []
    for aset in dataset.analysis_sets_list():
        published = published_of(dataset, aset.document, aset.analysis)
        if published is None or published.measure not in ("OR", "RR") or not aset.best_studies:
            continue
        if aset.document == "shi_followup_3y" or (aset.document, aset.analysis) in SUBGROUP_FILTERS:
            continue
        timepoint = _timepoint_for(dataset, aset.outcome, aset.timepoint_rule)
        try:
            table, missing = dataset.binary_table(aset.outcome, aset.best_studies, timepoint=timepoint)
        except (KeyError, ValueError):
            continue
        if table.k < 2:
            continue
        if not aset.studies:
            source = "candidate set (the paper's list is not published)"
        elif "inferred" in aset.set_status:
            source = f"{aset.set_status} (the paper prints no study list)"
        else:
            source = "the paper's study list"
        nrs = [x for x in table.study + missing if dataset.studies.loc[x, "design"] == "NRS"]
        notes = (aset.note,) if aset.note else ()
        if nrs:
            notes += (f"contains {len(nrs)} non-randomised {'study' if len(nrs) == 1 else 'studies'} by the "
                      f"classification in data/studies.csv: {', '.join(nrs)}",)  # fmt: skip
        title = set_name(dataset, f"{aset.document}/{aset.analysis}") + ("" if aset.studies else " (candidate set)")
        sets.append(
            StudySet(
                key=f"{aset.document}/{aset.analysis}",
                document=aset.document,
                analysis=aset.analysis,
                title=title,
                outcome=aset.outcome,
                measure=published.measure,
                table=table,
                missing=missing,
                set_source=source,
                published=published,
                notes=notes,
            )
        )
    sets.extend(evidence_base_sets(dataset))
    return sets


def is_blinded_or_placebo(study: pd.Series) -> bool:
    """True for a trial that was double-blind or whose control arm got placebo or sham (``blinding``/``control``)."""
    blinding, control = str(study["blinding"]).lower(), str(study["control"]).lower()
    return blinding.startswith("double-blind") or "placebo" in control or "sham" in control


def evidence_base_sets(dataset: Dataset) -> list[StudySet]:
    """All eligible studies with known mortality counts, and its design / zero-event / conflict / multi-arm sensitivity
    subsets. Eligible: kept by the inclusion rules (:meth:`Dataset.exclusions` lists the others with their reason)."""
    table, missing = dataset.binary_table("mortality", list(dataset.eligible_studies()))
    cov = dataset.covariates(table.study)
    zero_event = tuple(s for s, et, ec in zip(table.study, table.e_t, table.e_c, strict=True) if et == 0 or ec == 0)
    rct = tuple(s for s in table.study if cov.loc[s, "design"] == "RCT")
    rct_uncontested = tuple(s for s in rct if not bool(cov.loc[s, "design_contested"]))
    variant, _ = dataset.binary_table("mortality", list(table.study), variants={"lanzoni2021": "lanzoni_1of12"})
    other_arm, _ = dataset.binary_table("mortality", list(rct), variants=MULTI_ARM_SENSITIVITY)

    def subset(analysis: str, title: str, sub: BinaryTable, unknown: tuple[str, ...], source: str) -> StudySet:
        return StudySet(key=f"{EVIDENCE_BASE}/{analysis}", document=EVIDENCE_BASE, analysis=analysis, title=title,
                        outcome="mortality", measure="OR", table=sub, missing=unknown, set_source=source)  # fmt: skip

    rct_missing = tuple(s for s in missing if dataset.studies.loc[s, "design"] == "RCT")
    blinded = tuple(s for s in rct if is_blinded_or_placebo(dataset.studies.loc[s]))
    blinded_missing = tuple(s for s in rct_missing if is_blinded_or_placebo(dataset.studies.loc[s]))
    out = [
        subset("all", "All studies with known death counts (RCT + NRS)", table, missing,
               "all 24 candidate studies; those with known counts"),
        subset(PRIMARY_ANALYSIS, "Randomised trials (primary analysis)", table.subset(rct), rct_missing,
               "RCTs with known counts"),
        subset("rct_blinded", "Double-blind or placebo/sham-controlled randomised trials", table.subset(blinded),
               blinded_missing, "RCTs with known counts whose control was placebo or sham, or that were double-blind"),
        subset("rct_uncontested", "Randomised trials whose design no review contests", table.subset(rct_uncontested),
               (), "RCTs with known counts, design not contested"),
        subset("no_zero_event", "Studies with at least one death in each arm",
               table.subset([s for s in table.study if s not in zero_event]), (),
               "all studies with known counts minus zero-event studies"),
        subset("lanzoni_1of12", "All studies, Lanzoni 2021 MSC deaths 1/12 (the other review's count)", variant,
               missing, "all studies with known counts, conflict variant"),
        subset("rct_zarrabi_msc_ev_arm", "Randomised trials, Zarrabi 2023 with its MSC + vesicle arm instead of MSC "
               "alone", other_arm, rct_missing, "RCTs with known counts, multi-arm sensitivity (the other MSC arm)"),
    ]  # fmt: skip
    return out


def timepoint_sets(dataset: Dataset) -> tuple[StudySet, StudySet]:
    """The primary randomised set at the earliest common time point and at the longest follow-up.

    For each randomised trial of the primary set (eligible, known primary counts) one count is chosen among its
    primary row and its ``time point`` variants (:func:`models.msc.timepoints.nearest_day`, day 28 or nearest;
    :func:`models.msc.timepoints.longest_follow_up`); the chosen time point of every trial is listed in ``notes``.
    Unknown counts stay unknown: the trials of the primary set without counts are ``missing``. The published
    comparison is Qin 2024's 28-day and 90-day pooled risk ratios (abstract; its study list is unknown).
    """
    primary = next(s for s in evidence_base_sets(dataset) if s.analysis == PRIMARY_ANALYSIS)
    counts = dataset.timepoint_counts("mortality")
    out = []
    for analysis, title, choose, published in (
        ("rct_day28", f"Randomised trials, deaths at day {COMMON_DAY} or the nearest time point reported",
         nearest_day, published_of(dataset, "qin2024", "mortality_d28")),
        ("rct_longest", "Randomised trials, deaths at the longest follow-up reported", longest_follow_up,
         published_of(dataset, "qin2024", "mortality_d90")),
    ):  # fmt: skip
        chosen = {sid: choose(counts, sid) for sid in primary.table.study}
        variants = {sid: c.variant for sid, c in chosen.items() if c is not None and c.variant != "primary"}
        table, _ = dataset.binary_table("mortality", list(primary.table.study), variants=variants)
        out.append(StudySet(key=f"{EVIDENCE_BASE}/{analysis}", document=EVIDENCE_BASE, analysis=analysis,
                            title=title, outcome="mortality", measure="OR", table=table, missing=primary.missing,
                            set_source="RCTs with known counts, one time point per trial by rule",
                            published=published, notes=(_chosen_note(chosen),)))  # fmt: skip
    return out[0], out[1]


def _chosen_note(chosen: dict[str, TimepointCount | None]) -> str:
    return "time point of each trial's count: " + "; ".join(
        f"{sid} {c.when} ({c.timepoint_grade})" for sid, c in chosen.items() if c is not None
    )
