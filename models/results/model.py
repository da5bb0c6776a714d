"""THE result of every client: one typed, frozen :class:`Result` per analysis x model x prior pair.

``reanalyse fit`` (:mod:`models.toolkit`), ``reanalyse batch`` (:mod:`models.batch`) and the MSC job
(:mod:`models.msc`) all return :class:`Result` objects and write them through
:data:`models.results.columns.COLUMNS`, the one column vocabulary of ``summary.csv``, ``fit --json`` and
``results.parquet`` / ``results.csv`` (documented in ``docs/results-columns.md``, generated from it). Posteriors
become results in :mod:`models.results.summarise`.

A result is keyed by :class:`ResultKey` (analysis, model, tau prior key, effect prior key), says what it is
(:class:`Kind`) and how its posterior was obtained (:class:`Method`, a short code with a readable label), and holds
its numbers in groups, each None where it does not apply:

* :class:`EffectSummary` -- the pooled effect on the REPORTED scale (ratio for OR/RR, the difference itself for
  RD/MD/SMD: :attr:`Result.scale`), its 95% equal-tailed interval, P(effect below the null), P(benefit) and
  P(beyond the important threshold) with that threshold;
* :class:`TauSummary` -- tau, the between-study SD on the ANALYSIS scale (log OR / log RR, or the difference);
* :class:`Prediction` -- the 95% prediction interval of the true effect in a new setting (``mu + tau z``, reported
  scale) and P(that effect is a benefit);
* :class:`~models.bayes.absolute.AbsoluteEffect` -- events per 1,000 at a stated control risk;
* :class:`Evidence` -- log marginal likelihood and log Bayes factors, and model-averaged probabilities;
* :class:`Frequentist` -- the frequentist random-effects result on the same data (method named, e.g. REML);
* :class:`McmcCheck` -- R-hat, ESS, divergences and the convergence gate of a sampled posterior;
* :class:`PublishedFigure` -- the published pooled estimate the analysis is set beside.

A result that could not be computed has ``status`` :attr:`Status.ERROR` and says why in ``message``; a posterior that
computed is never thrown away because a derived quantity failed (``status`` :attr:`Status.PARTIAL`, the failure in
``message``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from models.bayes.absolute import AbsoluteEffect, ControlRisk
from models.frequentist.result import PooledResult

if TYPE_CHECKING:  # the diagnostics load arviz-stats (about a second): only a sampled fit needs them
    from models.bayes.diagnostics import Diagnostics

RATIO_MEASURES = ("OR", "RR")
ALL_STUDIES = "all_studies"
"""The analysis id of a pooled analysis of every study of a file (``reanalyse fit``)."""
LARGEST_LOG_BF = math.log(1e300)
"""Bayes factors are written on the natural scale only below exp(690.8) (always on the log scale)."""


class Kind(StrEnum):
    """What a result is an instance of; reports and figures select results by kind, never by parsing labels."""

    POOLED = "pooled"
    """A whole study set or scenario under one model and prior pair."""
    LEAVE_ONE_OUT = "leave_one_out"
    CUMULATIVE = "cumulative"
    PUBLISHED = "published"
    """A published pooled estimate reanalysed at summary level."""
    REGRESSION = "regression"
    """A meta-regression's pooled effect at the covariate means or one of its slopes."""
    ABSOLUTE = "absolute"
    """A pooled result turned into events per 1,000 at a stated control risk."""
    SUBGROUP = "subgroup"
    """A meta-regression's subgroup effect (draws of a linear combination, not a model's ``mu``)."""
    SMALL_STUDY = "small_study"
    SINGLE_TRIAL = "single_trial"


class Method(StrEnum):
    """How a posterior was obtained: a short code (written in the ``method`` column) with a readable label."""

    EXACT_QUADRATURE = "exact_quadrature"
    MCMC = "mcmc"
    CLOSED_FORM = "closed_form"
    NORMAL_MIXTURE = "normal_mixture"
    CONJUGATE_MONTE_CARLO = "conjugate_monte_carlo"

    @property
    def label(self) -> str:
        """What the code means, in words (the ``method_label`` column)."""
        return METHOD_LABELS[self]


METHOD_LABELS = {
    Method.EXACT_QUADRATURE: "exact, by quadrature over mu and tau (no sampling)",
    Method.MCMC: "MCMC (NUTS), convergence-gated draws",
    Method.CLOSED_FORM: "closed form (conjugate normal)",
    Method.NORMAL_MIXTURE: "closed form given tau, a normal mixture over tau's prior",
    Method.CONJUGATE_MONTE_CARLO: "seeded Monte Carlo draws from a conjugate posterior",
}


class Gate(StrEnum):
    """The convergence verdict of a result: its MCMC fit passed or failed its gates, or nothing was sampled."""

    PASS = "pass"
    FAIL = "fail"
    NOT_SAMPLED = "not sampled"


