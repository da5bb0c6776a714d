"""Tests of models.bayes.model_averaging.

Independent references, each named in the test:
(a) Savage-Dickey: for nested models with mu = 0 inside mu ~ N(m0, s0^2), BF01 = p(mu = 0 | y) / p(mu = 0); under
    fixed effects the posterior is the conjugate normal (closed form), under random effects it is the normal mixture
    of models.bayes.exact (a different route from the mu = 0 integral of this module);
(b) closed-form normal marginal likelihoods for k = 1 with tau pinned near 0;
(c) the definition of the generalised inverse of a cdf with a jump (point mass at OR = 1).
"""

import math

import numpy as np
import pytest
from scipy import stats

from models.bayes.exact import exact_normal_normal
from models.bayes.exact_binomial import BinomialLikelihood
from models.bayes.model_averaging import MODELS, _average, average_binomial, average_normal, bf_from_log
from models.priors import EffectPrior, effect_prior, tau_prior
from models.tables import BinaryTable

TURNER = tau_prior("turner2015_mortality_pharma")
WEAK = effect_prior("weakly_informative")
Y = np.array([-0.9, -0.3, -0.6, 0.1, -1.2])
V = np.array([0.3, 0.1, 0.5, 0.2, 0.8])
TABLE = BinaryTable(
    ("a", "b", "c", "d"),
    np.array([0, 0, 2, 5]),
    np.array([12, 65, 12, 21]),
    np.array([3, 0, 7, 4]),
    np.array([29, 35, 12, 24]),
)


def test_normal_fixed_effect_bf_is_savage_dickey_closed_form():
    """Reference (a), fixed effects: BF10 = N(0; m0, s0^2) / N(0; posterior mean, posterior sd^2)."""
    res = average_normal(Y, V, TURNER, WEAK)
    prec = 1 / WEAK.sd**2 + np.sum(1 / V)
    mean = (WEAK.mean / WEAK.sd**2 + np.sum(Y / V)) / prec
    sd_dickey = stats.norm(WEAK.mean, WEAK.sd).logpdf(0.0) - stats.norm(mean, prec**-0.5).logpdf(0.0)
    assert res.log_evidence[1] - res.log_evidence[0] == pytest.approx(sd_dickey, abs=1e-9)


def test_normal_random_effect_bf_is_savage_dickey_on_exact_posterior():
    """Reference (a), random effects: BF01 = posterior density of mu at 0 (normal mixture over the exact tau grid
    of models.bayes.exact) / prior density at 0."""
    res = average_normal(Y, V, TURNER, WEAK)
    post = exact_normal_normal(Y, V, TURNER, WEAK)
    dens0 = float(np.sum(post.tau_weights * stats.norm.pdf(0.0, post._m, post._sd)))
    ref = math.log(stats.norm(WEAK.mean, WEAK.sd).pdf(0.0) / dens0)
    assert math.log(res.bf10_effect_random) == pytest.approx(ref, abs=1e-6)


def test_binomial_random_effect_bf_is_savage_dickey():
    """Reference (a) for the binomial engine: log BF10 from the mu = 0 integral equals log prior density at 0 minus
    log posterior density at 0 (the latter from the cdf of the random-effects posterior, central difference)."""
    lik = BinomialLikelihood(TABLE)
    res = average_binomial(lik, TURNER, WEAK)
    post = lik.posterior(TURNER, WEAK)
    h = 1e-3
    dens0 = (post.mu_cdf(h) - post.mu_cdf(-h)) / (2 * h)
    ref = stats.norm(0, 1).logpdf(0.0) - math.log(dens0)
    assert math.log(res.bf10_effect_random) == pytest.approx(ref, abs=2e-4)


def test_normal_single_study_evidences_closed_form():
    """Reference (b): k = 1, y ~ N(mu, v): fixed-effect evidence N(y; m0, v + s0^2); null N(y; 0, v); random null
    with tau ~ HalfNormal(1e-4) is N(y; 0, v) up to O(1e-8)."""
    near0 = type(TURNER)("t0", "near 0", "halfnormal", (("scale", 1e-4),), "test")
    res = average_normal([-0.5], [0.2], near0, WEAK)
    assert res.log_evidence[0] == pytest.approx(stats.norm(0, math.sqrt(0.2)).logpdf(-0.5), abs=1e-12)
    assert res.log_evidence[1] == pytest.approx(stats.norm(0, math.sqrt(1.2)).logpdf(-0.5), abs=1e-12)
    assert res.log_evidence[2] == pytest.approx(res.log_evidence[0], abs=1e-6)
    assert res.log_evidence[3] == pytest.approx(res.log_evidence[1], abs=1e-6)


