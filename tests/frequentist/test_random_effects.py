"""Inverse-variance pooling: closed forms (metafor agreement is in test_bcg/test_hine1989/test_normand1999)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from models.effects import EffectTable
from models.frequentist import rma

Y = np.array([0.1, 0.9, -0.4, 0.6, 1.3])
V_EQUAL = np.full(5, 0.05)


def _effects(yi: np.ndarray, vi: np.ndarray, measure: str = "MD") -> EffectTable:
    k = len(yi)
    return EffectTable(tuple(f"s{i}" for i in range(k)), yi, vi, measure, "none", np.zeros(k, dtype=bool))


def test_fixed_effect_is_weighted_mean() -> None:
    vi = np.array([0.1, 0.2, 0.05, 0.4, 0.3])
    r = rma(_effects(Y, vi), "EE")
    w = 1 / vi
    assert r.estimate == pytest.approx(np.sum(w * Y) / np.sum(w), rel=1e-12)
    assert r.se == pytest.approx(1 / math.sqrt(np.sum(w)), rel=1e-12)
    assert (r.tau2, r.pi_low, r.ci_method) == (0.0, None, "wald")


@pytest.mark.parametrize(("method", "tol"), [("DL", 1e-12), ("REML", 1e-5), ("PM", 1.3e-4)])
def test_equal_variances_give_sample_variance_minus_v(method: str, tol: float) -> None:
    """With equal vi = v, DL, REML and PM all solve to tau2 = s^2 - v (s^2 the sample variance); REML and PM
    only within their stopping tolerances (Fisher-scoring change 1e-5, uniroot tol eps^0.25)."""
    r = rma(_effects(Y, V_EQUAL), method)
    assert r.tau2 == pytest.approx(np.var(Y, ddof=1) - 0.05, abs=tol)
    assert r.estimate == pytest.approx(Y.mean(), rel=1e-12)


def test_hksj_with_equal_weights_is_the_t_interval() -> None:
    """Equal weights: the HKSJ interval is the one-sample t interval mean +/- t(k-1) s / sqrt(k)."""
    r = rma(_effects(Y, V_EQUAL), "REML", hksj=True)
    half = stats.t.isf(0.025, 4) * np.std(Y, ddof=1) / math.sqrt(5)
    assert (r.ci_low, r.ci_high) == (pytest.approx(Y.mean() - half), pytest.approx(Y.mean() + half))
    assert r.p == pytest.approx(2 * stats.t.sf(abs(Y.mean()) / (np.std(Y, ddof=1) / math.sqrt(5)), 4))
    assert r.ci_method == "hksj"


def test_dl_two_studies_closed_form() -> None:
    y, v = np.array([0.0, 1.0]), np.array([0.1, 0.3])
    w = 1 / v
    q = 1.0 / 0.4
    expected = (q - 1) / (w.sum() - (w**2).sum() / w.sum())
    assert rma(_effects(y, v), "DL").tau2 == pytest.approx(expected, rel=1e-12)


def test_single_study() -> None:
    r = rma(_effects(np.array([0.3]), np.array([0.04])), "REML", hksj=True)
    assert (r.estimate, r.tau2, r.q, r.q_df, r.q_p, r.k) == (0.3, 0.0, 0.0, 0, 1.0, 1)
    assert math.isnan(r.ci_low) and math.isnan(r.ci_high)


def test_homogeneous_data_give_zero_tau2() -> None:
    """Q < k - 1: DL, REML and PM all truncate at 0."""
    y, v = np.array([0.1, 0.12, 0.09, 0.11]), np.full(4, 0.2)
    assert {rma(_effects(y, v), m).tau2 for m in ("DL", "REML", "PM")} == {0.0}


def test_bad_arguments_are_named() -> None:
    e = _effects(Y, V_EQUAL)
    with pytest.raises(ValueError, match="method must be one of"):
        rma(e, "HS")
    with pytest.raises(ValueError, match="hksj=True is for random-effects"):
        rma(e, "EE", hksj=True)
    with pytest.raises(ValueError, match="level must be between 0 and 1"):
        rma(e, "DL", level=95)
    with pytest.raises(TypeError, match="EffectTable"):
        rma(Y, "DL")
