"""Tests of models.bayes.posterior (the query protocol) on synthetic draws with closed-form answers.

References: normal and log-normal closed forms (scipy.stats) for draws simulated from known distributions, with
tolerances of about 4-5 Monte Carlo standard errors; absolute risk reductions computed by hand from the definitions
ARR = p_c (1 - RR) and ARR = p_c - OR odds_c / (1 + OR odds_c); and, for ExactPosterior, draws simulated in this file
from the normal-normal model by sampling-importance-resampling (prior draws of mu and tau weighted by the
likelihood), which uses none of the conjugate algebra of models.bayes.exact.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from models.bayes.exact import exact_normal_normal
from models.bayes.posterior import DrawsPosterior, Interval
from models.priors import effect_prior, tau_prior

CHAINS, DRAWS = 4, 50_000
N = CHAINS * DRAWS


def _dataset(**variables) -> xr.Dataset:
    """Flat draws (and (n, k) study draws) reshaped to (chain, draw[, study])."""
    data = {}
    coords = {"chain": np.arange(CHAINS), "draw": np.arange(DRAWS)}
    for name, x in variables.items():
        x = np.asarray(x)
        if x.ndim == 1:
            data[name] = (("chain", "draw"), x.reshape(CHAINS, DRAWS))
        else:
            data[name] = (("chain", "draw", "study"), x.reshape(CHAINS, DRAWS, x.shape[1]))
            coords["study"] = [f"S{i}" for i in range(x.shape[1])]
    return xr.Dataset(data, coords=coords)


A, B, C = -0.3, 0.2, 0.15  # mu ~ N(A, B^2) on the log-OR scale; tau fixed at C


@pytest.fixture(scope="module")
def normal_post() -> DrawsPosterior:
    rng = np.random.default_rng(11)
    mu = rng.normal(A, B, N)
    theta = rng.normal([-0.5, 0.0, 0.4], [0.1, 0.2, 0.3], size=(N, 3))
    return DrawsPosterior(_dataset(mu=mu, tau=np.full(N, C), theta=theta), "OR", seed=3)


def _mc(p: float) -> float:
    """Five Monte Carlo standard errors of a probability estimated from N independent draws."""
    return 5 * math.sqrt(p * (1 - p) / N)


def test_prob_below_is_normal_cdf_on_log_scale(normal_post):
    for t in (1.0, 0.9, 0.7):
        p = stats.norm.cdf(math.log(t), A, B)
        assert normal_post.prob_below(t) == pytest.approx(p, abs=_mc(p))
        assert normal_post.prob_above(t) == pytest.approx(1 - p, abs=_mc(p))


def test_interval_defaults_to_95_percent_eti_on_ratio_scale(normal_post):
    ci = normal_post.interval()
    assert (ci.prob, ci.kind) == (0.95, "eti")
    assert (ci.low, ci.high) == pytest.approx(np.exp(stats.norm.interval(0.95, A, B)), rel=0.005)
    hdi = normal_post.interval(0.9, kind="hdi")  # symmetric on the log scale: HDI = ETI there
    assert (hdi.prob, hdi.kind) == (0.9, "hdi")
    assert (hdi.low, hdi.high) == pytest.approx(np.exp(stats.norm.interval(0.9, A, B)), rel=0.005)


def test_median_and_mean_on_ratio_scale(normal_post):
    assert normal_post.median() == pytest.approx(math.exp(A), rel=0.003)
    assert normal_post.mean() == pytest.approx(math.exp(A + B**2 / 2), rel=0.003)  # log-normal mean
    assert normal_post.log_mean() == pytest.approx(A, abs=0.003)
    assert normal_post.log_sd() == pytest.approx(B, rel=0.01)


def test_rope_share(normal_post):
    p = stats.norm.cdf(math.log(1.1), A, B) - stats.norm.cdf(math.log(0.9), A, B)
    assert normal_post.prob_in_rope() == pytest.approx(p, abs=_mc(p))
    p = stats.norm.cdf(0.0, A, B) - stats.norm.cdf(math.log(0.5), A, B)
    assert normal_post.prob_in_rope(0.5, 1.0) == pytest.approx(p, abs=_mc(p))


def test_predictive_is_mu_plus_tau_z(normal_post):
    # mu ~ N(A, B^2), tau = C  =>  new effect ~ N(A, B^2 + C^2).
    sd = math.hypot(B, C)
    pi = normal_post.predictive_interval()
    assert (pi.prob, pi.kind) == (0.95, "eti")
    assert (pi.low, pi.high) == pytest.approx(np.exp(stats.norm.interval(0.95, A, sd)), rel=0.01)
    p = stats.norm.cdf(0.0, A, sd)
    assert normal_post.prob_new_below(1.0) == pytest.approx(p, abs=_mc(p))


def test_predictive_draws_are_reproducible_by_seed(normal_post):
    ds = _dataset(mu=np.zeros(N), tau=np.ones(N))
    a, b = DrawsPosterior(ds, "OR", seed=5), DrawsPosterior(ds, "OR", seed=5)
    np.testing.assert_array_equal(a.predictive_draws(), b.predictive_draws())
    assert not np.array_equal(a.predictive_draws(), DrawsPosterior(ds, "OR", seed=6).predictive_draws())


def test_tau_queries_against_half_normal():
    rng = np.random.default_rng(12)
    tau = np.abs(rng.normal(0, 0.4, N))
    post = DrawsPosterior(_dataset(mu=np.zeros(N), tau=tau), "RR")
    assert post.tau_median() == pytest.approx(stats.halfnorm.median(scale=0.4), rel=0.01)
    iv = post.tau_interval(0.9)
    assert (iv.prob, iv.kind) == (0.9, "eti")
    assert (iv.low, iv.high) == pytest.approx(stats.halfnorm.interval(0.9, scale=0.4), rel=0.02)
    p = stats.halfnorm.sf(0.5, scale=0.4)
    assert post.prob_tau_above() == pytest.approx(p, abs=_mc(p))
    # the half-normal density is highest at 0, so its 90% HDI is [0, 90% quantile]
    hdi = post.tau_interval(0.9, kind="hdi")
    assert hdi.low == pytest.approx(0.0, abs=0.001)
    assert hdi.high == pytest.approx(stats.halfnorm.ppf(0.9, scale=0.4), rel=0.01)


def test_shrunken_table(normal_post):
    table = normal_post.shrunken()
    assert list(table.columns) == ["median", "low", "high"]
    assert list(table.index) == ["S0", "S1", "S2"] and table.index.name == "study"
    assert table.attrs["prob"] == 0.95
    np.testing.assert_allclose(table["median"], np.exp([-0.5, 0.0, 0.4]), rtol=0.005)
    lo, hi = stats.norm.interval(0.95, [-0.5, 0.0, 0.4], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(table["low"], np.exp(lo), rtol=0.01)
    np.testing.assert_allclose(table["high"], np.exp(hi), rtol=0.01)


# -- absolute effects, hand-computed ---------------------------------------------------------------------------

RATIOS = np.array([0.5, 0.8, 1.0, 1.25])


def _four(measure: str, **extra) -> DrawsPosterior:
    ds = xr.Dataset(
        {"mu": (("chain", "draw"), np.log(RATIOS).reshape(2, 2)), "tau": (("chain", "draw"), np.full((2, 2), 0.1))}
        | {k: (("chain", "draw"), np.asarray(v).reshape(2, 2)) for k, v in extra.items()}
    )
    return DrawsPosterior(ds, measure)


def test_arr_for_rr_by_hand():
    # ARR = 0.2 * (1 - RR) for RR 0.5, 0.8, 1.0, 1.25  ->  0.10, 0.04, 0, -0.05
    post = _four("RR")
    np.testing.assert_allclose(post.arr(0.2), [0.10, 0.04, 0.0, -0.05], atol=1e-15)
    assert post.prob_arr_above(0.03, baseline_risk=0.2) == 0.5
    assert post.prob_nnt_at_most(20, baseline_risk=0.2) == 0.25  # NNT <= 20  <=>  ARR >= 0.05


def test_arr_for_or_by_hand():
    # p_c = 0.2, odds_c = 0.25; OR 0.5 -> p_t = 0.125/1.125 = 0.1111, ARR = 0.0889; OR 0.8 -> p_t = 0.2/1.2, ARR =
    # 0.0333; OR 1 -> 0; OR 1.25 -> p_t = 0.3125/1.3125 = 0.2381, ARR = -0.0381.
    post = _four("OR")
    expected = [0.2 - 0.125 / 1.125, 0.2 - 0.2 / 1.2, 0.0, 0.2 - 0.3125 / 1.3125]
    np.testing.assert_allclose(post.arr(0.2), expected, atol=1e-15)
    assert post.prob_arr_above(0.03, baseline_risk=0.2) == 0.5
    assert post.prob_arr_above(0.05, baseline_risk=0.2) == 0.25
    assert post.prob_arr_above(0.25, baseline_risk=0.2) == 0.0  # would need p_t < 0


def test_model_baseline_draws_are_never_a_clinical_baseline():
    """A posterior with the binomial-normal model's internal baseline_risk draws still needs the caller's baseline:
    absolute effects without one raise, and the summary row computes none (issue 18: no silent fallback)."""
    post = _four("RR", baseline_risk=[0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="pass baseline_risk="):
        post.arr()
    with pytest.raises(ValueError, match="model's internal baseline"):
        post.prob_arr_above(0.045)
    row = post.summary()
    assert row["baseline_source"] == "none" and row["baseline_risk"] is None and math.isnan(row["p_arr_above_0.02"])
    row = post.summary(baseline_risk=0.2)  # ARR = 0.2 (1 - RR): 0.10, 0.04, 0, -0.05 -> P(ARR > 0.02) = 0.5
    assert row["baseline_source"] == "user" and row["p_arr_above_0.02"] == 0.5


def test_arr_for_risk_difference_needs_no_baseline():
    ds = xr.Dataset({"mu": (("chain", "draw"), [[-0.05, 0.01]]), "tau": (("chain", "draw"), [[0.01, 0.01]])})
    post = DrawsPosterior(ds, "RD")
    np.testing.assert_allclose(post.arr(), [0.05, -0.01])
    assert post.prob_arr_above(0.02) == 0.5
    assert post.summary()["baseline_source"] == "not needed"


def test_absolute_effects_without_baseline_raise_clearly():
    post = _four("OR")
    with pytest.raises(ValueError, match="pass baseline_risk="):
        post.arr()
    with pytest.raises(ValueError, match="baseline_risk must be strictly between 0 and 1"):
        post.prob_arr_above(0.02, baseline_risk=20)
    row = post.summary()
    assert row["baseline_source"] == "none" and math.isnan(row["p_arr_above_0.02"])


def test_absolute_effects_need_a_binary_measure():
    ds = xr.Dataset({"mu": (("chain", "draw"), [[-1.0, 2.0]]), "tau": (("chain", "draw"), [[1.0, 1.0]])})
    post = DrawsPosterior(ds, "MD")
    with pytest.raises(ValueError, match="needs a binary measure .* measure is 'MD'"):
        post.arr(0.2)
    with pytest.raises(ValueError, match="explicit low and high bounds for measure 'MD'"):
        post.prob_in_rope()
    assert post.prob_below(0.0) == 0.5  # raw scale for MD
    assert "p_below_0.9" not in post.summary() and "p_arr_above_0.02" not in post.summary()


# -- summary, validation -----------------------------------------------------------------------------------------


def test_summary_row_against_closed_form(normal_post):
    row = normal_post.summary(baseline_risk=0.3)
    assert set(row) == {
        "measure", "median", "low", "high", "p_below_null", "p_below_0.9", "p_below_0.8", "p_arr_above_0.02",
        "baseline_risk", "baseline_source", "tau_median", "p_tau_above_0.5", "pred_low", "pred_high",
        "p_new_below_null",
    }  # fmt: skip
    assert row["measure"] == "OR" and row["baseline_risk"] == 0.3 and row["baseline_source"] == "user"
    for key, t in (("p_below_null", 1.0), ("p_below_0.9", 0.9), ("p_below_0.8", 0.8)):
        p = stats.norm.cdf(math.log(t), A, B)
        assert row[key] == pytest.approx(p, abs=_mc(p))
    # ARR > 0.02 at p_c = 0.3  <=>  p_t < 0.28  <=>  OR < (0.28/0.72) / (0.3/0.7)
    p = stats.norm.cdf(math.log((0.28 / 0.72) / (0.3 / 0.7)), A, B)
    assert row["p_arr_above_0.02"] == pytest.approx(p, abs=_mc(p))
    assert row["tau_median"] == C and row["p_tau_above_0.5"] == 0.0


def test_interval_object_validates_and_prints():
    assert str(Interval(0.61, 0.95, 0.95, "eti")) == "0.61 to 0.95 (95% ETI)"
    with pytest.raises(ValueError, match="kind 'hpd' is not one of eti, hdi"):
        Interval(0.1, 0.2, 0.95, "hpd")
    with pytest.raises(ValueError, match="prob must be strictly between 0 and 1"):
        Interval(0.1, 0.2, 95, "eti")


def test_query_arguments_are_checked(normal_post):
    with pytest.raises(ValueError, match="threshold is on the OR ratio scale and must be positive"):
        normal_post.prob_below(0.0)
    with pytest.raises(ValueError, match="prob must be strictly between 0 and 1"):
        normal_post.interval(1.5)
    with pytest.raises(ValueError, match="kind 'hpd' is not one of"):
        normal_post.interval(0.95, kind="hpd")
    with pytest.raises(ValueError, match=r"low \(1.1\) must be below high \(0.9\)"):
        normal_post.prob_in_rope(1.1, 0.9)
    with pytest.raises(ValueError, match="k .number needed to treat. must be positive"):
        normal_post.prob_nnt_at_most(0, baseline_risk=0.2)


def test_malformed_posteriors_are_rejected():
    mu = (("chain", "draw"), [[0.0, 1.0]])
    with pytest.raises(ValueError, match="posterior has no variable 'tau'"):
        DrawsPosterior(xr.Dataset({"mu": mu}), "OR")
    with pytest.raises(ValueError, match="'tau' must have dims \\(chain, draw\\)"):
        DrawsPosterior(xr.Dataset({"mu": mu, "tau": ("draw", [0.1, 0.2])}), "OR")
    with pytest.raises(ValueError, match="measure 'log OR' is not one of"):
        DrawsPosterior(xr.Dataset({"mu": mu, "tau": mu}), "log OR")
    with pytest.raises(ValueError, match="has no variable 'theta'"):
        DrawsPosterior(xr.Dataset({"mu": mu, "tau": mu}), "OR").shrunken()


def test_accepts_a_datatree_with_a_posterior_group():
    ds = xr.Dataset({"mu": (("chain", "draw"), [[-0.1, 0.1]]), "tau": (("chain", "draw"), [[0.2, 0.3]])})
    tree = xr.DataTree.from_dict({"posterior": ds})
    assert DrawsPosterior(tree, "RR").prob_below(1.0) == 0.5


# -- ExactPosterior against draws simulated from the same model ----------------------------------------------------


@pytest.fixture(scope="module")
def hine_pair() -> tuple:
    """hine1989 log OR with HalfNormal(0.5) on tau and N(0, 1) on mu: exact posterior, and 200,000 SIR draws."""
    d = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "hine1989.csv")
    a, n1, c, n2 = (d[col].to_numpy(float) for col in ("e_t", "n_t", "e_c", "n_c"))
    y = np.log(a * (n2 - c) / ((n1 - a) * c))
    v = 1 / a + 1 / (n1 - a) + 1 / c + 1 / (n2 - c)
    exact = exact_normal_normal(
        y, v, tau_prior("halfnormal_0.5"), effect_prior("weakly_informative"), study=list(d.study), measure="OR"
    )
    rng = np.random.default_rng(2024)
    m = 2_000_000
    tau = np.abs(rng.normal(0.0, 0.5, m))
    mu = rng.normal(0.0, 1.0, m)
    sd = np.sqrt(v[None, :] + tau[:, None] ** 2)
    logw = stats.norm.logpdf(y[None, :], mu[:, None], sd).sum(axis=1)
    w = np.exp(logw - logw.max())
    idx = rng.choice(m, size=N, p=w / w.sum())
    mu, tau = mu[idx], tau[idx]
    # theta_i | mu, tau, y_i is normal with precision 1/v_i + 1/tau^2 (textbook conjugacy)
    prec = 1 / v[None, :] + 1 / tau[:, None] ** 2
    theta = rng.normal((y[None, :] / v[None, :] + mu[:, None] / tau[:, None] ** 2) / prec, 1 / np.sqrt(prec))
    draws = DrawsPosterior(_dataset(mu=mu, tau=tau, theta=theta), "OR", seed=1)
    return exact, draws


def test_exact_and_draws_posteriors_agree(hine_pair):
    exact, draws = hine_pair
    # Monte Carlo tolerances: the resampled draws have an effective size of roughly 10^5, so probabilities carry an
    # MC SE of about 0.0015 and the log-scale quantiles of mu about 0.002-0.005.
    for t in (1.0, 1.5, 2.0):
        assert exact.prob_below(t) == pytest.approx(draws.prob_below(t), abs=0.008)
        assert exact.prob_new_below(t) == pytest.approx(draws.prob_new_below(t), abs=0.008)
    assert exact.prob_tau_above(0.5) == pytest.approx(draws.prob_tau_above(0.5), abs=0.008)
    assert exact.prob_in_rope() == pytest.approx(draws.prob_in_rope(), abs=0.008)
    assert exact.prob_arr_above(0.02, 0.1) == pytest.approx(draws.prob_arr_above(0.02, 0.1), abs=0.008)
    assert exact.prob_nnt_at_most(50, 0.1) == pytest.approx(draws.prob_nnt_at_most(50, 0.1), abs=0.008)
    for kind in ("eti", "hdi"):
        e, d = exact.interval(0.95, kind), draws.interval(0.95, kind)
        assert (e.prob, e.kind) == (d.prob, d.kind) == (0.95, kind)
        assert np.log([e.low, e.high]) == pytest.approx(np.log([d.low, d.high]), abs=0.02)
    assert math.log(exact.median()) == pytest.approx(math.log(draws.median()), abs=0.01)
    assert exact.mean() == pytest.approx(draws.mean(), rel=0.01)
    assert exact.log_sd() == pytest.approx(draws.log_sd(), rel=0.01)
    assert np.log(exact.predictive_interval().low) == pytest.approx(np.log(draws.predictive_interval().low), abs=0.03)
    assert np.log(exact.predictive_interval().high) == pytest.approx(np.log(draws.predictive_interval().high), abs=0.03)
    assert exact.tau_median() == pytest.approx(draws.tau_median(), abs=0.01)
    assert exact.tau_interval().high == pytest.approx(draws.tau_interval().high, abs=0.02)
    np.testing.assert_allclose(np.log(exact.shrunken()["median"]), np.log(draws.shrunken()["median"]), atol=0.01)
    np.testing.assert_allclose(np.log(exact.shrunken()["high"]), np.log(draws.shrunken()["high"]), atol=0.03)


def test_exact_arr_draws_are_seeded_and_match_the_analytic_probability(hine_pair):
    exact, _ = hine_pair
    arr = exact.arr(0.1)
    assert arr.shape == (200_000,)
    np.testing.assert_array_equal(arr, exact.arr(0.1))
    p = exact.prob_arr_above(0.02, baseline_risk=0.1)
    assert np.mean(arr > 0.02) == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / arr.size))