def test_averaged_quantiles_with_point_mass():
    """Reference (c): quantiles invert the mixture cdf; a level inside the jump at OR = 1 gives exactly 1."""
    res = average_binomial(TABLE, TURNER, WEAK)
    assert res.models == MODELS
    assert sum(res.posterior_prob) == pytest.approx(1.0)
    assert res.p_null == pytest.approx(res.posterior_prob[0] + res.posterior_prob[2])
    post_fe = BinomialLikelihood(TABLE).posterior(None, WEAK, model="fixed")
    post_re = BinomialLikelihood(TABLE).posterior(TURNER, WEAK)
    p = res.posterior_prob
    below = p[1] * post_fe.prob_below(1.0) + p[3] * post_re.prob_below(1.0)
    assert res.prob_below_1 == pytest.approx(below, abs=1e-12)
    if below < 0.5 <= below + res.p_null:
        assert res.median == 1.0
    else:
        x = math.log(res.median)
        cdf = p[1] * post_fe.mu_cdf(x) + p[3] * post_re.mu_cdf(x) + (res.p_null if x > 0 else 0.0)
        assert cdf == pytest.approx(0.5, abs=1e-9)
    # a prior that puts all mass on the null models gives OR = 1 for every quantile
    null = average_binomial(TABLE, TURNER, WEAK, prior_prob=(0.5, 0.0, 0.5, 0.0))
    assert (null.low, null.median, null.high, null.prob_below_1) == (1.0, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="prior_prob must be 4"):
        average_binomial(TABLE, TURNER, WEAK, prior_prob=(0.5, 0.5))


def test_inclusion_bf_reduces_to_conditional_when_other_restriction_is_fixed():
    """With prior mass only on the random-effects pair, the inclusion BF for the effect equals the conditional one
    and the heterogeneity inclusion BF is undefined (no prior mass on tau = 0)."""
    res = average_normal(Y, V, TURNER, WEAK, prior_prob=(0.0, 0.0, 0.5, 0.5))
    assert res.bf10_effect == pytest.approx(res.bf10_effect_random, rel=1e-12)
    assert math.isnan(res.bf10_heterogeneity)
    moved = EffectPrior("m", "m", -0.5, 0.5, "test")
    assert average_normal(Y, V, TURNER, moved).bf10_effect != pytest.approx(res.bf10_effect, rel=1e-3)


def test_a_supplied_random_effects_posterior_is_used_as_is():
    """Reusing the caller's random-effects posterior (as the batch does) gives the averages computed from scratch."""
    from models.bayes.exact_binomial import BinomialLikelihood
    from models.priors import effect_prior, tau_prior
    from models.tables import BinaryTable

    table = BinaryTable(("a", "b", "c"), [3, 10, 0], [30, 50, 20], [8, 14, 2], [30, 50, 20])
    lik = BinomialLikelihood(table)
    tp, ep = tau_prior("halfnormal_0.5"), effect_prior("weakly_informative")
    fresh = average_binomial(lik, tp, ep)
    reused = average_binomial(lik, tp, ep, random_effects=lik.posterior(tp, ep, n_tau=48, n_mu=24))
    assert reused.bf10_effect == pytest.approx(fresh.bf10_effect, rel=1e-9)
    assert reused.prob_below_1 == pytest.approx(fresh.prob_below_1, rel=1e-9)


def test_a_supplied_normal_posterior_is_used_as_is_and_must_match():
    """average_normal with the caller's random-effects posterior equals the average computed from scratch; a
    posterior of other effects or priors is refused rather than silently mixed in."""
    post = exact_normal_normal(Y, V, TURNER, WEAK)
    fresh = average_normal(Y, V, TURNER, WEAK)
    reused = average_normal(Y, V, TURNER, WEAK, random_effects=post)
    assert reused == fresh
    with pytest.raises(ValueError, match="other effects, priors or measure"):
        average_normal(Y, V, tau_prior("halfnormal_0.5"), WEAK, random_effects=post)
    with pytest.raises(ValueError, match="other effects, priors or measure"):
        average_normal(Y[:4], V[:4], TURNER, WEAK, random_effects=post)


def test_bf_from_log_never_raises():
    """exp where a double holds it, inf above, 0 below, NaN for NaN (reference: IEEE double range)."""
    assert bf_from_log(1.0) == math.e
    assert bf_from_log(709.0) == math.exp(709.0)
    assert bf_from_log(798.0) == math.inf
    assert bf_from_log(-800.0) == 0.0
    assert math.isnan(bf_from_log(math.nan))


