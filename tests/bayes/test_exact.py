"""Tests of models.bayes.exact (the normal-normal posterior by quadrature over tau).

Independent references:
(a) R metafor 3.8-1 equal-effect fits (tests/reference/*.metafor.json): with tau pinned near 0 and a vague effect
    prior the posterior of mu is the EE estimate and standard error;
(b) brute-force 2-D integration of the joint density of (mu, tau), written here from the model statement (Simpson
    rule in mu, adaptive scipy quad_vec in tau) with scipy's own prior densities;
(c) the closed-form conjugate normal posterior (k = 1, tau fixed at 0), and the closed-form marginal
    y ~ N(m0, s0^2 + v + tau^2) for k = 1 with a heavy-tailed HalfCauchy prior (1-D quad).
Tolerances: 1e-5 against metafor (tau pinned at 1e-4, prior SD 1e4), 1e-7 against the brute-force integrals (the
accuracy goal is 1e-4).
"""

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from models.bayes.exact import exact_from_effects, exact_normal_normal
from models.priors import EffectPrior, TauPrior, effect_prior, tau_prior

REF = Path(__file__).resolve().parents[1] / "reference"
VAGUE = EffectPrior("vague_test", "vague", 0.0, 1e4, "test")
NEAR_ZERO_TAU = TauPrior("tau0", "tau near 0", "halfnormal", (("scale", 1e-4),), "test")


