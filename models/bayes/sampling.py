"""Compile-once, seeded sampling of the hierarchical models with nutpie, and assembly of the :class:`Fit`.

A toolkit run makes hundreds of fits (prior grids x study sets x leave-one-out); compiling a PyMC model for nutpie
takes seconds, sampling it well under one. So each model *structure* -- (model kind, number of study slots, number
of covariates) -- is compiled once per process and kept in a module-level cache; every fit swaps its data and prior
parameters in with ``compiled.with_data(...)``. Studies are padded to a bucket of slots (8, 16, 32, ...; see
:func:`n_slots_for`) because ``with_data`` cannot change array lengths; padding is dropped from every output.

Reproducibility: every fit is seeded (``nutpie.sample(seed=...)``); the same seed gives identical draws in the same
process, and across processes once numba's on-disk cache is warm. On a cold cache the first run of a freshly
compiled model may give different (equally valid) draws for the same seed, because PyTensor compiles its numba
kernels with fastmath; results are then reproducible only up to Monte Carlo error.

The ``prior`` group is drawn from the prior objects (``TauPrior.rvs``, ``EffectPrior.rvs``, normal draws for
``z``, ``beta`` and ``alpha``) and pushed through the model's deterministic relations, not from
``pm.sample_prior_predictive``, which cannot sample the Flat ``log_tau`` nor see the Potential that holds its
prior. Pointwise log-likelihoods (one value per study and draw) are computed in numpy from the draws.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from models.bayes.binomial_normal import binomial_normal_data, build_binomial_normal
from models.bayes.diagnostics import GATES, diagnose
from models.bayes.fit import Fit
from models.bayes.normal_normal import (
    BETA_SD_DEFAULT,
    PAD_PREFIX,
    EffectTableLike,
    build_normal_normal,
    covariate_matrix,
    normal_normal_data,
)
from models.priors import BASELINE_SD_DEFAULT, EffectPrior, TauPrior
from models.tables import BinaryTable

DRAWS = 2000
"""Default post-tuning draws per chain.

Measured on five prior/study-set combinations of the MSC data x 3 seeds (symmetric binomial-normal model,
target_accept 0.95): 2000 draws after 1000 tuning steps gave a smallest bulk/tail ESS of 1407 and 1 divergent
transition in 15 fits, at 0.65 s per fit; 3000 draws gave 1856 at 0.86 s. (With the earlier control-arm-reference
parametrisation, 2000 draws left the tail ESS of tau below 1000 under a HalfCauchy(1) prior.)"""
TUNE = 400
"""Default tuning draws per chain. Measured on the whole main job (57-58 binomial-normal fits, symmetric model):
1000, 600 and 400 tuning draws all gave 0 divergences (smallest bulk/tail ESS 1121 with 600, 1189 with 400), and
each step down saved time. nutpie's own default is 300."""
CHAINS = 4
TARGET_ACCEPT = 0.95
"""nutpie's default 0.8, and 0.9, left 1-3 divergences in some seeds on the 9-study MSC mortality set; 0.95 none."""
PRIOR_DRAWS = 2000
"""Draws in the ``prior`` group."""
MIN_COVARIATES = 2
"""Smallest number of covariate columns (zero-padded): plain fits and two-covariate meta-regressions share a
compiled structure."""
MIN_SLOTS = 16
"""Smallest number of study slots: every MSC study set (at most 15 studies) shares one compiled structure."""

_CACHE: dict[tuple[str, int, int], Any] = {}
"""Compiled nutpie models by structure (model kind, number of study slots, number of covariates)."""


