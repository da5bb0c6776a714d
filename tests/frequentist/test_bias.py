"""Small-study-effect tests against R (tests/reference/make_bias_reference.R) and closed forms.

Reference values: ``tests/reference/<name>.bias.metafor.json``, written by ``make_bias_reference.R`` with R 4.2 and
metafor 3.8-1, following R meta's ``metabias`` code path (meta itself calls ``metafor::regtest(..., model="lm")``):

* ``Peters``   = ``regtest(rma.uni(yi, sei = sqrt(1/E + 1/F), ni = 1/N), predictor="ni", model="lm")``
  (meta::metabias(method.bias="Peters")); ``Peters_ninv`` is the same through metafor's ``predictor="ninv"``;
* ``Harbord``  = ``regtest(rma.uni(Z/V, sei = 1/sqrt(V)), predictor="sei", model="lm")``
  (meta::metabias(method.bias="Harbord"));
* ``Egger_lm`` = ``regtest(rma.uni(yi, vi), model="lm")`` (meta::metabias(method.bias="Egger"));
* ``Egger_EE`` = ``regtest(rma(yi, vi, method="EE"))`` (metafor's default; models.frequentist.egger).

yi from ``escalc("OR", to="only0", add=0.5, drop00=TRUE)``. Tolerance 1e-6 relative (the brief's rule for these
regressions; the JSON holds 12 significant digits).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import TOLERANCE

from models.effects import EffectTable, escalc
from models.frequentist.bias import egger, egger_lm, harbord, peters
from models.frequentist.result import RegressionBiasResult
from models.tables import BinaryTable

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
REL_TOL = TOLERANCE["metafor"]
DATASETS = ("bcg", "hine1989", "msc_mortality")
FIELDS = {
    "intercept": "intercept",
    "intercept_se": "intercept_se",
    "slope": "slope",
    "slope_se": "slope_se",
    "t": "statistic",
    "df": "df",
    "p": "p",
    "sigma": "residual_sd",
}


def _effects(yi: list[float], vi: list[float]) -> EffectTable:
    k = len(yi)
    return EffectTable(tuple(f"s{i}" for i in range(k)), yi, vi, "OR", "none", np.zeros(k, dtype=bool))


def _reference(name: str) -> dict:
    return json.loads((REFERENCE_DIR / f"{name}.bias.metafor.json").read_text())


def _table(name: str) -> BinaryTable:
    frame = pd.read_csv(REFERENCE_DIR / f"{name}.csv", dtype={"study": str})
    return BinaryTable.from_frame(frame)


def _assert_matches(result: RegressionBiasResult, expected: dict) -> None:
    for key, attr in FIELDS.items():
        assert getattr(result, attr) == pytest.approx(expected[key], rel=REL_TOL), key


# -- Egger ---------------------------------------------------------------------------------------------------------


def test_slope_is_egger_intercept() -> None:
    """Egger 1997: OLS of yi/sei on 1/sei; its intercept is the weighted-regression slope on sei."""
    yi = np.array([0.9, 0.4, 0.1, 0.6, -0.2, 0.3])
    vi = np.array([0.30, 0.10, 0.02, 0.20, 0.05, 0.08])
    sei = np.sqrt(vi)
    precision_slope, egger_intercept = np.polyfit(1 / sei, yi / sei, 1)
    r = egger(_effects(list(yi), list(vi)))
    assert r.slope == pytest.approx(egger_intercept, rel=1e-10)
    assert r.intercept == pytest.approx(precision_slope, rel=1e-10)
    assert r.z == pytest.approx(r.slope / r.slope_se)


def test_needs_three_studies() -> None:
    with pytest.raises(ValueError, match="at least 3 studies"):
        egger(_effects([0.1, 0.2], [0.1, 0.1]))


@pytest.mark.parametrize("name", DATASETS)
def test_egger_matches_metafor(name: str) -> None:
    """egger = regtest(rma(yi, vi, method="EE")); egger_lm = regtest(rma(yi, vi), model="lm") = meta's Egger."""
    ref = _reference(name)["results"]
    effects = escalc(_table(name), "OR", correction="only0", add=0.5, drop00=True)
    ee = egger(effects)
    for key in ("z", "p", "slope", "slope_se", "intercept", "intercept_se"):
        assert getattr(ee, key) == pytest.approx(ref["Egger_EE"][key], rel=REL_TOL), key
    lm = egger_lm(effects)
    _assert_matches(lm, ref["Egger_lm"])
    assert lm.method == "Egger (lm)"


