"""PooledResult.to_dict: reporting scale for ratio measures (exp of the log-scale fields)."""

from __future__ import annotations

import math

import pytest

from models.frequentist import PooledResult


def _result(measure: str, pi: bool) -> PooledResult:
    return PooledResult(
        method="REML" if pi else "EE",
        measure=measure,
        estimate=math.log(2.0),
        se=0.1,
        ci_low=math.log(1.5),
        ci_high=math.log(2.5),
        z=6.9,
        p=1e-12,
        tau2=0.01 if pi else 0.0,
        q=3.0,
        q_df=4,
        q_p=0.56,
        i2=0.0,
        k=5,
        ci_method="wald",
        pi_low=math.log(1.2) if pi else None,
        pi_high=math.log(3.0) if pi else None,
    )


def test_ratio_measures_report_exponentiated() -> None:
    d = _result("OR", pi=True).to_dict()
    assert (d["estimate"], d["ci_low"], d["ci_high"]) == (pytest.approx(2.0), pytest.approx(1.5), pytest.approx(2.5))
    assert (d["pi_low"], d["pi_high"]) == (pytest.approx(1.2), pytest.approx(3.0))
    assert d["log_estimate"] == math.log(2.0)
    assert _result("OR", pi=True).is_ratio


def test_additive_measures_report_as_is_without_pi() -> None:
    d = _result("RD", pi=False).to_dict()
    assert d["estimate"] == math.log(2.0) and d["log_estimate"] is None
    assert "pi_low" not in d
    assert not _result("RD", pi=False).is_ratio
