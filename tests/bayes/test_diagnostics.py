"""Diagnostics gates on synthetic draws with known behaviour.

Sources: Vehtari et al. 2021 (Bayesian Analysis 16:667) -- for independent draws R-hat is 1 up to O(1/sqrt(n)) and
the ESS is about the number of draws; chains centred at different values give R-hat well above 1.01; for an AR(1)
chain with coefficient phi the ESS is n (1 - phi) / (1 + phi) (closed form), here far below the 1000 gate.
"""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from models.bayes.diagnostics import GATES, check_gates, diagnose, diagnostics_table

CHAINS, DRAWS = 4, 2000


def _posterior(**arrays: np.ndarray) -> xr.Dataset:
    data = {}
    for name, a in arrays.items():
        dims = ("chain", "draw") if a.ndim == 2 else ("chain", "draw", "study")
        data[name] = (dims, a)
    ds = xr.Dataset(data)
    if "study" in ds.dims:
        ds = ds.assign_coords(study=[f"s{i}" for i in range(ds.sizes["study"])])
    return ds


def _stats(divergences: int = 0) -> xr.Dataset:
    div = np.zeros((CHAINS, DRAWS), dtype=bool)
    div.flat[:divergences] = True
    return xr.Dataset({"diverging": (("chain", "draw"), div)})


def _ar1(rng: np.random.Generator, phi: float) -> np.ndarray:
    out = np.empty((CHAINS, DRAWS))
    out[:, 0] = rng.standard_normal(CHAINS)
    for t in range(1, DRAWS):
        out[:, t] = phi * out[:, t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(CHAINS)
    return out


def test_independent_normal_draws_pass():
    rng = np.random.default_rng(1)
    post = _posterior(
        mu=rng.standard_normal((CHAINS, DRAWS)),
        tau=np.abs(rng.standard_normal((CHAINS, DRAWS))),
        theta=rng.standard_normal((CHAINS, DRAWS, 3)),
    )
    diag = diagnose(post, _stats(0))
    assert diag.passed and diag.failures == ()
    assert list(diag.table.index) == ["mu", "tau", "theta[s0]", "theta[s1]", "theta[s2]"]
    assert (diag.table["rhat"] < 1.01).all()
    # ESS of independent draws is about CHAINS * DRAWS = 8000
    assert diag.table["ess_bulk"].between(6000, 10000).all()


def test_chains_with_shifted_means_fail_rhat():
    rng = np.random.default_rng(2)
    mu = rng.standard_normal((CHAINS, DRAWS)) + np.array([0.0, 0.0, 0.0, 1.0])[:, None]
    diag = diagnose(_posterior(mu=mu, tau=np.abs(rng.standard_normal((CHAINS, DRAWS)))), _stats(0))
    assert not diag.passed
    assert any(f.startswith("R-hat of mu") for f in diag.failures)
    assert not any("of tau" in f for f in diag.failures)


def test_autocorrelated_draws_fail_ess():
    # AR(1), phi = 0.95: ESS about 8000 * 0.05 / 1.95 = 205 < 1000
    rng = np.random.default_rng(3)
    diag = diagnose(_posterior(mu=_ar1(rng, 0.95)), _stats(0))
    assert 100 < diag.table.loc["mu", "ess_bulk"] < 400
    assert "bulk ESS of mu" in " ".join(diag.failures)
    assert "tail ESS of mu" in " ".join(diag.failures)


def test_divergences_fail_the_gate():
    rng = np.random.default_rng(4)
    diag = diagnose(_posterior(mu=rng.standard_normal((CHAINS, DRAWS))), _stats(3))
    assert diag.divergences == 3
    assert diag.failures == ("3 divergent transitions > 0",)
    assert "FAILED" in str(diag)


def test_constant_draws_fail_as_nan():
    diag = diagnose(_posterior(mu=np.ones((CHAINS, DRAWS))), None)
    assert diag.divergences == 0
    assert "R-hat of mu is nan > 1.01" in diag.failures


def test_custom_gates_and_unknown_gate():
    table = pd.DataFrame({"rhat": [1.02], "ess_bulk": [500.0], "ess_tail": [500.0]}, index=["mu"])
    assert check_gates(table, 0, {"rhat_max": 1.05, "ess_min": 400}) == ()
    assert len(check_gates(table, 0, GATES)) == 3
    with pytest.raises(KeyError, match="unknown gate"):
        check_gates(table, 0, {"rhat": 1.1})


def test_missing_variable_is_named():
    rng = np.random.default_rng(5)
    with pytest.raises(KeyError, match="no variable.*beta"):
        diagnostics_table(_posterior(mu=rng.standard_normal((CHAINS, DRAWS))), ["mu", "beta"])
