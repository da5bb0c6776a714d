"""The state one run of the MSC job shares, below the analyses that work on it (:mod:`models.msc.kinds`,
:mod:`models.msc.evidence`, :mod:`models.msc.figures`) and the orchestrator above them (:mod:`models.msc.runner`).

:class:`Run` holds the data, settings, study sets, the fitting policy, the results store, the figure registry and a
cache of exact posteriors, and adds each analysis's posterior to the store as a typed
:class:`models.results.Result` (:meth:`Run.add`, a :class:`~models.results.Context` passed whole).
:class:`RunResult` is what the report needs when the run is over.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.bayes.absolute import AbsoluteEffect, ControlRisk
from models.bayes.diagnostics import GATES
from models.bayes.exact_binomial import exact_binomial_normal
from models.bayes.fit import Fit
from models.bayes.model_averaging import ModelAverage
from models.bayes.policy import FitFunction, FitPolicy
from models.bayes.posterior import Posterior
from models.effects import EffectTable, escalc
from models.msc.datasets import Dataset
from models.msc.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
from models.msc.records import Slope, SmallStudy, Subgroup
from models.msc.results import Results
from models.msc.specs import Published, StudySet, study_sets
from models.msc.totals import TotalsScenario
from models.priors import BiasPrior, EffectPrior, TauPrior, effect_prior, tau_prior
from models.report.files import save_figure
from models.results import Context, Direction, Evidence, Kind, McmcCheck, Method, PublishedFigure, Result, ResultKey
from models.results.summarise import summarise
from models.tables import BinaryTable

QUICK_GATES = {"rhat_max": 1.05, "ess_min": 100, "divergences_max": 0}
"""Relaxed gates for ``--quick`` smoke runs (few draws); quick results are not for inference."""

IMPORTANT_RATIO = 0.8
"""The job's smallest important effect on a ratio scale: a 20% relative reduction (OR or RR < 0.8), mirrored to
1.25 when a ratio above 1 is a benefit."""


@dataclass(frozen=True)
class RunSettings:
    """Settings of one run; recorded in every output."""

    seed: int = 2026
    quick: bool = False
    only: str | None = None

    @property
    def gates(self) -> dict[str, float]:
        """The convergence gates this run applies (relaxed for ``--quick``)."""
        return QUICK_GATES if self.quick else GATES

    @property
    def sampler(self) -> dict[str, Any]:
        """Keyword arguments for the fit functions."""
        if self.quick:
            return {"draws": 300, "tune": 300, "chains": 2, "gates": self.gates, "prior_draws": 500}
        return {"gates": self.gates}

    def __post_init__(self) -> None:
        if not (isinstance(self.seed, int) and 0 <= self.seed <= 2**32 - 1):
            raise ValueError(f"seed must be an integer in [0, 2^32 - 1], got {self.seed!r}")

    def wants(self, document: str, analysis: str) -> bool:
        """True when ``--only`` selects (document, analysis)."""
        if not self.only:
            return True
        doc, _, ana = self.only.partition("/")
        return document == doc and (not ana or analysis == ana)


@dataclass(frozen=True)
class FigureEntry:
    """A written figure: its file, its caption, what kind of figure it is (the report selects by kind), its text
    alternative (what this figure shows), the studies it is built from (the report's check that every figure with
    non-randomised studies says so reads them), the analysis it belongs to (e.g. a summary-of-findings row), and,
    for an entry that repeats a figure drawn for another section, ``same_as``: that section's title (the report
    then refers to the first figure instead of printing it twice)."""

    path: Path
    caption: str
    kind: str = ""
    alt: str = ""
    studies: tuple[str, ...] = ()
    analysis: str = ""
    same_as: str = ""


@dataclass
class RunResult:
    """Everything the report needs: the typed results, the fits, the figures and the records of special analyses."""

    settings: RunSettings
    dataset: Dataset
    results: Results = field(default_factory=Results)
    fits: list[tuple[str, Fit, str]] = field(default_factory=list)
    figures: dict[str, list[FigureEntry]] = field(default_factory=dict)
    tipping: dict[str, str] = field(default_factory=dict)
    retried: list[tuple[str, tuple[str, ...], bool]] = field(default_factory=list)
    job_seconds: dict[str, float] = field(default_factory=dict)
    totals: TotalsScenario | None = None
    subgroups: dict[str, tuple[Subgroup, ...]] = field(default_factory=dict)
    slopes: dict[str, tuple[Slope, ...]] = field(default_factory=dict)
    small_study: dict[str, SmallStudy] = field(default_factory=dict)
    averaging: dict[str, ModelAverage] = field(default_factory=dict)
    """Analysis -> Bayes factors and the model-averaged effect (primary priors), in the order computed."""
    study_sets: dict[str, StudySet] = field(default_factory=dict)
    timepoints: dict[str, StudySet] = field(default_factory=dict)
    """The primary randomised set with its deaths at day 28 or nearest and at the longest follow-up, by key."""
    wall_seconds: float = 0.0

    @property
    def summary(self) -> pd.DataFrame:
        """The summary table (one row per analysis x model x prior), made from the typed results."""
        return self.results.frame()

    @property
    def absolute(self) -> dict[str, list[AbsoluteEffect]]:
        """Analysis -> its absolute effects at the stated control risks (from the ``ABSOLUTE`` results)."""
        out: dict[str, list[AbsoluteEffect]] = {}
        for r in self.results.select(kinds=(Kind.ABSOLUTE,)):
            out.setdefault(r.context.parent, []).append(r.absolute)
        return out

    @property
    def twins(self) -> dict[str, float]:
        """NetCDF file -> (MCMC mean - exact mean of mu) in Monte Carlo standard errors."""
        return {
            r.mcmc.fit_file: r.mcmc.exact_twin_diff_mcse
            for r in self.results
            if r.mcmc is not None and r.mcmc.exact_twin_diff_mcse is not None
        }

    @property
    def failed_fits(self) -> list[tuple[str, Fit]]:
        """Fits that failed their gates."""
        return [(label, fit) for label, fit, _ in self.fits if not fit.diagnostics.passed]

    def add_figure(self, section: str, entry: FigureEntry) -> FigureEntry:
        """Register a figure under a report section and return it."""
        self.figures.setdefault(section, []).append(entry)
        return entry


def published_figure(pub: Published | None) -> PublishedFigure | None:
    """A paper's published pooled result as the figure set beside a result (ratio scale)."""
    return None if pub is None else PublishedFigure(pub.estimate, pub.ci_low, pub.ci_high)


