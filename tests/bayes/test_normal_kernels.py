"""The compiled kernels of models.bayes.normal_kernels against independent references.

References, each named in the test:
(a) scipy.optimize.brentq from a wide bracket on the mixture cdf written with scipy.special.ndtr (quantiles);
(b) the (tau, study) array formulas of the normal-normal likelihood with scipy.stats.norm (log likelihoods);
(c) numpy.polynomial's polyval/polyder with brentq (the in-cell inversion of the tau quantile).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.polynomial import polynomial as npoly
from scipy import optimize, special, stats

from models.bayes import normal_kernels
from models.bayes.exact import exact_normal_normal, mixture_ppf
from models.priors import EffectPrior, tau_prior

LEVELS = (0.001, 0.025, 0.5, 0.975, 0.999)
VAGUE = EffectPrior("vague", "Vague", 0.0, math.sqrt(10.0), "test")


def _ndtr_cdf(w: np.ndarray, m: np.ndarray, sd: np.ndarray):
    return lambda x: float(np.sum(w * special.ndtr((x - m) / sd)))


def _brent(cdf, q: float) -> float:
    """Reference (a): the root of cdf(x) = q from a bracket far outside every component."""
    return float(optimize.brentq(lambda x: cdf(x) - q, -1e3, 1e3, xtol=1e-14, rtol=1e-14, maxiter=500))


def _random_mixtures(seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(30):
        g = int(rng.integers(1, 400))
        w = rng.exponential(size=g) ** 3
        m = rng.normal(0.0, rng.choice([0.01, 1.0, 20.0]), g)
        sd = np.exp(rng.normal(math.log(0.5), 1.5, g))
        if rng.random() < 0.5:  # runs of equal components, as on the exact engine's grid
            dup = rng.random(g) < 0.5
            dup[0] = False
            for i in np.flatnonzero(dup):
                m[i], sd[i] = m[i - 1], sd[i - 1]
        yield w / w.sum(), m, sd


@pytest.mark.parametrize("seed", [1, 2])
def test_mixture_quantiles_match_brent_on_random_mixtures(seed: int) -> None:
    """Reference (a) on random mixtures (heavy weights, wide spreads, duplicated components), stride 1 and 7."""
    for w, m, sd in _random_mixtures(seed):
        cdf = _ndtr_cdf(w, m, sd)
        for q in LEVELS:
            ref = _brent(cdf, q)
            for stride in (1, 7):
                got = float(mixture_ppf(q, w, m[:, None], sd[:, None], stride)[0])
                assert abs(got - ref) <= 1e-9 * (1.0 + abs(ref)), (q, stride, got, ref)


@pytest.mark.parametrize("prior", ["halfnormal_0.5", "turner2015_general", "halfcauchy_1"])
def test_exact_posterior_quantiles_match_brent(prior: str) -> None:
    """Reference (a) on the exact engine's own mixtures (mu and a new study's effect), thinned start included."""
    y = [-0.9, -0.2, 0.1, -0.5, 0.3, -1.4, 0.05]
    v = [0.3, 0.05, 0.2, 0.8, 0.15, 0.6, 0.01]
    post = exact_normal_normal(y, v, tau_prior(prior), VAGUE)
    assert post._stride > 1
    for sd in (post._sd, post._pred_sd):
        cdf = _ndtr_cdf(post._w, post._m, sd)
        for q in LEVELS:
            got = float(mixture_ppf(q, post._w, post._m[:, None], sd[:, None], post._stride)[0])
            ref = _brent(cdf, q)
            assert abs(got - ref) <= 1e-9 * (1.0 + abs(ref)), (q, got, ref)
    for x in (-2.0, -0.4, 0.0, 0.7):
        assert post.mu_cdf(x) == pytest.approx(_ndtr_cdf(post._w, post._m, post._sd)(x), abs=1e-14)
        assert post.predictive_cdf(x) == pytest.approx(_ndtr_cdf(post._w, post._m, post._pred_sd)(x), abs=1e-14)


def test_mixture_quantiles_of_several_columns() -> None:
    """Reference (a) per column of a (G, n) mixture (the shrunken study effects use this form)."""
    rng = np.random.default_rng(5)
    w = rng.dirichlet(np.ones(50))
    means, sds = rng.normal(size=(50, 4)), np.exp(rng.normal(size=(50, 4)))
    got = mixture_ppf(0.9, w, means, sds)
    for j in range(4):
        assert got[j] == pytest.approx(_brent(_ndtr_cdf(w, means[:, j], sds[:, j]), 0.9), rel=1e-9, abs=1e-9)


TAUS = np.concatenate([[0.0, 1e-30, 1e-12], np.exp(np.linspace(-12.0, 4.0, 40)), [1e10, 1e40]])


@pytest.mark.parametrize("k", [1, 5, 40])
def test_normal_loglik_matches_the_array_formula(k: int) -> None:
    """Reference (b): log p(y | tau) = sum_i log N(y_i; mu_hat, v_i + tau^2) + the Gaussian integral over mu,
    written as (tau, study) arrays with scipy.stats; tau from 0 (every sum at its tau = 0 value) to 1e40 (chunked
    products of the variances over a hundred orders of magnitude)."""
    rng = np.random.default_rng(k)
    y, v = rng.normal(0.0, 1.0, k), np.exp(rng.uniform(math.log(1e-4), math.log(5.0), k))
    m0, s0sq = 0.3, 2.0
    var = v[None, :] + TAUS[:, None] ** 2
    prec = 1.0 / s0sq + np.sum(1.0 / var, axis=1)
    mean = (m0 / s0sq + np.sum(y / var, axis=1)) / prec
    ll = (np.sum(stats.norm.logpdf(y[None, :], mean[:, None], np.sqrt(var)), axis=1)
          + stats.norm.logpdf(m0, mean, math.sqrt(s0sq)) + 0.5 * math.log(2.0 * math.pi) - 0.5 * np.log(prec)
          + 0.5 * k * math.log(2.0 * math.pi))  # fmt: skip
    got_ll, got_mean, got_sd = normal_kernels.normal_loglik(TAUS, y, v, m0, s0sq)
    np.testing.assert_allclose(got_ll, ll, rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(got_mean, mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got_sd, 1.0 / np.sqrt(prec), rtol=1e-12)


@pytest.mark.parametrize("k", [1, 5, 40])
def test_null_loglik_matches_scipy(k: int) -> None:
    """Reference (b): log p(y | mu = 0, tau) = sum_i log N(y_i; 0, v_i + tau^2) with scipy.stats."""
    rng = np.random.default_rng(10 + k)
    y, v = rng.normal(0.0, 2.0, k), np.exp(rng.uniform(math.log(1e-4), math.log(5.0), k))
    ref = np.sum(stats.norm.logpdf(y[None, :], 0.0, np.sqrt(v[None, :] + TAUS[:, None] ** 2)), axis=1)
    np.testing.assert_allclose(normal_kernels.null_loglik(TAUS**2, y, v), ref, rtol=1e-12, atol=1e-11)


def test_cell_quantile_inverts_the_cell_polynomial() -> None:
    """Reference (c): the root of numpy's polyval(x, mass) = target on [-1, 1] by brentq."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        dens = np.exp(rng.normal(size=8))  # a positive density at 8 nodes: its interpolant's integral is increasing
        x_nodes = np.cos(np.pi * (np.arange(8) + 0.5) / 8)
        coef = npoly.polyfit(x_nodes, dens, 7)
        if np.any(npoly.polyval(np.linspace(-1, 1, 401), coef) <= 0):
            continue
        mass = npoly.polyint(coef, lbnd=-1.0)
        target = rng.uniform(0.01, 0.99) * npoly.polyval(1.0, mass)
        ref = optimize.brentq(lambda x, m=mass, t=target: npoly.polyval(x, m) - t, -1.0, 1.0, xtol=1e-15)
        assert normal_kernels.cell_quantile(mass, target) == pytest.approx(ref, abs=1e-13)
