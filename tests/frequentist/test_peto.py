"""Peto's one-step odds ratio: closed forms (metafor agreement is in test_bcg.py and test_hine1989.py)."""

from __future__ import annotations

import math

import pytest

from models.frequentist import peto
from models.tables import BinaryTable


def test_single_table_is_o_minus_e_over_v() -> None:
    """Yusuf et al. 1985: log OR = (O - E) / V, SE = 1/sqrt(V), hypergeometric V."""
    a, n1, c, n2 = 7, 20, 3, 25
    n, events = n1 + n2, a + c
    e = events * n1 / n
    v = events * (n - events) * n1 * n2 / (n**2 * (n - 1))
    r = peto(BinaryTable(("s",), [a], [n1], [c], [n2]))
    assert r.estimate == pytest.approx((a - e) / v, rel=1e-12)
    assert r.se == pytest.approx(1 / math.sqrt(v), rel=1e-12)
    assert (r.method, r.measure, r.k, r.q) == ("Peto", "OR", 1, 0.0)


def test_double_zero_tables_add_nothing() -> None:
    """A table without events has V = 0 and O - E = 0: same estimate, excluded from k and Q's df."""
    base = BinaryTable(("x", "y"), [7, 2], [20, 30], [3, 6], [25, 30])
    extra = BinaryTable(("x", "y", "z"), [7, 2, 0], [20, 30, 15], [3, 6, 0], [25, 30, 15])
    assert peto(extra).estimate == pytest.approx(peto(base).estimate, rel=1e-12)
    assert (peto(extra).k, peto(extra).q_df) == (2, 1)


def test_no_information_raises() -> None:
    with pytest.raises(ValueError, match="double-zero"):
        peto(BinaryTable(("x",), [0], [10], [0], [10]))
