"""Typed records of the MSC job's special analyses that the report tabulates beside the results store: meta-regression
subgroups and slopes, small-study tests and adjustments, and the cumulative steps.

Each is a frozen record with named fields (effects on the OR scale, 95% equal-tailed intervals); the analyses make
them (:mod:`models.msc.kinds`, :mod:`models.msc.evidence`) and the report reads their fields.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.bayes.posterior import Posterior
from models.results import Result


@dataclass(frozen=True)
class Subgroup:
    """A meta-regression subgroup's result (kind ``subgroup``) with the studies in the subgroup and the source of
    the published subgroup OR set beside it (empty when none)."""

    result: Result
    k_in_group: int
    published_source: str


@dataclass(frozen=True)
class Slope:
    """A meta-regression slope as a ratio of ORs (median, 95% CrI), P(ratio < 1) and the studies with the feature
    (all studies for a continuous covariate)."""

    covariate: str
    ratio_of_ors: float
    low: float
    high: float
    p_below_1: float
    k_with: int


@dataclass(frozen=True)
class BiasTest:
    """A small-study (funnel asymmetry) test: its statistic, degrees of freedom and p-value, the studies it used,
    whether it is underpowered (k < 10), the studies it dropped; or only a note when it could not be computed."""

    test: str
    statistic: float = math.nan
    df: float = math.nan
    p: float = math.nan
    k: int | None = None
    underpowered: bool | None = None
    dropped: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Adjustment:
    """One model of the small-study comparison (unadjusted, PET or PEESE): pooled OR with its 95% CrI, P(OR < 1),
    P(OR < 0.8), and (adjusted models) the slope per unit SE or variance with its CrI and P(slope < 0)."""

    model: str
    median: float
    low: float
    high: float
    p_below_1: float
    p_below_0_8: float
    slope_median: float = math.nan
    slope_low: float = math.nan
    slope_high: float = math.nan
    p_slope_below_0: float = math.nan

    @classmethod
    def of(cls, model: str, post: Posterior, slope: dict[str, float] | None = None) -> Adjustment:
        """The record of one posterior (OR scale) and, for an adjusted model, its slope summary."""
        ci = post.interval(0.95, "eti")
        row = cls(model, post.median(), ci.low, ci.high, post.prob_below(1.0), post.prob_below(0.8))
        if slope is None:
            return row
        return cls(row.model, row.median, row.low, row.high, row.p_below_1, row.p_below_0_8, slope["median"],
                   slope["low"], slope["high"], slope["p_below_0"])  # fmt: skip


@dataclass(frozen=True)
class SmallStudy:
    """The small-study analysis of one study set: the frequentist tests and the Bayesian adjustments."""

    tests: tuple[BiasTest, ...]
    adjustments: tuple[Adjustment, ...]
