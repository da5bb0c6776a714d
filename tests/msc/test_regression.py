"""Covariate coding of the meta-regressions (values from data/studies.csv, i.e. the extraction)."""

from models.msc.datasets import load_dataset
from models.msc.regression import (
    REGRESSIONS,
    design_dose_regression,
    infusion_regression,
    severity_regression,
)


def _cov():
    d = load_dataset()
    return d.covariates(list(d.studies.index))


def test_severity_indicators():
    x = severity_regression(_cov()).covariates
    assert x.loc["dilogo2021", "critical"] == 1 and x.loc["shu2020", "critical"] == 0
    assert x.loc["zhu2021", "includes_moderate"] == 1 and x.loc["bowdish2023", "includes_moderate"] == 0


def test_infusion_regression_drops_unknown_counts():
    reg = infusion_regression(_cov())
    assert "haberle2021" in reg.dropped and "haberle2021" not in reg.covariates.index
    assert reg.covariates.loc["shi2021", "three_infusions"] == 1
    assert reg.covariates.loc["shu2020"].sum() == 0  # one infusion = reference


def test_design_and_dose_coding():
    x = design_dose_regression(_cov()).covariates
    assert x.loc["adas2021", "nrs"] == 1 and x.loc["shi2021", "nrs"] == 0
    dose = x["log_cells_per_kg"]
    assert abs(dose.mean()) < 1e-12 and abs(dose.std(ddof=0) - 1) < 1e-12


def test_every_regression_has_two_covariates():
    for make in REGRESSIONS:
        assert make(_cov()).covariates.shape[1] == 2
