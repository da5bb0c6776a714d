"""Length of hospital stay, specialist vs routine care (Normand 1999; metadat::dat.normand1999) against R metafor.

Reference: tests/reference/normand1999.metafor.json from make_reference.R: for m in MD, SMD,
``es <- escalc(m, m1i=mean_t, sd1i=sd_t, n1i=n_t, m2i=mean_c, sd2i=sd_c, n2i=n_c)`` (yi_m, vi_m) and
``rma(yi, vi, data=es, method=meth)`` for meth in EE, DL, REML, PM. Tolerance 1e-6 relative (see _metafor.py).
PM_MD has tau2 = 728 > 100, so it also checks metafor's adaptive upper bound of the Paule-Mandel search.
"""

from __future__ import annotations

import pytest

from models.effects import escalc_continuous
from models.frequentist import rma
from models.reader import read_study_file

from ._metafor import REL_TOL, assert_result_matches, entries, load_reference, reference_csv

NAME = "normand1999"
REF = load_reference(NAME)
TABLE = read_study_file(reference_csv(NAME)).arms


@pytest.mark.parametrize("measure", ["MD", "SMD"])
def test_effect_sizes_match_escalc(measure: str) -> None:
    effects = escalc_continuous(TABLE, measure)
    assert effects.yi == pytest.approx(REF[f"yi_{measure}"], rel=REL_TOL)
    assert effects.vi == pytest.approx(REF[f"vi_{measure}"], rel=REL_TOL)


@pytest.mark.parametrize("entry", [e for m in ("EE_", "DL_", "REML_", "PM_") for e in entries(NAME, m)])
def test_inverse_variance_matches_metafor(entry: str) -> None:
    method, measure = entry.rsplit("_", 1)
    assert_result_matches(rma(escalc_continuous(TABLE, measure), method), REF[entry])
