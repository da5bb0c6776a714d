"""Summary-level reanalysis of a fixed-effect published CI with the between-study variance added back.

Reference: brute-force two-dimensional integration over (mu, tau) on a dense trapezoid grid (independent of the
normal-mixture code, which integrates mu analytically over quantile nodes of the tau prior):
p(mu, tau | y) ∝ Normal(y; mu, se^2 + tau^2 / k) Normal(mu; m0, s0^2) p(tau).
"""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from models.bayes.summary_level import SummaryLevelPosterior, se_from_ci
from models.priors import effect_prior, tau_prior


def _brute_force_p_below(y, se, k, tp, ep, x):
    mu = np.union1d(np.linspace(-6, 6, 6001), [x])  # x is a node: no partial cell at the limit
    tau = np.linspace(0, float(tp.ppf(1 - 1e-10)), 3001)
    m, t = np.meshgrid(mu, tau, indexing="ij")
    joint = (stats.norm.pdf(y, m, np.sqrt(se**2 + t**2 / k)) * stats.norm.pdf(m, ep.mean, ep.sd)
             * np.asarray(tp.pdf(t)))  # fmt: skip
    over_tau = integrate.trapezoid(joint, tau, axis=1)
    below = mu <= x
    return integrate.trapezoid(over_tau[below], mu[below]) / integrate.trapezoid(over_tau, mu)


@pytest.mark.parametrize("k", [5, 24])
def test_random_effects_conditioning_matches_brute_force(k):
    # SCRT 2026's published fixed-effect OR 0.74 [0.55, 0.99] (data/published.csv)
    tp, ep = tau_prior("halfnormal_0.5"), effect_prior("weakly_informative")
    post = SummaryLevelPosterior(0.74, 0.55, 0.99, "OR", tp, ep, fixed_effect_k=k)
    se = se_from_ci(0.55, 0.99, ratio=True)
    for x in (math.log(0.8), 0.0):
        assert post.prob_below(math.exp(x)) == pytest.approx(_brute_force_p_below(math.log(0.74), se, k, tp, ep, x),
                                                             abs=2e-4)  # fmt: skip


def test_adding_between_study_variance_lowers_certainty():
    tp, ep = tau_prior("halfnormal_0.5"), effect_prior("weakly_informative")
    face = SummaryLevelPosterior(0.74, 0.55, 0.99, "OR", tp, ep)
    honest = SummaryLevelPosterior(0.74, 0.55, 0.99, "OR", tp, ep, fixed_effect_k=24)
    assert honest.prob_below(1.0) < face.prob_below(1.0)
    assert honest.interval().high > face.interval().high


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="positive number of studies"):
        SummaryLevelPosterior(0.74, 0.55, 0.99, "OR", tau_prior("halfnormal_0.5"), effect_prior("vague"),
                              fixed_effect_k=0)  # fmt: skip


def test_face_value_is_unchanged_conjugate_normal():
    ep = effect_prior("weakly_informative")
    post = SummaryLevelPosterior(0.74, 0.55, 0.99, "OR", tau_prior("halfnormal_0.5"), ep)
    se = se_from_ci(0.55, 0.99, ratio=True)
    prec = 1 / se**2 + 1 / ep.sd**2
    mean = (math.log(0.74) / se**2) / prec
    assert post.prob_below(1.0) == pytest.approx(stats.norm.cdf(0, mean, prec**-0.5), abs=1e-12)
    assert np.isfinite(post.tau_median())
