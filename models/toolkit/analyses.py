"""The exact (MCMC-free) analyses of a specification: prior grid, leave-one-out, cumulative, published estimate.

The kinds themselves are :mod:`models.toolkit.kinds` (shared with the MSC job); this module supplies the
specification's models and turns their posteriors into :class:`~models.toolkit.results.Result` objects.

Binomial-normal posteriors are computed by quadrature on the arm counts (``models.bayes.exact_binomial``; one
likelihood object reused across priors), normal-normal posteriors by quadrature on the effect table
(``models.bayes.exact``), the published estimate in closed form (``models.bayes.summary_level``). The binomial-normal
model is on the log-OR scale; it is run when the data are 2x2 and the measure is a ratio (for RR its rows say OR).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from models.bayes.absolute import AbsoluteEffect, absolute_effect
from models.bayes.exact import exact_from_effects
from models.bayes.exact_binomial import BinomialLikelihood
from models.priors import EffectPrior, TauPrior
from models.toolkit import kinds
from models.toolkit.results import Kind, Result, ResultKey, summarise
from models.toolkit.spec import Direction, MetaAnalysisSpec, PublishedEstimate

BINOMIAL_EXACT = "binomial_normal_exact"
NORMAL_EXACT = "normal_normal_exact"
SUMMARY_LEVEL = "summary_level"
Tick = Callable[[], None]


def uses_counts(spec: MetaAnalysisSpec) -> bool:
    """Whether the binomial-normal model is fitted (2x2 data and a ratio measure)."""
    return spec.counts is not None and spec.is_ratio


def primary_model(spec: MetaAnalysisSpec) -> str:
    """The model behind the bottom line, leave-one-out and cumulative analyses."""
    return BINOMIAL_EXACT if uses_counts(spec) else NORMAL_EXACT


def _key(model: str, tau: TauPrior, effect: EffectPrior, variant: str | None = None) -> ResultKey:
    return ResultKey(model, tau.key, effect.key) if variant is None else ResultKey(model, tau.key, effect.key, variant)


def prior_grid_results(
    spec: MetaAnalysisSpec, taus: tuple[TauPrior, ...], effects: tuple[EffectPrior, ...], tick: Tick
) -> Iterator[Result]:
    """Every model under every tau x effect prior pair, all studies."""
    lik = BinomialLikelihood(spec.counts) if uses_counts(spec) else None
    for tau, effect, post in kinds.prior_grid(taus, effects, lambda t, e: exact_from_effects(spec.effects, t, e)):
        yield summarise(post, _key(NORMAL_EXACT, tau, effect), spec.direction, spec.effects.k)
        if lik is not None:
            yield summarise(lik.posterior(tau, effect), _key(BINOMIAL_EXACT, tau, effect), spec.direction, spec.k)
        tick()


def _primary_posterior(spec: MetaAnalysisSpec, studies: list[str]):
    if uses_counts(spec):
        return BinomialLikelihood(spec.counts.subset(studies)).posterior(spec.tau_prior, spec.effect_prior)
    kept = [s for s in studies if s in spec.effects.study]
    return exact_from_effects(spec.effects.subset(kept), spec.tau_prior, spec.effect_prior)


def _estimable(spec: MetaAnalysisSpec, studies: tuple[str, ...]) -> bool:
    """Whether the primary model has data on ``studies`` (the normal-normal model needs one study with an effect)."""
    return uses_counts(spec) or any(s in spec.effects.study for s in studies)


def _primary_or_none(spec: MetaAnalysisSpec, studies: tuple[str, ...]):
    """The primary posterior on ``studies``, or None when the model has no data there."""
    return _primary_posterior(spec, list(studies)) if _estimable(spec, studies) else None


def leave_one_out(spec: MetaAnalysisSpec, tick: Tick) -> Iterator[Result]:
    """The primary model and priors with each study left out in turn (variant ``without <study>``)."""
    model = primary_model(spec)
    for study, kept, post in kinds.leave_one_out(spec.study, lambda kept: _primary_or_none(spec, kept)):
        if post is not None:
            key = _key(model, spec.tau_prior, spec.effect_prior, f"without {study}")
            yield summarise(post, key, spec.direction, len(kept), kind=Kind.LEAVE_ONE_OUT, subject=study)
        tick()


@dataclass(frozen=True)
class CumulativeStep:
    """One step of the cumulative analysis: the study added, its year, and the posterior of all so far."""

    year: int
    study: str
    result: Result


def cumulative(spec: MetaAnalysisSpec, tick: Tick) -> Iterator[CumulativeStep]:
    """The primary model and priors over the studies up to each one, in order of year (then file order)."""
    if spec.year is None:
        return
    model = primary_model(spec)

    steps = kinds.cumulative(spec.study, spec.year, lambda kept: _primary_or_none(spec, kept))
    for step, cum in enumerate(steps, start=1):
        (added,) = cum.added
        if cum.posterior is not None:
            variant = f"cumulative {step:03d} {cum.year} {added}"
            result = summarise(cum.posterior, _key(model, spec.tau_prior, spec.effect_prior, variant), spec.direction,
                               step, kind=Kind.CUMULATIVE, subject=f"{cum.year} {added}")  # fmt: skip
            yield CumulativeStep(cum.year, added, result)
        tick()


def published_model(fixed_effect_k: int | None) -> str:
    """The model name of a summary-level result: at face value, or with a fixed-effect CI widened over k studies."""
    return SUMMARY_LEVEL if fixed_effect_k is None else f"{SUMMARY_LEVEL}_fixed_effect_k{fixed_effect_k}"


def published_results(
    published: PublishedEstimate,
    direction: Direction,
    taus: tuple[TauPrior, ...],
    effects: tuple[EffectPrior, ...],
    *,
    fixed_effect_k: int | None = None,
) -> Iterator[Result]:
    """The summary-level reanalysis of the published estimate under every prior pair (closed form in mu)."""
    model = published_model(fixed_effect_k)
    grid = kinds.published_estimate(published.estimate, published.ci_low, published.ci_high, published.measure, taus,
                                    effects, fixed_effect_k=fixed_effect_k)  # fmt: skip
    for tau, effect, post in grid:
        k = 1 if fixed_effect_k is None else fixed_effect_k
        yield summarise(post, _key(model, tau, effect, "published"), direction, k, kind=Kind.PUBLISHED)


def absolute_effects(spec: MetaAnalysisSpec) -> tuple[AbsoluteEffect, ...]:
    """The primary model's pooled effect (primary priors, all studies) at each of the spec's stated control risks."""
    risks = spec.absolute_control_risks
    if not risks:
        return ()
    post = _primary_posterior(spec, list(spec.study))
    return tuple(absolute_effect(post, risk) for risk in risks)


def observed_effects(spec: MetaAnalysisSpec) -> dict[str, tuple[float, float, float]]:
    """Study -> observed effect and 95% CI on the reported scale (studies without an effect are absent)."""
    e = spec.effects
    z = 1.959963984540054
    lo, hi = e.yi - z * e.sei, e.yi + z * e.sei
    back = np.exp if spec.is_ratio else (lambda x: x)
    return {
        s: (float(back(y)), float(back(a)), float(back(b))) for s, y, a, b in zip(e.study, e.yi, lo, hi, strict=True)
    }
