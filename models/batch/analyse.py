"""One meta-analysis to its results: exact posteriors, REML, Bayes factors, under each prior pair of the policy.

Priors: the primary pair of :mod:`models.prior_policy` for the row's measure (the binomial-normal model's is OR), the
same pair ``reanalyse fit`` uses on the same file, or the policy's whole sensitivity grid with ``--priors grid``
(32 pairs for ratios, 8 for SMD: about that many times the work of ``primary``), or with ``--priors bartos2023``
Bartoš et al.'s empirical pair (Student-t effect prior through :mod:`models.bayes.scale_mixture`: about 20 times the
work of ``primary``).

The study file is read by the one study-file reader (:func:`models.reader.read_study_file`, as for ``fit`` and
``pool``: the same layouts, default measures, checks and notes; the notes go into each result's ``message``). Models:
the exact binomial-normal model (:mod:`models.bayes.exact_binomial`, log-OR) where arm counts are given, and the
exact normal-normal model (:mod:`models.bayes.exact`) on the per-study effects in every case (2x2 files: escalc with
the 0.5 correction of zero cells and double-zero studies left out, as metafor). The frequentist pooled result is REML
random effects on the same effects (:func:`models.results.summarise.random_effects`, as ``reanalyse fit``).
Of the model averaging only the Bayes factors and averaged probabilities enter a result, so the averaged quantiles
are not computed. Results are :class:`models.results.Result` objects written in the one column vocabulary
(``docs/results-columns.md``).

Faults never escape: a file that cannot be read or is refused by the reader (fewer than 2 studies included), or a
failure of one engine gives an ``error`` result with the message, and the other models and priors still run; a
posterior that computed is kept when its Bayes factors or the REML fit fail (``partial``, the failure in the
message).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from models.batch import PRIOR_SETS
from models.batch.corpus import Entry
from models.bayes.exact import exact_normal_normal
from models.bayes.exact_binomial import BinomialLikelihood
from models.bayes.model_averaging import average_binomial, average_normal
from models.bayes.scale_mixture import binomial_fit, normal_fit
from models.effects import EffectTable
from models.prior_policy import PriorOptions, PriorPair, empirical_pair, grid_pairs
from models.reader import StudyFile, read_study_file
from models.results import (
    Context,
    Direction,
    Frequentist,
    Kind,
    Method,
    PublishedFigure,
    Result,
    ResultKey,
    Status,
    error_result,
    with_failure,
)
from models.results.summarise import evidence_of, random_effects, summarise
from models.settings import DEFAULT_SEED, derive_seed
from models.student_t_prior import StudentTEffectPrior
from models.tables import BinaryTable

MIN_STUDIES = 2
BINOMIAL, NORMAL = "binomial_normal_exact", "normal_normal_exact"
MODELS = (BINOMIAL, NORMAL)


@dataclass(frozen=True)
class Options:
    """What every meta-analysis is analysed with: the priors, the prior set, the clinical thresholds and the seed.

    ``priors`` are ``--tau-prior``/``--effect-prior`` (the policy's defaults when not written), ``prior_set`` is
    ``primary`` (that pair) or ``grid`` (the policy's sensitivity grid). ``threshold`` is a ratio (default 0.8: a
    20% relative reduction; mirrored to 1/0.8 when higher is benefit); ``threshold_smd`` an SMD magnitude (default
    0.2, Cohen's small effect). ``seed`` is the run seed (:mod:`models.settings`): each meta-analysis's exact
    posteriors take theirs from it and the id; the quantities in the table are exact and do not use draws. The
    options are part of each chunk's identity (a rerun with other options recomputes), the output folder and
    progress display are not.
    """

    priors: PriorOptions = field(default_factory=PriorOptions)
    prior_set: str = "primary"
    threshold: float = 0.8
    threshold_smd: float = 0.2
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if self.prior_set not in PRIOR_SETS:
            raise ValueError(f"prior set {self.prior_set!r} is not one of {', '.join(PRIOR_SETS)}")
        if not (0.0 < self.threshold < 1.0):
            raise ValueError(f"--threshold must be a ratio between 0 and 1 (benefit side), got {self.threshold!r}")
        if not (self.threshold_smd > 0.0 and math.isfinite(self.threshold_smd)):
            raise ValueError(f"--threshold-smd must be a positive SMD magnitude, got {self.threshold_smd!r}")

    def pairs(self, measure: str) -> tuple[PriorPair, ...]:
        """The prior pairs of ``measure``'s rows, the primary pair first (marked ``primary``): the policy's primary
        pair, its grid, or Bartoš et al.'s empirical pair (``bartos2023``)."""
        if self.prior_set == "bartos2023":
            return (empirical_pair(measure),)
        primary = self.priors.primary(measure)
        return (primary,) if self.prior_set == "primary" else grid_pairs(measure, primary)

    def benefit_threshold(self, measure: str, higher_is_benefit: bool) -> float:
        """The clinically important effect on the reported scale, on the benefit side."""
        if measure == "SMD":
            return self.threshold_smd if higher_is_benefit else -self.threshold_smd
        return 1.0 / self.threshold if higher_is_benefit else self.threshold


def read_entry(entry: Entry) -> StudyFile:
    """The study file of one meta-analysis, read as every command reads it (the measure: the manifest's, or the
    layout's default); a :class:`~models.reader.StudyFileError` names the file, row and column."""
    return read_study_file(entry.path, entry.measure)


def _fault(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


@dataclass(frozen=True)
class _Shared:
    """What every result of one meta-analysis shares: the entry, options, seed, the frequentist result and notes."""

    entry: Entry
    options: Options
    seed: int
    frequentist: Frequentist | None
    notes: tuple[str, ...]
    partial: tuple[str, ...]
    """Derived quantities that failed for the whole meta-analysis (e.g. REML): its results are ``partial``."""

    def context(self, studies: tuple[str, ...]) -> Context:
        pub = self.entry.published_estimate
        return Context(source=self.entry.path, studies=studies, title=self.entry.title,
                       published=None if pub is None else PublishedFigure(pub))  # fmt: skip

    def direction(self, measure: str) -> Direction:
        higher = self.entry.higher_is_benefit
        return Direction(measure, higher, self.options.benefit_threshold(measure, higher))

    def key(self, model: str, pair: PriorPair) -> ResultKey:
        return ResultKey(self.entry.id, model, pair.tau.key, pair.effect.key)

    def error(self, message: str, model: str = "", measure: str = "", pair: PriorPair | None = None,
              k: int = 0) -> Result:  # fmt: skip
        """The ``error`` result of the meta-analysis (or of one model x prior of it)."""
        key = ResultKey(self.entry.id, model, "", "") if pair is None else self.key(model, pair)
        measure = measure or (self.entry.measure or "")
        return error_result(key, kind=Kind.POOLED, measure=measure, direction=self.direction(measure),
                            message=message, k=k, context=self.context(()), primary_priors=pair is None or pair.primary,
                            method=None if pair is None else Method.EXACT_QUADRATURE)  # fmt: skip

    def result(self, model: str, measure: str, pair: PriorPair, post, k: int, studies: tuple[str, ...],
               average) -> Result:  # fmt: skip
        """The result of one posterior, its Bayes factors computed by ``average()`` (kept when they fail)."""
        direction = self.direction(measure)
        result = summarise(
            post,
            self.key(model, pair),
            direction,
            method=Method.EXACT_QUADRATURE,
            k=k,
            context=self.context(studies),
            primary_priors=pair.primary,
            frequentist=self.frequentist,
        )
        status = Status.PARTIAL if self.partial else Status.OK
        result = replace(result, status=status, message="; ".join([*self.notes, *self.partial]))  # fmt: skip
        try:
            return replace(result, evidence=evidence_of(average(), post.log_evidence, direction))
        except Exception as err:  # noqa: BLE001 - an engine fault of a derived quantity keeps the posterior
            return with_failure(result, "Bayes factors", err)


def analyse_entry(entry: Entry, options: Options) -> list[Result]:
    """The results of one meta-analysis (see the module docstring); never raises for a bad meta-analysis."""
    bare = _Shared(entry, options, 0, None, (), ())
    try:
        data = read_entry(entry)
    except (ValueError, OSError) as err:
        return [bare.error(" ".join(str(err).split()))]
    published = entry.published_estimate
    if published is not None and data.measure in ("OR", "RR") and published <= 0:
        return [bare.error(f"published_estimate {published:g} must be positive for {data.measure} (the measure of "
                           "this file)", measure=data.measure, k=data.k)]  # fmt: skip
    effects = data.effects
    freq, partial, notes = None, (), tuple(data.notes)
    if effects.k >= MIN_STUDIES:
        freq, note = random_effects(effects, "REML")
        if freq is None:
            partial = (note,) if note else ()
        elif note:
            notes = (*notes, note)
    shared = _Shared(entry, options, derive_seed(options.seed, entry.id), freq, notes, partial)
    results: list[Result] = []
    if data.counts is not None:
        results += _binomial_results(shared, data.counts)
    results += _normal_results(shared, data, effects)
    return results


def _binomial_results(shared: _Shared, table: BinaryTable) -> list[Result]:
    try:
        lik = BinomialLikelihood(table)
    except Exception as err:  # noqa: BLE001 - any engine fault becomes an error result
        return [shared.error(_fault(err), BINOMIAL, "OR", k=table.k)]
    results = []
    for pair in shared.options.pairs("OR"):
        try:
            if isinstance(pair.effect, StudentTEffectPrior):
                fit = binomial_fit(lik, pair.tau, pair.effect, seed=shared.seed)
                post, average = fit.posterior, lambda fit=fit: fit.average(quantiles=False)
            else:
                post = lik.posterior(pair.tau, pair.effect, seed=shared.seed)
                average = lambda post=post, pair=pair: average_binomial(  # noqa: E731
                    lik, pair.tau, pair.effect, random_effects=post, quantiles=False)  # fmt: skip
        except Exception as err:  # noqa: BLE001
            results.append(shared.error(_fault(err), BINOMIAL, "OR", pair, table.k))
            continue
        result = shared.result(BINOMIAL, "OR", pair, post, table.k, table.study, average)
        if shared.entry.measure == "RR":  # frequentist columns are on RR; the binomial-normal model is on OR
            note = "frequentist columns are RR, model is OR"
            result = replace(result, message=f"{result.message}; {note}" if result.message else note)
        results.append(result)
    return results


def _normal_results(shared: _Shared, data: StudyFile, effects: EffectTable) -> list[Result]:
    results = []
    for pair in shared.options.pairs(data.measure):
        if effects.k < MIN_STUDIES:
            reason = "; ".join([*shared.notes, f"{effects.k} estimable effect(s): needs at least {MIN_STUDIES}"])
            results.append(shared.error(reason, NORMAL, data.measure, pair, effects.k))
            continue
        try:
            if isinstance(pair.effect, StudentTEffectPrior):
                fit = normal_fit(effects.yi, effects.vi, pair.tau, pair.effect, study=effects.study,
                                 measure=data.measure, seed=shared.seed)  # fmt: skip
                post, average = fit.posterior, lambda fit=fit: fit.average(quantiles=False)
            else:
                post = exact_normal_normal(effects.yi, effects.vi, pair.tau, pair.effect, study=effects.study,
                                           measure=data.measure, seed=shared.seed)  # fmt: skip
                average = lambda post=post, pair=pair: average_normal(  # noqa: E731
                    effects.yi, effects.vi, pair.tau, pair.effect, measure=data.measure, random_effects=post,
                    quantiles=False)  # fmt: skip
        except Exception as err:  # noqa: BLE001
            results.append(shared.error(_fault(err), NORMAL, data.measure, pair, effects.k))
            continue
        results.append(shared.result(NORMAL, data.measure, pair, post, effects.k, effects.study, average))
    return results