def n_slots_for(k: int) -> int:
    """Number of study slots for ``k`` studies: the smallest power of two that is >= max(k, MIN_SLOTS)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    n = MIN_SLOTS
    while n < k:
        n *= 2
    return n


def compiled_structures() -> tuple[tuple[str, int, int], ...]:
    """Keys of the compiled structures currently cached."""
    return tuple(_CACHE)


def clear_cache() -> None:
    """Forget every compiled structure (the next fit of each structure compiles again)."""
    _CACHE.clear()


class Sampler(Protocol):
    """What the fit functions need from an MCMC engine: compile a model structure once, then sample it with data.

    The default is :data:`NUTPIE`; a test injects a fake (``sampler=``) to check everything around sampling.
    """

    name: str

    def compile(self, key: tuple[str, int, int], build: Callable[[], Any]) -> Any: ...

    def sample(
        self,
        compiled: Any,
        data: Mapping[str, np.ndarray],
        *,
        seed: int,
        draws: int,
        tune: int,
        chains: int,
        target_accept: float,
        cores: int,
    ) -> xr.DataTree: ...


class NutpieSampler:
    """nutpie's NUTS on a PyMC model compiled once per structure (cached in this process)."""

    name = "nutpie"

    def compile(self, key: tuple[str, int, int], build: Callable[[], Any]) -> Any:
        """The cached compiled model of structure ``key``, compiling ``build()`` on first use."""
        if key not in _CACHE:
            import nutpie

            _CACHE[key] = nutpie.compile_pymc_model(build())
        return _CACHE[key]

    def sample(
        self,
        compiled: Any,
        data: Mapping[str, np.ndarray],
        *,
        seed: int,
        draws: int,
        tune: int,
        chains: int,
        target_accept: float,
        cores: int,
    ) -> xr.DataTree:
        """Sample the compiled model with ``data``; an incomplete trace (Ctrl-C inside nutpie) is an interruption."""
        import nutpie

        tree = nutpie.sample(
            compiled.with_data(**data),
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=int(seed),
            target_accept=target_accept,
            progress_bar=False,
            save_warmup=False,
        )
        # nutpie turns Ctrl-C into an aborted sampler and returns the draws it has: a short fit must never pass as
        # a whole one, so an incomplete trace is an interruption.
        got = tree["posterior"].sizes
        if got.get("chain", 0) != chains or got.get("draw", 0) != draws:
            raise KeyboardInterrupt(f"sampling stopped early: {dict(got)} of {chains} chains x {draws} draws")
        return tree


NUTPIE = NutpieSampler()


def _check_run_args(seed: int, draws: int, tune: int, chains: int, target_accept: float) -> None:
    for name, value, low in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1), ("seed", seed, 0)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if not 0.0 < target_accept < 1.0:
        raise ValueError(f"target_accept must be strictly between 0 and 1, got {target_accept!r}")


def data_hash(
    kind: str, study: Sequence[str], arrays: Mapping[str, np.ndarray], covariates: pd.DataFrame | None
) -> str:
    """SHA-256 over the model kind, study labels, input arrays (real studies only) and covariates."""
    h = hashlib.sha256()
    h.update(json.dumps({"model": kind, "study": list(study)}).encode())
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        h.update(name.encode() + str(arr.dtype).encode() + str(arr.shape).encode() + arr.tobytes())
    x, labels = covariate_matrix(covariates, study)
    h.update(json.dumps(list(labels)).encode() + np.ascontiguousarray(x).tobytes())
    return h.hexdigest()


# -- output assembly -----------------------------------------------------------------------------------------------


def _real_studies(ds: xr.Dataset, study: Sequence[str], cov_labels: Sequence[str]) -> xr.Dataset:
    """Drop padded study slots and padded covariates; put the real labels on the study and covariate coordinates."""
    if "study" in ds.dims:
        ds = ds.isel(study=slice(0, len(study))).assign_coords(study=list(study))
    if "covariate" in ds.dims:
        if cov_labels:
            ds = ds.isel(covariate=slice(0, len(cov_labels))).assign_coords(covariate=list(cov_labels))
        else:
            ds = ds.drop_vars([v for v in ds.data_vars if "covariate" in ds[v].dims])
            ds = ds.drop_dims("covariate") if "covariate" in ds.dims else ds.drop_vars("covariate", errors="ignore")
    return ds


def pad_covariates(covariates: pd.DataFrame | None, study: Sequence[str]) -> pd.DataFrame:
    """Covariates padded with all-zero columns up to :data:`MIN_COVARIATES`, so that fits with and without a
    meta-regression share one compiled structure. A zero column leaves the likelihood unchanged, so its slope is
    sampled from its prior; padded slopes are dropped from every output (and from the diagnostics)."""
    frame = pd.DataFrame(index=list(study)) if covariates is None else covariates
    pads = {f"{PAD_PREFIX}cov{j}__": 0.0 for j in range(max(0, MIN_COVARIATES - frame.shape[1]))}
    return frame.assign(**pads) if pads else frame


