"""Shared access to the R metafor 3.8-1 reference values in tests/reference/*.metafor.json.

Those files were produced by tests/reference/make_reference.R (R 4.2, metafor 3.8-1); each entry name says the R
call, e.g. ``REML_OR`` = ``rma(yi, vi, data=escalc("OR", ..., to="only0", add=0.5, drop00=TRUE), method="REML")``.
Tolerance: 1e-6 relative; an absolute floor of 1e-12 only matters for reference values that are exactly 0
(tau2 and I2 of the homogeneous lidocaine data).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tolerances import TOLERANCE

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
REL_TOL = TOLERANCE["metafor"]
ABS_FLOOR = 1e-12

# JSON key -> PooledResult attribute
RESULT_FIELDS = {
    "estimate": "estimate",
    "ci_lb": "ci_low",
    "ci_ub": "ci_high",
    "se": "se",
    "tau2": "tau2",
    "Q": "q",
    "Q_p": "q_p",
    "I2": "i2",
    "k": "k",
    "pi_lb": "pi_low",
    "pi_ub": "pi_high",
}


def load_reference(name: str) -> dict:
    """The ``results`` block of ``tests/reference/<name>.metafor.json``."""
    return json.loads((REFERENCE_DIR / f"{name}.metafor.json").read_text())["results"]


def reference_csv(name: str) -> Path:
    return REFERENCE_DIR / f"{name}.csv"


def assert_result_matches(result: object, expected: dict) -> None:
    """Every numeric field of a metafor entry equals the PooledResult attribute within the tolerance."""
    checked = 0
    for key, value in expected.items():
        if key == "scale":
            continue
        got = getattr(result, RESULT_FIELDS[key])
        assert got == pytest.approx(value, rel=REL_TOL, abs=ABS_FLOOR), key
        checked += 1
    assert checked >= 3


def entries(name: str, prefix: str) -> list[str]:
    """Entry names of a reference file starting with ``prefix`` (e.g. "REML_")."""
    return [k for k in load_reference(name) if k.startswith(prefix)]
