"""The published-totals arithmetic (SCRT 2026 abstract: MSC 26.4% vs control 31.9%, n = 1,080) and the spreads."""

import numpy as np
import pytest

from models.msc.datasets import load_dataset
from models.msc.missing import missing_arm_sizes
from models.msc.totals import allocations, implied_missing_deaths


@pytest.fixture(scope="module")
def evidence():
    ds = load_dataset()
    table, missing = ds.binary_table("mortality", ds.analysis_set("scrt2026", "mortality").candidate_studies)
    n_t, n_c = missing_arm_sizes(ds, "mortality", missing)
    return table, missing, n_t, n_c


def test_implied_deaths_by_hand(evidence):
    table, _, n_t, n_c = evidence
    implied = implied_missing_deaths(table, n_t, n_c, 0.264, 0.319, 1080)
    # by hand from data/ over SCRT 2026's 24 candidates: the extraction's 15 studies with counts had deaths 73/356
    # (MSC) and 111/350 (control); gregoire2022's day-28 deaths 0/8 vs 5/24 (abstract percentages) make 73/364 and
    # 116/374; missing arms 195 - 8 = 187 and 194 - 24 = 170 patients;
    # 0.264 * 551 = 145.5 -> 145 - 73 = 72; 0.319 * 544 = 173.5 -> 174 - 116 = 58
    assert (implied.known_t, implied.known_c) == (73, 116)
    assert (implied.missing_n_t, implied.missing_n_c) == (187, 170)
    assert (implied.deaths_t, implied.deaths_c) == (72, 58)
    assert implied.range_t[0] <= 72 <= implied.range_t[1] and implied.range_c[0] <= 58 <= implied.range_c[1]
    text = implied.arithmetic()
    assert "1095" in text and "1080" in text and "crude harm" in text


def test_every_spread_keeps_the_totals(evidence):
    table, missing, n_t, n_c = evidence
    for alloc in allocations(table, missing, n_t, n_c, 72, 58):
        added = alloc.table.subset([s for s in alloc.table.study if s not in table.study])
        assert added.e_t.sum() == 72 and added.e_c.sum() == 58, alloc.key
        assert (added.e_t <= added.n_t).all() and (added.e_c <= added.n_c).all(), alloc.key
        assert added.n_t.sum() == 187 and added.n_c.sum() == 170


def test_spreads_that_do_not_fit_are_refused(evidence):
    table, missing, n_t, n_c = evidence
    with pytest.raises(ValueError, match="do not fit"):
        allocations(table, missing, n_t, n_c, 72, 500)[2]


def test_proportional_spread_is_proportional(evidence):
    table, missing, n_t, n_c = evidence
    prop = allocations(table, missing, n_t, n_c, 72, 58)[0].table
    e_t = prop.e_t[-len(missing) :]
    assert np.all(np.abs(e_t - 72 * n_t / n_t.sum()) < 1)