# -- Peters --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATASETS)
def test_peters_matches_meta_code_path(name: str) -> None:
    """meta::metabias(method.bias="Peters") through metafor::regtest (both predictor forms agree in R)."""
    ref = _reference(name)
    r = peters(_table(name))
    _assert_matches(r, ref["results"]["Peters"])
    _assert_matches(r, ref["results"]["Peters_ninv"])
    assert r.k == ref["results"]["k"]
    assert list(r.dropped) == ref["dropped_double_zero"]


def test_peters_closed_form_without_zero_cells() -> None:
    """Peters 2006: weighted regression of log OR on 1/N, weights 1/(1/E + 1/F); recomputed with numpy.lstsq."""
    table = _table("bcg")
    r = peters(table)
    a, b = table.e_t.astype(float), (table.n_t - table.e_t).astype(float)
    c, d = table.e_c.astype(float), (table.n_c - table.e_c).astype(float)
    y = np.log(a * d / (b * c))
    x = 1 / (a + b + c + d)
    w = 1 / (1 / (a + c) + 1 / (b + d))
    sw = np.sqrt(w)
    beta, *_ = np.linalg.lstsq(np.column_stack([sw, sw * x]), sw * y, rcond=None)
    assert (r.intercept, r.slope) == pytest.approx(tuple(beta), rel=1e-10)
    assert not r.underpowered and r.k == 13 and r.df == 11
    assert r.corrected == ()


def test_peters_zero_cells_as_meta() -> None:
    """MSC mortality: 3 double-zero studies dropped, 3 zero-cell studies with 0.5 added (to their log OR only)."""
    r = peters(_table("msc_mortality"))
    assert r.dropped == ("shi2021", "karyana2022", "meng2020")
    assert set(r.corrected) == {"shu2020", "zhu2021", "leng2020"}
    assert r.k == 12 and not r.underpowered


# -- Harbord -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATASETS)
def test_harbord_matches_meta_code_path(name: str) -> None:
    """meta::metabias(method.bias="Harbord") through metafor::regtest."""
    ref = _reference(name)
    r = harbord(_table(name))
    _assert_matches(r, ref["results"]["Harbord"])
    assert r.k == ref["results"]["k"]
    assert r.method == "Harbord"


def test_harbord_is_intercept_of_score_regression() -> None:
    """Harbord 2006 p. 3446: OLS of Z/sqrt(V) on sqrt(V); its intercept is the bias and its slope the log OR.

    Z and V for a single 2x2 table are checked against the hypergeometric mean and variance of scipy.
    """
    from scipy import stats

    table = _table("hine1989")
    r = harbord(table)
    n1, n2 = table.n_t, table.n_c
    m1 = table.e_t + table.e_c
    hyper = [stats.hypergeom(int(a + b), int(m), int(t)) for a, b, m, t in zip(n1, n2, m1, n1, strict=True)]
    z = table.e_t - np.array([h.mean() for h in hyper])
    v = np.array([h.var() for h in hyper])
    slope, intercept = np.polyfit(np.sqrt(v), z / np.sqrt(v), 1)
    assert r.slope == pytest.approx(intercept, rel=1e-10)
    assert r.intercept == pytest.approx(slope, rel=1e-10)


# -- rules shared by the binary tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("test", [peters, harbord])
def test_needs_three_estimable_studies(test) -> None:
    table = BinaryTable(("a", "b", "c"), [1, 0, 2], [10, 10, 20], [2, 0, 3], [10, 10, 20])
    with pytest.raises(ValueError, match="at least 3 studies with an estimable log OR; got k = 2"):
        test(table)


@pytest.mark.parametrize("test", [peters, harbord])
def test_underpowered_flag_follows_k(test) -> None:
    """k = 6 runs (flagged underpowered); k = 13 is not flagged (meta's k.min = 10)."""
    assert test(_table("hine1989")).underpowered
    assert not test(_table("bcg")).underpowered


def test_peters_rejects_equal_sample_sizes() -> None:
    table = BinaryTable(("a", "b", "c"), [1, 2, 3], [10, 10, 10], [2, 3, 5], [10, 10, 10])
    with pytest.raises(ValueError, match="Peters: the predictor is the same in every study"):
        peters(table)


@pytest.mark.parametrize("test", [peters, harbord])
def test_needs_a_binary_table(test) -> None:
    with pytest.raises(TypeError, match="table must be a BinaryTable; got EffectTable"):
        test(_effects([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]))


def test_to_dict_is_json_ready() -> None:
    record = peters(_table("msc_mortality")).to_dict()
    assert json.loads(json.dumps(record))["dropped"] == ["shi2021", "karyana2022", "meng2020"]
    assert record["method"] == "Peters"
