"""The exact engines' quantiles against Brent's method on the same exact cdfs.

The quantile searches of :mod:`models.bayes.exact` (safeguarded Newton on the normal mixtures, which may stop after
the last Newton step without checking the cdf there) and :mod:`models.bayes.exact_binomial` (compiled safeguarded
Newton on the cdf and density, from a normal-approximation guess) must invert the engines' own cdfs as a plain root
search from a wide bracket does, to 1e-9 relative on the reported scale. Data sets cover one study, zero-event and
double-zero studies and a tau prior concentrated near 0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special

from models.bayes.exact import exact_normal_normal, normal_given_tau
from models.bayes.exact_binomial import exact_binomial_normal
from models.bayes.model_averaging import average_binomial, average_normal
from models.priors import EffectPrior, TauPrior, effect_prior, tau_prior
from models.tables import BinaryTable

LEVELS = (0.025, 0.5, 0.975, 0.001, 0.999)
NARROW = TauPrior("halfnormal_0.05", "HalfNormal(0.05)", "halfnormal", (("scale", 0.05),), "test")
WIDE_EFFECT = EffectPrior("vague", "Vague", 0.0, math.sqrt(10.0), "test")

NORMAL_SETS = {
    "k1": ([-0.4], [0.09]),
    "k5": ([-0.9, -0.2, 0.1, -0.5, 0.3], [0.3, 0.05, 0.2, 0.8, 0.15]),
    "heterogeneous": ([-2.0, 1.5, 0.2, -0.8], [0.04, 0.05, 0.1, 0.02]),
}
BINARY_SETS = {
    "k1": BinaryTable(("a",), [3], [40], [7], [41]),
    "zero_events": BinaryTable(("a", "b", "c", "d"), [0, 2, 0, 5], [20, 35, 12, 60], [3, 0, 0, 9], [21, 30, 13, 58]),
    "k3": BinaryTable(("a", "b", "c"), [12, 30, 4], [100, 150, 50], [20, 41, 9], [98, 152, 49]),
}
TAU_PRIORS = {"primary": tau_prior("halfnormal_0.5"), "narrow": NARROW, "turner": tau_prior("turner2015_general")}


def _brent(cdf, q: float, lo: float = -60.0, hi: float = 60.0) -> float:
    """Reference root of cdf(x) = q from a wide bracket, tighter than the engines' tolerance."""
    return float(optimize.brentq(lambda x: cdf(x) - q, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=500))


def _close(new: float, ref: float) -> bool:
    return abs(math.exp(new) - math.exp(ref)) <= 1e-9 * math.exp(ref)


@pytest.mark.parametrize("prior", sorted(TAU_PRIORS))
@pytest.mark.parametrize("data", sorted(NORMAL_SETS))
def test_normal_normal_quantiles_invert_the_exact_cdfs(data: str, prior: str) -> None:
    yi, vi = NORMAL_SETS[data]
    post = exact_normal_normal(yi, vi, TAU_PRIORS[prior], WIDE_EFFECT, grid_size=600)
    for q in LEVELS:
        assert _close(post.mu_ppf(q), _brent(post.mu_cdf, q)), (q, "mu")
        assert _close(post.predictive_ppf(q), _brent(post.predictive_cdf, q)), (q, "pred")
    mean, sd = post._theta_moments
    theta = post.theta_ppf(0.975)
    for i in range(len(yi)):

        def cdf(x: float, i: int = i) -> float:
            return float(np.sum(post._w * special.ndtr((x - mean[:, i]) / sd[:, i])))

        assert _close(theta[i], _brent(cdf, 0.975)), ("theta", i)
    ci = post.interval(0.95)
    assert math.isclose(ci.low, math.exp(_brent(post.mu_cdf, 0.025)), rel_tol=1e-9)
    assert math.isclose(ci.high, math.exp(_brent(post.mu_cdf, 0.975)), rel_tol=1e-9)


