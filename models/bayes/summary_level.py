"""Summary-level Bayesian reanalysis of one published pooled estimate.

Where study-level data are incomplete, a published pooled result can still be reanalysed: its estimate and 95% CI
give a normal likelihood for the pooled effect ``mu`` on the log scale, with the standard error implied by the CI,
``se = (log(high) - log(low)) / (2 * 1.95996)``. The published number is taken at face value as an estimate of
the pooled (mean) effect, so with a normal effect prior the posterior of ``mu`` is conjugate normal and every query
about ``mu`` is closed form.

A published pooled estimate carries no usable information on the between-study SD tau (a fixed-effect estimate
ignores it and a random-effects estimate has already integrated it out), so tau keeps its prior: it enters only the
predictive distribution of the effect in a new study, ``mu + tau * z``, which is computed from seeded draws. This is
why the summary-level analysis is run over the tau presets as well as over the effect priors: the tau prior changes
the predictive interval and P(new study benefits), not P(mu < 0).
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from scipy import stats

from models.bayes.posterior import DrawsPosterior
from models.priors import EffectPrior, TauPrior

Z95 = float(stats.norm.ppf(0.975))


def se_from_ci(ci_low: float, ci_high: float, *, ratio: bool, level: float = 0.95) -> float:
    """Standard error on the analysis scale implied by a symmetric (log-scale for ratios) confidence interval."""
    if ratio and not (0 < ci_low < ci_high):
        raise ValueError(f"a ratio CI needs 0 < low < high, got [{ci_low}, {ci_high}]")
    if not ratio and not ci_low < ci_high:
        raise ValueError(f"a CI needs low < high, got [{ci_low}, {ci_high}]")
    z = float(stats.norm.ppf(0.5 + level / 2))
    width = math.log(ci_high) - math.log(ci_low) if ratio else ci_high - ci_low
    return width / (2 * z)


class SummaryLevelPosterior(DrawsPosterior):
    """Posterior of ``mu`` given one published estimate (closed form) and tau from its prior (for prediction).

    Queries about ``mu`` are exact (normal); predictive and tau queries use ``n_draws`` seeded draws. The single
    "study" is the published pooled estimate itself, labelled ``published``.
    """

    def __init__(
        self,
        estimate: float,
        ci_low: float,
        ci_high: float,
        measure: str,
        tau_prior: TauPrior,
        effect_prior: EffectPrior,
        *,
        n_draws: int = 20_000,
        seed: int = 0,
    ) -> None:
        ratio = measure in ("OR", "RR")
        if ratio and estimate <= 0:
            raise ValueError(f"a ratio estimate must be positive, got {estimate}")
        y = math.log(estimate) if ratio else float(estimate)
        se = se_from_ci(ci_low, ci_high, ratio=ratio)
        precision = 1 / se**2 + 1 / effect_prior.sd**2
        self.post_mean = (y / se**2 + effect_prior.mean / effect_prior.sd**2) / precision
        self.post_sd = precision**-0.5
        self.observed, self.se = y, se
        self.tau_prior, self.effect_prior = tau_prior, effect_prior
        rng = np.random.default_rng(seed)
        mu = rng.normal(self.post_mean, self.post_sd, size=n_draws)
        tau = tau_prior.rvs(n_draws, rng)
        ds = xr.Dataset(
            {
                "mu": (("chain", "draw"), mu[None, :]),
                "tau": (("chain", "draw"), tau[None, :]),
                "theta": (("chain", "draw", "study"), mu[None, :, None]),
            },
            coords={"study": ["published"]},
        )
        super().__init__(ds, measure, seed=seed)

    def _mu_cdf(self, x: float) -> float:
        return float(stats.norm.cdf(x, self.post_mean, self.post_sd))

    def _mu_ppf(self, q: float) -> float:
        return float(stats.norm.ppf(q, self.post_mean, self.post_sd))

    def _mu_hdi(self, prob: float) -> tuple[float, float]:
        a = (1 - prob) / 2
        return self._mu_ppf(a), self._mu_ppf(1 - a)

    def log_mean(self) -> float:
        """Posterior mean of ``mu`` on the analysis scale (exact)."""
        return float(self.post_mean)

    def log_sd(self) -> float:
        """Posterior SD of ``mu`` on the analysis scale (exact)."""
        return float(self.post_sd)

    def _ratio_mean(self) -> float:
        return math.exp(self.post_mean + self.post_sd**2 / 2)
