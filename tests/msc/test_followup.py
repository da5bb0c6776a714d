"""Rows of the Shi 2021 3-year follow-up reanalysis (figures from the follow-up paper, Stem Cell Res Ther 2025)."""

import pytest
from scipy import stats

from models.msc.datasets import load_dataset
from models.msc.followup import SF36_PRIOR_SD, followup_results


@pytest.fixture(scope="module")
def results():
    return {r.key.analysis.split("/", 1)[1]: r for r in followup_results(load_dataset(), lambda analysis: 1)}


def test_one_result_per_published_outcome(results):
    assert set(results) == {"ct_normal_m36", "reinfection", "reinfection_hospitalisation", "sf36_general_health",
                            "sf36_general_health_age65"}  # fmt: skip
    assert all(r.gate == "not sampled" and r.kind == "single_trial" for r in results.values())


def test_ct_normal_benefit_is_more_normal_scans(results):
    r = results["ct_normal_m36"]  # 23/49 vs 10/29, published OR 1.68 (p = 0.28)
    assert r.context.published.estimate == 1.68
    assert r.effect.low < 1 < r.effect.high
    assert r.effect.p_benefit == pytest.approx(1 - r.effect.p_below_null)


def test_sf36_difference_uses_the_se_implied_by_the_p_value(results):
    r = results["sf36_general_health"]  # difference 12.86 points, p = 0.0278
    se = 12.86 / stats.norm.ppf(1 - 0.0278 / 2)
    precision = 1 / se**2 + 1 / SF36_PRIOR_SD**2
    assert (r.measure, r.method) == ("MD", "closed_form")
    assert r.effect.median == pytest.approx(12.86 / se**2 / precision)
    assert r.effect.p_benefit == pytest.approx(stats.norm.sf(0, r.effect.median, precision**-0.5))
