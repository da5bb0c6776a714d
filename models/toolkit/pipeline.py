"""Run every analysis of a specification: what the ``fit`` command computes before anything is drawn or written.

Exact first: the prior grid (every model x tau prior x effect prior), leave-one-out and cumulative analyses under the
primary priors, the summary-level reanalysis of the published estimate and the absolute effects are all exact
(quadrature or closed form); the primary exact posterior is then written as ArviZ NetCDF from exact independent draws
(:mod:`models.toolkit.draws`, ``fits/<model>__primary.nc``). MCMC runs only where no exact engine exists (the
meta-regression, when covariates are named) or when asked (``mcmc``: the primary model sampled, reported beside its
exact twin with their difference in MCSE units). A progress bar on stderr counts the steps.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from models.bayes.absolute import AbsoluteEffect
from models.bayes.posterior import Posterior
from models.prior_policy import PriorPair, sensitivity_grid
from models.priors import EffectPrior, TauPrior
from models.results import ALL_STUDIES, Frequentist, Kind, Result, find
from models.results.summarise import random_effects
from models.settings import Settings
from models.toolkit import analyses
from models.toolkit.draws import CHAINS, DRAWS_PER_CHAIN, exact_draws, write_exact_draws
from models.toolkit.spec import MetaAnalysisSpec

if TYPE_CHECKING:  # PyMC is imported only when a model is sampled
    from models.toolkit.mcmc import SampledFit

Retry = tuple[str, tuple[str, ...], bool]
"""A fit that failed its gates at the first attempt: (label, failures, whether the retry passed)."""

EXACT_DRAWS_SEED = "exact draws of the primary posterior"
"""The label of the exact draws' random stream (:meth:`models.settings.Settings.seed_for`)."""


@dataclass(frozen=True)
class Reanalysis:
    """Everything computed for one specification."""

    spec: MetaAnalysisSpec
    settings: Settings
    taus: tuple[TauPrior, ...]
    effects: tuple[EffectPrior, ...]
    results: tuple[Result, ...]
    cumulative: tuple[analyses.CumulativeStep, ...]
    posterior: Posterior
    """The primary model's exact posterior (primary priors, all studies): figures and the ArviZ file use it."""
    draws: Mapping[str, np.ndarray]
    """Exact independent draws of :attr:`posterior` (mu, tau, theta, theta_new; analysis scale)."""
    exact_file: str
    """The ArviZ NetCDF file of :attr:`draws`, relative to the results folder."""
    fits: tuple[SampledFit, ...]
    wall_seconds: float
    mcmc: bool = False
    """Whether the primary model was also sampled (``--mcmc``)."""
    quick: bool = False
    """Whether MCMC ran with the smoke-test settings (``--quick``)."""
    retried: tuple[Retry, ...] = ()
    """Fits that failed their gates at the first attempt."""
    frequentist: Frequentist | None = None
    """The frequentist random-effects result on the effect table (REML, Wald interval), None for one study."""
    frequentist_note: str = ""
    """Why there is no frequentist result (empty when there is one)."""

    @property
    def primary(self) -> Result:
        """The bottom-line result: the primary model and priors on all studies (exact)."""
        (result,) = find(
            self.results,
            model=analyses.primary_model(self.spec),
            tau_prior=self.spec.tau_prior.key,
            effect_prior=self.spec.effect_prior.key,
            analysis=ALL_STUDIES,
        )
        return result

    @property
    def absolute(self) -> tuple[AbsoluteEffect, ...]:
        """The primary model's pooled effect at each stated control risk (events per 1,000)."""
        return tuple(r.absolute for r in self.results if r.kind is Kind.ABSOLUTE and r.absolute is not None)

    @property
    def primary_pair(self) -> PriorPair:
        return PriorPair(self.spec.tau_prior, self.spec.effect_prior)

    @property
    def failed_fits(self) -> tuple[SampledFit, ...]:
        return tuple(f for f in self.fits if not f.fit.diagnostics.passed)


def reanalyse(spec: MetaAnalysisSpec, settings: Settings, out: Path, *, mcmc: bool = False, quick: bool = False
              ) -> Reanalysis:  # fmt: skip
    """Run all analyses of ``spec`` (module docstring); files go under ``out/fits/``."""
    started = time.perf_counter()
    taus, effects = sensitivity_grid(spec.measure, PriorPair(spec.tau_prior, spec.effect_prior))
    n_mcmc = int(mcmc) + bool(spec.covariates)
    total = len(taus) * len(effects) + spec.k + (spec.k if spec.year is not None else 0) + 1 + n_mcmc
    results: list[Result] = []
    frequentist, note = random_effects(spec.effects)
    primary = (spec.tau_prior.key, spec.effect_prior.key)
    with tqdm(total=total, desc="reanalyse", unit="step", file=sys.stderr, disable=not settings.progress) as bar:
        tick = bar.update
        results += analyses.prior_grid_results(spec, taus, effects, tick, frequentist)
        results += analyses.leave_one_out(spec, tick)
        steps = tuple(analyses.cumulative(spec, tick))
        results += [s.result for s in steps]
        if spec.published is not None:
            about = analyses.context(spec, ())
            results += analyses.published_results(spec.published, spec.direction, taus, effects, primary=primary,
                                                  about=about)  # fmt: skip
            if spec.published_fixed_effect:
                results += analyses.published_results(spec.published, spec.direction, taus, effects,
                                                      fixed_effect_k=spec.k, primary=primary, about=about)  # fmt: skip
        model = analyses.primary_model(spec)
        posterior = analyses.primary_posterior(spec)
        (pooled,) = find(results, model=model, tau_prior=primary[0], effect_prior=primary[1], analysis=ALL_STUDIES)
        results += analyses.absolute_results(spec, pooled, posterior)
        bar.set_postfix_str("exact draws")
        exact_file = f"fits/{model}__primary.nc"
        seed = settings.seed_for(EXACT_DRAWS_SEED)
        draws = exact_draws(posterior, n=CHAINS * DRAWS_PER_CHAIN, seed=seed)
        write_exact_draws(draws, posterior, spec, model, out / exact_file, seed=seed)
        tick()
        fits, retried = _sampled(spec, settings, out, posterior, bar, twin=mcmc, quick=quick)
        for fit in fits:
            results += fit.results
    return Reanalysis(spec, settings, taus, effects, tuple(results), steps, posterior, draws, exact_file, fits,
                      time.perf_counter() - started, mcmc, quick, retried, frequentist, note)  # fmt: skip


def _sampled(spec: MetaAnalysisSpec, settings: Settings, out: Path, posterior: Posterior, bar: tqdm, *, twin: bool,
             quick: bool) -> tuple[tuple[SampledFit, ...], tuple[Retry, ...]]:  # fmt: skip
    """The MCMC fits: the primary model beside its exact twin (``twin``), the meta-regression (covariates)."""
    if not (twin or spec.covariates):
        return (), ()
    from models.toolkit import mcmc as sampled

    fits = []
    with sampled.policy(out, quick=quick, seed=settings.seed) as policy:
        if twin:
            bar.set_postfix_str("MCMC, primary priors")
            fits.append(sampled.primary_fit(spec, policy, posterior, seed=settings.seed))
            bar.update()
        if spec.covariates:
            bar.set_postfix_str("MCMC, meta-regression")
            fits.append(sampled.regression_fit(spec, policy, seed=settings.seed))
            bar.update()
    return tuple(fits), tuple(policy.retried)
