"""The exact (MCMC-free) analyses of a specification: prior grid, leave-one-out, cumulative, published estimate.

The kinds themselves are :mod:`models.toolkit.kinds` (shared with the MSC job); this module supplies the
specification's models and turns their posteriors into :class:`~models.results.Result` objects
(:mod:`models.results.summarise`).

Binomial-normal posteriors are computed by quadrature on the arm counts (``models.bayes.exact_binomial``; one
likelihood object reused across priors), normal-normal posteriors by quadrature on the effect table
(``models.bayes.exact``), the published estimate in closed form (``models.bayes.summary_level``). The binomial-normal
model is on the log-OR scale; it is run when the data are 2x2 and the measure is a ratio (for RR its rows say OR).
The pooled all-studies rows carry the frequentist random-effects result on the effect table beside the Bayesian one
(metafor's ``rma``: REML, Wald interval).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from models.bayes.exact import exact_from_effects
from models.bayes.exact_binomial import BinomialLikelihood
from models.bayes.posterior import Posterior
from models.priors import EffectPrior, TauPrior
from models.results import (
    ALL_STUDIES,
    Context,
    Direction,
    Frequentist,
    Kind,
    Method,
    PublishedFigure,
    Result,
    ResultKey,
)
from models.results.summarise import at_control_risk, summarise
from models.toolkit import kinds
from models.toolkit.spec import MetaAnalysisSpec, PublishedEstimate

BINOMIAL_EXACT = "binomial_normal_exact"
NORMAL_EXACT = "normal_normal_exact"
SUMMARY_LEVEL = "summary_level"
SUMMARY_LEVEL_RE = "summary_level_re"
"""The published estimate's fixed-effect CI widened by tau^2/k (the model name the MSC job uses too)."""
Tick = Callable[[], None]


def uses_counts(spec: MetaAnalysisSpec) -> bool:
    """Whether the binomial-normal model is fitted (2x2 data and a ratio measure)."""
    return spec.counts is not None and spec.is_ratio


def primary_model(spec: MetaAnalysisSpec) -> str:
    """The model behind the bottom line, leave-one-out and cumulative analyses."""
    return BINOMIAL_EXACT if uses_counts(spec) else NORMAL_EXACT


def _key(model: str, tau: TauPrior, effect: EffectPrior, analysis: str = ALL_STUDIES) -> ResultKey:
    return ResultKey(analysis, model, tau.key, effect.key)


def published_figure(spec: MetaAnalysisSpec) -> PublishedFigure | None:
    """The published estimate set beside every result (reported scale), when one was given."""
    pub = spec.published
    return None if pub is None else PublishedFigure(pub.estimate, pub.ci_low, pub.ci_high)


def context(spec: MetaAnalysisSpec, studies: tuple[str, ...], subject: str = "") -> Context:
    """What a result of ``spec`` on ``studies`` is about (a variant of all studies when ``subject`` is given)."""
    return Context(source=spec.source, title=spec.title, studies=tuple(studies), parent=ALL_STUDIES if subject else "",
                   subject=subject, published=published_figure(spec))  # fmt: skip


def _exact(spec: MetaAnalysisSpec, post: Posterior, key: ResultKey, k: int, studies: tuple[str, ...], *,
           kind: Kind = Kind.POOLED, subject: str = "", frequentist: Frequentist | None = None) -> Result:  # fmt: skip
    tau, effect = key.tau_prior, key.effect_prior
    return summarise(post, key, spec.direction, method=Method.EXACT_QUADRATURE, k=k, kind=kind,
                     context=context(spec, studies, subject), frequentist=frequentist,
                     primary_priors=(tau, effect) == (spec.tau_prior.key, spec.effect_prior.key))  # fmt: skip


