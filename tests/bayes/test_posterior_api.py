"""The public distribution functions of every posterior (``mu``, ``tau``, the predictive and each ``theta_i``: pdf,
cdf and ppf on the analysis scale, as R bayesmeta's dposterior/pposterior/qposterior).

Independent references, each named in the test:
(a) closed forms with scipy.stats: the conjugate normal posterior of a published estimate, the tau prior itself;
(b) scipy.integrate.quad over the tau prior for the summary-level predictive distribution and tau posterior;
(c) the identities a density must meet against its cdf, computed by separate code: the central difference of the
    cdf, and the integral of the density (scipy.integrate.quad) between two points;
(d) draws from a known normal (DrawsPosterior), within kernel-density and Monte Carlo error.
"""

import math

import numpy as np
import pytest
import xarray as xr
from scipy import integrate, stats

from models.bayes.exact import exact_normal_normal
from models.bayes.exact_binomial import exact_binomial_normal
from models.bayes.posterior import DrawsPosterior
from models.bayes.summary_level import SummaryLevelPosterior, se_from_ci
from models.priors import effect_prior, tau_prior
from models.tables import BinaryTable

WEAK = effect_prior("weakly_informative")
HN = tau_prior("halfnormal_0.5")
Y = np.array([-0.9, -0.3, -0.6, 0.1, -1.2])
V = np.array([0.3, 0.1, 0.5, 0.2, 0.8])
TABLE = BinaryTable(
    ("zero", "double_zero", "lanzoni", "monsel"),
    np.array([0, 0, 2, 5]),
    np.array([12, 65, 12, 21]),
    np.array([3, 0, 7, 4]),
    np.array([29, 35, 12, 24]),
)


@pytest.fixture(scope="module")
def exact_posteriors():
    return {
        "normal": exact_normal_normal(Y, V, HN, WEAK, study=[f"s{i}" for i in range(5)]),
        "binomial": exact_binomial_normal(TABLE, tau_prior("halfcauchy_1"), WEAK),
    }


def _functions(post, what: str):
    if what == "theta":
        return (lambda x: post.theta_pdf(x, 1)), (lambda x: post.theta_cdf(x, 1)), (lambda q: post.theta_ppf(q, 1))
    return getattr(post, f"{what}_pdf"), getattr(post, f"{what}_cdf"), getattr(post, f"{what}_ppf")


@pytest.mark.parametrize("engine", ["normal", "binomial"])
@pytest.mark.parametrize("what", ["mu", "tau", "predictive", "theta"])
def test_exact_density_is_the_derivative_and_the_integrand_of_the_cdf(exact_posteriors, engine, what):
    """Reference (c): at the quartiles, the density equals the central difference of the cdf, its integral between
    the 10% and 90% quantiles equals 0.8, and the ppf inverts the cdf."""
    pdf, cdf, ppf = _functions(exact_posteriors[engine], what)
    for q in (0.25, 0.5, 0.75):
        x = ppf(q)
        assert cdf(x) == pytest.approx(q, abs=1e-9)
        h = 1e-4 * max(1.0, abs(x))
        assert pdf(x) == pytest.approx((cdf(x + h) - cdf(x - h)) / (2 * h), rel=1e-5)
    lo, hi = ppf(0.1), ppf(0.9)
    assert integrate.quad(pdf, lo, hi, epsabs=1e-10, limit=200)[0] == pytest.approx(0.8, abs=1e-6)


def test_array_arguments_and_study_labels(exact_posteriors):
    post = exact_posteriors["binomial"]
    x = np.array([[-1.0, 0.0], [0.5, 1.0]])
    np.testing.assert_array_equal(post.mu_cdf(x), [[post.mu_cdf(v) for v in row] for row in x])
    assert post.theta_cdf(0.0, "lanzoni") == post.theta_cdf(0.0, 2)
    np.testing.assert_allclose(post.theta_ppf(0.5), np.log(post.shrunken()["median"].to_numpy()), rtol=1e-12)
    assert post.theta_ppf([0.5], "monsel")[0] == post.theta_ppf(0.5)[3]
    assert post.tau_cdf(-1.0) == 0.0 and post.tau_pdf(-1.0) == 0.0
    with pytest.raises(ValueError, match="no study 'nobody'"):
        post.theta_cdf(0.0, "nobody")
    with pytest.raises(ValueError, match="study index 7"):
        post.theta_pdf(0.0, 7)
    with pytest.raises(ValueError, match="strictly between 0 and 1, got 1.0"):
        post.mu_ppf([0.5, 1.0])


def test_binomial_tau_density_is_continuous_across_the_lump():
    """Below tau_0 the density comes from the lump formula, above from the spline in log tau: the two meet."""
    post = exact_binomial_normal(TABLE, HN, WEAK)
    t0 = math.exp(post._g.s[0])
    assert post.tau_pdf(t0 * (1 - 1e-9)) == pytest.approx(post.tau_pdf(t0 * (1 + 1e-9)), rel=2e-3)


