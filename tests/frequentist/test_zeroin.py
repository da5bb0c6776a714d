"""The R-uniroot port: finds roots within its tolerance (closed-form roots)."""

from __future__ import annotations

import math

import pytest

from models.frequentist._zeroin import zeroin


@pytest.mark.parametrize(("tol", "maxerr"), [(1e-12, 1e-11), (1.22e-4, 1.22e-4)])
def test_root_of_quadratic(tol: float, maxerr: float) -> None:
    assert abs(zeroin(lambda x: x * x - 2, 0.0, 2.0, tol=tol) - math.sqrt(2)) <= maxerr


def test_endpoint_root_and_bad_bracket() -> None:
    assert zeroin(lambda x: x - 1, 1.0, 3.0) == 1.0
    with pytest.raises(ValueError, match="same sign"):
        zeroin(lambda x: x * x + 1, -1.0, 1.0)
