"""Single-trial reanalysis: conjugate closed forms and the published figures of the Shi 2021 3-year follow-up."""

import math

import numpy as np
import pytest
from scipy import stats

from models.single_trial import difference_posterior, se_from_p_value, two_arm_posterior


def test_two_arm_posterior_matches_the_beta_closed_form():
    post = two_arm_posterior(23, 49, 10, 29, draws=100_000, seed=1)
    # Beta(1 + 23, 1 + 26) mean and SD (closed form)
    mean, sd = stats.beta(24, 27).mean(), stats.beta(24, 27).std()
    assert abs(post.p_t.mean() - mean) < 4 * sd / math.sqrt(100_000)
    assert abs(post.p_t.std() - sd) < 0.01 * sd


def test_posterior_or_is_centred_near_the_published_or():
    # Shi 2021 3-year follow-up: normal chest CT 46.94% vs 34.48% of 49 vs 29, published OR 1.68 (p = 0.28)
    post = two_arm_posterior(23, 49, 10, 29, seed=2)
    s = post.summary()
    assert 1.4 < s["or_median"] < 1.8
    assert s["or_low"] < 1 < s["or_high"]
    assert abs(s["p_or_above_1"] + s["p_or_below_1"] - 1) < 1e-12


def test_same_seed_same_draws():
    a = two_arm_posterior(3, 26, 1, 19, seed=5)
    b = two_arm_posterior(3, 26, 1, 19, seed=5)
    assert np.array_equal(a.odds_ratio, b.odds_ratio)


def test_se_from_p_value_closed_form():
    # a difference of 1.959964 with two-sided p = 0.05 has SE 1 (Wald test)
    assert se_from_p_value(1.959964, 0.05) == pytest.approx(1.0, rel=1e-6)


def test_se_from_p_value_rejects_bad_input():
    with pytest.raises(ValueError, match="p_value"):
        se_from_p_value(1.0, 1.5)
    with pytest.raises(ValueError, match="zero difference"):
        se_from_p_value(0.0, 0.2)


def test_difference_posterior_is_conjugate_normal():
    post = difference_posterior(12.86, 5.0, prior_mean=0.0, prior_sd=20.0)
    precision = 1 / 25 + 1 / 400
    assert post.mean == pytest.approx((12.86 / 25) / precision)
    assert post.sd == pytest.approx(precision**-0.5)
    assert post.prob_above(0.0) == pytest.approx(stats.norm.sf(0, post.mean, post.sd))
    ci = post.interval(0.95)
    assert (ci.prob, ci.kind) == (0.95, "eti")


def test_two_arm_rejects_impossible_counts():
    with pytest.raises(ValueError, match="experimental arm"):
        two_arm_posterior(5, 3, 1, 10)
