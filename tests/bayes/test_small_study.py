"""PET/PEESE small-study adjustment in the binomial-normal model.

Fast tests: the covariate (closed form: SE of the log OR = sqrt(1/a + 1/b + 1/c + 1/d), 0.5 added to every cell of
a zero-cell study, as metafor ``escalc(to="only0")``), that it reaches the model uncentred, and the probability
table (closed form: P(OR < t) = Phi((log t - m) / s) for normal log-OR draws). They inject a recording fitter
instead of sampling. The slow test samples: on data simulated with a known small-study effect, PET recovers the
effect of an infinitely large study where the unadjusted model does not (simulation truth as the reference).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from models.bayes.binomial_normal import binomial_normal_data
from models.bayes.posterior import DrawsPosterior
from models.bayes.sampling import pad_covariates
from models.bayes.small_study import (
    SLOPE_SD_DEFAULT,
    adjustment_table,
    fit_small_study,
    small_study_comparison,
    small_study_covariate,
)
from models.priors import effect_prior, tau_prior
from models.tables import BinaryTable

TP = tau_prior("turner2015_mortality_pharma")
EP = effect_prior("weakly_informative")
TABLE = BinaryTable(
    ("shu2020", "shi2021", "lanzoni2021", "dilogo2021", "monsel2022"),
    [0, 0, 2, 10, 5],
    [12, 65, 12, 20, 21],
    [3, 0, 7, 16, 4],
    [29, 35, 12, 20, 24],
)


def _normal_draws(mean: float, sd: float, n: int = 20000) -> np.ndarray:
    """Stratified normal quantiles: the share below any value equals the normal CDF within 1/n."""
    return stats.norm.ppf((np.arange(n) + 0.5) / n, loc=mean, scale=sd)


class _FakeFit:
    """What a Fit offers the small-study layer: ``posterior()`` and ``idata["posterior"]`` (mu, tau, beta)."""

    def __init__(self, mu_mean: float, covariates: pd.DataFrame | None) -> None:
        mu = _normal_draws(mu_mean, 0.3, 2000).reshape(1, -1)
        ds = xr.Dataset({"mu": (("chain", "draw"), mu), "tau": (("chain", "draw"), np.full_like(mu, 0.1))})
        if covariates is not None:
            beta = _normal_draws(-0.8, 0.4, 2000).reshape(1, -1, 1)
            coords = {"covariate": list(covariates.columns)}
            ds["beta"] = xr.DataArray(beta, dims=("chain", "draw", "covariate"), coords=coords)
        self.idata = {"posterior": ds}

    def posterior(self, seed: int = 0) -> DrawsPosterior:
        return DrawsPosterior(self.idata["posterior"], "OR", seed=seed)


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, table, tau_prior, effect_prior, *, covariates=None, seed=0, **kwargs):
        self.calls.append({"table": table, "covariates": covariates, "seed": seed, **kwargs})
        return _FakeFit(-0.2 if covariates is not None else -0.5, covariates)


def test_covariate_is_the_corrected_se_of_the_log_or() -> None:
    cov = small_study_covariate(TABLE, "pet")
    assert cov.excluded == ("shi2021",) and cov.corrected == ("shu2020",)
    assert cov.table.study == ("shu2020", "lanzoni2021", "dilogo2021", "monsel2022")
    expected = {
        "shu2020": math.sqrt(1 / 0.5 + 1 / 12.5 + 1 / 3.5 + 1 / 26.5),
        "lanzoni2021": math.sqrt(1 / 2 + 1 / 10 + 1 / 7 + 1 / 5),
        "dilogo2021": math.sqrt(1 / 10 + 1 / 10 + 1 / 16 + 1 / 4),
        "monsel2022": math.sqrt(1 / 5 + 1 / 16 + 1 / 4 + 1 / 20),
    }
    assert cov.frame["se"].to_dict() == pytest.approx(expected, rel=1e-12)
    peese = small_study_covariate(TABLE, "peese")
    assert peese.frame["se2"].to_numpy() == pytest.approx(np.array(list(expected.values())) ** 2, rel=1e-12)


def test_double_zero_kept_with_corrected_se_when_asked() -> None:
    cov = small_study_covariate(TABLE, "pet", double_zero="corrected")
    assert cov.excluded == () and cov.table.k == 5
    assert cov.frame.loc["shi2021", "se"] == pytest.approx(math.sqrt(1 / 0.5 + 1 / 65.5 + 1 / 0.5 + 1 / 35.5))


def test_covariate_reaches_the_model_uncentred() -> None:
    """The model's x column is the raw SE: mu is then the log OR at SE = 0 (a centred x would have mean 0)."""
    cov = small_study_covariate(TABLE, "pet")
    data = binomial_normal_data(
        cov.table, TP, EP, covariates=pad_covariates(cov.frame, cov.table.study), n_slots=16, beta_sd=1.0
    )
    np.testing.assert_array_equal(data["x"][: cov.table.k, 0], cov.frame["se"].to_numpy())
    assert data["x"][: cov.table.k, 0].mean() > 0.5
    assert float(data["beta_sd"]) == 1.0


