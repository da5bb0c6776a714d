"""Typed results keyed by what they are, and the one place that turns them into rows of ``summary.csv`` / JSON.

A :class:`Result` is one posterior summarised: the pooled effect ``mu`` (median and 95% equal-tailed interval on
the analysis scale: log OR / log RR for ratios), P(mu < 0), P(benefit) in the direction the user named, P(effect
beyond the important threshold), tau, the 95% prediction interval, and for MCMC fits the convergence gate and the
NetCDF file. Its :class:`ResultKey` says which model, priors and variant (all studies, one left out, cumulative
step, regression slope, published estimate) it is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum

import pandas as pd

from models.bayes.posterior import Posterior
from models.toolkit.spec import Direction

ALL_STUDIES = "all_studies"


class Kind(StrEnum):
    """What a result is an instance of; reports and figures select results by kind, never by parsing labels."""

    POOLED = "pooled"
    """A whole study set or scenario under one model and prior pair."""
    LEAVE_ONE_OUT = "leave_one_out"
    CUMULATIVE = "cumulative"
    PUBLISHED = "published"
    """A published pooled estimate reanalysed at summary level."""
    REGRESSION = "regression"
    """A meta-regression's pooled effect at the covariate means or one of its slopes."""
    ABSOLUTE = "absolute"
    """A pooled result turned into events per 1,000 at a stated control risk."""
    SUBGROUP = "subgroup"
    """A meta-regression's subgroup effect (draws of a linear combination, not a model's ``mu``)."""
    SMALL_STUDY = "small_study"
    SINGLE_TRIAL = "single_trial"


@dataclass(frozen=True, order=True)
class ResultKey:
    """What a result is: ``model`` (e.g. ``binomial_normal_exact``), the two prior keys and the ``variant``."""

    model: str
    tau_prior: str
    effect_prior: str
    variant: str = ALL_STUDIES


@dataclass(frozen=True)
class Result:
    """One posterior, summarised (analysis scale; see the module docstring)."""

    key: ResultKey
    measure: str
    k: int
    mu_median: float
    mu_low: float
    mu_high: float
    p_mu_below_0: float
    p_benefit: float
    p_important: float | None
    tau_median: float
    tau_low: float
    tau_high: float
    pred_low: float
    pred_high: float
    gate: str | None = None
    fit_file: str | None = None
    kind: Kind = Kind.POOLED
    subject: str = ""
    """What the kind is about: the study left out, the cumulative step ("2004 Smith"), the regression term."""

    @property
    def is_ratio(self) -> bool:
        return self.measure in ("OR", "RR")

    def reported(self, x: float) -> float:
        """A value on the reported scale (ratio for OR/RR)."""
        return math.exp(x) if self.is_ratio else x


def summarise(
    post: Posterior,
    key: ResultKey,
    direction: Direction,
    k: int,
    *,
    gate: str | None = None,
    fit_file: str | None = None,
    kind: Kind = Kind.POOLED,
    subject: str = "",
) -> Result:
    """The :class:`Result` of a posterior (exact or MCMC): P(benefit) and P(important) in ``direction``."""
    ratio = post.measure in ("OR", "RR")
    to_analysis = math.log if ratio else float
    null = 1.0 if ratio else 0.0
    ci, tau, pred = post.interval(0.95), post.tau_interval(0.95), post.predictive_interval(0.95)
    p_below = post.prob_below(null)
    important = None
    if direction.important is not None and post.measure == direction.measure:
        important = direction.benefit_side(post.prob_below(direction.important))
    return Result(
        key=key,
        measure=post.measure,
        k=k,
        mu_median=to_analysis(post.median()),
        mu_low=to_analysis(ci.low),
        mu_high=to_analysis(ci.high),
        p_mu_below_0=p_below,
        p_benefit=direction.benefit_side(p_below),
        p_important=important,
        tau_median=post.tau_median(),
        tau_low=tau.low,
        tau_high=tau.high,
        pred_low=to_analysis(pred.low),
        pred_high=to_analysis(pred.high),
        gate=gate,
        fit_file=fit_file,
        kind=kind,
        subject=subject,
    )


def _clean(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_record(result: Result) -> dict[str, object]:
    """One flat record (strict-JSON-safe: None for undefined numbers, never NaN)."""
    record: dict[str, object] = {**asdict(result.key)}
    body = asdict(result)
    del body["key"]
    record.update(body)
    if result.is_ratio:
        record["effect_median"] = math.exp(result.mu_median)
        record["effect_low"] = math.exp(result.mu_low)
        record["effect_high"] = math.exp(result.mu_high)
    else:
        record["effect_median"], record["effect_low"], record["effect_high"] = (
            result.mu_median,
            result.mu_low,
            result.mu_high,
        )
    return {k: _clean(v) for k, v in record.items()}


def summary_frame(results: Iterable[Result]) -> pd.DataFrame:
    """The rows of ``summary.csv``: one per result, sorted by key; ``effect_*`` on the reported scale."""
    records = [to_record(r) for r in sorted(results, key=lambda r: r.key)]
    return pd.DataFrame.from_records(records)


def find(results: Iterable[Result], **where: str) -> list[Result]:
    """Results whose key fields (or ``kind``) equal ``where``, e.g. ``model="normal_normal_exact"``,
    ``kind=Kind.LEAVE_ONE_OUT``."""
    return [r for r in results if all(getattr(r if f == "kind" else r.key, f) == v for f, v in where.items())]