def prior_grid_results(
    spec: MetaAnalysisSpec,
    taus: tuple[TauPrior, ...],
    effects: tuple[EffectPrior, ...],
    tick: Tick,
    frequentist: Frequentist | None = None,
) -> Iterator[Result]:
    """Every model under every tau x effect prior pair, all studies (each row with ``frequentist`` beside it)."""
    lik = BinomialLikelihood(spec.counts) if uses_counts(spec) else None
    for tau, effect, post in kinds.prior_grid(taus, effects, lambda t, e: exact_from_effects(spec.effects, t, e)):
        yield _exact(spec, post, _key(NORMAL_EXACT, tau, effect), spec.effects.k, spec.effects.study,
                     frequentist=frequentist)  # fmt: skip
        if lik is not None:
            yield _exact(spec, lik.posterior(tau, effect), _key(BINOMIAL_EXACT, tau, effect), spec.k, spec.study,
                         frequentist=frequentist)  # fmt: skip
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
    """The primary model and priors with each study left out in turn (analysis ``without <study>``)."""
    model = primary_model(spec)
    for study, kept, post in kinds.leave_one_out(spec.study, lambda kept: _primary_or_none(spec, kept)):
        if post is not None:
            key = _key(model, spec.tau_prior, spec.effect_prior, f"without {study}")
            yield _exact(spec, post, key, len(kept), kept, kind=Kind.LEAVE_ONE_OUT, subject=study)
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
            key = _key(model, spec.tau_prior, spec.effect_prior, f"cumulative {step:03d} {cum.year} {added}")
            result = _exact(spec, cum.posterior, key, step, cum.studies, kind=Kind.CUMULATIVE,
                            subject=f"{cum.year} {added}")  # fmt: skip
            yield CumulativeStep(cum.year, added, result)
        tick()


def published_model(fixed_effect_k: int | None) -> str:
    """The model name of a summary-level result: at face value, or with a fixed-effect CI widened by tau^2/k."""
    return SUMMARY_LEVEL if fixed_effect_k is None else SUMMARY_LEVEL_RE


def published_results(
    published: PublishedEstimate,
    direction: Direction,
    taus: tuple[TauPrior, ...],
    effects: tuple[EffectPrior, ...],
    *,
    fixed_effect_k: int | None = None,
    primary: tuple[str, str] | None = None,
    about: Context | None = None,
) -> Iterator[Result]:
    """The summary-level reanalysis of the published estimate under every prior pair (closed form in mu; with
    ``fixed_effect_k`` a normal mixture over tau's prior, ``k`` = that k). ``primary``: the primary prior keys."""
    model = published_model(fixed_effect_k)
    method = Method.CLOSED_FORM if fixed_effect_k is None else Method.NORMAL_MIXTURE
    grid = kinds.published_estimate(published.estimate, published.ci_low, published.ci_high, published.measure, taus,
                                    effects, fixed_effect_k=fixed_effect_k)  # fmt: skip
    about = about or Context(published=PublishedFigure(published.estimate, published.ci_low, published.ci_high))
    for tau, effect, post in grid:
        k = 1 if fixed_effect_k is None else fixed_effect_k
        yield summarise(post, _key(model, tau, effect, "published"), direction, method=method, k=k,
                        kind=Kind.PUBLISHED, context=replace(about, studies=("published",)),
                        primary_priors=primary == (tau.key, effect.key))  # fmt: skip


def primary_posterior(spec: MetaAnalysisSpec) -> Posterior:
    """The primary model's exact posterior under the primary priors on all studies (the bottom line's)."""
    return _primary_posterior(spec, list(spec.study))


def absolute_results(spec: MetaAnalysisSpec, primary: Result, post: Posterior) -> tuple[Result, ...]:
    """The primary result (primary model and priors, all studies; ``post`` its posterior, :func:`primary_posterior`)
    at each of the spec's stated control risks: ``ABSOLUTE`` results keyed ``absolute_at_<risk key>``."""
    risks = spec.absolute_control_risks
    out = []
    for risk in risks:
        key = ResultKey(f"absolute_at_{risk.key}", primary.key.model, primary.key.tau_prior, primary.key.effect_prior)
        title = f"{spec.title}: at a control risk of {1000 * risk.risk:.0f} per 1,000 ({risk.label})"
        out.append(at_control_risk(primary, post, risk, key=key, title=title))
    return tuple(out)


def observed_effects(spec: MetaAnalysisSpec) -> dict[str, tuple[float, float, float]]:
    """Study -> observed effect and 95% CI on the reported scale (studies without an effect are absent)."""
    e = spec.effects
    z = 1.959963984540054
    lo, hi = e.yi - z * e.sei, e.yi + z * e.sei
    back = np.exp if spec.is_ratio else (lambda x: x)
    return {
        s: (float(back(y)), float(back(a)), float(back(b))) for s, y, a, b in zip(e.study, e.yi, lo, hi, strict=True)
    }
