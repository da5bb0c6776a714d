"""How a run fits its MCMC models: content key, seed, deduplication, one retry, and saving in the background.

* **Content key**: a fit is identified by what it depends on (model function, data, covariates, priors), so two
  analyses that ask for the same fit (e.g. a paper's candidate set that equals the evidence base) share it.
* **Seed**: from the run seed and the content key, so a fit's numbers do not depend on which other fits ran or in
  what order (``--only``).
* **Retry**: a fit that fails its convergence gates is run once more with a new seed, twice the draws and
  target_accept 0.99 (:data:`RETRY_SETTINGS`). The first attempt is never used; its failures are recorded on the
  retry (``settings["first_attempt_failures"]``) and in :attr:`FitPolicy.retried`. A failing retry is kept and
  flagged, and the run exits non-zero.
* **Saving**: NetCDF files and figures are written by one background thread while the next fit samples (each write
  atomic); leaving a ``with FitPolicy(...)`` block waits for every write and re-raises a failed one.

The fit function is injected (``fit_fn``), so a test can run a whole job with a fake sampler.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.bayes.fit import Fit
from models.bayes.sampling import DRAWS
from models.priors import EffectPrior, TauPrior

RETRY_SETTINGS = {"target_accept": 0.99}
"""Sampler settings of the one retry a fit gets when it fails its gates (draws are doubled as well)."""

FitFunction = Callable[..., Fit]
"""``fit_fn(data, tau_prior, effect_prior, *, seed, label, **sampler_and_model_kwargs) -> Fit`` (e.g.
:func:`models.bayes.sampling.fit_binomial_normal`)."""


def fit_seed(seed: int, label: str) -> int:
    """A per-fit seed from the run seed and a stable hash of the fit's label or content key."""
    return (seed * 1_000_003 + zlib.crc32(label.encode())) % (2**31 - 1)


def content_key(kind: str, data: Any, covariates: pd.DataFrame | None, tp: TauPrior, ep: EffectPrior) -> str:
    """A stable text key of what a fit depends on: model, data (2x2 counts or effects), covariates and priors."""
    if hasattr(data, "e_t"):
        payload = [list(data.study), *(getattr(data, a).tolist() for a in ("e_t", "n_t", "e_c", "n_c"))]
    else:
        payload = [list(data.study), np.round(data.yi, 12).tolist(), np.round(data.vi, 12).tolist(), data.measure]
    cov = None if covariates is None else covariates.round(12).to_dict(orient="split")
    return hashlib.sha256(repr((kind, payload, cov, tp.key, tp.params, ep.key, ep.mean, ep.sd)).encode()).hexdigest()


def _model_name(fit_fn: FitFunction) -> str:
    """The fit function's name, also through ``functools.partial`` (e.g. a fit function with a sampler bound), so
    that two different models never share a content key."""
    while isinstance(fit_fn, functools.partial):
        fit_fn = fit_fn.func
    return getattr(fit_fn, "__name__", type(fit_fn).__name__)


@dataclass(frozen=True)
class SavedFit:
    """A fit and its NetCDF file's path relative to the results folder (``fits/<name>.nc``)."""

    fit: Fit
    path: str


class FitPolicy:
    """Fits MCMC models under the policy of the module docstring and saves them into ``fit_dir``."""

    def __init__(self, fit_fn: FitFunction, *, seed: int, sampler: dict[str, Any], fit_dir: Path) -> None:
        self.fit_fn = fit_fn
        self.seed = seed
        self.sampler = sampler
        self.fit_dir = Path(fit_dir)
        self.fits: list[tuple[str, Fit, str]] = []
        """Every fit used, in order: (label, fit, NetCDF file name)."""
        self.retried: list[tuple[str, tuple[str, ...], bool]] = []
        """Fits that failed at the first attempt: (label, failures, whether the retry passed)."""
        self._done: dict[str, SavedFit] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netcdf")
        self._writes: list[Future] = []

    def fit(
        self,
        data: Any,
        tp: TauPrior,
        ep: EffectPrior,
        *,
        label: str,
        name: str,
        fit_fn: FitFunction | None = None,
        **kw: Any,
    ) -> SavedFit:
        """Fit (or reuse an identical earlier fit with at least as many draws), save it, and return it.

        ``fit_fn`` overrides the policy's fit function for this fit (e.g. the normal-normal model for effect data);
        ``kw`` goes to the fit function (``covariates``, ``draws`` and model options).
        """
        fit_fn = self.fit_fn if fit_fn is None else fit_fn
        key = content_key(_model_name(fit_fn), data, kw.get("covariates"), tp, ep)
        sampler = {**self.sampler, **({"draws": kw.pop("draws")} if "draws" in kw else {})}
        done = self._done.get(key)
        if done is not None and done.fit.settings["draws"] >= sampler.get("draws", DRAWS):
            return done
        seed = fit_seed(self.seed, key)
        fit = fit_fn(data, tp, ep, seed=seed, label=label, **sampler, **kw)
        if not fit.diagnostics.passed:
            sampler = {**sampler, **RETRY_SETTINGS, "draws": 2 * sampler.get("draws", DRAWS)}
            retry = fit_fn(data, tp, ep, seed=(seed + 1) % (2**31 - 1), label=label, **sampler, **kw)
            retry.settings["first_attempt_failures"] = list(fit.diagnostics.failures)
            self.retried.append((label, fit.diagnostics.failures, retry.diagnostics.passed))
            fit = retry
        self.fit_dir.mkdir(parents=True, exist_ok=True)
        path = self.fit_dir / f"{name}.nc"
        self._writes.append(self._writer.submit(fit.save, path))
        self.fits.append((fit.label, fit, path.name))
        self._done[key] = SavedFit(fit, f"fits/{path.name}")
        return self._done[key]

    def in_background(self, write: Callable[..., Path], *args: Any) -> None:
        """Run a file write (e.g. rendering a figure) on the background writer thread."""
        self._writes.append(self._writer.submit(write, *args))

    def wait(self) -> None:
        """Wait for every background write (call in ``finally``: it raises nothing of the writes)."""
        self._writer.shutdown(wait=True)

    def check_writes(self) -> None:
        """Re-raise the first background write that failed (after :meth:`wait`)."""
        for write in self._writes:
            write.result()

    def __enter__(self) -> FitPolicy:
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        """Wait for every background write; when the block ended normally, re-raise a write that failed (an
        exception from the block itself is never masked by one from a write)."""
        self.wait()
        if exc_type is None:
            self.check_writes()
