"""The densities' kernel estimate equals scipy.stats.gaussian_kde (the reference: its default, Scott's rule)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import gaussian_kde

from models.report.densities import _GaussianKDE


@pytest.mark.parametrize("n", [10, 333, 20_000])
def test_equals_scipys_gaussian_kde(n) -> None:
    draws = np.random.default_rng(n).lognormal(-1.0, 0.6, n)
    grid = np.linspace(-0.5, 2.0, 701)
    reference = gaussian_kde(draws)
    ours = _GaussianKDE(draws)
    assert ours.bandwidth == pytest.approx(float(np.sqrt(reference.covariance[0, 0])), rel=1e-12)
    np.testing.assert_allclose(ours(grid), reference(grid), rtol=1e-10, atol=1e-300)
