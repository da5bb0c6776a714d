"""Tipping-point grid over the deaths of studies with unknown counts."""

import numpy as np
import pytest

from models.msc.datasets import load_dataset
from models.msc.missing import describe_boundary, missing_arm_sizes, split_counts, tipping_grid
from models.priors import effect_prior, tau_prior
from models.tables import BinaryTable


@pytest.mark.parametrize(("total", "sizes"), [(0, [10, 21]), (7, [10, 21]), (31, [10, 21]), (5, [3, 3, 3])])
def test_split_counts_sums_and_respects_sizes(total, sizes):
    out = split_counts(total, np.array(sizes))
    assert out.sum() == total
    assert (out <= np.array(sizes)).all() and (out >= 0).all()


def test_split_is_proportional():
    assert split_counts(10, np.array([10, 40])).tolist() == [2, 8]


def test_grid_probability_falls_as_msc_deaths_rise_to_the_edges():
    known = BinaryTable(("a", "b"), [2, 3], [20, 20], [6, 7], [20, 20])
    grid = tipping_grid(known, np.array([10]), np.array([10]), ("m",), tau_prior("turner2015_mortality_pharma"),
                        effect_prior("weakly_informative"))  # fmt: skip
    assert len(grid) == 11 * 11
    row = grid[grid["events_c"] == 5].sort_values("events_t")
    # the exact binomial likelihood has no continuity correction, so P(benefit) falls monotonely up to both edges
    assert np.all(np.diff(row["p_benefit"].to_numpy()) < 0)
    assert np.all(np.diff(row["p_important"].to_numpy()) < 0)
    assert (grid["p_important"] <= grid["p_benefit"]).all()  # P(OR < 0.8) <= P(OR < 1)
    assert "all 121 possible splits of deaths" in describe_boundary(grid)


def test_stepped_grid_reaches_both_edges_and_says_its_step():
    known = BinaryTable(("a", "b"), [2, 3], [20, 20], [6, 7], [20, 20])
    grid = tipping_grid(known, np.array([10]), np.array([11]), ("m",), tau_prior("turner2015_mortality_pharma"),
                        effect_prior("weakly_informative"), step=4)  # fmt: skip
    assert sorted(set(grid["events_t"])) == [0, 4, 8, 10]
    assert sorted(set(grid["events_c"])) == [0, 4, 8, 11]
    assert "stepping by 4 deaths" in describe_boundary(grid, step=4)


def test_missing_arm_sizes_of_tang2024():
    # extraction: kaffashfarkhad2022 10 vs 10 (abstract, 20 patients), soetjahjo2023 21 vs 21 (registry, planned)
    n_t, n_c = missing_arm_sizes(load_dataset(), "mortality", ("kaffashfarkhad2022", "soetjahjo2023"))
    assert n_t.tolist() == [10, 21] and n_c.tolist() == [10, 21]
