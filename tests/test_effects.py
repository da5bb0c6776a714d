"""Per-study effect sizes: closed forms (Borenstein et al. 2009, ch. 4-5) and metafor's continuity-correction rules.

The metafor agreement of MD/SMD (escalc yi, vi) is tested in tests/frequentist/test_normand1999.py; OR/RR/RD
effects enter every inverse-variance result checked in test_bcg.py and test_hine1989.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.effects import EffectError, EffectTable, escalc, escalc_continuous
from models.tables import BinaryTable, ContinuousTable

# study "z" has a zero cell (0/10 events in arm t); "dz" no events in either arm; "all" events in everyone.
TABLE = BinaryTable(("x", "z", "dz", "all"), [7, 0, 0, 5], [20, 10, 12, 5], [3, 4, 0, 6], [25, 10, 11, 6])


def test_closed_forms_without_zero_cells() -> None:
    a, b, c, d = 7, 13, 3, 22
    one = TABLE.subset(["x"])
    orr, rr, rd = (escalc(one, m, correction="none") for m in ("OR", "RR", "RD"))
    assert orr.yi[0] == pytest.approx(math.log(a * d / (b * c)), rel=1e-12)
    assert orr.vi[0] == pytest.approx(1 / a + 1 / b + 1 / c + 1 / d, rel=1e-12)
    assert rr.yi[0] == pytest.approx(math.log((a / 20) / (c / 25)), rel=1e-12)
    assert rr.vi[0] == pytest.approx(1 / a - 1 / 20 + 1 / c - 1 / 25, rel=1e-12)
    assert rd.yi[0] == pytest.approx(0.35 - 0.12, rel=1e-12)
    assert rd.vi[0] == pytest.approx(0.35 * 0.65 / 20 + 0.12 * 0.88 / 25, rel=1e-12)
    assert orr.sei[0] == pytest.approx(math.sqrt(orr.vi[0]))


def test_only0_corrects_zero_cell_studies_and_drops_double_zero() -> None:
    """metafor escalc(to="only0", add=1/2, drop00=TRUE): 0.5 to all cells of 'z'; 'dz' and 'all' dropped."""
    e = escalc(TABLE, "OR")
    assert e.study == ("x", "z")
    assert e.dropped == ("dz", "all")
    assert list(e.corrected) == [False, True]
    assert e.yi[1] == pytest.approx(math.log(0.5 * 6.5 / (10.5 * 4.5)), rel=1e-12)
    assert e.vi[1] == pytest.approx(1 / 0.5 + 1 / 10.5 + 1 / 4.5 + 1 / 6.5, rel=1e-12)
    assert e.yi[0] == pytest.approx(math.log(7 * 22 / (13 * 3)), rel=1e-12)
    assert (e.k, e.correction, e.measure) == (2, "only0", "OR")


def test_keeping_double_zero_studies() -> None:
    """drop00=False: a double-zero study gets 0.5 in each cell, log RR = log((0.5/13) / (0.5/12))."""
    e = escalc(TABLE, "RR", drop00=False)
    assert e.dropped == ()
    i = e.study.index("dz")
    assert e.yi[i] == pytest.approx(math.log((0.5 / 13) / (0.5 / 12)), rel=1e-12)
    assert e.corrected[i]


def test_all_corrects_every_study() -> None:
    e = escalc(TABLE.subset(["x"]), "OR", correction="all", add=0.5)
    assert e.corrected.all()
    assert e.yi[0] == pytest.approx(math.log(7.5 * 22.5 / (13.5 * 3.5)), rel=1e-12)


def test_no_correction_rejects_zero_cells_by_name() -> None:
    with pytest.raises(EffectError, match="study 'z': OR is not estimable with correction='none'"):
        escalc(TABLE, "OR", correction="none")
    rd = escalc(TABLE, "RD", correction="none")  # RD is estimable with a zero cell
    assert rd.yi[rd.study.index("z")] == pytest.approx(0 - 0.4)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(EffectError, match="measure must be one of"):
        escalc(TABLE, "MD")
    with pytest.raises(EffectError, match="correction must be one of"):
        escalc(TABLE, "OR", correction="some")
    with pytest.raises(EffectError, match="add must be positive"):
        escalc(TABLE, "OR", add=0)
    with pytest.raises(EffectError, match="every study is double-zero"):
        escalc(TABLE.subset(["dz"]), "OR")
    with pytest.raises(EffectError, match="needs a BinaryTable"):
        escalc(object(), "OR")


CONT = ContinuousTable(("a", "b"), [10, 20], [5.0, 7.0], [2.0, 3.0], [12, 18], [4.0, 7.5], [2.5, 2.0])


def test_mean_difference_closed_form() -> None:
    e = escalc_continuous(CONT, "MD")
    assert e.yi == pytest.approx([1.0, -0.5])
    assert e.vi == pytest.approx([4 / 10 + 6.25 / 12, 9 / 20 + 4 / 18])


def test_hedges_g_closed_form() -> None:
    """Hedges 1981: g = J d with J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)), m = n1 + n2 - 2 (here m = 20)."""
    e = escalc_continuous(CONT, "SMD")
    sp = math.sqrt((9 * 4 + 11 * 6.25) / 20)
    j = math.gamma(10) / (math.sqrt(10) * math.gamma(9.5))
    g = j * 1.0 / sp
    assert e.yi[0] == pytest.approx(g, rel=1e-12)
    assert e.vi[0] == pytest.approx(1 / 10 + 1 / 12 + g**2 / 44, rel=1e-12)
    with pytest.raises(EffectError, match="needs a ContinuousTable"):
        escalc_continuous(TABLE, "SMD")
    with pytest.raises(EffectError, match="measure must be one of"):
        escalc_continuous(CONT, "OR")


def test_from_estimate_ci() -> None:
    """SE = (log hi - log lo) / (2 * 1.959964): OR 2 with 95% CI exp(log 2 -/+ 1.959964 * 0.5) has SE 0.5."""
    z = 1.959963984540054
    e = EffectTable.from_estimate_ci(["p"], [2.0], [2 * math.exp(-z * 0.5)], [2 * math.exp(z * 0.5)], "OR")
    assert e.yi[0] == pytest.approx(math.log(2.0))
    assert e.vi[0] == pytest.approx(0.25)
    md = EffectTable.from_estimate_ci(["p"], [1.0], [1 - z], [1 + z], "MD")
    assert (md.yi[0], md.vi[0]) == (1.0, pytest.approx(1.0))
    with pytest.raises(EffectError, match="must be positive for a ratio measure"):
        EffectTable.from_estimate_ci(["p"], [2.0], [0.0], [3.0], "RR")
    with pytest.raises(EffectError, match="need ci_low < estimate < ci_high"):
        EffectTable.from_estimate_ci(["p"], [2.0], [2.5], [3.0], "RR")


def test_table_methods() -> None:
    e = escalc(TABLE, "OR")
    sub = e.subset(["z"])
    assert (sub.study, sub.yi[0], bool(sub.corrected[0]), sub.dropped) == (("z",), e.yi[1], True, ("dz", "all"))
    frame = e.to_frame()
    assert list(frame.columns) == ["study", "yi", "vi", "sei", "corrected"]
    assert e.is_ratio
    with pytest.raises(EffectError, match="unknown study label"):
        e.subset(["nope"])


def test_validation() -> None:
    with pytest.raises(EffectError, match="vi must be positive"):
        EffectTable(("a",), [0.1], [0.0], "MD", "none", [False])
    with pytest.raises(EffectError, match="yi has 2 values for 1 studies"):
        EffectTable(("a",), [0.1, 0.2], [0.1], "MD", "none", [False])
    with pytest.raises(EffectError, match="unique"):
        EffectTable(("a", "a"), [0.1, 0.2], [0.1, 0.1], "MD", "none", np.zeros(2))