def crude_control(s: StudySet) -> ControlRisk | None:
    """The set's crude control risk (deaths / patients over its control arms with counts), the control risk of its
    rows' absolute effects: never the binomial-normal model's internal baseline risk, which zero-event studies pull
    down and which describes no patient population. None when no or every control patient had the event."""
    e_c, n_c = int(s.table.e_c.sum()), int(s.table.n_c.sum())
    if not 0 < e_c < n_c:
        return None
    return ControlRisk(f"crude_{s.file_stem}", s.crude_control_risk, f"crude control risk of {s.key}",
                       f"{e_c} of {n_c} control patients in the studies of {s.key} with counts")  # fmt: skip


def set_context(s: StudySet) -> Context:
    """What a result on study set ``s`` is about (its variants replace fields of it)."""
    return Context(source=s.document, title=s.title, studies=tuple(s.table.study), missing=s.missing,
                   published=published_figure(s.published), control=crude_control(s))  # fmt: skip


def direction(measure: str, higher_is_benefit: bool) -> Direction:
    """Benefit side and important threshold (:data:`IMPORTANT_RATIO`, ratios only) for a posterior of ``measure``."""
    important = None
    if measure in ("OR", "RR"):
        important = 1.0 / IMPORTANT_RATIO if higher_is_benefit else IMPORTANT_RATIO
    return Direction(measure, higher_is_benefit, important)


