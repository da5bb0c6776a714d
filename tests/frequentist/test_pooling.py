"""Method/measure dispatch behind scripts/pool.py."""

from __future__ import annotations

import pytest

from models.frequentist import check_method, pool, read_study_table

from ._metafor import REL_TOL, load_reference, reference_csv


def test_iv_is_the_fixed_effect_model() -> None:
    """pool(..., "IV") = metafor rma(method="EE") on escalc(to="only0", drop00=TRUE) (bcg EE_OR)."""
    r = pool(read_study_table(reference_csv("bcg"), "OR"), "OR", "IV")
    assert r.method == "EE"
    assert r.estimate == pytest.approx(load_reference("bcg")["EE_OR"]["estimate"], rel=REL_TOL)


@pytest.mark.parametrize(
    ("measure", "method", "hksj", "message"),
    [
        ("RR", "Peto", False, "Peto estimates an odds ratio only"),
        ("SMD", "MH", False, "needs a binary measure"),
        ("OR", "MH", True, "HKSJ interval is for random-effects"),
        ("OR", "Bayes", False, "method must be one of"),
        ("HR", "DL", False, "measure must be one of"),
    ],
)
def test_mismatches_are_rejected(measure: str, method: str, hksj: bool, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_method(measure, method, hksj)


def test_layout_follows_measure() -> None:
    with pytest.raises(ValueError, match="missing column"):
        read_study_table(reference_csv("bcg"), "MD")
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_study_table(reference_csv("absent"), "OR")
