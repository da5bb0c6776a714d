"""Cochran's Q and I^2: closed forms (Higgins & Thompson 2002)."""

from __future__ import annotations

import numpy as np
import pytest

from models.frequentist import cochran_q, i2_from_q, i2_from_tau2


def test_q_two_studies_closed_form() -> None:
    """For two studies Q = (y1 - y2)^2 / (v1 + v2)."""
    q, df, p = cochran_q(np.array([0.2, 1.0]), np.array([0.04, 0.12]))
    assert q == pytest.approx(0.8**2 / 0.16, rel=1e-12)
    assert df == 1
    assert p == pytest.approx(0.0455002638963584, rel=1e-9)  # chi2(1) tail at 4 = 2 * Phi(-2)


def test_identical_effects_give_zero_q_and_i2() -> None:
    q, df, p = cochran_q(np.full(4, 0.3), np.array([0.1, 0.2, 0.3, 0.4]))
    assert (q, df) == (pytest.approx(0.0, abs=1e-15), 3)
    assert i2_from_q(q, df) == 0.0


def test_i2_definitions() -> None:
    assert i2_from_q(20.0, 4) == pytest.approx(80.0)
    assert i2_from_q(2.0, 4) == 0.0
    # equal variances v: typical variance is v, so I2 = tau2 / (v + tau2)
    assert i2_from_tau2(0.3, np.full(5, 0.1)) == pytest.approx(75.0)