def _sample_stats(stats: xr.Dataset) -> xr.Dataset:
    """Numeric sampler statistics (object-typed messages dropped: NetCDF cannot hold them)."""
    keep = [v for v in stats.data_vars if stats[v].dtype != object]
    return stats[keep]


def _prior_draws(
    kind: str,
    k: int,
    x: np.ndarray,
    cov_labels: Sequence[str],
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    *,
    seed: int,
    n: int,
    beta_sd: float,
    baseline_sd: float,
) -> dict[str, np.ndarray]:
    """Draws from the prior (1 chain x ``n`` draws) of the variables the posterior holds."""
    rng = np.random.default_rng([seed, 2024])
    mu = effect_prior.rvs(n, rng)
    tau = tau_prior.rvs(n, rng)
    z = rng.standard_normal((n, k))
    linear = mu[:, None] + np.zeros((1, k))
    out: dict[str, np.ndarray] = {"mu": mu, "tau": tau, "log_tau": np.log(tau), "z": z}
    if len(cov_labels):
        beta = rng.normal(0.0, beta_sd, size=(n, len(cov_labels)))
        linear = linear + beta @ x.T
        out["beta"] = beta
    out["theta"] = linear + tau[:, None] * z
    if kind == "binomial_normal":
        alpha = rng.normal(0.0, baseline_sd, size=(n, k))
        logit_p0 = (alpha - out["theta"] / 2).mean(axis=1)
        out["alpha"] = alpha
        out["baseline_risk"] = special.expit(logit_p0)
        out["rr"] = np.exp(special.log_expit(logit_p0 + mu) - special.log_expit(logit_p0))  # no 0/0 in the tails
    return {name: value[None, ...] for name, value in out.items()}


def _as_dataset(draws: Mapping[str, np.ndarray], study: Sequence[str], cov_labels: Sequence[str]) -> xr.Dataset:
    dims = {"z": "study", "theta": "study", "alpha": "study", "beta": "covariate"}
    data_vars = {
        name: (("chain", "draw", dims[name]) if name in dims else ("chain", "draw"), value)
        for name, value in draws.items()
    }
    ds = xr.Dataset(data_vars)
    ds = ds.assign_coords(chain=np.arange(ds.sizes["chain"]), draw=np.arange(ds.sizes["draw"]), study=list(study))
    if "covariate" in ds.dims:
        ds = ds.assign_coords(covariate=list(cov_labels))
    return ds


def binomial_loglik(posterior: xr.Dataset, e_t, n_t, e_c, n_c) -> xr.DataArray:
    """Pointwise log-likelihood per study and draw: log Binom(e_t | n_t, p_t) + log Binom(e_c | n_c, p_c).

    Symmetric parametrisation (see :mod:`models.bayes.binomial_normal`): logit p_t = alpha + theta / 2,
    logit p_c = alpha - theta / 2.
    """
    alpha = posterior["alpha"]
    theta = posterior["theta"]
    arms = {
        name: xr.DataArray(np.asarray(a, dtype=float), dims="study")
        for name, a in (("e_t", e_t), ("n_t", n_t), ("e_c", e_c), ("n_c", n_c))
    }

    def arm(e: xr.DataArray, n: xr.DataArray, logit_p: xr.DataArray) -> xr.DataArray:
        log_choose = special.gammaln(n + 1) - special.gammaln(e + 1) - special.gammaln(n - e + 1)
        return log_choose + e * special.log_expit(logit_p) + (n - e) * special.log_expit(-logit_p)

    return arm(arms["e_t"], arms["n_t"], alpha + theta / 2) + arm(arms["e_c"], arms["n_c"], alpha - theta / 2)


def normal_loglik(posterior: xr.Dataset, y, v) -> xr.DataArray:
    """Pointwise log-likelihood per study and draw: log N(y_i | theta_i, v_i)."""
    y = xr.DataArray(np.asarray(y, dtype=float), dims="study")
    v = xr.DataArray(np.asarray(v, dtype=float), dims="study")
    return -0.5 * (np.log(2 * np.pi * v) + (y - posterior["theta"]) ** 2 / v)


