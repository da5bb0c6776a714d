"""Tests of the sampling front end: compile-once cache, padding removal, DataTree assembly, seeded real sampling.

Fast tests replace nutpie by independent normal draws laid out like nutpie's output (padded study slots, object-typed
divergence messages), so that they test the assembly without MCMC. References: scipy's binomial and normal log pmf /
pdf for the pointwise log-likelihood; Turner et al. 2015 (Stat Med 34:984, Table IV) for the median tau of the prior
(0.139, as tabulated in the shared priors notes); the exact quadrature posterior of models/bayes/exact.py (bayesmeta's
method, Röver 2020) for the normal-normal MCMC; the simulation truth for the recovery test.
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import special, stats

from models.bayes import sampling
from models.priors import EffectPrior, effect_prior, tau_prior
from models.tables import BinaryTable

TP = tau_prior("turner2015_mortality_pharma")
EP = effect_prior("weakly_informative")
# reconstructed Tang 2024 mortality set (MSC e/n vs control e/n)
MSC = BinaryTable.from_frame(
    pd.DataFrame(
        [
            ("shu2020", 0, 12, 3, 29),
            ("lanzoni2021", 2, 12, 7, 12),
            ("dilogo2021", 10, 20, 16, 20),
            ("zhu2021", 0, 29, 2, 29),
            ("monsel2022", 5, 21, 4, 24),
            ("rebelatto2022", 5, 11, 1, 6),
            ("bowdish2023", 42, 112, 47, 110),
            ("adas2021", 3, 10, 6, 10),
            ("xu2021", 2, 26, 6, 18),
        ],
        columns=["study", "e_t", "n_t", "e_c", "n_c"],
    )
)


@dataclass
class Effects:
    study: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    measure: str = "RR"


@pytest.fixture
def mocked(fake_sampler):
    """Fit functions with the suite's fake sampler injected; ``mocked.compiled`` lists the compile requests."""

    class Fits:
        compiled = fake_sampler.compiled

        @staticmethod
        def binomial(*args, **kwargs):
            return sampling.fit_binomial_normal(*args, sampler=fake_sampler, **kwargs)

        @staticmethod
        def normal(*args, **kwargs):
            return sampling.fit_normal_normal(*args, sampler=fake_sampler, **kwargs)

    return Fits


def test_binomial_fit_drops_padding_and_labels_studies(mocked):
    fit = mocked.binomial(MSC, TP, EP, seed=3, draws=200, label="tang2024")
    assert mocked.compiled == [("binomial_normal", 16, sampling.MIN_COVARIATES)]
    assert set(fit.idata.children) == {
        "posterior",
        "prior",
        "observed_data",
        "constant_data",
        "log_likelihood",
        "sample_stats",
    }
    for group in ("posterior", "prior", "observed_data", "constant_data", "log_likelihood"):
        ds = fit.idata[group]
        assert list(ds["study"].values) == list(MSC.study), group
        assert not any(str(d).endswith("_dim_0") for d in ds.dims), group
    assert float(fit.idata["posterior"]["z"].max()) < 99.0  # padded slots (z = 99) are gone
    assert "divergence_message" not in fit.idata["sample_stats"]
    assert fit.model == "binomial_normal" and fit.measure == "OR" and fit.label == "tang2024"
    assert fit.study == MSC.study
    assert fit.settings["seed"] == 3 and fit.settings["n_slots"] == 16
    np.testing.assert_array_equal(fit.idata["observed_data"]["e_t"], MSC.e_t)
    np.testing.assert_array_equal(fit.idata["constant_data"]["n_c"], MSC.n_c)


def test_binomial_log_likelihood_is_the_sum_of_the_arm_binomials(mocked):
    fit = mocked.binomial(MSC, TP, EP, draws=50)
    post = fit.idata["posterior"]
    alpha = post["alpha"].values[1, 7]
    theta = post["theta"].values[1, 7]
    expected = stats.binom.logpmf(MSC.e_t, MSC.n_t, special.expit(alpha + theta / 2)) + stats.binom.logpmf(
        MSC.e_c, MSC.n_c, special.expit(alpha - theta / 2)
    )
    ll = fit.idata["log_likelihood"]["events"]
    assert ll.dims == ("chain", "draw", "study")
    np.testing.assert_allclose(ll.values[1, 7], expected, rtol=1e-10)


