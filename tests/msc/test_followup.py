"""Rows of the Shi 2021 3-year follow-up reanalysis (figures from the follow-up paper, Stem Cell Res Ther 2025)."""

import pytest
from scipy import stats

from models.msc.datasets import load_dataset
from models.msc.followup import SF36_PRIOR_SD, followup_results


@pytest.fixture(scope="module")
def rows():
    return {r.row["analysis"]: r.row for r in followup_results(load_dataset(), lambda analysis: 1)}


def test_one_row_per_published_outcome(rows):
    assert set(rows) == {"ct_normal_m36", "reinfection", "reinfection_hospitalisation", "sf36_general_health",
                         "sf36_general_health_age65"}  # fmt: skip
    assert all(r["gate"] == "no MCMC" for r in rows.values())


def test_ct_normal_benefit_is_more_normal_scans(rows):
    row = rows["ct_normal_m36"]  # 23/49 vs 10/29, published OR 1.68 (p = 0.28)
    assert row["published_estimate"] == 1.68
    assert row["low"] < 1 < row["high"]
    assert row["p_benefit"] == pytest.approx(1 - row["p_below_1"])


def test_sf36_difference_uses_the_se_implied_by_the_p_value(rows):
    row = rows["sf36_general_health"]  # difference 12.86 points, p = 0.0278
    se = 12.86 / stats.norm.ppf(1 - 0.0278 / 2)
    precision = 1 / se**2 + 1 / SF36_PRIOR_SD**2
    assert row["median"] == pytest.approx(12.86 / se**2 / precision)
    assert row["p_benefit"] == pytest.approx(stats.norm.sf(0, row["median"], precision**-0.5))