def test_fit_passes_covariate_prior_and_seed() -> None:
    rec = _Recorder()
    fit = fit_small_study(TABLE, TP, EP, kind="peese", seed=7, fitter=rec, draws=100)
    (call,) = rec.calls
    assert call["table"].study == ("shu2020", "lanzoni2021", "dilogo2021", "monsel2022")
    assert list(call["covariates"].columns) == ["se2"]
    assert call["beta_sd"] == SLOPE_SD_DEFAULT == 1.0 and call["seed"] == 7 and call["draws"] == 100
    s = fit.slope_summary()
    assert s["median"] == pytest.approx(-0.8, abs=1e-3)
    assert s["p_below_0"] == pytest.approx(stats.norm.cdf(0.8 / 0.4), abs=1e-3)
    assert fit.posterior().prob_below(1.0) == pytest.approx(stats.norm.cdf(0.2 / 0.3), abs=1e-3)


def test_comparison_fits_the_same_studies_and_tabulates_probabilities() -> None:
    """P(OR < 1) and P(OR < 0.8) match the normal CDF of the (stratified) log-OR draws."""
    rec = _Recorder()
    comp = small_study_comparison(TABLE, TP, EP, seed=3, fitter=rec)
    assert [c["table"].study for c in rec.calls] == [("shu2020", "lanzoni2021", "dilogo2021", "monsel2022")] * 3
    assert [c["covariates"] is None for c in rec.calls] == [True, False, False]
    table = comp.table()
    assert list(table.index) == ["unadjusted", "PET", "PEESE"]
    for name, m in (("unadjusted", -0.5), ("PET", -0.2)):
        assert table.loc[name, "p_below_1"] == pytest.approx(stats.norm.cdf(-m / 0.3), abs=1e-3)
        assert table.loc[name, "p_below_0.8"] == pytest.approx(stats.norm.cdf((math.log(0.8) - m) / 0.3), abs=1e-3)
        assert table.loc[name, "median"] == pytest.approx(math.exp(m), rel=1e-3)
    assert np.isnan(table.loc["unadjusted", "slope_median"])
    assert table.loc["PET", "slope_median"] == pytest.approx(-0.8, abs=1e-3)


def test_adjustment_table_thresholds() -> None:
    post = _FakeFit(-0.3, None).posterior()
    frame = adjustment_table({"x": post}, thresholds=(0.5,))
    assert list(frame.columns) == ["median", "low", "high", "p_below_0.5"]
    assert frame.loc["x", "p_below_0.5"] == pytest.approx(stats.norm.cdf((math.log(0.5) + 0.3) / 0.3), abs=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "egger"}, "kind must be one of pet, peese; got 'egger'"),
        ({"double_zero": "keep"}, "double_zero must be one of drop, corrected; got 'keep'"),
        ({"slope_sd": 0.0}, "slope_sd must be positive and finite; got 0.0"),
    ],
)
def test_bad_arguments(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        fit_small_study(TABLE, TP, EP, fitter=_Recorder(), **kwargs)


def test_needs_three_studies() -> None:
    with pytest.raises(ValueError, match="at least 3 studies; got k = 2"):
        fit_small_study(TABLE.subset(["shi2021", "shu2020", "dilogo2021"]), TP, EP, fitter=_Recorder())


def _simulated(seed: int = 11, k: int = 30, mu: float = 0.0, beta: float = -1.5) -> BinaryTable:
    """Arm counts whose true log OR is mu + beta * (expected SE): small trials show spurious benefit."""
    rng = np.random.default_rng(seed)
    n = np.round(np.exp(rng.uniform(np.log(15), np.log(1500), k))).astype(int)
    p0 = 0.3
    se_expected = np.sqrt(2 / (n * p0 * (1 - p0)))
    theta = mu + beta * se_expected + 0.05 * rng.standard_normal(k)
    p1 = 1 / (1 + np.exp(-(np.log(p0 / (1 - p0)) + theta)))
    e_t, e_c = rng.binomial(n, p1), rng.binomial(n, p0)
    return BinaryTable(tuple(f"s{i}" for i in range(k)), e_t, n, e_c, n)


@pytest.mark.slow
def test_pet_recovers_the_large_study_effect() -> None:
    """Truth: OR = 1 at SE = 0, slope -1.5. Unadjusted model: spurious benefit; PET: OR near 1, slope < 0."""
    comp = small_study_comparison(_simulated(), TP, EP, kinds=("pet",), seed=1)
    assert comp.unadjusted.diagnostics.passed and comp.adjusted["pet"].fit.diagnostics.passed
    table = comp.table()
    assert table.loc["unadjusted", "p_below_1"] > 0.95
    ci = comp.adjusted["pet"].posterior().interval(0.95)
    assert ci.low < 1.0 < ci.high
    assert table.loc["PET", "median"] > table.loc["unadjusted", "median"] + 0.1
    assert table.loc["PET", "slope_high"] < 0
