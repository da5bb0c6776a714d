"""Robust Bayesian model averaging (models/bayes/publication_bias): model space, selection weights, quadrature
against brute force and exact engines, and published RoBMA analyses (fast subsets; the full reproductions are the
slow tests in test_publication_bias_slow.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from tolerances import TOLERANCE

from models.bayes.model_averaging import average_normal
from models.bayes.publication_bias import (
    NoBias,
    WeightFunction,
    binomial_studies,
    normal_studies,
    peese,
    pet,
    psma_components,
    robust_bma,
    robust_bma_binomial,
    robust_bma_normal,
)
from models.bayes.publication_bias.quadrature import fit_model
from models.bayes.publication_bias.selection import group_probabilities, intervals, weight_nodes
from models.bayes.publication_bias.specs import ModelSpec, ensemble
from models.priors import EffectPrior, TauPrior
from models.tables import BinaryTable

REF = Path(__file__).resolve().parents[1] / "reference" / "publication_bias"
PRINTED = json.loads((REF / "robma_printed.json").read_text())
BRUTE = json.loads((REF / "brute_force.json").read_text())
LUI_TAU = TauPrior("invgamma_1_0.075", "InvGamma(1, 0.075)", "invgamma", (("alpha", 1.0), ("beta", 0.075)), "RoBMA")
LUI_EFFECT = EffectPrior("normal_0.5", "Normal(0, 0.5)", 0.0, 0.5, "RoBMA", log_scale=False)


def lui_studies():
    d = pd.read_csv(REF / "lui2015.csv")
    return normal_studies(np.arctanh(d.r.to_numpy()), 1.0 / (d.n.to_numpy() - 3.0), measure="ZCOR")


def test_psma_prior_model_probabilities_are_robma_defaults():
    # RoBMA-PSMA (Bartos et al. 2023; RoBMA 4.0 "publication-bias prior specification"): 36 models, bias none 1/2,
    # six weight functions 1/24 each, PET and PEESE 1/8 each, effect and heterogeneity 1/2 each
    specs = ensemble(psma_components("SMD"))
    assert len(specs) == 36
    assert math.isclose(sum(s.prior_prob for s in specs), 1.0, rel_tol=1e-12)
    by_bias = {}
    for s in specs:
        by_bias[s.bias.key] = by_bias.get(s.bias.key, 0.0) + s.prior_prob
    assert by_bias["none"] == pytest.approx(0.5)
    assert by_bias["PET"] == pytest.approx(0.125) and by_bias["PEESE"] == pytest.approx(0.125)
    assert by_bias["omega_1s_0.025_0.05_0.5"] == pytest.approx(1 / 24)
    # PEESE prior scale 5 for SMD, 5 sqrt(2) / 2 for log OR (RoBMA 4.0 input-priors.R, UISD ratio)
    assert psma_components("SMD")[-1].scale == pytest.approx(5.0)
    assert psma_components("OR")[-1].scale == pytest.approx(5 * math.sqrt(2) / 2)


@pytest.mark.parametrize("steps,side", [((0.05,), "one-sided"), ((0.025, 0.05), "one-sided"),
                                        ((0.025, 0.05, 0.5), "one-sided"), ((0.05, 0.1), "two-sided")])  # fmt: skip
def test_weight_nodes_integrate_the_cumulative_dirichlet_prior(steps, side):
    wf = WeightFunction(steps, side)
    nodes = weight_nodes(wf, 12)
    w = np.exp(nodes.log_weight)
    assert w.sum() == pytest.approx(1.0, abs=1e-10)
    assert np.all(nodes.omega[:, 0] == 1.0) and np.all(np.diff(nodes.omega, axis=1) <= 1e-15)
    # closed form: omega of group j (from the most significant) is a sum of m + 1 - j of the m + 1 Dirichlet(1)
    # components, mean (m + 1 - j) / (m + 1)
    m = len(steps)
    for j in range(1, m + 1):
        assert w @ nodes.omega[:, j] == pytest.approx((m + 1 - j) / (m + 1), abs=1e-10)


def test_weight_nodes_with_a_beta_change_of_variable_integrate_a_posterior_like_integrand():
    # one free weight, uniform prior: int_0^1 omega^20 d omega = 1/21 (closed form), with the change of variable the
    # quadrature fits to such a posterior (mean 21/22, doubled variance: Beta(10, 1) after the clip at 1)
    nodes = weight_nodes(WeightFunction((0.05,)), 16, a=np.array([10.0]), b=np.array([1.0]))
    assert np.exp(nodes.log_weight) @ nodes.omega[:, 1] ** 20 == pytest.approx(1 / 21, rel=1e-6)


def test_intervals_and_group_probabilities():
    two = intervals(WeightFunction((0.05, 0.1), "two-sided"))
    z = np.array([2.5, -2.5, 1.8, -1.8, 0.0])  # two-sided p 0.012, 0.012, 0.072, 0.072, 1
    assert list(two.observed_group(z)) == [0, 0, 1, 1, 2]
    one = intervals(WeightFunction((0.025, 0.05, 0.5)))
    assert list(one.observed_group(np.array([2.5, 1.8, 0.5, -0.5]))) == [0, 1, 2, 3]
    se = np.array([0.2, 0.5])
    p = group_probabilities(one, np.array([0.1, -0.3]), np.array([0.3, 0.6]), se)
    assert p.sum(axis=-1) == pytest.approx(np.ones(2), abs=1e-14)
    # group 0: z > 1.96, i.e. y > 1.96 se, for y ~ Normal(0.1, 0.3^2)
    assert p[0, 0] == pytest.approx(stats.norm.sf(1.959963984540054 * 0.2, 0.1, 0.3), rel=1e-10)


def test_no_bias_evidences_equal_the_exact_normal_engine():
    # independent route: closed forms and models.bayes.exact (model_averaging.average_normal)
    st = lui_studies()
    ref = average_normal(st.y, st.v, LUI_TAU, LUI_EFFECT, measure="SMD").log_evidence
    for (effect, het), expected in zip([(False, False), (True, False), (False, True), (True, True)], ref,
                                       strict=True):  # fmt: skip
        fit = fit_model(st, ModelSpec(effect, het, NoBias(), 1.0), LUI_TAU, LUI_EFFECT, 1)
        assert fit.log_evidence == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("model", ["effect/random/none", "effect/random/PET", "effect/random/PEESE",
                                   "null/random/PET", "null/random/omega_1s_0.05", "effect/fixed/PET"])  # fmt: skip
def test_lui2015_log_marginal_likelihoods_match_robma3(model):
    # RoBMA 3.x vignette "Tutorial", summary(type = "models"), Lui (2015) on Fisher z (robma_printed.json)
    printed = PRINTED["lui2015_robma3"]
    effect, het, bias = model.split("/")
    comp = {c.key: c for c in psma_components(peese_scale=10.0)}[bias]
    fit = fit_model(lui_studies(), ModelSpec(effect == "effect", het == "random", comp, 1.0), LUI_TAU, LUI_EFFECT, 1)
    expected = printed["log_marglik"][f"{effect}/{het}"][printed["bias_order"].index(bias)]
    assert fit.log_evidence == pytest.approx(expected, abs=TOLERANCE["robma_printed_2dp"])


def brute_studies():
    return normal_studies(BRUTE["y"], BRUTE["v"], measure="SMD")


BRUTE_TAU = TauPrior("hn", "HalfNormal(0.3)", "halfnormal", (("scale", 0.3),), "test")
BRUTE_EFFECT = EffectPrior("n", "Normal(0, 0.5)", 0.0, 0.5, "test", log_scale=False)
BRUTE_SPECS = {
    "effect/random/PET": ModelSpec(True, True, pet(1.0), 1.0),
    "effect/random/PEESE": ModelSpec(True, True, peese(5.0), 1.0),
    "effect/fixed/omega_1s_0.025": ModelSpec(True, False, WeightFunction((0.025,)), 1.0),
    "null/random/omega_2s_0.05_0.1": ModelSpec(False, True, WeightFunction((0.05, 0.1), "two-sided"), 1.0),
    "null/fixed/omega_1s_0.025_0.05_0.5": ModelSpec(False, False, WeightFunction((0.025, 0.05, 0.5)), 1.0),
}


@pytest.mark.parametrize("case", sorted(BRUTE_SPECS))
def test_quadrature_against_stored_brute_force(case):
    # brute_force.json: scipy adaptive quadrature, tests/reference/publication_bias/make_brute_force.py
    fit = fit_model(brute_studies(), BRUTE_SPECS[case], BRUTE_TAU, BRUTE_EFFECT, 1)
    assert fit.log_evidence == pytest.approx(BRUTE["cases"][case]["log_evidence"], abs=TOLERANCE["pubbias_brute_force"])


def test_posterior_probability_against_stored_brute_force():
    spec = BRUTE_SPECS["effect/fixed/omega_1s_0.025"]
    res = robust_bma(brute_studies(), BRUTE_TAU, BRUTE_EFFECT, components=(spec.bias,), effect_prob=1.0,
                     heterogeneity_prob=0.0, direction="positive")  # fmt: skip
    expected = BRUTE["cases"]["effect/fixed/omega_1s_0.025"]["prob_below_0"]
    assert res.averaged.prob_below_null == pytest.approx(expected, abs=TOLERANCE["pubbias_brute_force"])


def test_binomial_pet_against_stored_brute_force():
    case = BRUTE["cases"]["binomial effect/fixed/PET"]
    tables = np.array(BRUTE["tables"])
    table = BinaryTable(("a", "b", "c"), tables[:, 0], tables[:, 1], tables[:, 2], tables[:, 3])
    fit = fit_model(binomial_studies(table), ModelSpec(True, False, pet(1.0), 1.0), BRUTE_TAU, BRUTE_EFFECT, -1)
    assert fit.log_evidence == pytest.approx(case["log_evidence"], abs=TOLERANCE["pubbias_brute_force"])


def small_table():
    return BinaryTable(("s1", "s2", "s3", "s4", "s5"), np.array([2, 10, 0, 4, 0]), np.array([30, 120, 25, 40, 20]),
                       np.array([6, 15, 3, 9, 0]), np.array([31, 118, 24, 42, 22]))  # fmt: skip


def test_binomial_result_is_consistent():
    tp = TauPrior("hn", "HalfNormal(0.5)", "halfnormal", (("scale", 0.5),), "test")
    ep = EffectPrior("n", "Normal(0, 1)", 0.0, 1.0, "test")
    # fixed effects only, so that the default suite stays fast (the full ensemble on 2x2 data: the slow tests)
    res = robust_bma_binomial(small_table(), tp, ep, components=(NoBias(0.5), pet(1.0, 0.5)), heterogeneity_prob=0.0)
    assert res.excluded == ("s5",) and res.k == 4 and res.direction == -1  # double zero dropped; benefit detected
    post = np.array([m.posterior_prob for m in res.models])
    assert post.sum() == pytest.approx(1.0)
    assert res.bias.posterior_prob == pytest.approx(sum(m.posterior_prob for m in res.models if m.bias != "none"))
    assert sum(b.posterior_prob for b in res.bias_models) == pytest.approx(1.0)
    assert res.averaged.p_null == pytest.approx(1.0 - res.effect.posterior_prob)
    # inclusion BF = posterior odds / prior odds
    odds = res.effect.posterior_prob / (1 - res.effect.posterior_prob)
    assert res.effect.log_bf == pytest.approx(math.log(odds), rel=1e-9)
    s = res.averaged
    assert s.ratio and s.low <= s.median <= s.high and s.prob_below_threshold <= s.prob_below_null
    assert res.settled and math.isnan(res.heterogeneity.log_bf)


def test_log_scale_bayes_factors_do_not_overflow():
    # 200 precise studies of a large effect: log BF of the effect about 1000, beyond a double's exp
    y, v = np.full(200, 1.0) + np.linspace(-0.01, 0.01, 200), np.full(200, 1e-4)
    tp = TauPrior("hn", "HalfNormal(0.5)", "halfnormal", (("scale", 0.5),), "test")
    ep = EffectPrior("n", "Normal(0, 1)", 0.0, 1.0, "test")
    res = robust_bma_normal(y, v, tp, ep, measure="OR", components=(NoBias(1.0),), heterogeneity_prob=0.0)
    assert res.effect.log_bf > 700 and res.effect.bf == math.inf and res.effect.posterior_prob == 1.0
    assert np.isfinite([m.log_evidence for m in res.models]).all()


def test_bad_arguments_are_refused():
    st = brute_studies()
    with pytest.raises(ValueError, match="direction 'up' is not one of"):
        robust_bma(st, BRUTE_TAU, BRUTE_EFFECT, direction="up")
    with pytest.raises(ValueError, match="no default PEESE scale for measure 'GEN'"):
        robust_bma(normal_studies([0.1, 0.2], [0.1, 0.1]), BRUTE_TAU, BRUTE_EFFECT)
    with pytest.raises(ValueError, match="steps must be increasing"):
        WeightFunction((0.05, 0.025))


def test_psma_components_need_a_known_measure():
    with pytest.raises(ValueError, match="no default PEESE scale"):
        psma_components("RD")


def test_binomial_shifted_likelihood_splines_match_the_engine():
    studies = binomial_studies(small_table())
    rng = np.random.default_rng(3)
    mu = rng.normal(-0.4, 0.8, size=(5, 4, 6))
    tau = np.array([0.0, 0.05, 0.2, 0.6, 1.5])
    shift = -rng.uniform(0.0, 3.0, size=(4, 1)) * studies.se[None, :]
    direct = np.stack([studies.log_lik(mu[:, f, :], tau[:, None], shift[f]) for f in range(4)], axis=1)
    assert studies.log_lik_shifted(mu, tau, shift) == pytest.approx(direct, abs=1e-5)


def test_exact_publication_probabilities_by_enumeration():
    # independent enumeration of the 7 x 8 tables of a 6 vs 7 patient trial at control risk 2/7 and true OR 0.2:
    # P(one-sided p < 0.025 in the direction of benefit), Wald z with 0.5 added to zero-cell tables
    table = BinaryTable(("t",), np.array([1]), np.array([6]), np.array([2]), np.array([7]))
    studies = binomial_studies(table)
    iv = intervals(WeightFunction((0.025,)))
    theta = math.log(0.2)
    pc = 2 / 7
    pt = 1 / (1 + math.exp(-(math.log(pc / (1 - pc)) + theta)))
    expected = 0.0
    for et in range(7):
        for ec in range(8):
            cells = [et, 6 - et, ec, 7 - ec]
            if 0 in cells:
                cells = [c + 0.5 for c in cells]
            a, b, c, d = cells
            z = -math.log(a * d / (b * c)) / math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
            if z > stats.norm.isf(0.025):
                expected += stats.binom.pmf(et, 6, pt) * stats.binom.pmf(ec, 7, pc)
    got = studies.group_probabilities(iv, np.array([theta]), np.array([0.0]), -1)[0, 0, 0]
    assert got == pytest.approx(expected, abs=2e-4)  # linear interpolation on the 0.05-spaced grid of theta
