"""Posteriors and Bayes factors under a Student-t effect prior (models/bayes/scale_mixture.py).

References, written here from the model statement: (a) brute-force integration of the normal-normal joint density
``t_df(mu; 0, s) p(tau) prod_i N(y_i; mu, v_i + tau^2)`` (Simpson's rule in mu on 8001 points, adaptive quad_vec in
tau at epsrel 1e-10) and of the fixed-effect and null models; (b) a Student-t with a million degrees of freedom is a
normal prior, so its mixture must give the engines' normal-prior answers. The tolerance of (a) is that of the
scale-mixture quadrature (density within 1e-4 relative, tests/test_student_t_prior.py): 1e-4 absolute on
probabilities and log evidences, 1e-3 relative on moments and quantiles.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from models.bayes.exact import exact_normal_normal
from models.bayes.exact_binomial import BinomialLikelihood
from models.bayes.model_averaging import average_binomial, average_normal
from models.bayes.scale_mixture import binomial_fit, fixed_effect_on_grid, normal_fit
from models.priors import EffectPrior, tau_prior
from models.student_t_prior import STUDENT_T_PRESETS, StudentTEffectPrior
from models.tables import BinaryTable

CASES = {
    # five studies near the null: the prior's centre matters
    "five": (np.array([-0.4, -0.1, 0.2, -0.6, 0.05]), np.array([0.04, 0.09, 0.05, 0.2, 0.12])),
    # two imprecise studies far from the null: the prior's tails matter
    "two_far": (np.array([2.5, 3.1]), np.array([0.3, 0.5])),
}
TAU = tau_prior("bartos2023_logor")
TAU_PDF = stats.invgamma(1.77, scale=0.55).pdf
T_PRIOR = STUDENT_T_PRESETS["bartos2023_logor"]
T_PDF = stats.t(4, loc=0.0, scale=0.58).pdf


def _npdf(x, m, sd):
    return np.exp(-0.5 * ((x - m) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))


def _simpson(grid):
    w = np.ones(grid.size)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w * (grid[1] - grid[0]) / 3.0


def _brute(y, v, tau_cut, mu_cut):
    mu = np.linspace(-25.0, 25.0, 8001)
    low = np.linspace(-25.0, mu_cut, 8001)
    w, w_low = _simpson(mu), _simpson(low)

    def lik(m, tau):
        return np.prod(_npdf(y[None, :], m[:, None], np.sqrt(v + tau**2)[None, :]), axis=1)

    def integrand(tau):
        tau = max(tau, 1e-300)
        f = T_PDF(mu) * lik(mu, tau) * TAU_PDF(tau)
        return np.array([f @ w, (f * mu) @ w, (f * mu**2) @ w, (T_PDF(low) * lik(low, tau) * TAU_PDF(tau)) @ w_low])

    below = integrate.quad_vec(integrand, 0.0, tau_cut, epsabs=0, epsrel=1e-10)[0]
    above = integrate.quad_vec(integrand, tau_cut, np.inf, epsabs=0, epsrel=1e-10)[0]
    total = below + above
    z = total[0]
    fixed = float((T_PDF(mu) * lik(mu, 0.0)) @ w)
    null_fixed = float(np.prod(_npdf(y, 0.0, np.sqrt(v))))
    null_random = integrate.quad(lambda t: TAU_PDF(t) * np.prod(_npdf(y, 0.0, np.sqrt(v + t * t))), 0, np.inf,
                                 epsabs=0, epsrel=1e-10, limit=200)[0]  # fmt: skip
    return {
        "log_evidence": math.log(z),
        "mean": total[1] / z,
        "sd": math.sqrt(total[2] / z - (total[1] / z) ** 2),
        "cdf_mu": total[3] / z,
        "cdf_tau": below[0] / z,
        "log_bf_effect": math.log((fixed + z) / (null_fixed + null_random)),
        "log_bf_heterogeneity": math.log((null_random + z) / (null_fixed + fixed)),
    }


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    y, v = CASES[request.param]
    fit = normal_fit(y, v, TAU, T_PRIOR, measure="OR")
    post = fit.posterior
    tau_cut, mu_cut = post.tau_interval(0.95).high, math.log(post.median())
    return fit, _brute(y, v, tau_cut, mu_cut)


def test_normal_normal_posterior_matches_brute_force(case) -> None:
    fit, ref = case
    post = fit.posterior
    assert post.log_evidence == pytest.approx(ref["log_evidence"], abs=1e-4)
    assert 0.5 == pytest.approx(ref["cdf_mu"], abs=1e-4)  # the mixture's median is the brute-force median
    assert 0.975 == pytest.approx(ref["cdf_tau"], abs=1e-4)  # and its 97.5% tau quantile
    assert post.log_mean() == pytest.approx(ref["mean"], rel=1e-3)
    assert post.log_sd() == pytest.approx(ref["sd"], rel=1e-3)


def test_normal_normal_bayes_factors_match_brute_force(case) -> None:
    fit, ref = case
    avg = fit.average(quantiles=False)
    assert math.log(avg.bf10_effect) == pytest.approx(ref["log_bf_effect"], abs=1e-4)
    assert math.log(avg.bf10_heterogeneity) == pytest.approx(ref["log_bf_heterogeneity"], abs=1e-4)


def _nearly_normal(sd: float) -> StudentTEffectPrior:
    return StudentTEffectPrior("t1e6", "t1e6", 0.0, sd, 1e6, "test")


def test_normal_limit_gives_the_normal_prior_answers_binomial() -> None:
    table = BinaryTable(("a", "b", "c", "d"), np.array([3, 10, 0, 7]), np.array([40, 100, 30, 60]),
                        np.array([8, 15, 2, 9]), np.array([41, 98, 29, 60]))  # fmt: skip
    lik = BinomialLikelihood(table)
    normal = EffectPrior("n", "n", 0.0, 1.0, "test")
    fit = binomial_fit(lik, TAU, _nearly_normal(1.0))
    ref = lik.posterior(TAU, normal)
    assert fit.posterior.log_evidence == pytest.approx(ref.log_evidence, abs=1e-5)
    assert fit.posterior.prob_below(1.0) == pytest.approx(ref.prob_below(1.0), abs=1e-5)
    assert fit.posterior.tau_median() == pytest.approx(ref.tau_median(), rel=1e-4)
    got, want = fit.average(), average_binomial(lik, TAU, normal, random_effects=ref)
    assert got.bf10_effect == pytest.approx(want.bf10_effect, rel=1e-4)
    assert got.bf10_heterogeneity == pytest.approx(want.bf10_heterogeneity, rel=1e-4)
    assert got.prob_below_1 == pytest.approx(want.prob_below_1, abs=1e-5)
    assert got.median == pytest.approx(want.median, rel=1e-4)


def test_normal_limit_gives_the_normal_prior_answers_normal() -> None:
    y, v = CASES["five"]
    normal = EffectPrior("n", "n", 0.0, 0.5, "test", log_scale=False)
    fit = normal_fit(y, v, TAU, _nearly_normal(0.5), measure="SMD")
    ref = exact_normal_normal(y, v, TAU, normal, measure="SMD")
    assert fit.posterior.predictive_interval(0.95).low == pytest.approx(ref.predictive_interval(0.95).low, rel=1e-4)
    got, want = fit.average(), average_normal(y, v, TAU, normal, measure="SMD", random_effects=ref)
    assert got.bf10_effect == pytest.approx(want.bf10_effect, rel=1e-4)
    assert got.prob_below_1 == pytest.approx(want.prob_below_1, abs=1e-5)


def test_mu_draws_follow_the_mixture() -> None:
    y, v = CASES["five"]
    post = normal_fit(y, v, TAU, T_PRIOR, measure="OR", seed=3).posterior
    draws = post._mu_draws()
    assert np.mean(draws < math.log(post.median())) == pytest.approx(0.5, abs=0.01)
    assert np.array_equal(draws, normal_fit(y, v, TAU, T_PRIOR, measure="OR", seed=3).posterior._mu_draws())


def test_shrunken_effects_are_refused_by_name() -> None:
    y, v = CASES["five"]
    with pytest.raises(NotImplementedError, match="Student-t"):
        normal_fit(y, v, TAU, T_PRIOR).posterior.shrunken()


def test_fixed_effect_grid_equals_the_engine_under_a_normal_prior() -> None:
    """One normal component: the grid integral of the fixed-effect binomial model against the engine's own."""
    table = BinaryTable(("a", "b", "c"), np.array([1, 30, 0]), np.array([25, 900, 40]), np.array([4, 45, 3]),
                        np.array([24, 910, 38]))  # fmt: skip
    lik = BinomialLikelihood(table)
    normal = EffectPrior("n", "n", 0.0, 0.8, "test")
    log_ev, cdf = fixed_effect_on_grid(lambda mu: lik.log_lik(mu, np.zeros_like(mu)).sum(axis=-1), np.zeros(1),
                                       (normal,))  # fmt: skip
    engine = lik.posterior(None, normal, model="fixed")
    assert log_ev == pytest.approx(engine.log_evidence, abs=1e-6)
    ci = engine.interval(0.95)
    lo, hi = ci.low, ci.high
    assert (cdf(math.log(lo)), cdf(math.log(engine.median())), cdf(math.log(hi))) == pytest.approx(
        (0.025, 0.5, 0.975), abs=1e-5
    )
