"""Sample size for two proportions against R's power.prop.test (tests/reference/sample_size.R.json, written by
make_sample_size_reference.R; R solves its power equation numerically, the module uses the closed form)."""

import json
from pathlib import Path

import pytest

from models.frequentist.sample_size import optimal_information_size, two_proportions_n

REFERENCE = json.loads((Path(__file__).parents[1] / "reference" / "sample_size.R.json").read_text())


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"{c['p1']}-{c['p2']}")
def test_patients_per_arm_match_r_power_prop_test(case):
    n = two_proportions_n(case["p1"], case["p2"], alpha=case["sig.level"], power=case["power"])
    assert n == pytest.approx(case["n_per_arm"], rel=1e-6)


def test_optimal_information_size_is_both_arms_rounded_up():
    # R: power.prop.test(p1 = 0.301, p2 = 0.2408, power = 0.8)$n = 854.36 per arm -> 855 x 2
    assert optimal_information_size(0.301, 0.2) == 1710


@pytest.mark.parametrize(
    ("args", "message"),
    [((0.0, 0.1), "p_control must be a proportion"), ((0.3, 0.3), "must differ"), ((0.3, 1.2), "p_treated")],
)
def test_bad_proportions_are_refused_by_name(args, message):
    with pytest.raises(ValueError, match=message):
        two_proportions_n(*args)
