"""The public entry points of the exact binomial-normal engine: :class:`BinomialLikelihood` (a table's per-study
curves, reused for any pair of priors) and :func:`exact_binomial_normal` (table and priors to posterior)."""

from __future__ import annotations

import numpy as np

from models.bayes.exact_binomial.grid import _TauRows
from models.bayes.exact_binomial.likelihood import TableCurves
from models.bayes.exact_binomial.posterior import ExactBinomialPosterior
from models.priors import BASELINE_SD_DEFAULT, EffectPrior, TauPrior
from models.tables import BinaryTable


class BinomialLikelihood(TableCurves):
    """The per-study integrals of a 2x2 table, built once and reused for any pair of priors.

    Parameters
    ----------
    table : BinaryTable
        Arm counts (t = experimental, c = control).
    parametrisation : str
        ``"symmetric"`` (primary; logit p = a -/+ t/2) or ``"control"`` (logit p_c = a, logit p_t = a + t).
    baseline_sd : float
        SD of the Normal(0, sd) prior on each study's baseline log-odds ``a``.
    bias_mean, bias_sd : array-like, optional
        Per-study additive bias on the log-OR scale (mean and SD; 0 for randomised studies), Turner et al. 2009.

    Methods: :meth:`posterior` (random effects, or ``model="fixed"`` for tau = 0), :meth:`log_evidence` (log
    marginal likelihood of the data, optionally with tau = 0 and/or mu = 0), :meth:`log_lik` (the matrix
    ``log L_i(mu, tau)``), :meth:`log_lik_t` (each study's ``log L_i(t)`` on a grid of its own log-OR).
    """

    def posterior(
        self,
        tau_prior: TauPrior | None,
        effect_prior: EffectPrior,
        *,
        model: str = "random",
        n_tau: int = 48,
        n_mu: int = 24,
        n_draws: int = 100_000,
        seed: int = 0,
    ) -> ExactBinomialPosterior:
        """The exact posterior under ``tau_prior`` and ``effect_prior`` (``model="fixed"``: tau = 0, no tau prior)."""
        return ExactBinomialPosterior(self, tau_prior, effect_prior, model, n_tau, n_mu, n_draws, seed)

    def log_evidence(
        self,
        tau_prior: TauPrior | None,
        effect_prior: EffectPrior | None,
        *,
        n_tau: int = 48,
        n_mu: int = 24,
    ) -> float:
        """Log marginal likelihood ``log p(y)`` of the counts (binomial coefficients included).

        ``tau_prior=None`` fixes tau = 0 (fixed effect); ``effect_prior=None`` fixes mu = 0 (null model).
        """
        if effect_prior is not None:
            model = "random" if tau_prior is not None else "fixed"
            return self.posterior(tau_prior, effect_prior, model=model, n_tau=n_tau, n_mu=n_mu).log_evidence
        if tau_prior is None:
            return float(self.log_lik(np.zeros(1), np.zeros(1)).sum())
        rows = _TauRows(self, tau_prior, None, n_tau, 1)
        return rows.log_evidence


def exact_binomial_normal(
    table: BinaryTable,
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    *,
    parametrisation: str = "symmetric",
    baseline_sd: float = BASELINE_SD_DEFAULT,
    bias_mean: np.ndarray | list[float] | None = None,
    bias_sd: np.ndarray | list[float] | None = None,
    model: str = "random",
    n_tau: int = 48,
    n_mu: int = 24,
    n_draws: int = 100_000,
    seed: int = 0,
) -> ExactBinomialPosterior:
    """Exact posterior of the binomial-normal model on the arm counts of ``table`` (log-OR scale).

    Parameters
    ----------
    table : BinaryTable
        Arm counts, t = experimental arm, c = control arm.
    tau_prior, effect_prior : TauPrior, EffectPrior
        Priors on tau (SD of log-ORs) and mu (log-OR).
    parametrisation : str
        ``"symmetric"`` (as the PyMC model) or ``"control"`` (logit p_c = a, logit p_t = a + t; brms/MetaStan).
    baseline_sd : float
        SD of the Normal prior on each study's baseline log-odds.
    bias_mean, bias_sd : array-like, optional
        Additive bias (log-OR) per study: mean and SD, 0 for randomised studies (Turner et al. 2009).
    model : str
        ``"random"`` or ``"fixed"`` (tau = 0; ``tau_prior`` ignored).
    n_tau, n_mu : int
        Grid rows in log tau and mu nodes per row (module docstring).
    n_draws, seed : int
        Size and seed of the simulated draws of mu behind :meth:`ExactBinomialPosterior.arr`.
    """
    lik = BinomialLikelihood(
        table, parametrisation=parametrisation, baseline_sd=baseline_sd, bias_mean=bias_mean, bias_sd=bias_sd
    )
    return lik.posterior(tau_prior, effect_prior, model=model, n_tau=n_tau, n_mu=n_mu, n_draws=n_draws, seed=seed)
