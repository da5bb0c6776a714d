"""Fit object: NetCDF round trip, atomic save, provenance attributes, posterior queries.

Fits are built without MCMC: the suite's fake sampler (tests/conftest.py) is injected.
"""

import json
from importlib import metadata

import numpy as np
import pymc as pm
import pytest
import xarray as xr

from models.bayes import sampling
from models.bayes.diagnostics import GATES
from models.bayes.fit import Fit, load_fit
from models.priors import effect_prior, tau_prior
from models.tables import BinaryTable

TP = tau_prior("turner2015_mortality_pharma")
EP = effect_prior("weakly_informative")
TABLE = BinaryTable(("shu2020", "lanzoni2021", "zhu2021"), [0, 2, 0], [12, 12, 29], [3, 7, 2], [29, 12, 29])


@pytest.fixture
def fit(fake_sampler) -> Fit:
    return sampling.fit_binomial_normal(TABLE, TP, EP, seed=7, draws=300, prior_draws=500, label="test fit",
                                        sampler=fake_sampler)  # fmt: skip


def test_round_trip_keeps_draws_labels_and_provenance(fit, tmp_path):
    path = fit.save(tmp_path / "fit.nc")
    assert path == tmp_path / "fit.nc"
    tree = load_fit(path)
    for group in ("posterior", "prior", "observed_data", "constant_data", "log_likelihood", "sample_stats"):
        xr.testing.assert_allclose(tree[group].to_dataset(), fit.idata[group].to_dataset())
    assert list(tree["posterior"]["study"].values) == list(TABLE.study)
    attrs = tree.attrs
    assert attrs["model"] == "binomial_normal" and attrs["measure"] == "OR" and attrs["label"] == "test fit"
    assert attrs["tau_prior_key"] == TP.key and attrs["tau_prior"] == str(TP)
    assert attrs["effect_prior_key"] == EP.key
    assert json.loads(attrs["tau_prior_spec"]) == {"family": "lognormal_tau2", "params": {"m": -3.95, "s": 1.34}}
    assert json.loads(attrs["settings"]) == fit.settings
    assert attrs["seed"] == 7
    assert attrs["data_hash"] == fit.data_hash
    assert json.loads(attrs["package_versions"])["pymc"] == pm.__version__
    assert json.loads(attrs["study"]) == list(TABLE.study)
    assert json.loads(attrs["gates"]) == GATES  # the gates the fit was judged by (the default gates here)
    assert attrs["project_version"] == metadata.version("msc-reanalysis")


def test_failed_write_leaves_no_file(fit, tmp_path, monkeypatch):
    def broken_write(self, path, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"\x89HDF partial")
        raise OSError("disk full")

    monkeypatch.setattr(xr.DataTree, "to_netcdf", broken_write)
    with pytest.raises(OSError, match="disk full"):
        fit.save(tmp_path / "fit.nc")
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_the_previous_file(fit, tmp_path, monkeypatch):
    path = fit.save(tmp_path / "fit.nc")
    before = path.read_bytes()

    def broken_write(self, path, **kwargs):
        raise OSError("interrupted")

    monkeypatch.setattr(xr.DataTree, "to_netcdf", broken_write)
    with pytest.raises(OSError, match="interrupted"):
        fit.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fit.nc"]


def test_save_and_load_name_the_bad_path(fit, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fit.save(tmp_path / "missing" / "fit.nc")
    with pytest.raises(FileNotFoundError, match="no fit file"):
        load_fit(tmp_path / "nothing.nc")


def test_posterior_queries_the_fit_draws(fit):
    post = fit.posterior(seed=1)
    mu = fit.idata["posterior"]["mu"].values
    assert post.n_draws == mu.size
    assert post.prob_below(1.0) == pytest.approx(np.mean(mu < 0.0))


def test_unknown_model_rejected(fit):
    with pytest.raises(ValueError, match="model must be one of"):
        Fit(**{**fit.__dict__, "model": "poisson"})
