"""The sampled (MCMC) fits of a specification, each saved as an ArviZ NetCDF file with its diagnostics and gate.

With ``--mcmc``, one fit under the primary priors (binomial-normal on the arm counts when there are counts and a
ratio measure, normal-normal on the effect table otherwise), reported beside its exact twin: the difference of the
posterior means of mu, MCMC minus exact, in units of the MCMC's Monte Carlo standard error (sd / sqrt(bulk ESS)), as
the MSC job reports it (``McmcCheck.exact_twin_diff_mcse``); |difference| above about 3 would point at the sampler.
When covariates are named, one meta-regression (no exact engine exists for it) with the covariates standardised
(slopes per SD; 0/1 covariates only centred) over the studies that have a value of every covariate (the others are
left out of the meta-regression only). ``quick`` settings are a smoke test.
Fits go through the fitting policy the MSC job uses (:class:`models.bayes.policy.FitPolicy`: seed from the run seed
and the fit's content, one retry with target_accept 0.99 and twice the draws when a fit fails its gates, saving in
the background).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from models.bayes.diagnostics import GATES
from models.bayes.fit import Fit
from models.bayes.policy import FitPolicy
from models.bayes.posterior import Posterior
from models.bayes.sampling import fit_binomial_normal, fit_normal_normal
from models.reader import Covariate
from models.results import ALL_STUDIES, Gate, Kind, McmcCheck, Method, Result, ResultKey
from models.results.summarise import summarise, summarise_draws
from models.toolkit.analyses import context, uses_counts
from models.toolkit.spec import MetaAnalysisSpec

QUICK = {"draws": 300, "tune": 300, "chains": 2, "gates": {"rhat_max": 1.05, "ess_min": 100, "divergences_max": 0}}
QUICK["prior_draws"] = 500
FULL = {"gates": GATES}


@dataclass(frozen=True)
class SampledFit:
    """An MCMC fit, where it was saved (relative to the results folder), and its results."""

    fit: Fit
    path: str
    results: tuple[Result, ...]

    @property
    def gate(self) -> Gate:
        return Gate.PASS if self.fit.diagnostics.passed else Gate.FAIL


def policy(out: Path, *, quick: bool, seed: int) -> FitPolicy:
    """The fitting policy of one ``fit`` run: fits saved under ``out/fits/``."""
    return FitPolicy(fit_binomial_normal, seed=seed, sampler=QUICK if quick else FULL, fit_dir=out / "fits")


def _fit(spec: MetaAnalysisSpec, covariates: pd.DataFrame | None, fits: FitPolicy, label: str, name: str):
    """The model of ``spec`` (binomial-normal on counts, normal-normal on effects) through the fitting policy."""
    counts = uses_counts(spec)
    model = "binomial_normal" if counts else "normal_normal"
    return fits.fit(spec.counts if counts else spec.effects, spec.tau_prior, spec.effect_prior, label=label,
                    name=f"{model}__{name}", covariates=covariates,
                    fit_fn=fit_binomial_normal if counts else fit_normal_normal)  # fmt: skip


def twin_difference(fit: Fit, exact: Posterior) -> float:
    """Posterior mean of mu (analysis scale), MCMC minus exact, in units of the MCMC's MCSE (sd / sqrt(bulk ESS))."""
    mu = fit.idata["posterior"]["mu"].to_numpy().ravel()
    mcse = float(np.std(mu, ddof=1)) / math.sqrt(float(fit.diagnostics.table.loc["mu", "ess_bulk"]))
    return (float(np.mean(mu)) - exact.log_mean()) / mcse


def primary_fit(spec: MetaAnalysisSpec, fits: FitPolicy, exact: Posterior, *, seed: int) -> SampledFit:
    """The model under the primary priors, all studies, beside ``exact`` (its exact twin); saved as
    ``fits/<model>__primary.nc`` (the exact twin's draws are ``fits/<model>_exact__primary.nc``)."""
    saved = _fit(spec, None, fits, f"{spec.title}: primary priors", "primary")
    fit, path = saved.fit, saved.path
    key = ResultKey(ALL_STUDIES, fit.model, spec.tau_prior.key, spec.effect_prior.key)
    counts = fit.model == "binomial_normal"
    k, studies = (spec.k, spec.study) if counts else (spec.effects.k, spec.effects.study)
    result = summarise(fit.posterior(seed=seed), key, spec.direction, method=Method.MCMC, k=k,
                       context=context(spec, studies), primary_priors=True,
                       mcmc=McmcCheck.of(fit.diagnostics, path, twin_difference(fit, exact)))  # fmt: skip
    return SampledFit(fit, path, (result,))


def _with_every_covariate(spec: MetaAnalysisSpec) -> MetaAnalysisSpec:
    """``spec`` restricted to the studies that have a value of every covariate (itself when all have)."""
    present = np.logical_and.reduce([c.present for c in spec.covariates])
    if present.all():
        return spec
    kept = [s for s, p in zip(spec.study, present, strict=True) if p]
    return replace(
        spec,
        effects=spec.effects.subset([s for s in kept if s in spec.effects.study]),
        counts=spec.counts.subset(kept) if spec.counts is not None else None,
        year=None,
        design=None,
        covariates=tuple(Covariate(c.name, tuple(np.asarray(c.values)[present])) for c in spec.covariates),
    )


def regression_fit(spec: MetaAnalysisSpec, fits: FitPolicy, *, seed: int) -> SampledFit:
    """Meta-regression on the spec's covariates: the pooled effect at the covariates' mean and one slope each (a
    ratio of ORs per SD of the covariate for ratio measures; 0/1 covariates only centred).

    Studies without a value of every covariate are left out of this fit only (the reader's note names them)."""
    spec = _with_every_covariate(spec)
    studies = spec.study if uses_counts(spec) else spec.effects.study
    index = [spec.study.index(s) for s in studies]
    columns = {c.name: c.standardised()[index] for c in spec.covariates}
    covariates = pd.DataFrame(columns, index=list(studies))
    saved = _fit(spec, covariates, fits, f"{spec.title}: meta-regression", "regression")
    fit, path = saved.fit, saved.path
    model = f"{fit.model}_regression"
    check = McmcCheck.of(fit.diagnostics, path)
    subject = "at covariate means"
    at_mean = summarise(fit.posterior(seed=seed), ResultKey(subject, model, spec.tau_prior.key, spec.effect_prior.key),
                        spec.direction, method=Method.MCMC, k=len(studies), kind=Kind.REGRESSION,
                        context=context(spec, studies, subject), primary_priors=True, mcmc=check)  # fmt: skip
    posterior = fit.idata["posterior"].to_dataset()
    tau = posterior["tau"].to_numpy().ravel()
    slope_direction = replace(spec.direction, measure=fit.measure, important=None)
    results = [at_mean]
    for name in columns:
        beta = posterior["beta"].sel(covariate=name).to_numpy().ravel()
        subject = f"slope per SD of {name}"
        results.append(summarise_draws(beta, tau, ResultKey(subject, model, spec.tau_prior.key, spec.effect_prior.key),
                                       slope_direction, measure=fit.measure, method=Method.MCMC, k=len(studies),
                                       kind=Kind.REGRESSION, context=context(spec, studies, subject),
                                       primary_priors=True, mcmc=check))  # fmt: skip
    return SampledFit(fit, path, tuple(results))