def test_summary_level_face_value_closed_forms():
    """References (a) and (b): mu is the conjugate normal, tau the prior (scipy's half-normal), the predictive the
    normal with variance sd^2 + tau^2 integrated over the prior by quad."""
    post = SummaryLevelPosterior(0.74, 0.55, 0.99, "OR", HN, WEAK)
    se = se_from_ci(0.55, 0.99, ratio=True)
    prec = 1 / se**2 + 1 / WEAK.sd**2
    mean, sd = (math.log(0.74) / se**2 + WEAK.mean / WEAK.sd**2) / prec, prec**-0.5
    assert post.mu_pdf(-0.2) == pytest.approx(stats.norm.pdf(-0.2, mean, sd), rel=1e-12)
    assert post.mu_ppf(0.9) == pytest.approx(stats.norm.ppf(0.9, mean, sd), rel=1e-12)
    assert post.theta_cdf(-0.2, "published") == post.mu_cdf(-0.2)
    half = stats.halfnorm(scale=0.5)
    assert post.tau_cdf(0.3) == pytest.approx(half.cdf(0.3), rel=1e-12)
    assert post.tau_pdf(0.3) == pytest.approx(half.pdf(0.3), rel=1e-12)
    assert post.tau_ppf(0.7) == pytest.approx(half.ppf(0.7), rel=1e-12)
    for x in (-1.5, -0.3, 0.4):
        cdf = integrate.quad(lambda t, x=x: stats.norm.cdf(x, mean, math.hypot(sd, t)) * half.pdf(t), 0, np.inf)[0]
        pdf = integrate.quad(lambda t, x=x: stats.norm.pdf(x, mean, math.hypot(sd, t)) * half.pdf(t), 0, np.inf)[0]
        assert post.predictive_cdf(x) == pytest.approx(cdf, abs=5e-6)  # the midpoint rule over 2,000 nodes
        assert post.predictive_pdf(x) == pytest.approx(pdf, abs=5e-6)


def test_summary_level_fixed_effect_k_tau_posterior_by_quadrature():
    """Reference (b): with fixed_effect_k = 5 the tau posterior is prior(tau) m(tau) / Z, m(tau) =
    N(y; m0, s0^2 + se^2 + tau^2 / k), integrated by quad."""
    k = 5
    post = SummaryLevelPosterior(0.74, 0.55, 0.99, "OR", HN, WEAK, fixed_effect_k=k)
    se, y, half = se_from_ci(0.55, 0.99, ratio=True), math.log(0.74), stats.halfnorm(scale=0.5)

    def joint(t: float) -> float:
        return half.pdf(t) * stats.norm.pdf(y, WEAK.mean, math.sqrt(WEAK.sd**2 + se**2 + t**2 / k))

    z = integrate.quad(joint, 0, np.inf, epsabs=0, epsrel=1e-12)[0]
    for t in (0.1, 0.4, 1.0):
        assert post.tau_pdf(t) == pytest.approx(joint(t) / z, rel=1e-5)  # Z by the midpoint rule
        assert post.tau_cdf(t) == pytest.approx(integrate.quad(joint, 0, t, epsrel=1e-12)[0] / z, abs=5e-6)
    assert post.tau_cdf(post.tau_ppf(0.8)) == pytest.approx(0.8, abs=1e-9)


def test_draws_posterior_functions_from_draws():
    """Reference (d): draws of mu ~ N(-0.3, 0.2^2), tau ~ HalfNormal(0.5), theta_1 ~ N(0.4, 0.3^2): empirical cdf
    within 5 Monte Carlo SEs, kernel densities within 3%, tau's reflected at 0 (no boundary bias)."""
    rng = np.random.default_rng(5)
    n = 200_000
    mu, tau, theta = rng.normal(-0.3, 0.2, n), np.abs(rng.normal(0, 0.5, n)), rng.normal(0.4, 0.3, (n, 1))
    ds = xr.Dataset({"mu": (("chain", "draw"), mu[None]), "tau": (("chain", "draw"), tau[None]),
                     "theta": (("chain", "draw", "study"), theta[None])}, coords={"study": ["a"]})  # fmt: skip
    post = DrawsPosterior(ds, "OR", seed=1)
    assert post.mu_cdf(-0.1) == pytest.approx(stats.norm.cdf(1.0), abs=5 * math.sqrt(0.25 / n))
    assert post.mu_pdf(-0.3) == pytest.approx(stats.norm.pdf(0, 0, 0.2), rel=0.03)
    assert post.tau_pdf(0.01) == pytest.approx(stats.halfnorm.pdf(0.01, scale=0.5), rel=0.03)
    assert post.theta_cdf(0.4, "a") == pytest.approx(0.5, abs=5 * math.sqrt(0.25 / n))
    assert post.theta_pdf(0.4, 0) == pytest.approx(stats.norm.pdf(0, 0, 0.3), rel=0.03)
    assert post.predictive_ppf(0.5) == pytest.approx(-0.3, abs=0.01)