def _binary(name: str, measure: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Log RR / log OR and variances in closed form (no zero cells in these data sets, so no correction)."""
    d = pd.read_csv(REF / f"{name}.csv")
    a, n1, c, n2 = (d[col].to_numpy(float) for col in ("e_t", "n_t", "e_c", "n_c"))
    assert (a > 0).all() and (c > 0).all()
    if measure == "RR":
        return np.log(a / n1) - np.log(c / n2), 1 / a - 1 / n1 + 1 / c - 1 / n2, list(d.study)
    b, dd = n1 - a, n2 - c
    return np.log(a * dd / (b * c)), 1 / a + 1 / b + 1 / c + 1 / dd, list(d.study)


def _metafor(name: str) -> dict:
    return json.loads((REF / f"{name}.metafor.json").read_text())["results"]


# -- (a) equal-effect limit against metafor ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "measure"), [("bcg", "RR"), ("bcg", "OR"), ("hine1989", "OR")])
def test_tau_near_zero_gives_metafor_equal_effect_binary(name, measure):
    y, v, study = _binary(name, measure)
    ref = _metafor(name)[f"EE_{measure}"]
    post = exact_normal_normal(y, v, NEAR_ZERO_TAU, VAGUE, study=study, measure=measure)
    assert post.log_mean() == pytest.approx(ref["estimate"], abs=1e-5)
    assert post.log_sd() == pytest.approx(ref["se"], abs=1e-5)
    ci = post.interval(0.95)
    assert (math.log(ci.low), math.log(ci.high)) == pytest.approx((ref["ci_lb"], ref["ci_ub"]), abs=1e-5)


@pytest.mark.parametrize("measure", ["MD", "SMD"])
def test_tau_near_zero_gives_metafor_equal_effect_continuous(measure):
    ref = _metafor("normand1999")
    post = exact_normal_normal(ref[f"yi_{measure}"], ref[f"vi_{measure}"], NEAR_ZERO_TAU, VAGUE, measure=measure)
    ee = ref[f"EE_{measure}"]
    assert post.log_mean() == pytest.approx(ee["estimate"], abs=1e-5)
    assert post.log_sd() == pytest.approx(ee["se"], abs=1e-5)
    ci = post.interval(0.95)
    assert (ci.low, ci.high) == pytest.approx((ee["ci_lb"], ee["ci_ub"]), abs=1e-5)


# -- (b) brute-force 2-D integration -----------------------------------------------------------------------------


def _npdf(x, m, sd):
    return np.exp(-0.5 * ((x - m) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))


def _simpson_weights(grid):
    w = np.ones(grid.size)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w * (grid[1] - grid[0]) / 3.0


def _brute(y, v, tau_pdf, mu_range, cuts):
    """Posterior quantities by direct integration of N(mu; 0, 1) p(tau) prod_i N(y_i; mu, v_i + tau^2).

    Simpson's rule on 6001 points in mu (P(mu < cut) on its own grid ending at the cut), adaptive quad_vec in tau
    (split at the tau cut). ``cuts`` holds the points at which the distribution functions of mu, of a new study's
    effect mu + tau * z, of study 1's effect theta_1 and of tau are evaluated.
    """
    mu = np.linspace(*mu_range, 6001)
    mu_low = np.linspace(mu_range[0], cuts["mu"], 6001)
    w, w_low = _simpson_weights(mu), _simpson_weights(mu_low)

    def joint(m, tau):
        lik = np.prod(_npdf(y[None, :], m[:, None], np.sqrt(v + tau**2)[None, :]), axis=1)
        return _npdf(m, 0.0, 1.0) * lik * tau_pdf(tau)

    def integrand(tau):
        tau = max(tau, 1e-300)
        f = joint(mu, tau)
        b1 = v[0] / (v[0] + tau**2)  # theta_1 | mu, tau, y_1 ~ N((1 - b1) y_1 + b1 mu, v_1 (1 - b1))
        theta_sd = max(math.sqrt(v[0] * (1 - b1)), 1e-300)
        return np.array(
            [
                f @ w,
                (f * mu) @ w,
                (f * mu**2) @ w,
                tau * (f @ w),
                joint(mu_low, tau) @ w_low,
                (f * stats.norm.cdf(cuts["new"], mu, tau)) @ w,
                (f * stats.norm.cdf(cuts["theta1"], (1 - b1) * y[0] + b1 * mu, theta_sd)) @ w,
            ]
        )

    lower = integrate.quad_vec(integrand, 0.0, cuts["tau"], epsabs=0, epsrel=1e-10)[0]
    upper = integrate.quad_vec(integrand, cuts["tau"], np.inf, epsabs=0, epsrel=1e-10)[0]
    total = lower + upper
    z = total[0]
    return {
        "log_evidence": math.log(z),
        "mean": total[1] / z,
        "sd": math.sqrt(total[2] / z - (total[1] / z) ** 2),
        "tau_mean": total[3] / z,
        "cdf_mu": total[4] / z,
        "cdf_new": total[5] / z,
        "cdf_theta1": total[6] / z,
        "cdf_tau": lower[0] / z,
    }


def _case(name):
    """(y, v, measure, scipy density of the tau prior, the TauPrior, mu integration range)."""
    if name == "bcg_RR_turner":  # primary prior on heterogeneous data: tau well away from 0
        y, v, _ = _binary("bcg", "RR")
        pdf = stats.lognorm(1.34 / 2, scale=math.exp(-3.95 / 2)).pdf  # log(tau^2) ~ N(-3.95, 1.34^2)
        return y, v, "RR", pdf, tau_prior("turner2015_mortality_pharma"), (-3.0, 2.0)
    y, v, _ = _binary("hine1989", "OR")
    if name == "hine_OR_halfnormal":  # homogeneous data: the tau posterior piles up at 0
        return y, v, "OR", stats.halfnorm(scale=0.5).pdf, tau_prior("halfnormal_0.5"), (-4.0, 5.0)
    # two studies and a HalfCauchy prior: a heavy right tail in tau
    return y[:2], v[:2], "OR", stats.halfcauchy().pdf, tau_prior("halfcauchy_1"), (-6.0, 7.0)


@pytest.mark.parametrize("name", ["bcg_RR_turner", "hine_OR_halfnormal", "hine2_OR_halfcauchy"])
def test_matches_brute_force_2d_integration(name):
    y, v, measure, pdf, prior, mu_range = _case(name)
    post = exact_normal_normal(y, v, prior, effect_prior("weakly_informative"), measure=measure)
    # the exact posterior's quantiles, whose probability levels the brute-force integral must reproduce
    cuts = {
        "mu": math.log(post.median()),
        "new": math.log(post.predictive_interval(0.95).low),
        "theta1": math.log(post.shrunken(0.95).iloc[0]["high"]),
        "tau": post.tau_interval(0.95).high,
    }
    ref = _brute(y, v, pdf, mu_range, cuts)
    got = {
        "log_evidence": post.log_evidence,
        "mean": post.log_mean(),
        "sd": post.log_sd(),
        "tau_mean": post.tau_mean(),
        "cdf_mu": 0.5,
        "cdf_new": 0.025,
        "cdf_theta1": 0.975,
        "cdf_tau": 0.975,
    }
    assert got == pytest.approx(ref, abs=1e-7)  # the brute-force integral is accurate to about 1e-10
    assert post.prob_tau_above(cuts["tau"]) == pytest.approx(0.025, abs=1e-9)


# -- (c) closed forms ------------------------------------------------------------------------------------------


def test_single_study_with_tau_at_zero_is_conjugate_normal():
    # Closed form: y ~ N(mu, v), mu ~ N(m0, s0^2)  =>  mu | y ~ N((m0/s0^2 + y/v) / (1/s0^2 + 1/v), 1/(1/s0^2 + 1/v)).
    y, v, m0, s0 = 1.3, 0.4, -0.5, 0.8
    prec = 1 / s0**2 + 1 / v
    mean, sd = (m0 / s0**2 + y / v) / prec, math.sqrt(1 / prec)
    tau0 = TauPrior("tau0", "tau at 0", "halfnormal", (("scale", 1e-8),), "test")
    post = exact_normal_normal([y], [v], tau0, EffectPrior("p", "p", m0, s0, "test", log_scale=False), measure="MD")
    assert post.log_mean() == pytest.approx(mean, abs=1e-9)
    assert post.log_sd() == pytest.approx(sd, abs=1e-9)
    assert post.median() == pytest.approx(mean, abs=1e-9)
    ci = post.interval(0.9)
    assert (ci.low, ci.high) == pytest.approx(stats.norm.interval(0.9, mean, sd), abs=1e-8)
    assert post.prob_below(0.2) == pytest.approx(stats.norm.cdf(0.2, mean, sd), abs=1e-9)
    hdi = post.interval(0.9, kind="hdi")  # symmetric: the HDI is the equal-tailed interval
    assert (hdi.low, hdi.high) == pytest.approx((ci.low, ci.high), abs=1e-6)
    assert post.tau_median() == pytest.approx(1e-8 * stats.halfnorm.ppf(0.5), rel=1e-6)


def test_single_study_heavy_tailed_tau_against_1d_marginal():
    # Closed form: with k = 1, y ~ N(m0, s0^2 + v + tau^2) given tau, and E[mu | y, tau] = m0 + s0^2 (y - m0) /
    # (s0^2 + v + tau^2); so p(tau | y) and E[mu | y] are one-dimensional integrals. HalfCauchy(1) on tau.
    y, v = -1.2, 0.3
    post_tau = lambda t: stats.halfcauchy.pdf(t) * stats.norm.pdf(y, 0.0, math.sqrt(1 + v + t**2))  # noqa: E731
    z = integrate.quad(post_tau, 0, 1)[0] + integrate.quad(post_tau, 1, np.inf)[0]
    p_above_2 = integrate.quad(post_tau, 2, np.inf)[0] / z
    mean_mu = (
        integrate.quad(lambda t: post_tau(t) * y / (1 + v + t**2), 0, 1)[0]
        + integrate.quad(lambda t: post_tau(t) * y / (1 + v + t**2), 1, np.inf)[0]
    ) / z
    post = exact_normal_normal([y], [v], tau_prior("halfcauchy_1"), effect_prior("weakly_informative"))
    assert post.prob_tau_above(2.0) == pytest.approx(p_above_2, abs=1e-6)
    assert post.log_mean() == pytest.approx(mean_mu, abs=1e-6)
    assert post.log_evidence == pytest.approx(math.log(z), abs=1e-6)


# -- interface -----------------------------------------------------------------------------------------------------


def test_exact_from_effects_reads_an_effect_table():
    ref = _metafor("normand1999")
    table = SimpleNamespace(study=[f"s{i}" for i in range(9)], yi=ref["yi_SMD"], vi=ref["vi_SMD"], measure="SMD")
    post = exact_from_effects(table, NEAR_ZERO_TAU, VAGUE)
    assert post.measure == "SMD"
    assert list(post.shrunken().index) == table.study
    assert post.log_mean() == pytest.approx(ref["EE_SMD"]["estimate"], abs=1e-5)
    with pytest.raises(TypeError, match="effects lacks attribute"):
        exact_from_effects(SimpleNamespace(yi=[0.1], vi=[0.1]), NEAR_ZERO_TAU, VAGUE)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"yi": [0.1, 0.2], "vi": [0.1]}, "yi has 2 values but vi has 1"),
        ({"yi": [0.1, np.nan], "vi": [0.1, 0.1], "study": ["A", "B"]}, "yi is not finite for study 'B'"),
        ({"yi": [0.1, 0.2], "vi": [0.1, 0.0], "study": ["A", "B"]}, "vi must be positive; study 'B'"),
        ({"yi": [0.1, 0.2], "vi": [0.1, 0.1], "study": ["A", "A"]}, "study labels must be unique"),
        ({"yi": [0.1, 0.2], "vi": [0.1, 0.1], "study": ["A"]}, "study has 1 labels for 2 effects"),
        ({"yi": [], "vi": []}, "yi is empty"),
        ({"yi": [0.1], "vi": [0.1], "grid_size": 10}, "grid_size must be at least 200"),
        ({"yi": [0.1], "vi": [0.1], "measure": "HR"}, "measure 'HR' is not one of"),
    ],
)
def test_invalid_input_is_reported_by_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        exact_normal_normal(tau_prior=tau_prior("halfnormal_0.5"), effect_prior=VAGUE, **kwargs)


def test_priors_must_be_prior_objects():
    with pytest.raises(TypeError, match="tau_prior must be a TauPrior"):
        exact_normal_normal([0.1], [0.1], "halfnormal_0.5", VAGUE)


@pytest.mark.parametrize("name", ["bcg_RR_turner", "hine_OR_halfnormal", "hine2_OR_halfcauchy"])
def test_tau_quantiles_invert_the_tau_cdf(name):
    """The quantiles (polynomial inversion inside a cell, then a Newton step) against the cdf, which integrates the
    density afresh from the cell's edge: they agree to rounding at every level, tails included."""
    y, v, measure, _, prior, _ = _case(name)
    post = exact_normal_normal(y, v, prior, effect_prior("weakly_informative"), measure=measure)
    for q in (1e-4, 0.025, 0.3, 0.5, 0.7, 0.975, 1 - 1e-4):
        assert post.tau_cdf(post.tau_ppf(q)) == pytest.approx(q, abs=1e-12)
