"""One meta-analysis to its result rows: exact posteriors, REML, Bayes factors, under each stated prior pair.

The study file is read by the one study-file reader (:func:`models.reader.read_study_file`, as for ``fit`` and
``pool``: the same layouts, default measures, checks and notes; the notes go into each row's ``message``). Models: the
exact binomial-normal model (:mod:`models.bayes.exact_binomial`, log-OR) where arm counts are given, and the exact
normal-normal model (:mod:`models.bayes.exact`) on the per-study effects in every case (2x2 files: escalc with the
0.5 correction of zero cells and double-zero studies left out, as metafor). The frequentist pooled result
is REML random effects on the same effects (:func:`models.frequentist.random_effects.rma`). Of the model averaging
only the Bayes factors enter a row, so the averaged quantiles are not computed.

Faults never escape: a file that cannot be read or is refused by the reader (fewer than 2 studies included), or a
failure of one engine gives an ``error`` row with the message, and the other models and priors still run.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace

from models.batch.corpus import Entry
from models.batch.priors import PriorPair, prior_pairs
from models.batch.results import NAN, ResultRow, error_row
from models.bayes.exact import exact_normal_normal
from models.bayes.exact_binomial import BinomialLikelihood
from models.bayes.model_averaging import ModelAverage, average_binomial, average_normal
from models.bayes.posterior import Posterior
from models.effects import EffectTable
from models.frequentist.random_effects import rma
from models.frequentist.result import PooledResult
from models.reader import StudyFile, read_study_file
from models.tables import BinaryTable

MIN_STUDIES = 2


@dataclass(frozen=True)
class Options:
    """What every meta-analysis is analysed with: the prior set, the clinical thresholds and the seed.

    ``threshold`` is a ratio (default 0.8: a 20% relative reduction; mirrored to 1/0.8 when higher is benefit);
    ``threshold_smd`` an SMD magnitude (default 0.2, Cohen's small effect). ``seed`` seeds the simulated draws of
    the exact posteriors (per meta-analysis, from the seed and the id); the quantities in the table are exact and
    do not use draws.
    """

    prior_set: str = "primary"
    threshold: float = 0.8
    threshold_smd: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        prior_pairs(self.prior_set, "OR")  # validates the name
        if not (0.0 < self.threshold < 1.0):
            raise ValueError(f"--threshold must be a ratio between 0 and 1 (benefit side), got {self.threshold!r}")
        if not (self.threshold_smd > 0.0 and math.isfinite(self.threshold_smd)):
            raise ValueError(f"--threshold-smd must be a positive SMD magnitude, got {self.threshold_smd!r}")

    def benefit_threshold(self, measure: str, higher_is_benefit: bool) -> float:
        """The clinically important effect on the reported scale, on the benefit side."""
        if measure == "SMD":
            return self.threshold_smd if higher_is_benefit else -self.threshold_smd
        return 1.0 / self.threshold if higher_is_benefit else self.threshold


def entry_seed(seed: int, ma_id: str) -> int:
    """The seed of one meta-analysis: stable across runs, chunkings and workers."""
    return zlib.crc32(f"{seed}:{ma_id}".encode())


def read_entry(entry: Entry) -> StudyFile:
    """The study file of one meta-analysis, read as every command reads it (the measure: the manifest's, or the
    layout's default); a :class:`~models.reader.StudyFileError` names the file, row and column."""
    return read_study_file(entry.path, entry.measure)


def _reported(x: float, ratio: bool) -> float:
    return math.exp(x) if ratio else x


def _row(entry: Entry, model: str, measure: str, pair: PriorPair, k: int, post: Posterior, bf: ModelAverage,
         freq: PooledResult | None, options: Options, notes: list[str]) -> ResultRow:  # fmt: skip
    null, thr = post.null_value, options.benefit_threshold(measure, entry.higher_is_benefit)
    below_null, below_thr = post.prob_below(null), post.prob_below(thr)
    cri, pred = post.interval(0.95), post.predictive_interval(0.95)
    ratio = measure in ("OR", "RR")
    f = freq
    return ResultRow(
        ma_id=entry.id, path=entry.path, model=model, measure=measure, tau_prior=pair.tau.key,
        effect_prior=pair.effect.key, primary_priors=pair.primary, higher_is_benefit=entry.higher_is_benefit, k=k,
        threshold=thr,
        prob_benefit=1.0 - below_null if entry.higher_is_benefit else below_null,
        prob_important=1.0 - below_thr if entry.higher_is_benefit else below_thr,
        median=post.median(), cri_low=cri.low, cri_high=cri.high, tau_median=post.tau_median(),
        pred_low=pred.low, pred_high=pred.high,
        bf10_effect=bf.bf10_effect, bf10_heterogeneity=bf.bf10_heterogeneity,
        freq_estimate=_reported(f.estimate, ratio) if f else NAN,
        freq_ci_low=_reported(f.ci_low, ratio) if f else NAN,
        freq_ci_high=_reported(f.ci_high, ratio) if f else NAN,
        freq_p=f.p if f else NAN, freq_tau2=f.tau2 if f else NAN, freq_i2=f.i2 if f else NAN,
        published_estimate=NAN if entry.published_estimate is None else entry.published_estimate,
        message="; ".join(notes),
    )  # fmt: skip


def _fault(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def analyse_entry(entry: Entry, options: Options) -> list[ResultRow]:
    """The rows of one meta-analysis (see the module docstring); never raises for a bad meta-analysis."""
    try:
        data = read_entry(entry)
    except (ValueError, OSError) as err:
        return [error_row(entry, " ".join(str(err).split()))]
    published = entry.published_estimate
    if published is not None and data.measure in ("OR", "RR") and published <= 0:
        return [error_row(entry, f"published_estimate {published:g} must be positive for {data.measure} (the "
                                 "measure of this file)", measure=data.measure, k=data.k)]  # fmt: skip
    seed = entry_seed(options.seed, entry.id)
    notes = list(data.notes)
    effects = data.effects
    freq = None
    if effects.k >= MIN_STUDIES:
        try:
            freq = rma(effects, "REML")
        except (ValueError, RuntimeError) as err:
            notes.append(f"REML failed: {_fault(err)}")
    rows: list[ResultRow] = []
    if data.counts is not None:
        rows += _binomial_rows(entry, data.counts, options, seed, freq, notes)
    rows += _normal_rows(entry, data, effects, options, seed, freq, notes)
    return rows


def _binomial_rows(entry: Entry, table: BinaryTable, options: Options, seed: int, freq: PooledResult | None,
                   notes: list[str]) -> list[ResultRow]:  # fmt: skip
    model, rows = "binomial-normal", []
    try:
        lik = BinomialLikelihood(table)
    except Exception as err:  # noqa: BLE001 - any engine fault becomes an error row
        return [error_row(entry, _fault(err), model, "OR", k=table.k)]
    for pair in prior_pairs(options.prior_set, "OR"):
        try:
            post = lik.posterior(pair.tau, pair.effect, seed=seed)
            bf = average_binomial(lik, pair.tau, pair.effect, random_effects=post, quantiles=False)
            row = _row(entry, model, "OR", pair, table.k, post, bf, freq, options, notes)
            if entry.measure == "RR":  # frequentist columns are on RR; the binomial-normal model is on OR
                row = replace(row, message="; ".join([*notes, "frequentist columns are RR, model is OR"]))
            rows.append(row)
        except Exception as err:  # noqa: BLE001
            rows.append(error_row(entry, _fault(err), model, "OR", pair.tau.key, pair.effect.key, pair.primary,
                                  table.k))  # fmt: skip
    return rows


def _normal_rows(entry: Entry, data: StudyFile, effects: EffectTable, options: Options, seed: int,
                 freq: PooledResult | None, notes: list[str]) -> list[ResultRow]:  # fmt: skip
    model, rows = "normal-normal", []
    for pair in prior_pairs(options.prior_set, data.measure):
        if effects.k < MIN_STUDIES:
            reason = "; ".join([*notes, f"{effects.k} estimable effect(s): needs at least {MIN_STUDIES}"])
            rows.append(error_row(entry, reason, model, data.measure, pair.tau.key, pair.effect.key, pair.primary,
                                  effects.k))  # fmt: skip
            continue
        try:
            post = exact_normal_normal(effects.yi, effects.vi, pair.tau, pair.effect, study=effects.study,
                                       measure=data.measure, seed=seed)  # fmt: skip
            bf = average_normal(effects.yi, effects.vi, pair.tau, pair.effect, measure=data.measure,
                                random_effects=post, quantiles=False)  # fmt: skip
            rows.append(_row(entry, model, data.measure, pair, effects.k, post, bf, freq, options, notes))
        except Exception as err:  # noqa: BLE001
            rows.append(error_row(entry, _fault(err), model, data.measure, pair.tau.key, pair.effect.key,
                                  pair.primary, effects.k))  # fmt: skip
    return rows
