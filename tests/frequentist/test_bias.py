"""Egger's test: equals the intercept of Egger et al. (1997)'s regression (metafor values in test_bcg.py)."""

from __future__ import annotations

import numpy as np
import pytest

from models.effects import EffectTable
from models.frequentist import egger


def _effects(yi: list[float], vi: list[float]) -> EffectTable:
    k = len(yi)
    return EffectTable(tuple(f"s{i}" for i in range(k)), yi, vi, "OR", "none", np.zeros(k, dtype=bool))


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
