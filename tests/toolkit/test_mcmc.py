"""The meta-regression of ``reanalyse fit`` leaves out the studies without a value of every covariate (the reader
names them in a note) and keeps them everywhere else. Structure only (the fit with the suite's fake sampler, no
MCMC, is marked slow)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from models.bayes.policy import FitPolicy
from models.bayes.sampling import fit_binomial_normal
from models.priors import effect_prior, tau_prior
from models.reader import read_study_file
from models.toolkit.mcmc import _with_every_covariate, regression_fit
from models.toolkit.spec import MetaAnalysisSpec

LINES = ["study,e_t,n_t,e_c,n_c,dose,year", "a,1,10,2,10,1,2001", "b,3,20,4,20,,2002", "c,5,30,9,31,3,2003",
         "d,2,12,3,12,NA,2004", "e,4,25,6,24,2,2005"]  # fmt: skip


def _spec(tmp_path) -> MetaAnalysisSpec:
    path = tmp_path / "dose.csv"
    path.write_text("\n".join(LINES) + "\n")
    data = read_study_file(path, covariates=["dose"])
    return MetaAnalysisSpec(
        title="dose", effects=data.effects, measure=data.measure, tau_prior=tau_prior("halfnormal_0.5"),
        effect_prior=effect_prior("weakly_informative"), counts=data.counts, year=data.year,
        covariates=data.covariates, notes=data.notes,
    )  # fmt: skip


def test_the_regression_data_are_the_studies_with_every_covariate(tmp_path):
    spec = _spec(tmp_path)
    assert spec.k == 5 and spec.notes == (
        "2 studies without a value of every covariate left out of the meta-regression only: 'b', 'd'",
    )
    sub = _with_every_covariate(spec)
    assert sub.study == ("a", "c", "e") and sub.effects.study == ("a", "c", "e") and sub.year is None
    assert sub.covariates[0].values == (1.0, 3.0, 2.0)
    np.testing.assert_allclose(sub.covariates[0].standardised(), [-1.0, 1.0, 0.0])
    assert _with_every_covariate(sub) is sub


@pytest.mark.slow
def test_regression_fit_runs_on_those_studies(tmp_path, fake_sampler):
    """Slow (about 50 s): the fake sampler skips sampling, not the PyTensor compile of the prior draws."""
    spec = _spec(tmp_path)
    settings = {"draws": 40, "tune": 40, "chains": 2, "prior_draws": 40}
    fits = FitPolicy(partial(fit_binomial_normal, sampler=fake_sampler), seed=3, sampler=settings, fit_dir=tmp_path)
    results = regression_fit(spec, fits, seed=3).results
    assert [r.subject for r in results] == ["at covariate means", "slope per SD of dose"]
    assert all(r.k == 3 for r in results)
