"""Bayesian reanalysis of a single trial's reported outcomes (the Shi 2021 3-year follow-up).

Two kinds of input occur in a trial report:

* a 2x2 table (events/total per arm): each arm's risk gets an independent conjugate Beta(a, b) prior, so the
  posterior of each risk is Beta(a + events, b + non-events) exactly; the odds ratio, risk ratio and risk
  difference are summarised from seeded Monte Carlo draws of the two risks. Beta(1, 1) (uniform) is the default:
  a single trial carries no heterogeneity, and a uniform prior on each arm's risk is the usual reference choice.
* a difference of means (or of medians) with only its two-sided p-value: the standard error is recovered as
  ``|difference| / z_{1 - p/2}`` (the Wald test that would give that p-value) and the difference gets a normal
  likelihood with a conjugate normal prior. When the p-value came from a rank test on medians, this is an
  approximation, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from models.bayes.posterior import Interval


@dataclass(frozen=True)
class TwoArmPosterior:
    """Posterior draws of the risks in the experimental (t) and control (c) arm of one trial."""

    p_t: np.ndarray
    p_c: np.ndarray
    events_t: int
    total_t: int
    events_c: int
    total_c: int
    prior: tuple[float, float]

    @property
    def odds_ratio(self) -> np.ndarray:
        """Draws of the odds ratio (experimental vs control), ratio scale."""
        return (self.p_t / (1 - self.p_t)) / (self.p_c / (1 - self.p_c))

    @property
    def risk_ratio(self) -> np.ndarray:
        """Draws of the risk ratio (experimental vs control)."""
        return self.p_t / self.p_c

    @property
    def risk_difference(self) -> np.ndarray:
        """Draws of the risk difference p_t - p_c (probability scale)."""
        return self.p_t - self.p_c

    def interval(self, quantity: str = "odds_ratio", prob: float = 0.95) -> Interval:
        """Equal-tailed interval of ``quantity`` with explicit probability."""
        draws = getattr(self, quantity)
        low, high = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2])
        return Interval(float(low), float(high), prob, "eti")

    def summary(self) -> dict[str, float]:
        """Median OR and RR with 95% equal-tailed intervals, and P(OR > 1), P(OR < 1)."""
        or_draws = self.odds_ratio
        or_ci = self.interval("odds_ratio")
        rr_ci = self.interval("risk_ratio")
        rd_ci = self.interval("risk_difference")
        return {
            "or_median": float(np.median(or_draws)),
            "or_low": or_ci.low,
            "or_high": or_ci.high,
            "rr_median": float(np.median(self.risk_ratio)),
            "rr_low": rr_ci.low,
            "rr_high": rr_ci.high,
            "rd_median": float(np.median(self.risk_difference)),
            "rd_low": rd_ci.low,
            "rd_high": rd_ci.high,
            "p_or_above_1": float(np.mean(or_draws > 1)),
            "p_or_below_1": float(np.mean(or_draws < 1)),
        }


def two_arm_posterior(
    events_t: int,
    total_t: int,
    events_c: int,
    total_c: int,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
    draws: int = 200_000,
    seed: int = 0,
) -> TwoArmPosterior:
    """Conjugate Beta-binomial posterior of both arms' risks, as seeded draws."""
    for name, e, n in (("experimental", events_t, total_t), ("control", events_c, total_c)):
        if not (0 <= e <= n) or n < 1:
            raise ValueError(f"{name} arm: need 0 <= events <= total and total >= 1, got {e}/{n}")
    a, b = prior
    rng = np.random.default_rng(seed)
    p_t = rng.beta(a + events_t, b + total_t - events_t, size=draws)
    p_c = rng.beta(a + events_c, b + total_c - events_c, size=draws)
    return TwoArmPosterior(p_t, p_c, events_t, total_t, events_c, total_c, (a, b))


def se_from_p_value(difference: float, p_value: float) -> float:
    """Standard error implied by a difference and its two-sided p-value (Wald test): ``|d| / z_{1-p/2}``."""
    if not 0 < p_value < 1:
        raise ValueError(f"p_value must be strictly between 0 and 1, got {p_value}")
    if difference == 0:
        raise ValueError("a zero difference carries no information on its standard error")
    return abs(difference) / stats.norm.ppf(1 - p_value / 2)


@dataclass(frozen=True)
class NormalPosterior:
    """Closed-form normal posterior of a difference (normal likelihood, normal prior)."""

    mean: float
    sd: float
    prior_mean: float
    prior_sd: float
    observed: float
    se: float

    def prob_above(self, threshold: float) -> float:
        """P(difference > threshold)."""
        return float(stats.norm.sf(threshold, self.mean, self.sd))

    def interval(self, prob: float = 0.95) -> Interval:
        """Equal-tailed interval with explicit probability (equals the HPD interval for a normal)."""
        z = stats.norm.ppf((1 + prob) / 2)
        return Interval(self.mean - z * self.sd, self.mean + z * self.sd, prob, "eti")


def difference_posterior(observed: float, se: float, *, prior_mean: float = 0.0, prior_sd: float) -> NormalPosterior:
    """Conjugate update of a normal prior by one normal observation of the difference."""
    if se <= 0 or prior_sd <= 0:
        raise ValueError("se and prior_sd must be positive")
    precision = 1 / se**2 + 1 / prior_sd**2
    mean = (observed / se**2 + prior_mean / prior_sd**2) / precision
    return NormalPosterior(float(mean), float(precision**-0.5), prior_mean, prior_sd, observed, se)
