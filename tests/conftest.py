"""The one fake sampler of the suite, injected into the fit functions with ``sampler=`` (no private function is
patched): independent normal draws laid out like nutpie's output (padded study slots with placeholder labels and pad
draws of 99, object-typed divergence messages), so that everything around MCMC is tested without MCMC."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import pytest
import xarray as xr
from scipy import special


class FakeSampler:
    """Draws shaped like nutpie's; records the structure key of every compile request in ``compiled``."""

    name = "fake"

    def __init__(self) -> None:
        self.compiled: list[tuple[str, int, int]] = []

    def compile(self, key: tuple[str, int, int], build: Callable[[], Any]) -> None:
        self.compiled.append(key)

    def sample(self, compiled: Any, data: Mapping[str, np.ndarray], *, seed: int, draws: int, chains: int,
               **_: Any) -> xr.DataTree:  # fmt: skip
        rng = np.random.default_rng(seed)
        n = data["mask"].shape[0]
        k = int(data["mask"].sum())
        shape = (chains, draws)
        mu = rng.normal(-0.5, 0.2, shape)
        tau = np.exp(rng.normal(-2.0, 0.5, shape))
        z = rng.standard_normal((*shape, n))
        z[..., k:] = 99.0
        post = {"mu": mu, "log_tau": np.log(tau), "tau": tau, "z": z, "theta": mu[..., None] + tau[..., None] * z}
        if "x" in data:
            post["beta"] = rng.normal(0.0, 0.3, (*shape, data["x"].shape[1]))
            post["theta"] = post["theta"] + post["beta"] @ data["x"].T
        if "e_t" in data:
            post["alpha"] = rng.normal(-1.0, 0.3, (*shape, n))
            post["baseline_risk"] = special.expit(post["alpha"][..., :k].mean(axis=-1))
            post["rr"] = rng.lognormal(-0.4, 0.1, shape)
        dims = {"z": ["study"], "theta": ["study"], "alpha": ["study"], "beta": ["covariate"]}
        ds = xr.Dataset({v: (["chain", "draw", *dims.get(v, [])], a) for v, a in post.items()})
        ds = ds.assign_coords(study=[f"slot{i}" for i in range(n)])
        stats = xr.Dataset(
            {
                "diverging": (("chain", "draw"), np.zeros(shape, dtype=bool)),
                "step_size": (("chain", "draw"), np.full(shape, 0.5)),
                "divergence_message": (("chain", "draw"), np.full(shape, None, dtype=object)),
            }
        )
        return xr.DataTree.from_dict({"/posterior": ds, "/sample_stats": stats})


@pytest.fixture
def fake_sampler() -> FakeSampler:
    """A fresh fake sampler (pass it as ``sampler=`` to the fit functions)."""
    return FakeSampler()


@pytest.fixture(scope="session")
def make_fake_sampler() -> type[FakeSampler]:
    """The fake sampler's class, for fixtures wider than one test (each makes its own instance)."""
    return FakeSampler


@pytest.fixture(scope="session")
def evidence_job(tmp_path_factory, make_fake_sampler):
    """(RunResult, the fake sampler, the output folder) of the evidence base's jobs (``--only evidence_base``, quick,
    fake sampler): one run of the MSC job for the whole session, read by the runner's, the report's, the figures' and
    the browser's tests instead of running the job again."""
    from models.bayes.sampling import fit_binomial_normal
    from models.msc.datasets import load_dataset
    from models.msc.runner import run_reanalysis
    from models.msc.state import RunSettings

    sampler = make_fake_sampler()
    out = tmp_path_factory.mktemp("evidence")
    result = run_reanalysis(load_dataset(), RunSettings(only="evidence_base", quick=True), out, progress=False,
                            fit_fn=partial(fit_binomial_normal, sampler=sampler))  # fmt: skip
    return result, sampler, out


@pytest.fixture(scope="session")
def evidence_run(evidence_job):
    """(RunResult, the fake sampler) of :func:`evidence_job`."""
    result, sampler, _ = evidence_job
    return result, sampler


@pytest.fixture(scope="session")
def evidence_outputs(evidence_job):
    """The folder of :func:`evidence_job` with summary.csv, report.md and report.html written."""
    from models.msc.outputs import write_outputs

    result, _, out = evidence_job
    write_outputs(result, out)
    return out
