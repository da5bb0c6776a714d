"""REML where metafor's full Fisher step oscillates: the shorter step metafor documents as the remedy, against R.

Reference: tests/reference/reml_stepadj/reml_stepadj.metafor.json from make_reml_stepadj.R (metafor 3.8-1):
``rma(yi, vi, method="REML")`` fails ("Fisher scoring algorithm did not converge") on two synthetic data sets and
``rma(..., control=list(stepadj=0.5))`` converges. Tolerance: TOLERANCE["metafor"] (relative).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from tolerances import TOLERANCE

from models.effects import EffectTable
from models.frequentist import ConvergenceError, rma, tau2_reml
from models.results.summarise import random_effects

REF = json.loads((Path(__file__).parents[1] / "reference" / "reml_stepadj" / "reml_stepadj.metafor.json").read_text())
SETS = ("a", "b")


def _table(name: str) -> EffectTable:
    ref = REF[name]
    k = len(ref["yi"])
    return EffectTable(tuple(f"s{i}" for i in range(k)), np.array(ref["yi"]), np.array(ref["vi"]), "OR", "none",
                       np.zeros(k, dtype=bool))  # fmt: skip


@pytest.mark.parametrize("name", SETS)
def test_full_step_fails_as_in_metafor(name: str) -> None:
    assert "did not converge" in REF[name]["default_error"]
    with pytest.raises(ConvergenceError, match="did not converge"):
        tau2_reml(np.array(REF[name]["yi"]), np.array(REF[name]["vi"]))


@pytest.mark.parametrize("name", SETS)
def test_half_step_matches_metafor_stepadj(name: str) -> None:
    ref, result = REF[name], rma(_table(name), "REML", stepadj=0.5)
    got = {"tau2": result.tau2, "estimate": result.estimate, "se": result.se, "ci_lb": result.ci_low,
           "ci_ub": result.ci_high, "pval": result.p, "I2": result.i2, "QE": result.q}  # fmt: skip
    for key, value in got.items():
        assert value == pytest.approx(ref[key], rel=TOLERANCE["metafor"]), key


@pytest.mark.parametrize("name", SETS)
def test_frequentist_result_retries_with_the_half_step_and_says_so(name: str) -> None:
    freq, note = random_effects(_table(name))
    assert freq is not None and freq.tau2 == pytest.approx(REF[name]["tau2"], rel=TOLERANCE["metafor"])
    assert freq.estimate == pytest.approx(math.exp(REF[name]["estimate"]), rel=TOLERANCE["metafor"])
    assert "step length 0.5" in note and "stepadj=0.5" in note


def test_stepadj_outside_the_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="stepadj"):
        rma(_table("a"), "REML", stepadj=0.0)