@pytest.mark.parametrize("prior", sorted(TAU_PRIORS))
@pytest.mark.parametrize("data", sorted(BINARY_SETS))
def test_binomial_normal_quantiles_invert_the_exact_cdfs(data: str, prior: str) -> None:
    post = exact_binomial_normal(BINARY_SETS[data], TAU_PRIORS[prior], effect_prior("weakly_informative"))
    for q in LEVELS:
        assert _close(post.mu_ppf(q), _brent(post.mu_cdf, q)), (q, "mu")
        assert _close(post.predictive_ppf(q), _brent(post.predictive_cdf, q)), (q, "pred")
    pred = post.predictive_interval(0.95)
    assert math.isclose(pred.low, math.exp(_brent(post.predictive_cdf, 0.025)), rel_tol=1e-9)
    assert math.isclose(pred.high, math.exp(_brent(post.predictive_cdf, 0.975)), rel_tol=1e-9)
    assert math.isclose(post.median(), math.exp(_brent(post.mu_cdf, 0.5)), rel_tol=1e-9)


def test_batch_model_averaging_without_quantiles_keeps_the_bayes_factors() -> None:
    table = BINARY_SETS["zero_events"]
    tp, ep = tau_prior("halfnormal_0.5"), effect_prior("weakly_informative")
    full, lean = average_binomial(table, tp, ep), average_binomial(table, tp, ep, quantiles=False)
    assert (lean.bf10_effect, lean.bf10_heterogeneity, lean.prob_below_1) == (
        full.bf10_effect, full.bf10_heterogeneity, full.prob_below_1)  # fmt: skip
    assert math.isnan(lean.median) and math.isnan(lean.low) and math.isnan(lean.high)
    yi, vi = NORMAL_SETS["k5"]
    full, lean = average_normal(yi, vi, tp, ep), average_normal(yi, vi, tp, ep, quantiles=False)
    assert (lean.bf10_effect, lean.bf10_heterogeneity) == (full.bf10_effect, full.bf10_heterogeneity)
    assert math.isnan(lean.median)


@pytest.mark.parametrize("data", sorted(NORMAL_SETS))
def test_compiled_normal_sums_match_the_array_formula(data: str) -> None:
    """normal_given_tau (one compiled pass per tau) against the (tau, study) array formula it replaced."""
    y, v = (np.asarray(a, float) for a in NORMAL_SETS[data])
    tau = np.exp(np.linspace(-12.0, 3.0, 61))
    m0, s0sq = 0.3, 2.0
    var = v[None, :] + tau[:, None] ** 2
    wt = 1.0 / var
    prec = 1.0 / s0sq + wt.sum(axis=1)
    mean = (m0 / s0sq + (wt * y).sum(axis=1)) / prec
    resid = (wt * (y - mean[:, None]) ** 2).sum(axis=1) + (m0 - mean) ** 2 / s0sq
    ll = -0.5 * np.log(var).sum(axis=1) - 0.5 * np.log(s0sq * prec) - 0.5 * resid
    got_ll, got_mean, got_sd = normal_given_tau(tau, y, v, m0, s0sq)
    np.testing.assert_allclose(got_ll, ll, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(got_mean, mean, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(got_sd, 1.0 / np.sqrt(prec), rtol=1e-13)


def test_cached_prior_median_is_the_quantile() -> None:
    for prior in (*TAU_PRIORS.values(), tau_prior("rhodes2015_smd_general"), tau_prior("bartos2023_logor")):
        assert prior.median() == float(prior.ppf(0.5))
        assert prior.median() == float(prior.ppf(0.5))  # the cached value


@pytest.mark.parametrize("prior", sorted(TAU_PRIORS))
@pytest.mark.parametrize("data", sorted(BINARY_SETS))
def test_binomial_normal_tau_and_study_quantiles_invert_the_exact_cdfs(data: str, prior: str) -> None:
    """The compiled safeguarded Newton (tau above tau_0 on the cdf of log tau, the shrunken effects on their
    splined densities) against Brent's method from a wide bracket on the engine's own cdfs, to 1e-9 relative."""
    post = exact_binomial_normal(BINARY_SETS[data], TAU_PRIORS[prior], effect_prior("weakly_informative"))
    for q in LEVELS:
        ref = _brent(post.tau_cdf, q, 0.0, 50.0)
        assert post.tau_ppf(q) == pytest.approx(ref, rel=1e-9, abs=1e-14), (q, "tau")
    theta = post.theta_ppf(0.975)
    for i, rows in enumerate(post._theta_rows):

        def cdf(x: float, rows=rows) -> float:
            return float(rows.cdf(np.array([[x]]))[0, 0])

        assert _close(theta[i], _brent(cdf, 0.975)), ("theta", i)
