"""metadat data sets as R writes them (write.csv, write.csv2), under metafor's column names, read as metafor reads
them. Reference: tests/reference/reader/reader.metafor.json, made by make_reader_reference.R beside it (R 4.2.2,
metafor 3.8-1, metadat 1.2-0): escalc's yi and vi, metafor's ``.make.unique`` labels, the studies an
``rma(mods = ~ minutes)`` fit omits, REML estimates (compared with this project's ``rma``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tolerances import TOLERANCE

from models.frequentist import rma
from models.reader import read_study_file

FOLDER = Path(__file__).resolve().parents[1] / "reference" / "reader"
REF = json.loads((FOLDER / "reader.metafor.json").read_text())["files"]
TOL = TOLERANCE["metafor"]


@pytest.mark.parametrize("name", ["bangertdrowns2004.csv", "bangertdrowns2004_semicolon.csv"])
def test_bangertdrowns2004_repeated_authors_and_missing_covariate(name):
    ref = REF["bangertdrowns2004"]
    got = read_study_file(FOLDER / name, "SMD", covariates=["minutes"])
    assert list(got.study) == ref["labels"]  # "Guckin.1", "Guckin.2", ... as metafor's .make.unique
    np.testing.assert_allclose(got.effects.yi, ref["yi"], rtol=TOL)
    np.testing.assert_allclose(got.effects.vi, ref["vi"], rtol=TOL)
    omitted = [s for s, p in zip(got.study, got.covariates[0].present, strict=True) if not p]
    assert omitted == ref["omitted_by_rma_mods_minutes"]
    assert int(got.covariates[0].present.sum()) == ref["k_regression"]
    fit = rma(got.effects, "REML")
    assert fit.k == ref["REML"]["k"]
    assert fit.estimate == pytest.approx(ref["REML"]["estimate"], rel=TOL)
    assert fit.tau2 == pytest.approx(ref["REML"]["tau2"], rel=TOL)
    read = ("read as semicolon-separated with decimal commas",) if "semicolon" in name else ()
    assert got.notes[: len(read)] == read
    assert got.notes[len(read)].startswith(
        "repeated study labels kept, made unique as metafor does: 'Guckin' (rows 19, 20) as 'Guckin.1', 'Guckin.2'; "
    )
    assert got.notes[-1].startswith("24 studies without a value of every covariate left out of the meta-regression")


def test_bourassa1996_nonevents_and_the_sample_with_no_patients_in_an_arm():
    ref = REF["bourassa1996"]
    got = read_study_file(FOLDER / "bourassa1996.csv")
    empty = ref["empty_arm"]
    assert empty not in got.study and len(got.study) == len(ref["labels"]) - 1
    keep = [i for i, s in enumerate(ref["labels"]) if s != empty]
    assert list(got.study) == [ref["labels"][i] for i in keep]
    np.testing.assert_allclose(got.effects.yi, np.asarray(ref["yi"])[keep], rtol=TOL)
    np.testing.assert_allclose(got.effects.vi, np.asarray(ref["vi"])[keep], rtol=TOL)
    assert (
        "1 study with no patients in an arm dropped (nothing to compare; metafor would add 0.5 to every cell and keep "
        "it): 'Stephens 1967.6'" in got.notes
    )
    fit = rma(got.effects, "REML")
    assert fit.k == ref["REML_without_empty_arm"]["k"]
    assert fit.estimate == pytest.approx(ref["REML_without_empty_arm"]["estimate"], rel=TOL)


@pytest.mark.parametrize("measure", ["SMD", "MD"])
def test_normand1999_under_metafors_names(measure):
    ref = REF["normand1999_metafor"]
    got = read_study_file(FOLDER / "normand1999_metafor.csv", measure)
    assert list(got.study) == ref["labels"] and got.spelling.origin == "metafor"
    np.testing.assert_allclose(got.effects.yi, ref[measure]["yi"], rtol=TOL)
    np.testing.assert_allclose(got.effects.vi, ref[measure]["vi"], rtol=TOL)


@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_bcg_under_metafors_names(measure):
    ref = REF["bcg_metafor"]
    got = read_study_file(FOLDER / "bcg_metafor.csv", measure)
    assert list(got.study) == ref["labels"]
    np.testing.assert_allclose(got.effects.yi, ref[measure]["yi"], rtol=TOL)
    np.testing.assert_allclose(got.effects.vi, ref[measure]["vi"], rtol=TOL)