class Status(StrEnum):
    """Whether a result was computed: every quantity, the posterior with a derived quantity missing, or nothing."""

    OK = "ok"
    PARTIAL = "partial"
    ERROR = "error"


class Scale(StrEnum):
    """The reported scale of an effect: a ratio (OR, RR: exp of the log-scale analysis) or a difference."""

    RATIO = "ratio"
    DIFFERENCE = "difference"


def is_ratio(measure: str) -> bool:
    """True for measures reported as ratios and analysed on the log scale (OR, RR)."""
    return measure in RATIO_MEASURES


@dataclass(frozen=True, order=True)
class ResultKey:
    """Which result: the ``analysis`` (MSC ``document/analysis[/variant]``; ``fit``: ``all_studies``, ``without
    <study>``, ...; batch: the meta-analysis id), the model and the two prior keys."""

    analysis: str
    model: str
    tau_prior: str
    effect_prior: str


@dataclass(frozen=True)
class Direction:
    """Which side of an effect is a benefit, and the smallest important effect (reported scale) of ``measure``.

    The important threshold applies to posteriors of ``measure`` only (a binomial-normal OR beside an RR analysis
    gets no P(important)).
    """

    measure: str
    higher_is_benefit: bool = False
    important: float | None = None

    def benefit_side(self, p_below: float) -> float:
        """P(benefit) from P(effect below a threshold): itself, or its complement when higher is benefit."""
        return 1.0 - p_below if self.higher_is_benefit else p_below


@dataclass(frozen=True)
class PublishedFigure:
    """A published pooled estimate with its 95% CI on the reported scale (NaN limits when not published)."""

    estimate: float
    low: float = math.nan
    high: float = math.nan


@dataclass(frozen=True)
class Context:
    """What a result is about, beside its numbers.

    ``source`` is where the data come from (the study file of ``fit`` and batch; the MSC document, e.g.
    ``scrt2026``); ``parent`` the analysis a variant belongs to (the pooled analysis of a leave-one-out, cumulative,
    absolute-effect or small-study result) and ``subject`` what the variant is about (the study left out, the
    cumulative step, the regression term, the control risk's key, PET/PEESE). ``studies`` are the studies the
    posterior uses, ``missing`` those of the intended set whose counts are unknown. ``control`` is the stated
    control risk at which absolute effects are given (None: none).
    """

    source: str = ""
    title: str = ""
    studies: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    parent: str = ""
    subject: str = ""
    published: PublishedFigure | None = None
    control: ControlRisk | None = None


@dataclass(frozen=True)
class EffectSummary:
    """The pooled effect's posterior on the reported scale: median and 95% equal-tailed interval, P(effect < null),
    P(benefit) and P(effect beyond ``important_threshold`` on the benefit side)."""

    median: float
    low: float
    high: float
    p_below_null: float
    p_benefit: float
    important_threshold: float | None = None
    p_important: float | None = None


@dataclass(frozen=True)
class TauSummary:
    """Between-study SD tau on the analysis scale (log OR / log RR; the difference itself): median, 95% interval."""

    median: float
    low: float = math.nan
    high: float = math.nan


@dataclass(frozen=True)
class Prediction:
    """95% prediction interval of the true effect in a new setting (reported scale) and P(it is a benefit). Not the
    interval of a new study's estimate, which adds that study's sampling error."""

    low: float
    high: float
    p_new_benefit: float


@dataclass(frozen=True)
class Evidence:
    """Log marginal likelihood and log Bayes factors (natural log), and model-averaged probabilities.

    ``log_bf10_effect`` (mu free vs mu = 0) and ``log_bf10_heterogeneity`` (tau free vs tau = 0) are inclusion Bayes
    factors over {fixed, random} x {null, effect} with prior probabilities 1/4 each
    (:mod:`models.bayes.model_averaging`); the model-averaged probabilities count the null models' point mass as no
    benefit.
    """

    log_evidence: float | None = None
    log_bf10_effect: float | None = None
    log_bf10_heterogeneity: float | None = None
    p_benefit_model_averaged: float | None = None
    p_important_model_averaged: float | None = None

    @property
    def bf10_effect(self) -> float | None:
        return natural_bf(self.log_bf10_effect)

    @property
    def bf10_heterogeneity(self) -> float | None:
        return natural_bf(self.log_bf10_heterogeneity)


def natural_bf(log_bf: float | None) -> float | None:
    """A Bayes factor on the natural scale where it is representable (|log BF| <= :data:`LARGEST_LOG_BF`)."""
    if log_bf is None or not math.isfinite(log_bf) or abs(log_bf) > LARGEST_LOG_BF:
        return None
    return math.exp(log_bf)