def _study_dataset(arrays: Mapping[str, np.ndarray], study: Sequence[str]) -> xr.Dataset:
    return xr.Dataset({name: ("study", np.asarray(a)) for name, a in arrays.items()}, coords={"study": list(study)})


def _constant_data(
    arrays: Mapping[str, np.ndarray], study: Sequence[str], x: np.ndarray, cov_labels: Sequence[str]
) -> xr.Dataset:
    ds = _study_dataset(arrays, study)
    if len(cov_labels):
        ds["x"] = xr.DataArray(x, dims=("study", "covariate"), coords={"covariate": list(cov_labels)})
    return ds


def _assemble(
    *,
    kind: str,
    measure: str,
    raw: xr.DataTree,
    study: tuple[str, ...],
    x: np.ndarray,
    cov_labels: tuple[str, ...],
    observed: Mapping[str, np.ndarray],
    constant: Mapping[str, np.ndarray],
    loglik: Callable[[xr.Dataset], xr.DataArray],
    loglik_name: str,
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    settings: dict[str, Any],
    hash_: str,
    label: str,
    gates: Mapping[str, float],
) -> Fit:
    posterior = _real_studies(raw["posterior"].to_dataset(), study, cov_labels)
    stats = _sample_stats(raw["sample_stats"].to_dataset())
    prior = _as_dataset(
        _prior_draws(
            kind,
            len(study),
            x,
            cov_labels,
            tau_prior,
            effect_prior,
            seed=settings["seed"],
            n=settings["prior_draws"],
            beta_sd=settings["beta_sd"],
            baseline_sd=settings.get("baseline_sd", BASELINE_SD_DEFAULT),
        ),
        study,
        cov_labels,
    )
    groups = {
        "posterior": posterior,
        "prior": prior,
        "observed_data": _study_dataset(observed, study),
        "constant_data": _constant_data(constant, study, x, cov_labels),
        "log_likelihood": loglik(posterior).rename(loglik_name).to_dataset().transpose("chain", "draw", "study"),
        "sample_stats": stats,
    }
    idata = xr.DataTree.from_dict({f"/{name}": ds for name, ds in groups.items()})
    return Fit(
        idata=idata,
        model=kind,
        measure=measure,
        study=study,
        tau_prior=tau_prior,
        effect_prior=effect_prior,
        settings={**settings, "gates": dict(gates)},  # the gates the fit was judged by, recorded with it
        data_hash=hash_,
        diagnostics=diagnose(posterior, stats, gates=gates),
        label=label,
    )


# -- public API ----------------------------------------------------------------------------------------------------


