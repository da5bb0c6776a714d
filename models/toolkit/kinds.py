"""The analysis kinds every reanalysis runs, as posteriors: prior grid, leave-one-out, cumulative, published estimate.

Each kind is data-agnostic: it takes the study labels and a function that returns the model's posterior for a
subset of them (or for a prior pair), and yields posteriors with what they are. The ``fit`` command
(:mod:`models.toolkit.analyses`) and the MSC job (:mod:`models.msc.kinds`) both run their analyses through these
functions and only differ in how they summarise and label what comes out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from models.bayes.posterior import Posterior
from models.priors import EffectPrior, TauPrior

PosteriorOf = Callable[[tuple[str, ...]], Posterior]
"""The model's posterior (fixed priors) on the studies named, in the order given."""


def prior_grid(
    taus: Sequence[TauPrior],
    effects: Sequence[EffectPrior],
    posterior_under: Callable[[TauPrior, EffectPrior], Posterior],
) -> Iterator[tuple[TauPrior, EffectPrior, Posterior]]:
    """The posterior under every tau prior x effect prior (tau priors outer)."""
    for tau in taus:
        for effect in effects:
            yield tau, effect, posterior_under(tau, effect)


def leave_one_out(
    studies: Sequence[str], posterior_of: PosteriorOf
) -> Iterator[tuple[str, tuple[str, ...], Posterior]]:
    """(omitted study, studies kept, posterior without it) for each study in turn."""
    for omitted in studies:
        kept = tuple(s for s in studies if s != omitted)
        yield omitted, kept, posterior_of(kept)


@dataclass(frozen=True)
class CumulativeStep:
    """One step of a cumulative analysis: the year reached, the studies added at it, all studies so far."""

    year: int
    added: tuple[str, ...]
    studies: tuple[str, ...]
    posterior: Posterior


def cumulative(
    studies: Sequence[str],
    years: Sequence[int],
    posterior_of: PosteriorOf,
    *,
    by: str = "study",
    min_studies: int = 1,
) -> Iterator[CumulativeStep]:
    """The posterior of the studies up to each step, in order of year (then the order given); each step's studies
    are listed in the order given.

    ``by="study"`` adds one study per step (a classic cumulative meta-analysis plot); ``by="year"`` adds every study
    of a year at once (evidence as it stood at the end of each year). Steps with fewer than ``min_studies`` studies
    are skipped.
    """
    if by not in ("study", "year"):
        raise ValueError(f"by must be 'study' or 'year', got {by!r}")
    order = sorted(range(len(studies)), key=lambda i: (years[i], i))
    if by == "study":
        groups = [[i] for i in order]
    else:
        groups = [[i for i in order if years[i] == y] for y in sorted(set(years))]
    so_far: set[int] = set()
    for group in groups:
        so_far.update(group)
        if len(so_far) < min_studies:
            continue
        kept = tuple(studies[i] for i in sorted(so_far))
        yield CumulativeStep(int(years[group[0]]), tuple(studies[i] for i in group), kept, posterior_of(kept))


def published_estimate(
    estimate: float,
    ci_low: float,
    ci_high: float,
    measure: str,
    taus: Sequence[TauPrior],
    effects: Sequence[EffectPrior],
    *,
    fixed_effect_k: int | None = None,
    seed: int = 0,
) -> Iterator[tuple[TauPrior, EffectPrior, Posterior]]:
    """The summary-level posterior of one published pooled estimate (ratio scale for OR/RR) under every prior pair.

    ``fixed_effect_k``: the estimate came from a fixed-effect model over k studies; its variance is widened by
    tau^2/k with tau integrated over its prior (:class:`models.bayes.summary_level.SummaryLevelPosterior`);
    ``seed`` seeds its draws (the reported quantities are closed form).
    """
    from models.bayes.summary_level import SummaryLevelPosterior  # xarray and scipy.stats: only when one is asked for

    def under(tau: TauPrior, effect: EffectPrior) -> Posterior:
        return SummaryLevelPosterior(estimate, ci_low, ci_high, measure, tau, effect, fixed_effect_k=fixed_effect_k,
                                     seed=seed)  # fmt: skip

    return prior_grid(taus, effects, under)
