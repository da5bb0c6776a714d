"""Death counts by time point, and the rules that pick one count per study for a time-point analysis.

Every mortality row of ``outcomes_binary.csv`` carries a structured time point: ``timepoint_days`` (days after
randomisation or the first infusion) and ``timepoint_class`` (``day``: by a stated day; ``in-hospital``; ``icu``;
``end of follow-up``; ``not stated``), graded like a count. A study reports several time points when it has
``time point`` variants beside its primary row (bowdish2023 days 7/14/30; gregoire2022 days 28/60).

Two choices of one count per study (:func:`nearest_day`, :func:`longest_follow_up`), among the study's counts that are
known (both arms) and are its primary row or a ``time point`` variant (never a conflicting value or another arm):

* **earliest common time point** -- the count nearest to day 28 (ties: the earlier); a count whose days are not
  stated is used only when the study has no count with stated days;
* **longest follow-up** -- the count with the most days; a count without stated days only when the study has none
  with stated days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from models.msc.appraisal import timepoint_text

COMMON_DAY = 28
"""The earliest time point most trials report (day 28), the target of the 'earliest common time point' choice."""

SELECTABLE_KINDS = ("primary", "time point")


@dataclass(frozen=True)
class TimepointCount:
    """One study's deaths at one time point (NaN = unknown): the variant that holds it and when it was counted."""

    study_id: str
    variant: str
    variant_kind: str
    timepoint: str
    days: float
    timepoint_class: str
    timepoint_grade: str
    e_t: float
    n_t: float
    e_c: float
    n_c: float

    @property
    def known(self) -> bool:
        """True when the deaths and patients of both arms are known."""
        return not any(math.isnan(x) for x in (self.e_t, self.n_t, self.e_c, self.n_c))

    @property
    def has_days(self) -> bool:
        """True when the count's time point is stated in days."""
        return not math.isnan(self.days)

    @property
    def when(self) -> str:
        """The structured time point in words ('day 28', 'in hospital')."""
        return timepoint_text(self.days, self.timepoint_class)


def timepoint_counts(outcomes: pd.DataFrame, outcome: str = "mortality") -> tuple[TimepointCount, ...]:
    """Every (study, variant) count of ``outcome`` in the validated outcomes frame, in file order."""
    rows = outcomes[outcomes["outcome"] == outcome]
    out = []
    for (sid, variant), group in rows.groupby(["study_id", "variant"], sort=False):
        msc = group[group["arm"] == "msc"].iloc[0]
        ctl = group[group["arm"] == "control"].iloc[0]
        out.append(
            TimepointCount(
                study_id=str(sid),
                variant=str(variant),
                variant_kind=str(msc["variant_kind"]),
                timepoint=str(msc["timepoint"]),
                days=float(msc["timepoint_days"]),
                timepoint_class=str(msc["timepoint_class"]),
                timepoint_grade=str(msc["timepoint_grade"]),
                e_t=float(msc["events"]),
                n_t=float(msc["total"]),
                e_c=float(ctl["events"]),
                n_c=float(ctl["total"]),
            )
        )
    return tuple(out)


def _candidates(counts: tuple[TimepointCount, ...], study: str) -> list[TimepointCount]:
    return [c for c in counts if c.study_id == study and c.variant_kind in SELECTABLE_KINDS and c.known]


def nearest_day(counts: tuple[TimepointCount, ...], study: str, target: int = COMMON_DAY) -> TimepointCount | None:
    """The study's known count nearest to day ``target`` (ties: the earlier); None when it has no known count."""
    candidates = _candidates(counts, study)
    dated = [c for c in candidates if c.has_days]
    if dated:
        return min(dated, key=lambda c: (abs(c.days - target), c.days))
    return next((c for c in candidates if c.variant == "primary"), None)


def longest_follow_up(counts: tuple[TimepointCount, ...], study: str) -> TimepointCount | None:
    """The study's known count with the most days of follow-up; None when it has no known count."""
    candidates = _candidates(counts, study)
    dated = [c for c in candidates if c.has_days]
    if dated:
        return max(dated, key=lambda c: c.days)
    return next((c for c in candidates if c.variant == "primary"), None)
