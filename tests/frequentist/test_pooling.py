"""Method/measure dispatch behind scripts/pool.py."""

from __future__ import annotations

import pytest

from models.frequentist import check_method, pool
from models.reader import read_study_file

from ._metafor import REL_TOL, load_reference, reference_csv


def test_iv_is_the_fixed_effect_model() -> None:
    """pool(..., "IV") = metafor rma(method="EE") on escalc(to="only0", drop00=TRUE) (bcg EE_OR)."""
    study = read_study_file(reference_csv("bcg"), "OR")
    for table in (study.counts, study.effects):  # counts go through escalc, the reader's effects are that escalc
        r = pool(table, "OR", "IV")
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


def test_table_must_suit_the_method() -> None:
    study = read_study_file(reference_csv("bcg"), "OR")
    with pytest.raises(ValueError, match=r"method MH needs a 2x2 table"):
        pool(study.effects, "OR", "MH")
    with pytest.raises(ValueError, match="the effect table holds OR, not RR"):
        pool(study.effects, "RR", "REML")
