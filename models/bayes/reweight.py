"""Prior sensitivity by Pareto-smoothed importance sampling (PSIS) from one proposal fit.

A prior grid of 8 tau priors x 4 effect priors is 32 posteriors per study set. Only the priors of ``mu`` and
``tau`` change between them, so each can be obtained from one MCMC fit under a broad *proposal* prior by importance
weights ``w_s = p_target(mu_s) p_target(tau_s) / (p_proposal(mu_s) p_proposal(tau_s))`` (the likelihood cancels).
The weights are Pareto-smoothed (Vehtari et al. 2024, JMLR 25:72; the approach of priorsense, Kallioinen et al.
2024, Stat Comput 34:57) with arviz-stats, and a reweighted posterior is used only when

* the Pareto k-hat of the weights is <= 0.7 (reliable importance sampling), and
* the importance-sampling effective sample size, ``r_eff / sum(w~^2)`` with ``r_eff`` the MCMC relative efficiency
  (smallest bulk ESS of mu and tau over the number of draws), is >= the ESS gate (1000);

otherwise the caller runs a direct MCMC fit for that prior. The reweighted draws are returned as a weighted
resample (seeded, with replacement) so that the usual posterior queries apply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from arviz_stats.base import array_stats

from models.priors import EffectPrior, TauPrior

KHAT_MAX = 0.7
"""Largest Pareto k-hat for which importance sampling is trusted (Vehtari et al. 2024)."""


@dataclass(frozen=True)
class Reweighted:
    """A posterior reweighted to other priors: resampled draws, log weights and the PSIS diagnostics."""

    posterior: xr.Dataset
    log_weights: np.ndarray
    khat: float
    ess: float
    passed: bool


def prior_log_ratio(
    mu: np.ndarray, tau: np.ndarray, target: tuple[TauPrior, EffectPrior], proposal: tuple[TauPrior, EffectPrior]
) -> np.ndarray:
    """log p_target(mu, tau) - log p_proposal(mu, tau), per draw (tau density on tau's own scale)."""
    (t_tau, t_mu), (p_tau, p_mu) = target, proposal
    return t_tau.logpdf(tau) + t_mu.logpdf(mu) - p_tau.logpdf(tau) - p_mu.logpdf(mu)


def reweight(
    posterior: xr.Dataset,
    target: tuple[TauPrior, EffectPrior],
    proposal: tuple[TauPrior, EffectPrior],
    *,
    r_eff: float,
    ess_min: float = 1000,
    seed: int = 0,
) -> Reweighted:
    """Reweight ``posterior`` (dims chain, draw[, ...]; variables mu, tau, ...) from ``proposal`` to ``target``.

    ``r_eff`` is the MCMC relative efficiency of the proposal draws (ESS / number of draws); NUTS can exceed 1
    (anticorrelated draws), and values above 1 are capped at 1 so that the ESS is never overstated.
    """
    if not r_eff > 0:
        raise ValueError(f"r_eff must be a positive relative efficiency, got {r_eff}")
    stacked = posterior.stack(sample=("chain", "draw")).transpose("sample", ...)
    mu = stacked["mu"].to_numpy()
    tau = stacked["tau"].to_numpy()
    log_ratio = prior_log_ratio(mu, tau, target, proposal)
    if not np.all(np.isfinite(log_ratio)):
        raise ValueError("the target prior has mass where the proposal has none (non-finite log weights)")
    # arviz-stats' psislw takes the negated log ratios (its LOO convention: the pointwise log-likelihood)
    log_weights, khat = array_stats.psislw(-(log_ratio - log_ratio.max()), r_eff=min(r_eff, 1.0))
    weights = np.exp(log_weights - np.logaddexp.reduce(log_weights))
    ess = float(min(r_eff, 1.0) / np.sum(weights**2))
    rng = np.random.default_rng(seed)
    index = rng.choice(mu.size, size=mu.size, replace=True, p=weights)
    resampled = stacked.isel(sample=index).drop_vars(["sample", "chain", "draw"])
    resampled = resampled.rename({"sample": "draw"}).expand_dims(chain=[0]).assign_coords(draw=np.arange(mu.size))
    khat = float(khat)
    return Reweighted(resampled, log_weights, khat, ess, bool(khat <= KHAT_MAX and ess >= ess_min))
