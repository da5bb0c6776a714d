"""Posteriors to results: every number checked against a closed form computed here (conjugate normal posterior of
a published estimate: Normal(y, se^2) likelihood x Normal(m0, s0^2) prior), or against the draws themselves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from tolerances import TOLERANCE

from models.bayes.absolute import ControlRisk
from models.bayes.summary_level import SummaryLevelPosterior
from models.priors import effect_prior, tau_prior
from models.results import Context, Direction, Kind, Method, ResultKey, Status
from models.results.summarise import at_control_risk, summarise, summarise_draws, summarise_two_arm
from models.single_trial import two_arm_posterior

TOL = TOLERANCE["closed_form"]
KEY = ResultKey("published", "summary_level", "halfnormal_0.5", "weakly_informative")


def conjugate(estimate: float, low: float, high: float) -> tuple[float, float]:
    """Posterior mean and SD of log OR: published CI -> se, Normal(0, 1) prior (weakly_informative), conjugate."""
    y, se = math.log(estimate), (math.log(high) - math.log(low)) / (2 * stats.norm.ppf(0.975))
    precision = 1 / se**2 + 1 / 1.0**2
    return (y / se**2) / precision, precision**-0.5


@pytest.fixture(scope="module")
def post():
    tp, ep = tau_prior("halfnormal_0.5"), effect_prior("weakly_informative")
    return SummaryLevelPosterior(0.74, 0.55, 0.99, "OR", tp, ep)


def test_effect_is_on_the_ratio_scale_with_benefit_below_one(post):
    mean, sd = conjugate(0.74, 0.55, 0.99)
    r = summarise(post, KEY, Direction("OR", False, 0.8), method=Method.CLOSED_FORM, k=1, kind=Kind.PUBLISHED)
    z = stats.norm.ppf(0.975)
    assert r.effect.median == pytest.approx(math.exp(mean), rel=TOL)
    assert (r.effect.low, r.effect.high) == pytest.approx((math.exp(mean - z * sd), math.exp(mean + z * sd)), rel=TOL)
    assert r.effect.p_below_null == pytest.approx(stats.norm.cdf(0, mean, sd), abs=TOL)
    assert r.effect.p_benefit == r.effect.p_below_null
    assert r.effect.important_threshold == 0.8
    assert r.effect.p_important == pytest.approx(stats.norm.cdf(math.log(0.8), mean, sd), abs=TOL)
    assert str(r.scale) == "ratio" and r.gate == "not sampled" and r.status == Status.OK


def test_higher_is_benefit_mirrors_benefit_and_threshold(post):
    mean, sd = conjugate(0.74, 0.55, 0.99)
    r = summarise(post, KEY, Direction("OR", True, 1.25), method=Method.CLOSED_FORM, k=1)
    assert r.effect.p_benefit == pytest.approx(stats.norm.sf(0, mean, sd), abs=TOL)
    assert r.effect.p_important == pytest.approx(stats.norm.sf(math.log(1.25), mean, sd), abs=TOL)


def test_threshold_of_another_measure_is_not_applied(post):
    r = summarise(post, KEY, Direction("RR", False, 0.8), method=Method.CLOSED_FORM, k=1)
    assert r.effect.important_threshold is None and r.effect.p_important is None


def test_absolute_effects_at_the_stated_control_risk_follow_the_or(post):
    """Closed form: events per 1,000 with treatment = 1000 expit(logit(p_c) + log OR) at the OR's median/limits."""
    mean, sd = conjugate(0.74, 0.55, 0.99)
    control = ControlRisk("icu", 0.4, "ventilated", "stated")
    pooled = summarise(post, KEY, Direction("OR"), method=Method.CLOSED_FORM, k=1, context=Context(control=control))
    expected = 1000 / (1 + math.exp(-(math.log(0.4 / 0.6) + mean)))
    assert pooled.absolute.deaths_median == pytest.approx(expected, rel=1e-9)
    assert pooled.absolute.difference_median == pytest.approx(expected - 400, abs=1e-9)
    key = ResultKey("published/absolute_at_icu", KEY.model, KEY.tau_prior, KEY.effect_prior)
    at = at_control_risk(pooled, post, control, key=key, title="t")
    assert at.kind == Kind.ABSOLUTE and at.context.parent == "published" and at.context.subject == "icu"
    assert at.effect == pooled.effect and at.absolute.control == control


def test_no_absolute_effects_when_higher_is_benefit(post):
    control = ControlRisk("c", 0.4, "c", "stated")
    r = summarise(post, KEY, Direction("OR", True), method=Method.CLOSED_FORM, k=1, context=Context(control=control))
    assert r.absolute is None


def test_draws_are_summarised_by_their_own_quantiles():
    rng = np.random.default_rng(1)
    log_or, tau = rng.normal(-0.3, 0.2, 4000), np.abs(rng.normal(0, 0.3, 4000))
    r = summarise_draws(log_or, tau, KEY, Direction("OR", False, 0.8), measure="OR", method=Method.MCMC, k=5,
                        kind=Kind.SUBGROUP)  # fmt: skip
    assert r.effect.median == math.exp(np.median(log_or))
    assert r.effect.low == pytest.approx(math.exp(np.quantile(log_or, 0.025)), rel=1e-12)
    assert r.effect.p_benefit == np.mean(log_or < 0) and r.effect.p_important == np.mean(log_or < math.log(0.8))
    assert r.tau.median == np.median(tau) and r.prediction is None


def test_two_arm_trial_benefit_follows_the_direction():
    post = two_arm_posterior(23, 49, 10, 29, seed=3)
    ct = summarise_two_arm(post, KEY, Direction("OR", True), context=Context(studies=("shi2021",)))
    odds = (post.p_t / (1 - post.p_t)) / (post.p_c / (1 - post.p_c))
    assert ct.effect.p_benefit == np.mean(odds > 1) and ct.effect.p_below_null == np.mean(odds < 1)
    assert ct.method == Method.CONJUGATE_MONTE_CARLO and ct.tau is None
