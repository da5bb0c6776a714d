"""Absolute effects at stated control risks: what a relative effect means per 1,000 patients.

A pooled odds ratio says nothing a clinician can act on until it meets a control-arm risk. This module turns any
posterior of the pooled effect (OR or RR, stored on the log scale) into absolute effects at a few *stated* control
risks, each with its source -- never at a model-internal quantity such as the binomial-normal model's mean control
log-odds, which zero-event studies pull down and which describes no patient population.

Every quantity is exact when the posterior has an exact distribution function of ``mu``: the risk with treatment
``p_t`` is a monotone function of ``mu`` at a fixed control risk ``p_c`` (``expit(logit(p_c) + mu)`` for OR,
``p_c * exp(mu)`` for RR), so its quantiles are the transformed quantiles of ``mu``, and ``P(ARR >= x)`` is a
probability about ``mu``.

Thresholds on a relative scale are stated on the scale they name: "a reduction of mortality by at least 20%" is
``RR < 0.8`` at the stated control risk, which for an OR posterior is ``OR < odds(0.8 p_c) / odds(p_c)`` -- not
``OR < 0.8`` (an OR of 0.8 is a smaller relative risk reduction than 20% whenever the risk is not tiny).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.bayes.posterior import Posterior


@dataclass(frozen=True)
class ControlRisk:
    """A stated control-arm risk with where it comes from."""

    key: str
    risk: float
    label: str
    source: str

    def __post_init__(self) -> None:
        if not 0.0 < self.risk < 1.0:
            raise ValueError(f"control risk {self.key!r} must be strictly between 0 and 1, got {self.risk!r}")


IMPORTANT_ARR = 0.02
"""The default clinically important absolute reduction: 2 percentage points (20 fewer events per 1,000). A stated
choice that each analysis should justify for its question; 1 and 5 points
are computed too (:data:`ARR_THRESHOLDS`)."""

ARR_THRESHOLDS = (0.01, IMPORTANT_ARR, 0.05)
NNT_THRESHOLDS = (25, 50, 100)


def crude_control_risk(e_c: float, n_c: float, *, key: str, label: str, source: str) -> ControlRisk:
    """The pooled crude control-arm risk (sum of events / sum of patients) of a set of trials."""
    if n_c <= 0:
        raise ValueError(f"control arms hold no patients (n = {n_c!r})")
    return ControlRisk(key, float(e_c) / float(n_c), label, source)


def risk_with_treatment(log_effect: float, control_risk: float, measure: str) -> float:
    """Risk with treatment at ``control_risk`` for a log-OR or log-RR ``log_effect`` (capped at 1 for RR)."""
    if measure == "OR":
        odds = control_risk / (1.0 - control_risk) * math.exp(log_effect)
        return odds / (1.0 + odds)
    if measure == "RR":
        return min(1.0, control_risk * math.exp(log_effect))
    raise ValueError(f"absolute effects need OR or RR, got {measure!r}")


def ratio_for_rr(rr: float, control_risk: float, measure: str) -> float:
    """The value of the posterior's own ratio (OR or RR) that corresponds to a risk ratio ``rr`` at ``control_risk``."""
    if measure == "RR":
        return rr
    p_t = rr * control_risk
    return (p_t / (1.0 - p_t)) / (control_risk / (1.0 - control_risk))


@dataclass(frozen=True)
class AbsoluteEffect:
    """Absolute effects of one posterior at one stated control risk (per 1,000 patients; 95% equal-tailed CrI).

    ``deaths_*`` are events with treatment per 1,000; ``difference_*`` are treatment minus control per 1,000
    (negative = fewer events); ``p_arr`` maps an absolute reduction x (a proportion) to ``P(ARR >= x)``;
    ``p_nnt`` maps k to ``P(NNT <= k)``; ``p_rr_below_0_8`` is P(RR < 0.8 at this control risk), i.e. P(a relative
    reduction of at least 20%).
    """

    control: ControlRisk
    control_per_1000: float
    deaths_median: float
    deaths_low: float
    deaths_high: float
    difference_median: float
    difference_low: float
    difference_high: float
    p_benefit: float
    p_rr_below_0_8: float
    p_arr: dict[float, float]
    p_nnt: dict[int, float]

    @property
    def p_important(self) -> float:
        """P(absolute reduction >= the clinically important difference, :data:`IMPORTANT_ARR`)."""
        return self.p_arr[IMPORTANT_ARR]


def absolute_effect(post: Posterior, control: ControlRisk, prob: float = 0.95) -> AbsoluteEffect:
    """Absolute effects of ``post`` (an OR or RR posterior of a harmful outcome such as death) at ``control``."""
    if post.measure not in ("OR", "RR"):
        raise ValueError(f"absolute effects need an OR or RR posterior, got {post.measure!r}")
    p_c = control.risk
    ci = post.interval(prob)
    per = [1000.0 * risk_with_treatment(math.log(r), p_c, post.measure) for r in (post.median(), ci.low, ci.high)]
    return AbsoluteEffect(
        control=control,
        control_per_1000=1000.0 * p_c,
        deaths_median=per[0],
        deaths_low=per[1],
        deaths_high=per[2],
        difference_median=per[0] - 1000.0 * p_c,
        difference_low=per[1] - 1000.0 * p_c,
        difference_high=per[2] - 1000.0 * p_c,
        p_benefit=post.prob_below(1.0),
        p_rr_below_0_8=post.prob_below(ratio_for_rr(0.8, p_c, post.measure)),
        p_arr={x: post.prob_nnt_at_most(1.0 / x, baseline_risk=p_c) for x in ARR_THRESHOLDS},
        p_nnt={k: post.prob_nnt_at_most(k, baseline_risk=p_c) for k in NNT_THRESHOLDS},
    )