def test_normal_fit_with_covariates_and_log_likelihood(mocked):
    eff = Effects(("a", "b", "c"), np.array([-0.3, 0.1, -0.8]), np.array([0.1, 0.2, 0.05]))
    cov = pd.DataFrame({"dose": [0.5, -1.0, 0.5]}, index=["a", "b", "c"])
    fit = mocked.normal(eff, TP, EP, covariates=cov, draws=50)
    assert mocked.compiled == [("normal_normal", sampling.MIN_SLOTS, sampling.MIN_COVARIATES)]
    assert fit.measure == "RR"
    assert list(fit.idata["posterior"]["covariate"].values) == ["dose"]
    np.testing.assert_array_equal(fit.idata["constant_data"]["x"].values[:, 0], [0.5, -1.0, 0.5])
    theta = fit.idata["posterior"]["theta"].values[0, 3]
    np.testing.assert_allclose(
        fit.idata["log_likelihood"]["y"].values[0, 3], stats.norm.logpdf(eff.yi, theta, np.sqrt(eff.vi)), rtol=1e-10
    )
    assert "beta[dose]" in fit.diagnostics.table.index


def test_prior_group_follows_the_prior_objects(mocked):
    fit = mocked.binomial(MSC, TP, EP, draws=50, prior_draws=20000)
    prior = fit.idata["prior"]
    assert prior["tau"].shape == (1, 20000)
    # Turner 2015 pharmacological mortality prior: median tau 0.139 (priors notes, from Table IV)
    assert float(prior["tau"].median()) == pytest.approx(0.139, abs=0.006)
    assert float(prior["mu"].std()) == pytest.approx(1.0, abs=0.03)
    theta = prior["mu"] + prior["tau"] * prior["z"]
    np.testing.assert_allclose(prior["theta"].values, theta.transpose(*prior["theta"].dims).values)


def test_same_structure_is_compiled_once(monkeypatch, fake_sampler):
    calls = []
    sampling.clear_cache()

    def fake_compile(model):
        calls.append(model)
        return object()

    import nutpie

    monkeypatch.setattr(nutpie, "compile_pymc_model", fake_compile)

    class NutpieCompileFakeSample(sampling.NutpieSampler):
        sample = staticmethod(fake_sampler.sample)

    sampler = NutpieCompileFakeSample()

    def table(k: int) -> BinaryTable:
        return BinaryTable(tuple(f"s{i}" for i in range(k)), [1] * k, [10] * k, [2] * k, [10] * k)

    sampling.fit_binomial_normal(MSC, TP, EP, draws=20, sampler=sampler)
    sampling.fit_binomial_normal(table(12), tau_prior("halfcauchy_1"), EffectPrior("x", "x", 0.1, 2.0, "t"), draws=20,
                                 sampler=sampler)
    sampling.fit_binomial_normal(MSC, TP, EP, draws=20, seed=5, sampler=sampler)
    assert len(calls) == 1  # 9 and 12 studies share the 16-slot structure; priors are data
    sampling.fit_binomial_normal(table(5), TP, EP, draws=20, sampler=sampler)
    assert len(calls) == 1  # 5 studies fit in the smallest (16-slot) structure too
    sampling.fit_binomial_normal(table(20), TP, EP, draws=20, sampler=sampler)
    assert len(calls) == 2
    m = sampling.MIN_COVARIATES
    assert sampling.compiled_structures() == (("binomial_normal", 16, m), ("binomial_normal", 32, m))
    sampling.clear_cache()
    assert sampling.compiled_structures() == ()


def test_data_hash_tracks_the_data_only(mocked):
    a = mocked.binomial(MSC, TP, EP, draws=20)
    b = mocked.binomial(MSC, tau_prior("halfnormal_0.5"), EP, draws=20, seed=9)
    changed = BinaryTable(MSC.study, MSC.e_t + np.eye(9, dtype=int)[0], MSC.n_t, MSC.e_c, MSC.n_c)
    c = mocked.binomial(changed, TP, EP, draws=20)
    assert a.data_hash == b.data_hash != c.data_hash


