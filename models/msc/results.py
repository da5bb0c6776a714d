"""Typed results of the MSC job, keyed by what they are.

Every analysis of the job returns :class:`AnalysisResult` objects: frozen, keyed by :class:`ResultKey` (the analysis
as ``summary.csv`` names it, the model, the tau prior and the effect prior), with a :class:`Kind` (a pooled
analysis, one study left out, a cumulative step, an absolute effect at a stated control risk, ...), the
:class:`Context` a reader needs (title, studies, published figure, how the posterior was obtained), the posterior
itself and, where sampled, the fit. :class:`~models.toolkit.results.Kind` is the toolkit's, so both clients name
their kinds alike. The report and the figures look results up in :class:`Results` by key and kind;
``summary.csv`` rows are made from them in one place, :func:`models.msc.rows.row_of`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import pandas as pd

from models.bayes.absolute import AbsoluteEffect
from models.bayes.fit import Fit
from models.bayes.model_averaging import ModelAverage
from models.msc.specs import Published
from models.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
from models.results import Kind


@dataclass(frozen=True, order=True)
class ResultKey:
    """Which result: ``analysis_id`` as in summary.csv (``document/analysis[/variant]``), model and prior keys."""

    analysis_id: str
    model: str
    tau_prior: str
    effect_prior: str


@dataclass(frozen=True)
class Context:
    """What a summary row says beside the posterior.

    ``parent`` is the analysis a variant belongs to (the pooled analysis of a leave-one-out, cumulative,
    absolute-effect or small-study result); ``variant`` its own part (the omitted study, the year, the control
    risk's key, PET/PEESE). ``baseline_risk`` is the control risk of the absolute-risk columns and
    ``baseline_source`` names it (e.g. "crude control risk of the set").
    """

    document: str
    analysis: str
    title: str
    studies: tuple[str, ...]
    missing: tuple[str, ...] = ()
    higher_is_benefit: bool = False
    baseline_risk: float | None = None
    published: Published | None = None
    method: str = ""
    fit_file: str = ""
    baseline_source: str = ""
    parent: str = ""
    variant: str = ""


@dataclass(frozen=True)
class SubgroupDraws:
    """Posterior draws of a log OR that is not a model's ``mu`` (a meta-regression subgroup), with tau's draws."""

    log_ratio: Any
    tau: Any


@dataclass(frozen=True)
class AnalysisResult:
    """One result of the job: its key and kind, its context, the posterior and (MCMC) the fit.

    ``posterior`` is a :class:`models.bayes.posterior.Posterior` (exact, MCMC or closed form), a
    :class:`SubgroupDraws`, or a single-trial posterior (:mod:`models.single_trial`). ``averaging`` (Bayes factors
    and the model-averaged effect), ``absolute`` (an absolute effect) and ``twin_mcse`` (an MCMC fit's distance from
    its exact twin in Monte Carlo standard errors) are filled where the job computes them.
    """

    key: ResultKey
    kind: Kind
    context: Context
    posterior: Any
    fit: Fit | None = None
    log_evidence: float | None = None
    averaging: ModelAverage | None = None
    absolute: AbsoluteEffect | None = None
    twin_mcse: float | None = None

    @property
    def is_primary_prior(self) -> bool:
        """True under the primary tau and effect priors."""
        return self.key.tau_prior == PRIMARY_TAU_PRIOR and self.key.effect_prior == PRIMARY_EFFECT_PRIOR

    @cached_property
    def row(self) -> dict[str, Any]:
        """This result's summary.csv row (made by :func:`models.msc.rows.row_of`; computed once)."""
        from models.msc.rows import row_of

        return row_of(self)


@dataclass
class Results:
    """The job's results in the order they were computed, looked up by key and kind. Keys are unique."""

    _by_key: dict[ResultKey, AnalysisResult] = field(default_factory=dict)

    def add(self, result: AnalysisResult) -> AnalysisResult:
        """Store a new result; a second result under the same key is an error (two analyses would share a row)."""
        if result.key in self._by_key:
            raise ValueError(f"two results under one key: {result.key}")
        self._by_key[result.key] = result
        return result

    def extend(self, results: Iterable[AnalysisResult]) -> None:
        for result in results:
            self.add(result)

    def update(self, key: ResultKey, **changes: Any) -> AnalysisResult:
        """Replace the result under ``key`` by a copy with ``changes`` (e.g. its Bayes factors, once computed)."""
        self._by_key[key] = replace(self._by_key[key], **changes)
        return self._by_key[key]

    def __iter__(self) -> Iterator[AnalysisResult]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def get(
        self,
        analysis_id: str,
        model: str,
        tau_prior: str = PRIMARY_TAU_PRIOR,
        effect_prior: str = PRIMARY_EFFECT_PRIOR,
    ) -> AnalysisResult | None:
        """The result of ``analysis_id`` x ``model`` under the given priors (primary by default), or None."""
        return self._by_key.get(ResultKey(analysis_id, model, tau_prior, effect_prior))

    def select(
        self,
        *,
        kind: Kind | None = None,
        analysis_id: str | None = None,
        model: str | None = None,
        parent: str | None = None,
        document: str | None = None,
        primary_priors: bool = False,
    ) -> list[AnalysisResult]:
        """Results matching every given field exactly, in computation order."""
        return [
            r
            for r in self._by_key.values()
            if (kind is None or r.kind == kind)
            and (analysis_id is None or r.key.analysis_id == analysis_id)
            and (model is None or r.key.model == model)
            and (parent is None or r.context.parent == parent)
            and (document is None or r.context.document == document)
            and (not primary_priors or r.is_primary_prior)
        ]

    def has_document(self, document: str) -> bool:
        """True when any result belongs to ``document``."""
        return any(r.context.document == document for r in self._by_key.values())

    def frame(self) -> pd.DataFrame:
        """summary.csv: one row per result, in computation order (columns: :data:`models.msc.rows.COLUMNS`)."""
        from models.msc.rows import COLUMNS

        return pd.DataFrame([r.row for r in self._by_key.values()], columns=list(COLUMNS))
