"""Run every analysis of a specification: what the ``fit`` command computes before anything is drawn or written.

Order: the exact prior grid (every model x tau prior x effect prior), leave-one-out and cumulative analyses under the
primary priors, the summary-level reanalysis of the published estimate, then the MCMC fits (primary priors; the
meta-regression when covariates are named), each saved into ``out/fits/``. A progress bar on stderr counts the steps.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from models.bayes.absolute import AbsoluteEffect
from models.priors import EffectPrior, TauPrior
from models.results import ALL_STUDIES, Frequentist, Kind, Result, find
from models.results.summarise import random_effects
from models.toolkit import analyses, mcmc
from models.toolkit.prior_grid import prior_grid
from models.toolkit.spec import MetaAnalysisSpec


@dataclass(frozen=True)
class RunSettings:
    """How to run: seed of the samplers, ``quick`` (few draws, relaxed gates), ``mcmc`` (False: exact only)."""

    seed: int = 2026
    quick: bool = False
    mcmc: bool = True
    progress: bool = True


@dataclass(frozen=True)
class Reanalysis:
    """Everything computed for one specification."""

    spec: MetaAnalysisSpec
    settings: RunSettings
    taus: tuple[TauPrior, ...]
    effects: tuple[EffectPrior, ...]
    results: tuple[Result, ...]
    cumulative: tuple[analyses.CumulativeStep, ...]
    fits: tuple[mcmc.SampledFit, ...]
    wall_seconds: float
    retried: tuple[tuple[str, tuple[str, ...], bool], ...] = ()
    """Fits that failed their gates at the first attempt: (label, failures, whether the retry passed)."""
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
    def failed_fits(self) -> tuple[mcmc.SampledFit, ...]:
        return tuple(f for f in self.fits if not f.fit.diagnostics.passed)


def reanalyse(spec: MetaAnalysisSpec, settings: RunSettings, out: Path) -> Reanalysis:
    """Run all analyses of ``spec``; MCMC fits are saved under ``out/fits/``."""
    started = time.perf_counter()
    taus, effects = prior_grid(spec.measure, (spec.tau_prior, spec.effect_prior))
    n_mcmc = (1 + bool(spec.covariates)) if settings.mcmc else 0
    total = len(taus) * len(effects) + spec.k + (spec.k if spec.year is not None else 0) + n_mcmc
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
        (pooled,) = find(results, model=analyses.primary_model(spec), tau_prior=primary[0], effect_prior=primary[1],
                         analysis=ALL_STUDIES)  # fmt: skip
        results += analyses.absolute_results(spec, pooled)
        fits = []
        if settings.mcmc:
            with mcmc.policy(out, quick=settings.quick, seed=settings.seed) as policy:
                bar.set_postfix_str("MCMC, primary priors")
                fits.append(mcmc.primary_fit(spec, policy, seed=settings.seed))
                tick()
                if spec.covariates:
                    bar.set_postfix_str("MCMC, meta-regression")
                    fits.append(mcmc.regression_fit(spec, policy, seed=settings.seed))
                    tick()
            retried = tuple(policy.retried)
        else:
            retried = ()
        for fit in fits:
            results += fit.results
    return Reanalysis(spec, settings, taus, effects, tuple(results), steps, tuple(fits), time.perf_counter() - started,
                      retried, frequentist, note)  # fmt: skip
