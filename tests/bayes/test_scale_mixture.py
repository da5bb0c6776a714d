"""Posteriors and Bayes factors under a Student-t effect prior (models/bayes/scale_mixture.py).

References: (a) brute-force integration of the normal-normal joint density ``t_4(mu; 0, 0.58) InvGamma(tau; 1.77,
0.55) prod_i N(y_i; mu, v_i + tau^2)`` and of the fixed-effect and null models, by scipy alone
(tests/reference/scale_mixture/make_scale_mixture_reference.py; stored JSON in the default suite, recomputed in the
slow one); (b) a Student-t with a million degrees of freedom is a normal prior, so its mixture must give the
engines' normal-prior answers; (c) with one normal component, the fixed-effect grid integral equals the engine's.
The tolerance of (a) is that of the scale-mixture quadrature (density within 1e-4 relative,
tests/test_student_t_prior.py): 1e-4 absolute on probabilities and log evidences, 1e-3 relative on moments.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from models.bayes.exact import exact_normal_normal
from models.bayes.exact_binomial import BinomialLikelihood
from models.bayes.model_averaging import average_binomial, average_normal
from models.bayes.scale_mixture import binomial_fit, fixed_effect_on_grid, normal_fit
from models.priors import EffectPrior, tau_prior
from models.student_t_prior import STUDENT_T_PRESETS, StudentTEffectPrior
from models.tables import BinaryTable

REF_DIR = Path(__file__).parents[1] / "reference" / "scale_mixture"
REF = json.loads((REF_DIR / "scale_mixture.brute.json").read_text())
TAU = tau_prior("bartos2023_logor")
T_PRIOR = STUDENT_T_PRESETS["bartos2023_logor"]


def _got(name: str) -> dict[str, float]:
    case = REF[name]
    fit = normal_fit(np.array(case["y"]), np.array(case["v"]), TAU, T_PRIOR, measure="OR")
    post, avg = fit.posterior, fit.average(quantiles=False)
    return {
        "log_evidence": post.log_evidence,
        "mean": post.log_mean(),
        "sd": post.log_sd(),
        "cdf_mu": post.prob_below(math.exp(case["mu_cut"])),
        "cdf_tau": 1.0 - post.prob_tau_above(case["tau_cut"]),
        "log_bf_effect": math.log(avg.bf10_effect),
        "log_bf_heterogeneity": math.log(avg.bf10_heterogeneity),
    }


def _check(got: dict[str, float], ref: dict[str, float]) -> None:
    for key in ("log_evidence", "cdf_mu", "cdf_tau", "log_bf_effect", "log_bf_heterogeneity"):
        assert got[key] == pytest.approx(ref[key], abs=1e-4), key
    for key in ("mean", "sd"):
        assert got[key] == pytest.approx(ref[key], rel=1e-3), key


@pytest.mark.parametrize("name", list(REF))
def test_normal_normal_matches_the_stored_brute_force(name: str) -> None:
    _check(_got(name), REF[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(REF))
def test_normal_normal_matches_brute_force_recomputed(name: str) -> None:
    spec = importlib.util.spec_from_file_location("make_ref", REF_DIR / "make_scale_mixture_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    case = REF[name]
    _check(_got(name), module.brute(case["y"], case["v"], case["mu_cut"], case["tau_cut"]))


def _nearly_normal(sd: float) -> StudentTEffectPrior:
    return StudentTEffectPrior("t1e6", "t1e6", 0.0, sd, 1e6, "test")


@pytest.mark.slow
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
    y, v = np.array(REF["five"]["y"]), np.array(REF["five"]["v"])
    normal = EffectPrior("n", "n", 0.0, 0.5, "test", log_scale=False)
    fit = normal_fit(y, v, TAU, _nearly_normal(0.5), measure="SMD")
    ref = exact_normal_normal(y, v, TAU, normal, measure="SMD")
    assert fit.posterior.predictive_interval(0.95).low == pytest.approx(ref.predictive_interval(0.95).low, rel=1e-4)
    got, want = fit.average(), average_normal(y, v, TAU, normal, measure="SMD", random_effects=ref)
    assert got.bf10_effect == pytest.approx(want.bf10_effect, rel=1e-4)
    assert got.prob_below_1 == pytest.approx(want.prob_below_1, abs=1e-5)


@pytest.mark.slow
def test_mu_draws_follow_the_mixture() -> None:
    y, v = np.array(REF["five"]["y"]), np.array(REF["five"]["v"])
    post = normal_fit(y, v, TAU, T_PRIOR, measure="OR", seed=3).posterior
    draws = post._mu_draws()
    assert np.mean(draws < math.log(post.median())) == pytest.approx(0.5, abs=0.01)
    assert np.array_equal(draws, normal_fit(y, v, TAU, T_PRIOR, measure="OR", seed=3).posterior._mu_draws())


def test_shrunken_effects_are_refused_by_name() -> None:
    y, v = np.array(REF["five"]["y"]), np.array(REF["five"]["v"])
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