def test_huge_log_evidences_stay_on_the_log_scale():
    """Log evidences as on real corpora of large trials (log BF10 for heterogeneity near 800, the case that raised
    OverflowError): log BFs are the differences of log evidences (reference: the definitions, by hand), the BFs
    inf/0, the posterior probabilities the softmax of the log evidences plus log prior probabilities."""
    le = (-5000.0, -4900.0, -4102.0, -4100.0)
    res = average_normal(Y, V, TURNER, WEAK)
    cdfs = (lambda x: 0.5, lambda x: 0.5)
    got = _average(le, cdfs, None, "OR", 0.95, quantiles=False)
    assert got.log_bf10_heterogeneity_effect == 800.0 and got.bf10_heterogeneity_effect == math.inf
    assert got.log_bf10_effect_random == 2.0 and got.bf10_effect_random == pytest.approx(math.exp(2.0))
    # inclusion BF for heterogeneity: log(e^-4102 + e^-4100) - log(e^-5000 + e^-4900), prior odds 1
    ref = (-4100.0 + math.log1p(math.exp(-2.0))) - (-4900.0 + math.log1p(math.exp(-100.0)))
    assert got.log_bf10_heterogeneity == pytest.approx(ref, abs=1e-12) and got.bf10_heterogeneity == math.inf
    assert got.posterior_prob == pytest.approx((0.0, 0.0, 1 / (1 + math.e**2), math.e**2 / (1 + math.e**2)))
    inv = _average(le[::-1], cdfs, None, "OR", 0.95, quantiles=False)
    assert inv.log_bf10_heterogeneity_effect == -898.0 and inv.bf10_heterogeneity_effect == 0.0  # -5000 - -4102
    assert math.isfinite(res.log_bf10_effect)


def _synthetic(kind: str) -> BinaryTable:
    """Extreme corpora of issue 20: k = 200 trials of 10^5 per arm with spread effects; 90% double-zero studies;
    every treatment arm without events."""
    rng = np.random.default_rng(20)
    k = 200
    if kind == "large":
        n = np.full(k, 100_000)
        a, t = rng.normal(-3.0, 0.5, k), rng.normal(-0.2, 0.4, k)
        e_c = rng.binomial(n, 1 / (1 + np.exp(-a)))
        e_t = rng.binomial(n, 1 / (1 + np.exp(-(a + t))))
        return BinaryTable(tuple(f"s{i}" for i in range(k)), e_t, n, e_c, n)
    n_t, n_c = rng.integers(10, 200, k), rng.integers(10, 200, k)
    if kind == "double_zero":
        e_t, e_c = rng.binomial(n_t, 0.05), rng.binomial(n_c, 0.08)
        e_t[: int(0.9 * k)] = 0
        e_c[: int(0.9 * k)] = 0
    else:  # all treatment arms without events
        e_t, e_c = np.zeros(k, dtype=int), rng.binomial(n_c, 0.1)
    return BinaryTable(tuple(f"s{i}" for i in range(k)), e_t, n_t, e_c, n_c)


@pytest.mark.parametrize("kind", ["large", "double_zero", "all_zero_arm"])
def test_extreme_corpora_give_finite_log_bayes_factors(kind):
    """No exception and no NaN on the extreme synthetic corpora (issue 20): every log evidence, log BF and posterior
    probability is a number; the BFs are numbers or inf/0."""
    res = average_binomial(_synthetic(kind), tau_prior("halfnormal_0.5"), WEAK, quantiles=False)
    log_bfs = (res.log_bf10_effect, res.log_bf10_heterogeneity, res.log_bf10_effect_random,
               res.log_bf10_heterogeneity_effect)  # fmt: skip
    values = (*res.log_evidence, *res.posterior_prob, *log_bfs, res.prob_below_1, res.prob_below_0_8)
    assert all(math.isfinite(v) for v in values), values
    bfs = (res.bf10_effect, res.bf10_heterogeneity, res.bf10_effect_random, res.bf10_heterogeneity_effect)
    assert not any(math.isnan(b) for b in bfs)
    assert sum(res.posterior_prob) == pytest.approx(1.0)
    if kind == "large":  # 200 large heterogeneous trials: heterogeneity beyond any double
        assert res.log_bf10_heterogeneity > 710 and res.bf10_heterogeneity == math.inf