class Run:
    """The state the analyses of one run share: data, settings, study sets, the fitting policy, the results store,
    the figure registry and a cache of exact posteriors."""

    def __init__(self, dataset: Dataset, settings: RunSettings, out_dir: Path, fit_fn: FitFunction) -> None:
        self.dataset = dataset
        self.settings = settings
        self.out = Path(out_dir)
        self.fig_dir = self.out / "figures"
        self.sets = {s.key: s for s in study_sets(dataset)}
        self.policy = FitPolicy(fit_fn, seed=settings.seed, sampler=settings.sampler, fit_dir=self.out / "fits")
        self.result = RunResult(settings, dataset, fits=self.policy.fits, retried=self.policy.retried,
                                study_sets=self.sets)  # fmt: skip
        self.grids: dict[str, pd.DataFrame] = {}
        self._exact: dict[tuple, Posterior] = {}
        self._drawn: dict[tuple, tuple[str, dict[str, FigureEntry]]] = {}
        """Data signature -> (title of the section drawn from it first, its figures by kind)."""

    @property
    def results(self) -> Results:
        return self.result.results

    def primary(self) -> tuple[TauPrior, EffectPrior]:
        """The primary tau and effect priors."""
        return tau_prior(PRIMARY_TAU_PRIOR), effect_prior(PRIMARY_EFFECT_PRIOR)

    def add(
        self,
        post: Posterior,
        key: ResultKey,
        context: Context,
        *,
        higher_is_benefit: bool,
        kind: Kind = Kind.POOLED,
        method: Method = Method.EXACT_QUADRATURE,
        k: int | None = None,
        mcmc: McmcCheck | None = None,
        log_evidence: float | None = None,
    ) -> Result:
        """Summarise ``post`` (:func:`models.results.summarise.summarise`) and store it; ``k`` defaults to the
        number of the context's studies. The posterior is kept on the result for the run's figures."""
        primary = (key.tau_prior, key.effect_prior) == (PRIMARY_TAU_PRIOR, PRIMARY_EFFECT_PRIOR)
        evidence = None if log_evidence is None else Evidence(log_evidence=log_evidence)
        result = summarise(post, key, direction(post.measure, higher_is_benefit), method=method,
                           k=len(context.studies) if k is None else k, kind=kind, context=context,
                           primary_priors=primary, mcmc=mcmc, evidence=evidence, keep_posterior=True)  # fmt: skip
        return self.results.add(result)

    def effects(self, s: StudySet, measure: str | None = None) -> EffectTable:
        """The set's per-study effects (0.5 added to zero cells, double-zero studies dropped, as metafor)."""
        return escalc(s.table, measure or s.measure, correction="only0", drop00=True)

    def figure(
        self,
        section: str,
        fig: Figure,
        path: Path,
        caption: str,
        kind: str = "",
        *,
        alt: str = "",
        studies: tuple[str, ...] = (),
        analysis: str = "",
    ) -> FigureEntry:
        """Render and write a figure in the background (it overlaps the next fit) and register it (see
        :class:`FigureEntry` for the fields)."""
        self.policy.in_background(save_figure, fig, path)
        return self.result.add_figure(section, FigureEntry(path, caption, kind, alt or caption, studies, analysis))

    def same_figure(
        self, section: str, entry: FigureEntry, *, same_as: str, studies: tuple[str, ...] | None = None
    ) -> FigureEntry:
        """Register under ``section`` a figure already drawn (``entry``, for the section titled ``same_as``) instead
        of drawing it again."""
        studies = entry.studies if studies is None else studies
        return self.result.add_figure(section, replace(entry, studies=studies, same_as=same_as))

    def first_drawn(self, signature: tuple) -> tuple[str, dict[str, FigureEntry]] | None:
        """(title, figures by kind) of the section first drawn from the same data (``signature``), or None: the
        first section drawn from some data keeps its figures, later ones refer to them."""
        return self._drawn.get(signature)

    def remember_drawn(self, signature: tuple, title: str, entries: dict[str, FigureEntry]) -> None:
        """Record the figures (by kind) drawn for the section titled ``title`` from the data ``signature``
        describes."""
        self._drawn.setdefault(signature, (title, entries))

    def bias_vectors(self, studies: tuple[str, ...], bias: BiasPrior | None) -> tuple[np.ndarray, np.ndarray]:
        """Per-study bias mean and SD: ``bias`` for non-randomised studies (and for a pooled row of studies without
        counts, most of which are non-randomised), 0 for randomised trials; zeros when ``bias`` is None."""
        k = len(studies)
        if bias is None:
            return np.zeros(k), np.zeros(k)
        design = self.dataset.studies["design"]
        nrs = np.array([design.get(x, "NRS") == "NRS" for x in studies])
        return np.where(nrs, bias.mean, 0.0), np.where(nrs, bias.sd, 0.0)

    def posterior(self, table: BinaryTable, bias: BiasPrior | None = None, *, parametrisation: str = "symmetric",
                  tp: TauPrior | None = None, ep: EffectPrior | None = None) -> Posterior:  # fmt: skip
        """Exact binomial-normal posterior of ``table`` (primary priors unless told), with the NRS bias model.

        Computed once per (data, bias model, parametrisation, priors) in a run: the grid, the MCMC twin check, the
        absolute effects and the funnel plot's pooled line ask for the same posteriors.
        """
        ptp, pep = self.primary()
        tp, ep = tp or ptp, ep or pep
        key = (table.study, *(getattr(table, a).tobytes() for a in ("e_t", "n_t", "e_c", "n_c")),
               None if bias is None else bias.key, parametrisation, tp.key, ep.key)  # fmt: skip
        if key not in self._exact:
            mean, sd = self.bias_vectors(table.study, bias)
            self._exact[key] = exact_binomial_normal(table, tp, ep, bias_mean=mean, bias_sd=sd,
                                                     parametrisation=parametrisation)  # fmt: skip
        return self._exact[key]
