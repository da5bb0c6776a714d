"""One death count per trial by a stated rule: day 28 or nearest, or the longest follow-up.

The expected choices are worked by hand from the rule in the module docstring; the real-data case uses
bowdish2023's deaths by day 7, 14 and 30 (PMC9896641 Table 2) and gregoire2022's by day 28 and 60 (PubMed 35860245).
"""

import math

from models.msc.datasets import load_dataset
from models.msc.timepoints import TimepointCount, longest_follow_up, nearest_day

NAN = math.nan


def _count(variant: str, days: float, kind: str = "time point", e_t: float = 1, klass: str = "day") -> TimepointCount:
    return TimepointCount("x2020", variant, kind, f"day {days}", days, klass, "P", e_t, 10, 2, 10)


def test_nearest_to_day_28_prefers_the_earlier_on_a_tie():
    counts = (_count("primary", 30, "primary"), _count("x_d26", 26), _count("x_d90", 90))
    assert nearest_day(counts, "x2020").variant == "x_d26"  # |26-28| = |30-28|: the earlier wins


def test_longest_follow_up_takes_the_most_days():
    counts = (_count("primary", 28, "primary"), _count("x_d90", 90), _count("x_y1", 365, e_t=NAN))
    assert longest_follow_up(counts, "x2020").variant == "x_d90"  # the 1-year count is unknown, so not chosen


def test_conflicting_values_and_other_arms_are_never_chosen():
    counts = (_count("primary", 28, "primary"), _count("x_conflict", 60, "conflicting value"),
              _count("x_arm", 90, "arm choice"))  # fmt: skip
    assert longest_follow_up(counts, "x2020").variant == "primary"


def test_undated_count_only_when_nothing_is_dated():
    undated = (_count("primary", NAN, "primary", klass="in-hospital"),)
    assert nearest_day(undated, "x2020").variant == "primary"
    assert longest_follow_up(undated + (_count("x_d14", 14),), "x2020").variant == "x_d14"
    assert nearest_day((), "x2020") is None


def test_real_counts():
    counts = load_dataset().timepoint_counts("mortality")
    assert nearest_day(counts, "bowdish2023").when == "day 30"
    assert longest_follow_up(counts, "gregoire2022").variant == "gregoire_day60"
    assert nearest_day(counts, "gorman2023") is None  # deaths only in the full text at every time point
