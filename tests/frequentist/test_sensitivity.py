"""Subgroups, leave-one-out and cumulative pooling, against closed forms and the metafor reference values."""

from __future__ import annotations

import numpy as np
import pytest

from models.effects import escalc
from models.frequentist import cumulative, leave_one_out, peto, rma, subgroup_analysis
from models.reader import read_study_file

from ._metafor import REL_TOL, load_reference, reference_csv

TABLE = read_study_file(reference_csv("hine1989")).counts
EFFECTS = escalc(TABLE, "OR")
REF = load_reference("hine1989")


def _iv_mean(yi: np.ndarray, vi: np.ndarray) -> float:
    return float(np.sum(yi / vi) / np.sum(1 / vi))


def test_leave_one_out_rows_are_iv_means_without_the_study() -> None:
    frame = leave_one_out(EFFECTS, lambda e: rma(e, "EE"))
    assert list(frame["omitted"]) == list(EFFECTS.study)
    for i, row in frame.iterrows():
        keep = np.arange(EFFECTS.k) != i
        assert row["estimate"] == pytest.approx(_iv_mean(EFFECTS.yi[keep], EFFECTS.vi[keep]), rel=1e-12)
        assert row["k"] == EFFECTS.k - 1


def test_leave_one_out_takes_two_by_two_tables() -> None:
    frame = leave_one_out(TABLE, peto)
    assert len(frame) == TABLE.k and set(frame["k"]) == {TABLE.k - 1}


def test_cumulative_ends_at_the_full_analysis() -> None:
    """Last row = metafor rma(method="EE") on all studies (hine1989 EE_OR); first row = the first study alone."""
    order = list(reversed(EFFECTS.study))
    frame = cumulative(EFFECTS, order, lambda e: rma(e, "EE"))
    assert list(frame["added"]) == order
    assert list(frame["k"]) == list(range(1, EFFECTS.k + 1))
    assert frame["estimate"].iloc[-1] == pytest.approx(REF["EE_OR"]["estimate"], rel=REL_TOL)
    assert frame["estimate"].iloc[0] == pytest.approx(EFFECTS.yi[-1], rel=1e-12)


def test_subgroup_q_between_is_total_minus_within() -> None:
    """Fixed effect: Q_between = Q_total (metafor EE_OR Q) - sum of within-subgroup Q (closed form)."""
    groups = {s: ("early" if i < 3 else "late") for i, s in enumerate(EFFECTS.study)}
    res = subgroup_analysis(EFFECTS, groups, method="EE")
    within = 0.0
    for part in (slice(0, 3), slice(3, None)):
        y, v = EFFECTS.yi[part], EFFECTS.vi[part]
        within += float(np.sum((y - _iv_mean(y, v)) ** 2 / v))
    assert res.q_between == pytest.approx(REF["EE_OR"]["Q"] - within, rel=1e-9)
    assert res.df == 1
    assert list(res.groups) == ["early", "late"]
    assert res.groups["late"].estimate == pytest.approx(_iv_mean(EFFECTS.yi[3:], EFFECTS.vi[3:]), rel=1e-12)
    assert list(res.to_frame()["group"]) == ["early", "late"]


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="no subgroup for study"):
        subgroup_analysis(EFFECTS, {EFFECTS.study[0]: "a"})
    with pytest.raises(ValueError, match="at least 2 subgroups"):
        subgroup_analysis(EFFECTS, dict.fromkeys(EFFECTS.study, "all"))
    with pytest.raises(ValueError, match="order must list every study once"):
        cumulative(EFFECTS, EFFECTS.study[:-1], lambda e: rma(e, "EE"))