@pytest.mark.parametrize("k", [1, 8, 9, 16, 17, 40])
def test_slot_buckets(k):
    n = sampling.n_slots_for(k)
    assert n >= max(k, sampling.MIN_SLOTS) and n & (n - 1) == 0 and (n == sampling.MIN_SLOTS or n // 2 < k)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"draws": 0}, "draws must be an integer >= 1"),
        ({"chains": 1.5}, "chains must be an integer"),
        ({"target_accept": 1.0}, "target_accept must be strictly between 0 and 1"),
    ],
)
def test_bad_run_arguments(mocked, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mocked.binomial(MSC, TP, EP, **kwargs)


# -- slow: real sampling -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_msc_mortality_set_passes_the_gates():
    fit = sampling.fit_binomial_normal(MSC, TP, EP, seed=2024)
    assert fit.diagnostics.divergences == 0
    assert fit.diagnostics.passed, fit.diagnostics.failures
    assert {"mu", "tau", "baseline_risk", "rr"} <= set(fit.diagnostics.table.index)


@pytest.mark.slow
def test_same_seed_same_draws_in_process():
    a = sampling.fit_binomial_normal(MSC, TP, EP, seed=11, draws=500, tune=500)
    b = sampling.fit_binomial_normal(MSC, TP, EP, seed=11, draws=500, tune=500)
    c = sampling.fit_binomial_normal(MSC, TP, EP, seed=12, draws=500, tune=500)
    xr.testing.assert_equal(a.idata["posterior"].to_dataset(), b.idata["posterior"].to_dataset())
    assert not np.array_equal(a.idata["posterior"]["mu"].values, c.idata["posterior"]["mu"].values)


@pytest.mark.slow
def test_binomial_normal_recovers_simulated_mu_and_tau():
    # 30 trials of 300 per arm, control risk ~ 30%, true log-OR mu = -0.5 and tau = 0.3 (the simulation truth)
    rng = np.random.default_rng(20240)
    k, mu, tau = 30, -0.5, 0.3
    alpha = rng.normal(special.logit(0.3), 0.3, k)
    theta = rng.normal(mu, tau, k)
    n = np.full(k, 300)
    table = BinaryTable(
        tuple(f"sim{i}" for i in range(k)),
        rng.binomial(n, special.expit(alpha + theta)),
        n,
        rng.binomial(n, special.expit(alpha)),
        n,
    )
    fit = sampling.fit_binomial_normal(table, tau_prior("halfnormal_1"), effect_prior("vague"), seed=1)
    assert fit.diagnostics.passed, fit.diagnostics.failures
    post = fit.idata["posterior"]
    for name, truth in (("mu", mu), ("tau", tau)):
        lo, hi = np.quantile(post[name].values, [0.005, 0.995])
        assert lo < truth < hi, (name, lo, hi)
    assert abs(float(post["mu"].mean()) - mu) < 0.15


def _bcg_log_rr() -> Effects:
    # log RR and its variance 1/a - 1/n1 + 1/c - 1/n2 (no zero cells in the BCG trials)
    df = pd.read_csv("tests/reference/bcg.csv")
    yi = np.log(df.e_t / df.n_t) - np.log(df.e_c / df.n_c)
    vi = 1 / df.e_t - 1 / df.n_t + 1 / df.e_c - 1 / df.n_c
    return Effects(tuple(df.study), yi.to_numpy(), vi.to_numpy(), "RR")


@pytest.mark.slow
@pytest.mark.parametrize(
    "effects",
    [_bcg_log_rr(), Effects(("pooled",), np.array([-0.36]), np.array([0.15**2]), "RR")],
    ids=["bcg", "single_pooled_estimate"],
)
def test_normal_normal_matches_exact_quadrature(effects):
    from models.bayes.exact import exact_from_effects

    tp = tau_prior("halfnormal_0.5")
    fit = sampling.fit_normal_normal(effects, tp, EP, seed=4)
    assert fit.diagnostics.passed, fit.diagnostics.failures
    exact = exact_from_effects(effects, tp, EP)
    post = fit.idata["posterior"]
    mu = post["mu"].values.ravel()
    tau = post["tau"].values.ravel()
    table = fit.diagnostics.table
    # within 5 Monte Carlo standard errors (sd / sqrt(ESS))
    assert abs(mu.mean() - exact.log_mean()) < 5 * mu.std() / math.sqrt(table.loc["mu", "ess_bulk"])
    assert abs(tau.mean() - exact.tau_mean()) < 5 * tau.std() / math.sqrt(table.loc["tau", "ess_bulk"])
    p = exact.prob_below(1.0)
    assert abs(np.mean(mu < 0) - p) < 5 * math.sqrt(p * (1 - p) / table.loc["mu", "ess_bulk"]) + 1e-3


def test_plain_fits_and_meta_regressions_share_a_structure_and_padding_is_dropped(mocked):
    plain = mocked.binomial(MSC, TP, EP, draws=30)
    cov = pd.DataFrame({"critical": [1.0, 0, 1, 1, 0, 1, 0, 0, 1]}, index=list(MSC.study))
    reg = mocked.binomial(MSC, TP, EP, covariates=cov, draws=30)
    assert len(set(mocked.compiled)) == 1  # one compiled structure for both
    assert "beta" not in plain.idata["posterior"] and "covariate" not in plain.idata["posterior"].dims
    assert list(reg.idata["posterior"]["covariate"].values) == ["critical"]
    assert not any("pad" in str(i) for i in reg.diagnostics.table.index)
