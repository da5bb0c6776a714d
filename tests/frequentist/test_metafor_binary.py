"""Binary reference data sets: every pooled result equals R metafor 3.8-1 (test ids name the data set).

* bcg: BCG vaccine trials (Colditz et al. 1994; metadat::dat.bcg), tuberculosis cases.
* hine1989: lidocaine after myocardial infarction (Hine et al. 1989; metadat::dat.hine1989), deaths.

Reference: tests/reference/<name>.metafor.json from make_reference.R, i.e. for m in RR, OR, RD:
``rma.mh(ai=e_t, n1i=n_t, ci=e_c, n2i=n_c, measure=m)``; ``es <- escalc(m, ..., to="only0", add=0.5, drop00=TRUE)``;
``rma(yi, vi, data=es, method=meth)`` for meth in EE, DL, REML, PM (``predict()`` for the REML prediction interval);
``rma(..., method="REML", test="knha")`` + ``predict()``; ``regtest(rma(..., method="EE"))``; ``rma.peto(...)``.
Tolerance 1e-6 relative (see _metafor.py).
"""

from __future__ import annotations

import pytest

from models.effects import escalc
from models.frequentist import egger, mantel_haenszel, peto, rma
from models.reader import read_study_file

from ._metafor import REL_TOL, assert_result_matches, entries, load_reference, reference_csv

NAMES = ("bcg", "hine1989")
REF = {name: load_reference(name) for name in NAMES}
TABLE = {name: read_study_file(reference_csv(name)).counts for name in NAMES}


@pytest.mark.parametrize(
    ("name", "entry"), [(n, e) for n in NAMES for m in ("EE_", "DL_", "REML_", "PM_") for e in entries(n, m)]
)
def test_inverse_variance_matches_metafor(name: str, entry: str) -> None:
    method, measure = entry.rsplit("_", 1)
    hksj = method == "REML_HKSJ"
    result = rma(escalc(TABLE[name], measure, "only0", 0.5, drop00=True), "REML" if hksj else method, hksj=hksj)
    assert_result_matches(result, REF[name][entry])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_mantel_haenszel_matches_rma_mh(name: str, measure: str) -> None:
    assert_result_matches(mantel_haenszel(TABLE[name], measure, convention="metafor"), REF[name][f"MH_{measure}"])


@pytest.mark.parametrize("name", NAMES)
def test_peto_matches_rma_peto(name: str) -> None:
    assert_result_matches(peto(TABLE[name]), REF[name]["Peto_OR"])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_egger_matches_regtest(name: str, measure: str) -> None:
    result = egger(escalc(TABLE[name], measure))
    assert result.z == pytest.approx(REF[name][f"Egger_{measure}"]["z"], rel=REL_TOL)
    assert result.p == pytest.approx(REF[name][f"Egger_{measure}"]["p"], rel=REL_TOL)


def test_hine1989_homogeneous_data_give_zero_tau2_and_hksj_narrower_than_wald() -> None:
    """metafor reports tau2 = 0 for every estimator here, and its HKSJ interval is not truncated at the Wald width."""
    effects = escalc(TABLE["hine1989"], "OR")
    wald, knha = rma(effects, "REML"), rma(effects, "REML", hksj=True)
    assert wald.tau2 == 0.0
    assert knha.ci_high - knha.ci_low < wald.ci_high - wald.ci_low
