"""Is a heterogeneity prior calibrated for a corpus? A prior predictive check of each meta-analysis's Cochran's Q.

If a corpus's true between-study SDs were draws from the prior ``p(tau)`` and the normal-normal model held, each
meta-analysis's observed ``Q = sum_i w_i (y_i - ybar_w)^2`` (``w_i = 1/v_i``) would be a draw from its prior
predictive distribution, and the probability integral transform ``u = P(Q_rep <= Q_obs)`` would be uniform over the
corpus (Box 1980, J R Stat Soc A 143:383; a histogram of posterior medians against the prior density is not such a
check: posterior medians shrink towards the prior whether or not it fits). Too many ``u`` near 1: the corpus is
more heterogeneous than the prior says; near 0: less.

``u`` is computed by simulation: ``Q_rep`` from ``n_draws`` (default 4,000) draws of tau from the prior and of
``y ~ Normal(0, v_i + tau^2)`` (Q does not depend on mu), seeded from the run seed and the analysis id (a tie counts
one half). Two priors are checked: the random-effects model's, and the model average's, which puts half its mass at
tau = 0 (the two models without heterogeneity have prior probability 1/2). The effects are the per-study log odds
ratios (or SMDs) the REML result uses (read again from each study file by the one reader: 0.5 added to the cells of
zero-cell studies, double-zero studies left out), so ``u`` inherits the normal approximation of sparse data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.priors import TauPrior
from models.reader import read_study_file
from models.settings import derive_seed

N_DRAWS = 4000
MAX_ANALYSES = 20_000
"""At most this many meta-analyses are read again for the check (a seeded random subset of a larger corpus)."""


@dataclass(frozen=True)
class Effects:
    """One meta-analysis's per-study effects (analysis scale) and within-study variances."""

    analysis: str
    yi: np.ndarray
    vi: np.ndarray

    @property
    def q(self) -> float:
        """Cochran's Q (inverse-variance weights)."""
        w = 1.0 / self.vi
        mean = float(np.sum(w * self.yi) / np.sum(w))
        return float(np.sum(w * (self.yi - mean) ** 2))

    @property
    def typical_variance(self) -> float:
        """Higgins & Thompson's typical within-study variance ``(k-1) sum w / ((sum w)^2 - sum w^2)`` (metafor's, for
        I^2)."""
        w = 1.0 / self.vi
        return float((self.vi.size - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2)))


def read_effects(sources: list[tuple[str, str, str]], seed: int) -> tuple[list[Effects], list[str]]:
    """The effects of each ``(analysis, study file, measure)`` with at least two effects (a seeded subset of
    :data:`MAX_ANALYSES` when there are more), and the analyses whose file could not be read again."""
    if len(sources) > MAX_ANALYSES:
        pick = np.random.default_rng(derive_seed(seed, "calibration subset")).choice(len(sources), MAX_ANALYSES,
                                                                                      replace=False)  # fmt: skip
        sources = [sources[i] for i in sorted(pick)]
    out, unread = [], []
    for analysis, path, measure in sources:
        try:
            effects = read_study_file(path, measure).effects
        except (OSError, ValueError):
            unread.append(analysis)
            continue
        if effects.k >= 2:
            out.append(Effects(analysis, effects.yi, effects.vi))
    return out, unread


def tau_draws(prior: TauPrior, n: int, rng: np.random.Generator, p_zero: float = 0.0) -> np.ndarray:
    """``n`` draws of tau from ``prior``, each replaced by 0 with probability ``p_zero`` (a model average's prior)."""
    tau = prior.rvs(n, rng)
    if p_zero > 0.0:
        tau = np.where(rng.uniform(size=n) < p_zero, 0.0, tau)
    return tau


def q_pit(effects: Effects, prior: TauPrior, seed: int, p_zero: float = 0.0, n_draws: int = N_DRAWS) -> float:
    """``P(Q_rep <= Q_obs)`` under the prior predictive distribution (module docstring)."""
    rng = np.random.default_rng(derive_seed(seed, f"calibration:{effects.analysis}:{p_zero:g}"))
    tau = tau_draws(prior, n_draws, rng, p_zero)
    sd = np.sqrt(effects.vi[None, :] + tau[:, None] ** 2)
    y = rng.standard_normal((n_draws, effects.vi.size)) * sd
    w = 1.0 / effects.vi
    mean = (y @ w) / np.sum(w)
    q_rep = ((y - mean[:, None]) ** 2) @ w
    q_obs = effects.q
    return float(np.mean(q_rep < q_obs) + 0.5 * np.mean(q_rep == q_obs))


def decile_shares(u: np.ndarray) -> np.ndarray:
    """The share of PIT values in each tenth of [0, 1] (0.1 each when calibrated)."""
    counts, _ = np.histogram(np.clip(u, 0.0, 1.0), bins=np.linspace(0.0, 1.0, 11))
    return counts / max(u.size, 1)
