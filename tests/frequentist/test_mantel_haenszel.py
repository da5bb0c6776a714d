"""Mantel-Haenszel pooling: the RevMan convention against published RevMan analyses, and closed forms."""

from __future__ import annotations

import math

import pytest

from models.frequentist import mantel_haenszel
from models.tables import BinaryTable


def _table(rows: dict[str, tuple[int, int, int, int]]) -> BinaryTable:
    cols = list(zip(*rows.values(), strict=True))
    return BinaryTable(tuple(rows), *cols)


# Mortality, MSC vs control (e_t, n_t, e_c, n_c): the 7 cross-check trials of the team's extraction.
MORTALITY = _table(
    {
        "shu2020": (0, 12, 3, 29),
        "shi2021": (0, 65, 0, 35),
        "lanzoni2021": (2, 12, 7, 12),
        "dilogo2021": (10, 20, 16, 20),
        "zhu2021": (0, 29, 2, 29),
        "monsel2022": (5, 21, 4, 24),
        "adas2021": (3, 10, 6, 10),
    }
)


def test_revman_convention_reproduces_published_mortality_rr() -> None:
    """Stem Cell Res Ther 2023, doi 10.1186/s13287-023-03286-8 (RevMan MH fixed effect):
    RR 0.58 [0.38, 0.87], I2 0%, heterogeneity P 0.53; shi2021 (double zero) not estimable."""
    r = mantel_haenszel(MORTALITY, "RR", convention="revman")
    assert r.method == "MH-RevMan"
    assert round(math.exp(r.estimate), 2) == 0.58
    assert round(math.exp(r.ci_low), 2) == 0.38
    assert round(math.exp(r.ci_high), 2) == 0.87
    assert round(r.i2) == 0
    assert round(r.q_p, 2) == 0.53
    assert r.k == 6


def test_metafor_convention_differs_as_documented() -> None:
    """Team extraction README (shared extraction/README.md): metafor rma.mh style gives 0.557 [0.367, 0.846]."""
    r = mantel_haenszel(MORTALITY, "RR", convention="metafor")
    assert r.method == "MH"
    assert round(math.exp(r.estimate), 3) == 0.557
    assert round(math.exp(r.ci_low), 3) == 0.367
    assert round(math.exp(r.ci_high), 3) == 0.846
    assert r.q_df == 5  # Q over the 6 estimable studies (escalc drop00), as rma.mh's k.yi - 1


@pytest.mark.parametrize(
    ("rows", "rr", "lo", "hi", "i2"),
    [
        # Tang 2024, clinical improvement at day 7 (RevMan MH RR): 1.46 [1.17, 1.83], I2 84%
        ({"zhu2021": (28, 29, 23, 29), "shu2020": (7, 12, 5, 29)}, 1.46, 1.17, 1.83, 84),
        # Tang 2024, clinical improvement at day 14: 1.42 [1.17, 1.72], I2 54%
        ({"zhu2021": (28, 29, 22, 29), "shu2020": (11, 12, 15, 29)}, 1.42, 1.17, 1.72, 54),
    ],
    ids=["day7", "day14"],
)
def test_revman_convention_reproduces_tang2024(rows: dict, rr: float, lo: float, hi: float, i2: int) -> None:
    r = mantel_haenszel(_table(rows), "RR", convention="revman")
    assert (round(math.exp(r.estimate), 2), round(math.exp(r.ci_low), 2), round(math.exp(r.ci_high), 2)) == (
        rr,
        lo,
        hi,
    )
    assert round(r.i2) == i2


# Single 2x2 table a=7, b=13, c=3, d=22: every MH estimator reduces to the study's own estimate and the MH variances
# (Robins-Breslow-Greenland, Greenland-Robins, Sato-Greenland-Robins) to the usual large-sample variances.
ONE = _table({"s": (7, 20, 3, 25)})


@pytest.mark.parametrize(
    ("measure", "estimate", "variance"),
    [
        ("OR", math.log(7 * 22 / (13 * 3)), 1 / 7 + 1 / 13 + 1 / 3 + 1 / 22),
        ("RR", math.log((7 / 20) / (3 / 25)), 1 / 7 - 1 / 20 + 1 / 3 - 1 / 25),
        ("RD", 7 / 20 - 3 / 25, 0.35 * 0.65 / 20 + 0.12 * 0.88 / 25),
    ],
)
def test_single_table_reduces_to_study_estimate(measure: str, estimate: float, variance: float) -> None:
    r = mantel_haenszel(ONE, measure)
    assert r.estimate == pytest.approx(estimate, rel=1e-12)
    assert r.se**2 == pytest.approx(variance, rel=1e-12)
    assert (r.q, r.q_df, r.q_p, r.i2) == (0.0, 0, 1.0, 0.0)


def test_metafor_convention_needs_no_correction_for_single_zero_cells() -> None:
    """Closed form: with raw counts MH OR = sum(a d / N) / sum(b c / N)."""
    t = _table({"x": (0, 10, 2, 10), "y": (3, 10, 5, 10)})
    expected = (0 * 8 / 20 + 3 * 5 / 20) / (10 * 2 / 20 + 7 * 5 / 20)
    assert math.exp(mantel_haenszel(t, "OR").estimate) == pytest.approx(expected, rel=1e-12)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="measure must be one of"):
        mantel_haenszel(ONE, "SMD")
    with pytest.raises(ValueError, match="convention must be one of"):
        mantel_haenszel(ONE, "OR", convention="stata")
    with pytest.raises(ValueError, match="not estimable"):
        mantel_haenszel(_table({"x": (0, 10, 2, 10), "y": (0, 5, 1, 5)}), "RR")