@dataclass(frozen=True)
class Frequentist:
    """A frequentist pooled result on the same data: ``method`` (e.g. REML), estimate and 95% CI on the reported
    scale, two-sided p-value, tau² on the analysis scale, I² in percent, Cochran's Q with its p-value, and ``k``."""

    method: str
    measure: str
    k: int
    estimate: float
    ci_low: float
    ci_high: float
    p: float
    tau2: float
    i2: float
    q: float
    q_p: float

    @classmethod
    def of(cls, pooled: PooledResult) -> Frequentist:
        """The reporting-scale summary of a :class:`~models.frequentist.result.PooledResult`."""
        back = math.exp if pooled.is_ratio else float
        return cls(
            method=pooled.method, measure=pooled.measure, k=pooled.k, estimate=back(pooled.estimate),
            ci_low=back(pooled.ci_low), ci_high=back(pooled.ci_high), p=pooled.p, tau2=pooled.tau2, i2=pooled.i2,
            q=pooled.q, q_p=pooled.q_p,
        )  # fmt: skip


@dataclass(frozen=True)
class McmcCheck:
    """Convergence of a sampled posterior: the gate verdict, worst R-hat, smallest bulk and tail ESS, divergences,
    the NetCDF file, and (where an exact twin exists) the MCMC mean of mu minus the exact mean in Monte Carlo SEs."""

    gate: Gate
    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    fit_file: str = ""
    exact_twin_diff_mcse: float | None = None

    @classmethod
    def of(cls, diagnostics: Diagnostics, fit_file: str = "", twin: float | None = None) -> McmcCheck:
        """The check of one fit from its :class:`~models.bayes.diagnostics.Diagnostics`."""
        table = diagnostics.table
        return cls(
            gate=Gate.PASS if diagnostics.passed else Gate.FAIL, rhat_max=float(table["rhat"].max()),
            ess_bulk_min=float(table["ess_bulk"].min()), ess_tail_min=float(table["ess_tail"].min()),
            divergences=int(diagnostics.divergences), fit_file=fit_file, exact_twin_diff_mcse=twin,
        )  # fmt: skip


@dataclass(frozen=True)
class Result:
    """One analysis x model x prior pair (see the module docstring for the groups and their scales).

    ``k`` is the number of studies behind the posterior (a summary-level posterior of a fixed-effect estimate widened
    by tau²/k: that k). ``primary_priors`` marks the client's primary prior pair. ``posterior`` keeps the posterior
    object for figures in the same run; it is never written.
    """

    key: ResultKey
    kind: Kind
    method: Method | None
    measure: str
    k: int
    direction: Direction
    context: Context = field(default_factory=Context)
    effect: EffectSummary | None = None
    tau: TauSummary | None = None
    prediction: Prediction | None = None
    absolute: AbsoluteEffect | None = None
    evidence: Evidence | None = None
    frequentist: Frequentist | None = None
    mcmc: McmcCheck | None = None
    primary_priors: bool = False
    status: Status = Status.OK
    message: str = ""
    posterior: Any = field(default=None, compare=False, repr=False)

    @property
    def scale(self) -> Scale:
        """The reported scale of ``effect``, ``prediction`` and the published and frequentist estimates."""
        return Scale.RATIO if is_ratio(self.measure) else Scale.DIFFERENCE

    @property
    def is_ratio(self) -> bool:
        return is_ratio(self.measure)

    @property
    def gate(self) -> Gate:
        """The convergence verdict (:attr:`Gate.NOT_SAMPLED` without MCMC)."""
        return Gate.NOT_SAMPLED if self.mcmc is None else self.mcmc.gate


def error_result(
    key: ResultKey,
    *,
    kind: Kind,
    measure: str,
    direction: Direction,
    message: str,
    k: int = 0,
    context: Context | None = None,
    primary_priors: bool = False,
    method: Method | None = None,
) -> Result:
    """A result that could not be computed: every number empty, ``message`` says why (one line)."""
    return Result(key, kind, method, measure, k, direction, context or Context(), primary_priors=primary_priors,
                  status=Status.ERROR, message=" ".join(message.split()) or "error")  # fmt: skip


def with_failure(result: Result, what: str, err: BaseException) -> Result:
    """``result`` kept, marked :attr:`Status.PARTIAL` with the failure of a derived quantity named in its message."""
    text = " ".join(str(err).split())
    note = f"{what} not computed: {type(err).__name__}" + (f": {text}" if text else "")
    message = f"{result.message}; {note}" if result.message else note
    return replace(result, status=Status.PARTIAL, message=message)


_KEY_FIELDS = ("analysis", "model", "tau_prior", "effect_prior")


def find(results: Iterable[Result], **where: object) -> list[Result]:
    """Results whose key fields (``analysis``, ``model``, ``tau_prior``, ``effect_prior``) and ``kind`` equal
    ``where``, in the order given, e.g. ``find(results, model="normal_normal_exact", kind=Kind.LEAVE_ONE_OUT)``."""
    unknown = set(where) - {*_KEY_FIELDS, "kind"}
    if unknown:
        raise TypeError(f"find() selects by {', '.join(_KEY_FIELDS)} and kind, not {', '.join(sorted(unknown))}")
    return [r for r in results if all(getattr(r if f == "kind" else r.key, f) == v for f, v in where.items())]