def fit_binomial_normal(
    table: BinaryTable,
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    *,
    covariates: pd.DataFrame | None = None,
    seed: int = 0,
    draws: int = DRAWS,
    tune: int = TUNE,
    chains: int = CHAINS,
    target_accept: float = TARGET_ACCEPT,
    baseline_sd: float = BASELINE_SD_DEFAULT,
    beta_sd: float = BETA_SD_DEFAULT,
    cores: int = 2,
    prior_draws: int = PRIOR_DRAWS,
    gates: Mapping[str, float] = GATES,
    label: str = "",
    sampler: Sampler = NUTPIE,
) -> Fit:
    """Fit the binomial-normal model (log-OR scale; see :mod:`models.bayes.binomial_normal`) to arm counts.

    ``covariates``: DataFrame indexed by study label, one standardised or 0/1-coded column per covariate, slopes
    ``beta ~ Normal(0, beta_sd)``. The first fit of a structure (number of study slots, number of covariates)
    compiles the model; later ones reuse it. Returns a :class:`Fit` with ``measure = "OR"``.
    """
    _check_run_args(seed, draws, tune, chains, target_accept)
    n_slots = n_slots_for(table.k)
    x, cov_labels = covariate_matrix(covariates, table.study)
    covariates = pad_covariates(covariates, table.study)
    data = binomial_normal_data(
        table, tau_prior, effect_prior, covariates=covariates, n_slots=n_slots, baseline_sd=baseline_sd, beta_sd=beta_sd
    )
    key = ("binomial_normal", n_slots, covariates.shape[1])
    compiled = sampler.compile(
        key,
        lambda: build_binomial_normal(
            table,
            tau_prior,
            effect_prior,
            covariates=covariates,
            n_slots=n_slots,
            baseline_sd=baseline_sd,
            beta_sd=beta_sd,
        ),
    )
    raw = sampler.sample(
        compiled, data, seed=seed, draws=draws, tune=tune, chains=chains, target_accept=target_accept, cores=cores
    )
    arms = {name: getattr(table, name) for name in ("e_t", "n_t", "e_c", "n_c")}
    settings = {
        "sampler": sampler.name,
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "seed": int(seed),
        "target_accept": target_accept,
        "n_slots": n_slots,
        "baseline_sd": float(baseline_sd),
        "beta_sd": float(beta_sd),
        "prior_draws": prior_draws,
    }
    return _assemble(
        kind="binomial_normal",
        measure="OR",
        raw=raw,
        study=table.study,
        x=x,
        cov_labels=cov_labels,
        observed={"e_t": arms["e_t"], "e_c": arms["e_c"]},
        constant={"n_t": arms["n_t"], "n_c": arms["n_c"]},
        loglik=lambda post: binomial_loglik(post, **arms),
        loglik_name="events",
        tau_prior=tau_prior,
        effect_prior=effect_prior,
        settings=settings,
        hash_=data_hash("binomial_normal", table.study, arms, covariates),
        label=label,
        gates=gates,
    )


def fit_normal_normal(
    effects: EffectTableLike,
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    *,
    covariates: pd.DataFrame | None = None,
    seed: int = 0,
    draws: int = DRAWS,
    tune: int = TUNE,
    chains: int = CHAINS,
    target_accept: float = TARGET_ACCEPT,
    beta_sd: float = BETA_SD_DEFAULT,
    cores: int = 2,
    prior_draws: int = PRIOR_DRAWS,
    gates: Mapping[str, float] = GATES,
    label: str = "",
    sampler: Sampler = NUTPIE,
) -> Fit:
    """Fit the normal-normal model (see :mod:`models.bayes.normal_normal`) to an effect table.

    ``effects`` is any object with ``study``, ``yi``, ``vi`` and ``measure`` (e.g. ``models.effects.EffectTable``);
    ``mu`` and ``theta`` are on the scale of ``yi`` (log scale for OR/RR). One study (``k = 1``) is allowed.
    """
    _check_run_args(seed, draws, tune, chains, target_accept)
    study = tuple(str(s) for s in effects.study)
    n_slots = n_slots_for(len(study))
    x, cov_labels = covariate_matrix(covariates, study)
    covariates = pad_covariates(covariates, study)
    data = normal_normal_data(effects, tau_prior, effect_prior, covariates=covariates, n_slots=n_slots, beta_sd=beta_sd)
    key = ("normal_normal", n_slots, covariates.shape[1])
    compiled = sampler.compile(
        key,
        lambda: build_normal_normal(
            effects, tau_prior, effect_prior, covariates=covariates, n_slots=n_slots, beta_sd=beta_sd
        ),
    )
    raw = sampler.sample(
        compiled, data, seed=seed, draws=draws, tune=tune, chains=chains, target_accept=target_accept, cores=cores
    )
    k = len(study)
    y, v = data["y"][:k], data["v"][:k]
    settings = {
        "sampler": sampler.name,
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "seed": int(seed),
        "target_accept": target_accept,
        "n_slots": n_slots,
        "beta_sd": float(beta_sd),
        "prior_draws": prior_draws,
    }
    return _assemble(
        kind="normal_normal",
        measure=str(effects.measure),
        raw=raw,
        study=study,
        x=x,
        cov_labels=cov_labels,
        observed={"y": y},
        constant={"v": v},
        loglik=lambda post: normal_loglik(post, y, v),
        loglik_name="y",
        tau_prior=tau_prior,
        effect_prior=effect_prior,
        settings=settings,
        hash_=data_hash("normal_normal", study, {"y": y, "v": v}, covariates),
        label=label,
        gates=gates,
    )
