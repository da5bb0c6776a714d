"""Absolute effects at stated control risks, checked against closed forms on a normal posterior of log-OR."""

import math

import numpy as np
import pytest
from scipy import stats

from models.bayes.absolute import ControlRisk, absolute_effect, ratio_for_rr, risk_with_treatment
from models.bayes.exact import exact_normal_normal
from models.msc.absolute import RECOVERY_VENTILATED
from models.priors import EffectPrior, TauPrior


def _normal_posterior():
    """One study, tau fixed near 0 and a flat-ish prior: mu | y is close to Normal(y, v) (conjugate closed form)."""
    tiny = TauPrior("tiny", "tiny", "halfnormal", (("scale", 1e-6),), "test")
    prior = EffectPrior("flat", "flat", 0.0, 1e4, "test")
    return exact_normal_normal([math.log(0.7)], [0.04], tiny, prior, measure="OR")


def test_risk_with_treatment_closed_forms():
    # OR 0.5 at 40%: odds 2/3 * 0.5 = 1/3 -> risk 0.25 (hand arithmetic)
    assert risk_with_treatment(math.log(0.5), 0.4, "OR") == pytest.approx(0.25)
    assert risk_with_treatment(math.log(0.5), 0.4, "RR") == pytest.approx(0.2)


def test_rr_threshold_is_not_the_or_threshold():
    # RR 0.8 at a 41.4% control risk is OR (0.3312/0.6688)/(0.414/0.586) = 0.7010, not 0.8 (hand arithmetic)
    assert ratio_for_rr(0.8, 0.414, "OR") == pytest.approx((0.3312 / 0.6688) / (0.414 / 0.586))
    assert ratio_for_rr(0.8, 0.414, "OR") < 0.71


def test_absolute_effect_matches_normal_closed_form():
    post = _normal_posterior()
    eff = absolute_effect(post, RECOVERY_VENTILATED)
    m, sd = math.log(0.7), 0.2
    z = 1.959963984540054

    def per_1000(log_or):
        odds = 0.414 / 0.586 * math.exp(log_or)
        return 1000 * odds / (1 + odds)

    assert eff.deaths_median == pytest.approx(per_1000(m), abs=0.05)
    assert eff.deaths_low == pytest.approx(per_1000(m - z * sd), abs=0.05)
    assert eff.deaths_high == pytest.approx(per_1000(m + z * sd), abs=0.05)
    assert eff.difference_median == pytest.approx(per_1000(m) - 414, abs=0.05)
    # P(ARR >= 0.02) = P(p_t <= 0.394) = P(mu <= logit(0.394) - logit(0.414))
    cut = math.log(0.394 / 0.606) - math.log(0.414 / 0.586)
    assert eff.p_important == pytest.approx(stats.norm.cdf(cut, m, sd), abs=1e-4)
    assert eff.p_rr_below_0_8 == pytest.approx(stats.norm.cdf(math.log(ratio_for_rr(0.8, 0.414, "OR")), m, sd),
                                                abs=1e-4)  # fmt: skip
    assert eff.p_nnt[50] == pytest.approx(eff.p_important)


def test_control_risk_must_be_a_proportion():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        ControlRisk("x", 1.2, "x", "x")


def test_absolute_effect_refuses_difference_measures():
    post = exact_normal_normal(np.array([0.1]), np.array([0.01]), TauPrior("t", "t", "halfnormal", (("scale", 0.5),),
                               "t"), EffectPrior("e", "e", 0.0, 1.0, "e"), measure="MD")  # fmt: skip
    with pytest.raises(ValueError, match="OR or RR"):
        absolute_effect(post, RECOVERY_VENTILATED)
