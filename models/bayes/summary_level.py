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
the predictive interval and P(true effect in a new setting < 1), not P(mu < 0).

A *fixed-effect* published CI is not random-effects evidence: it ignores the between-study variance, so taken at face
value it overstates the certainty about the mean effect whenever tau > 0. With ``fixed_effect_k=k`` the published
fixed-effect estimate is conditioned honestly instead: with k studies of (unknown, taken as equal) within-study
variance ``k * se^2``, the random-effects mean has variance ``se^2 + tau^2 / k``, so the likelihood of the published
estimate given ``(mu, tau)`` is ``Normal(y; mu, se^2 + tau^2 / k)``, integrated over the tau prior (tau then gets a
posterior, weakly informed by how the estimate sits against the effect prior). The posterior of ``mu`` is a normal
mixture over equal-mass quantile nodes of the tau prior (2,000 nodes), exact to that quadrature.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from scipy import stats

from models.bayes.exact import _mixture_ppf
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

    Queries about ``mu`` are exact (a normal, or with ``fixed_effect_k`` a normal mixture over the tau prior);
    predictive and tau queries use ``n_draws`` seeded draws. The single "study" is the published pooled estimate
    itself, labelled ``published``.
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
        fixed_effect_k: int | None = None,
        n_draws: int = 20_000,
        seed: int = 0,
        tau_nodes: int = 2000,
    ) -> None:
        ratio = measure in ("OR", "RR")
        if ratio and estimate <= 0:
            raise ValueError(f"a ratio estimate must be positive, got {estimate}")
        if fixed_effect_k is not None and int(fixed_effect_k) < 1:
            raise ValueError(f"fixed_effect_k must be a positive number of studies, got {fixed_effect_k!r}")
        y = math.log(estimate) if ratio else float(estimate)
        se = se_from_ci(ci_low, ci_high, ratio=ratio)
        self.observed, self.se = y, se
        self.tau_prior, self.effect_prior = tau_prior, effect_prior
        self.fixed_effect_k = fixed_effect_k
        m0, s0sq = effect_prior.mean, effect_prior.sd**2
        if fixed_effect_k is None:
            tau_nodes_arr = np.zeros(1)
            var = np.array([se**2])
            weights = np.ones(1)
        else:
            tau_nodes_arr = np.asarray(tau_prior.ppf((np.arange(tau_nodes) + 0.5) / tau_nodes), dtype=float)
            var = se**2 + tau_nodes_arr**2 / int(fixed_effect_k)
            log_w = stats.norm.logpdf(y, m0, np.sqrt(s0sq + var))
            weights = np.exp(log_w - log_w.max())
            weights /= weights.sum()
        precision = 1 / var + 1 / s0sq
        self._means = (y / var + m0 / s0sq) / precision
        self._sds = precision**-0.5
        self._weights = weights
        self.post_mean = float(np.sum(weights * self._means))
        self.post_sd = float(math.sqrt(np.sum(weights * (self._sds**2 + (self._means - self.post_mean) ** 2))))
        rng = np.random.default_rng(seed)
        idx = rng.choice(weights.size, size=n_draws, p=weights)
        mu = rng.normal(self._means[idx], self._sds[idx])
        tau = tau_prior.rvs(n_draws, rng) if fixed_effect_k is None else tau_nodes_arr[idx]
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
        return float(np.sum(self._weights * stats.norm.cdf(x, self._means, self._sds)))

    def _mu_ppf(self, q: float) -> float:
        if self._weights.size == 1:
            return float(stats.norm.ppf(q, self._means[0], self._sds[0]))
        return float(_mixture_ppf(q, self._weights, self._means[:, None], self._sds[:, None])[0])

    def _mu_hdi(self, prob: float) -> tuple[float, float]:
        a = (1 - prob) / 2
        return self._mu_ppf(a), self._mu_ppf(1 - a)

    def log_mean(self) -> float:
        """Posterior mean of ``mu`` on the analysis scale (exact)."""
        return self.post_mean

    def log_sd(self) -> float:
        """Posterior SD of ``mu`` on the analysis scale (exact)."""
        return self.post_sd

    def _ratio_mean(self) -> float:
        return float(np.sum(self._weights * np.exp(self._means + self._sds**2 / 2)))
