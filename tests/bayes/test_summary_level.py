"""Summary-level reanalysis of a published pooled estimate: closed-form conjugate normal checks."""

import math

import pytest
from scipy import stats

from models.bayes.summary_level import SummaryLevelPosterior, se_from_ci
from models.priors import EffectPrior, effect_prior, tau_prior


def test_se_from_ci_closed_form():
    # published OR 0.74 [0.55, 0.99]: SE of log OR = (ln 0.99 - ln 0.55) / (2 * 1.959964)
    assert se_from_ci(0.55, 0.99, ratio=True) == pytest.approx((math.log(0.99) - math.log(0.55)) / 3.919928, rel=1e-6)
    assert se_from_ci(-0.70, 0.25, ratio=False) == pytest.approx(0.95 / 3.919928, rel=1e-6)


def test_flat_prior_recovers_the_published_estimate_and_one_sided_p():
    flat = EffectPrior("flat", "nearly flat", 0.0, 1e4, "test")
    post = SummaryLevelPosterior(0.76, 0.60, 0.96, "RR", tau_prior("halfnormal_0.5"), flat)
    se = (math.log(0.96) - math.log(0.60)) / 3.919928
    assert post.median() == pytest.approx(0.76, rel=1e-6)
    # P(RR < 1) under a flat prior = Phi(-log(0.76) / se)
    assert post.prob_below(1.0) == pytest.approx(stats.norm.cdf(-math.log(0.76) / se), rel=1e-6)
    ci = post.interval(0.95)
    assert (ci.low, ci.high) == (pytest.approx(0.60, rel=2e-3), pytest.approx(0.96, rel=2e-3))


def test_conjugate_update_with_weakly_informative_prior():
    prior = effect_prior("weakly_informative")
    post = SummaryLevelPosterior(0.52, 0.32, 0.84, "OR", tau_prior("turner2015_mortality_pharma"), prior)
    y, se = math.log(0.52), (math.log(0.84) - math.log(0.32)) / 3.919928
    precision = 1 / se**2 + 1 / prior.sd**2
    assert post.log_mean() == pytest.approx((y / se**2 + prior.mean / prior.sd**2) / precision)
    assert post.log_sd() == pytest.approx(precision**-0.5)


def test_tau_prior_only_widens_the_predictive_interval():
    ep = effect_prior("weakly_informative")
    narrow = SummaryLevelPosterior(0.74, 0.55, 0.99, "OR", tau_prior("turner2015_mortality_pharma"), ep)
    wide = SummaryLevelPosterior(0.74, 0.55, 0.99, "OR", tau_prior("halfnormal_1"), ep)
    assert narrow.prob_below(1.0) == pytest.approx(wide.prob_below(1.0))
    assert wide.predictive_interval().high > narrow.predictive_interval().high


def test_rejects_bad_ci():
    with pytest.raises(ValueError, match="ratio CI"):
        se_from_ci(0.9, 0.5, ratio=True)
