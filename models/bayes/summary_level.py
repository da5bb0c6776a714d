"""Summary-level Bayesian reanalysis of one published pooled estimate.

Where study-level data are incomplete, a published pooled result can still be reanalysed: its estimate and 95% CI
give a normal likelihood for the pooled effect ``mu`` on the log scale, with the standard error implied by the CI,
``se = (log(high) - log(low)) / (2 * 1.95996)``. The published number is taken at face value as an estimate of
the pooled (mean) effect, so with a normal effect prior the posterior of ``mu`` is conjugate normal and every query
about ``mu`` is closed form.

A published pooled estimate carries no usable information on the between-study SD tau (a fixed-effect estimate
ignores it and a random-effects estimate has already integrated it out), so tau keeps its prior: it enters only the
predictive distribution of the effect in a new study, ``mu + tau * z``: a normal mixture over 2,000 equal-mass
quantile nodes of the tau prior (midpoint rule in the prior's probability; its cdf within 3e-6 of scipy's adaptive
quadrature under HalfNormal(0.5) and 1e-7 under HalfCauchy(1)). This is why the summary-level analysis is run over
the tau presets as well as over the effect priors: the tau prior changes the predictive interval and P(true effect
in a new setting < 1), not P(mu < 0).

A *fixed-effect* published CI is not random-effects evidence: it ignores the between-study variance, so taken at face
value it overstates the certainty about the mean effect whenever tau > 0. With ``fixed_effect_k=k`` the published
fixed-effect estimate is conditioned honestly instead: with k studies of (unknown, taken as equal) within-study
variance ``k * se^2``, the random-effects mean has variance ``se^2 + tau^2 / k``, so the likelihood of the published
estimate given ``(mu, tau)`` is ``Normal(y; mu, se^2 + tau^2 / k)``, integrated over the tau prior (tau then gets a
posterior, weakly informed by how the estimate sits against the effect prior: density ``prior(tau) m(tau) / Z`` with
``m(tau) = Normal(y; m0, s0^2 + se^2 + tau^2 / k)``). The posterior of ``mu`` is a normal mixture over equal-mass
quantile nodes of the tau prior (2,000 nodes), exact to that quadrature; so are the predictive distribution and the
cdf and quantiles of tau (the same midpoint rule in the prior's probability; cdf and density of tau within 5e-6 and
1e-5 relative of scipy's adaptive quadrature, tests/bayes/test_posterior_api.py).

Every distribution function is closed form or that one quadrature: no query depends on a seed. Only :meth:`arr`
(draws of the absolute risk reduction) uses ``n_draws`` seeded draws of mu.
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
from scipy import stats

from models.bayes import normal_kernels
from models.bayes.exact import mixture_pdf, mixture_ppf
from models.bayes.posterior import Posterior, check_measure, hdi_from_ppf
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


class SummaryLevelPosterior(Posterior):
    """Posterior of ``mu`` given one published estimate (closed form), tau from its prior or (``fixed_effect_k``) its
    posterior, and the predictive distribution: every query closed form or one quadrature over the tau prior (module
    docstring). The single "study" is the published pooled estimate itself, labelled ``published``: its true effect
    is ``mu``.
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
        self.measure = check_measure(measure)
        ratio = self.is_ratio
        if ratio and estimate <= 0:
            raise ValueError(f"a ratio estimate must be positive, got {estimate}")
        if fixed_effect_k is not None and int(fixed_effect_k) < 1:
            raise ValueError(f"fixed_effect_k must be a positive number of studies, got {fixed_effect_k!r}")
        y = math.log(estimate) if ratio else float(estimate)
        se = se_from_ci(ci_low, ci_high, ratio=ratio)
        self.observed, self.se = y, se
        self.tau_prior, self.effect_prior = tau_prior, effect_prior
        self.fixed_effect_k = fixed_effect_k
        self.n_draws, self.seed = int(n_draws), int(seed)
        m0, s0sq = effect_prior.mean, effect_prior.sd**2
        # equal-mass quantile nodes of the tau prior: a midpoint rule in the prior's probability
        self._tau_nodes = np.asarray(tau_prior.ppf((np.arange(tau_nodes) + 0.5) / tau_nodes), dtype=float)
        if fixed_effect_k is None:
            var = np.array([se**2])
            self._node_w = np.full(tau_nodes, 1.0 / tau_nodes)  # tau keeps its prior
        else:
            var = se**2 + self._tau_nodes**2 / int(fixed_effect_k)
            log_m = stats.norm.logpdf(y, m0, np.sqrt(s0sq + var))
            m = np.exp(log_m - log_m.max())
            self._node_w = m / m.sum()
        precision = 1 / var + 1 / s0sq
        self._means = (y / var + m0 / s0sq) / precision
        self._sds = precision**-0.5
        self._weights = self._node_w if fixed_effect_k is not None else np.ones(1)
        self.post_mean = float(np.sum(self._weights * self._means))
        self.post_sd = float(math.sqrt(np.sum(self._weights * (self._sds**2 + (self._means - self.post_mean) ** 2))))

    # -- mu (and the published estimate's true effect, the same) -------------------------------------------------

    def _mu_cdf(self, x: float) -> float:
        return float(np.sum(self._weights * stats.norm.cdf(x, self._means, self._sds)))

    def _mu_pdf(self, x: float) -> float:
        return mixture_pdf(float(x), self._weights, self._means, self._sds)

    def _mu_ppf(self, q: float) -> float:
        if self._weights.size == 1:
            return float(stats.norm.ppf(q, self._means[0], self._sds[0]))
        return float(mixture_ppf(q, self._weights, self._means[:, None], self._sds[:, None])[0])

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

    def _theta_cdf(self, i: int, x: float) -> float:
        return self._mu_cdf(x)

    def _theta_pdf(self, i: int, x: float) -> float:
        return self._mu_pdf(x)

    def _theta_ppf(self, q: float) -> np.ndarray:
        return np.array([self._mu_ppf(q)])

    def _study_labels(self) -> tuple[str, ...]:
        return ("published",)

    # -- a new study: mu + tau z, a normal mixture over the tau nodes --------------------------------------------

    @cached_property
    def _pred_mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weights, means and SDs of the predictive normal mixture, contiguous (the compiled cdf's input)."""
        means = np.ascontiguousarray(np.broadcast_to(self._means, self._tau_nodes.shape), dtype=float)
        sds = np.sqrt(np.broadcast_to(self._sds, self._tau_nodes.shape) ** 2 + self._tau_nodes**2)
        return np.ascontiguousarray(self._node_w, dtype=float), means, np.ascontiguousarray(sds, dtype=float)

    def _pred_cdf(self, x: float) -> float:
        return float(normal_kernels.mixture_cdf(float(x), *self._pred_mixture))

    def _pred_pdf(self, x: float) -> float:
        return mixture_pdf(float(x), *self._pred_mixture)

    def _pred_ppf(self, q: float) -> float:
        w, m, sd = self._pred_mixture
        return float(mixture_ppf(q, w, m[:, None], sd[:, None])[0])

    def _pred_hdi(self, prob: float) -> tuple[float, float]:
        return hdi_from_ppf(self._pred_ppf, prob)

    # -- tau: its prior, or (fixed_effect_k) the prior reweighted by m(tau) ----------------------------------------

    @cached_property
    def _tau_cum(self) -> np.ndarray:
        """The tau cdf at the cell edges j / N of the prior's probability (cells of equal prior mass, each with the
        weight of its node)."""
        return np.concatenate([[0.0], np.cumsum(self._node_w)])

    def _tau_cdf(self, t: float) -> float:
        if t <= 0:
            return 0.0
        p = float(self.tau_prior.cdf(t))
        if self.fixed_effect_k is None:
            return p
        n = self._tau_nodes.size
        j = min(int(p * n), n - 1)
        return float(self._tau_cum[j] + self._node_w[j] * (p * n - j))

    def _tau_ppf(self, q: float) -> float:
        if self.fixed_effect_k is None:
            return float(self.tau_prior.ppf(q))
        n = self._tau_nodes.size
        j = int(np.clip(np.searchsorted(self._tau_cum, q, side="right") - 1, 0, n - 1))
        p = (j + (q - self._tau_cum[j]) / self._node_w[j]) / n if self._node_w[j] > 0 else j / n
        return float(self.tau_prior.ppf(min(max(p, 0.0), 1.0)))

    def _log_m(self, tau: np.ndarray | float) -> np.ndarray:
        """``log m(tau)``: the log likelihood of the published estimate given tau, mu integrated out."""
        k = int(self.fixed_effect_k or 1)
        sd = np.sqrt(self.effect_prior.sd**2 + self.se**2 + np.asarray(tau, dtype=float) ** 2 / k)
        return stats.norm.logpdf(self.observed, self.effect_prior.mean, sd)

    @cached_property
    def _log_z(self) -> float:
        """``log E_prior[m(tau)]`` by the midpoint rule over the equal-mass nodes (the tau density's normaliser)."""
        log_m = self._log_m(self._tau_nodes)
        top = float(np.max(log_m))
        return top + math.log(float(np.mean(np.exp(log_m - top))))

    def _tau_pdf(self, t: float) -> float:
        if t <= 0:
            return 0.0
        log_prior = float(self.tau_prior.logpdf(t))
        if self.fixed_effect_k is None:
            return math.exp(log_prior)
        return math.exp(log_prior + float(self._log_m(t)) - self._log_z)

    def _tau_hdi(self, prob: float) -> tuple[float, float]:
        return hdi_from_ppf(self._tau_ppf, prob)

    # -- draws of mu (absolute effects only) ---------------------------------------------------------------------

    @cached_property
    def _draws(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        idx = rng.choice(self._weights.size, size=self.n_draws, p=self._weights)
        return rng.normal(self._means[idx], self._sds[idx])

    def _mu_draws(self) -> np.ndarray:
        return self._draws
