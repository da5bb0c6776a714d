"""BCG vaccine trials (Colditz et al. 1994; metadat::dat.bcg): every pooled result equals R metafor 3.8-1.

Reference: tests/reference/bcg.metafor.json from make_reference.R, i.e. for m in RR, OR, RD:
``rma.mh(ai=e_t, n1i=n_t, ci=e_c, n2i=n_c, measure=m)``; ``es <- escalc(m, ..., to="only0", add=0.5, drop00=TRUE)``;
``rma(yi, vi, data=es, method=meth)`` for meth in EE, DL, REML, PM (``predict()`` for the REML prediction interval);
``rma(..., method="REML", test="knha")`` + ``predict()``; ``regtest(rma(..., method="EE"))``; ``rma.peto(...)``.
Tolerance 1e-6 relative (see _metafor.py).
"""

from __future__ import annotations

import pytest

from models.effects import escalc
from models.frequentist import egger, mantel_haenszel, peto, rma
from models.tables import BinaryTable

from ._metafor import REL_TOL, assert_result_matches, entries, load_reference, reference_csv

NAME = "bcg"
REF = load_reference(NAME)
TABLE = BinaryTable.read_csv(reference_csv(NAME))


@pytest.mark.parametrize("entry", [e for m in ("EE_", "DL_", "REML_", "PM_") for e in entries(NAME, m)])
def test_inverse_variance_matches_metafor(entry: str) -> None:
    method, measure = entry.rsplit("_", 1)
    hksj = method == "REML_HKSJ"
    result = rma(escalc(TABLE, measure, "only0", 0.5, drop00=True), "REML" if hksj else method, hksj=hksj)
    assert_result_matches(result, REF[entry])


@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_mantel_haenszel_matches_rma_mh(measure: str) -> None:
    assert_result_matches(mantel_haenszel(TABLE, measure, convention="metafor"), REF[f"MH_{measure}"])


def test_peto_matches_rma_peto() -> None:
    assert_result_matches(peto(TABLE), REF["Peto_OR"])


@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_egger_matches_regtest(measure: str) -> None:
    result = egger(escalc(TABLE, measure))
    assert result.z == pytest.approx(REF[f"Egger_{measure}"]["z"], rel=REL_TOL)
    assert result.p == pytest.approx(REF[f"Egger_{measure}"]["p"], rel=REL_TOL)
