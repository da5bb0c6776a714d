"""The main job's orchestration: the list of jobs, the shared state they work on, and the run with a progress bar.

:func:`run_reanalysis` builds a list of jobs (one per fit or per group of cheap exact fits), runs them with a
progress bar, and returns a :class:`RunResult` that the report builder turns into ``report.md``/``report.html``.
The analyses themselves are functions of :mod:`models.msc.kinds` (per study set) and :mod:`models.msc.evidence` (the
hierarchy of analyses of the evidence base); MCMC fits go through one :class:`models.bayes.policy.FitPolicy`
(content key, seed, deduplication, retry, background saving); every result is a typed
:class:`models.msc.results.AnalysisResult` in one :class:`models.msc.results.Results` store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from models.bayes.absolute import AbsoluteEffect
from models.bayes.diagnostics import GATES
from models.bayes.exact_binomial import exact_binomial_normal
from models.bayes.fit import Fit
from models.bayes.model_averaging import ModelAverage
from models.bayes.policy import FitFunction, FitPolicy
from models.bayes.posterior import Posterior
from models.bayes.sampling import fit_binomial_normal
from models.effects import EffectTable, escalc
from models.msc import evidence, kinds
from models.msc import figures as figs
from models.msc.datasets import Dataset
from models.msc.regression import REGRESSIONS
from models.msc.results import Kind, Results
from models.msc.specs import EVIDENCE_BASE, StudySet, study_sets
from models.msc.totals import TotalsScenario
from models.priors import (
    PRIMARY_EFFECT_PRIOR,
    PRIMARY_TAU_PRIOR,
    BiasPrior,
    EffectPrior,
    TauPrior,
    effect_prior,
    tau_prior,
)
from models.tables import BinaryTable

LOO_SETS = ("tang2024/mortality", f"{EVIDENCE_BASE}/all", f"{EVIDENCE_BASE}/rct")
"""Study sets with a leave-one-study-out analysis (exact binomial-normal, primary priors)."""

QUICK_GATES = {"rhat_max": 1.05, "ess_min": 100, "divergences_max": 0}
"""Relaxed gates for ``--quick`` smoke runs (few draws); quick results are not for inference."""


@dataclass(frozen=True)
class RunSettings:
    """Settings of one run; recorded in every output."""

    seed: int = 2026
    quick: bool = False
    only: str | None = None

    @property
    def sampler(self) -> dict[str, Any]:
        """Keyword arguments for the fit functions."""
        if self.quick:
            return {"draws": 300, "tune": 300, "chains": 2, "gates": QUICK_GATES, "prior_draws": 500}
        return {"gates": GATES}

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
    """A written figure: its file, its caption, and what kind of figure it is (the report selects by kind)."""

    path: Path
    caption: str
    kind: str = ""


@dataclass
class RunResult:
    """Everything the report needs: the typed results, the fits, the figures and the tables of special analyses."""

    settings: RunSettings
    dataset: Dataset
    results: Results = field(default_factory=Results)
    fits: list[tuple[str, Fit, str]] = field(default_factory=list)
    figures: dict[str, list[FigureEntry]] = field(default_factory=dict)
    tipping: dict[str, str] = field(default_factory=dict)
    retried: list[tuple[str, tuple[str, ...], bool]] = field(default_factory=list)
    job_seconds: dict[str, float] = field(default_factory=dict)
    totals: TotalsScenario | None = None
    regressions: dict[str, pd.DataFrame] = field(default_factory=dict)
    regression_slopes: dict[str, pd.DataFrame] = field(default_factory=dict)
    small_study: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=dict)
    cumulative: pd.DataFrame | None = None
    study_sets: dict[str, StudySet] = field(default_factory=dict)
    wall_seconds: float = 0.0

    @property
    def summary(self) -> pd.DataFrame:
        """The summary table (one row per analysis x model x prior), made from the typed results."""
        return self.results.frame()

    @property
    def absolute(self) -> dict[str, list[AbsoluteEffect]]:
        """Analysis -> its absolute effects at the stated control risks (from the ``ABSOLUTE`` results)."""
        out: dict[str, list[AbsoluteEffect]] = {}
        for r in self.results.select(kind=Kind.ABSOLUTE):
            out.setdefault(r.context.parent, []).append(r.absolute)
        return out

    @property
    def averaging(self) -> dict[str, ModelAverage]:
        """Analysis -> Bayes factors and the model-averaged effect (primary priors), in the order they were computed
        (the order of :func:`models.msc.evidence.primary_summaries`' targets)."""
        return {r.context.parent: r.averaging for r in self.results.select(kind=Kind.ABSOLUTE) if r.averaging}

    @property
    def twins(self) -> dict[str, float]:
        """MCMC fit label -> (MCMC mean - exact mean of mu) in Monte Carlo standard errors."""
        return {r.fit.label: r.twin_mcse for r in self.results if r.twin_mcse is not None and r.fit is not None}

    @property
    def failed_fits(self) -> list[tuple[str, Fit]]:
        """Fits that failed their gates."""
        return [(label, fit) for label, fit, _ in self.fits if not fit.diagnostics.passed]

    def add_figure(self, section: str, path: Path, caption: str, kind: str = "") -> None:
        """Register a figure under a report section (``kind`` says what it shows, e.g. ``missing_studies``)."""
        self.figures.setdefault(section, []).append(FigureEntry(path, caption, kind))


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

    @property
    def results(self) -> Results:
        return self.result.results

    def primary(self) -> tuple[TauPrior, EffectPrior]:
        """The primary tau and effect priors."""
        return tau_prior(PRIMARY_TAU_PRIOR), effect_prior(PRIMARY_EFFECT_PRIOR)

    def effects(self, s: StudySet, measure: str | None = None) -> EffectTable:
        """The set's per-study effects (0.5 added to zero cells, double-zero studies dropped, as metafor)."""
        return escalc(s.table, measure or s.measure, correction="only0", drop00=True)

    def figure(self, section: str, fig: Figure, path: Path, caption: str, kind: str = "") -> None:
        """Render and write a figure in the background (it overlaps the next fit) and register it."""
        self.policy.in_background(figs.save, fig, path)
        self.result.add_figure(section, path, caption, kind)

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


def jobs(run: Run) -> list[tuple[str, Callable[[], None]]]:
    """Every job of the run, in order, as (label, callable)."""
    settings, out = run.settings, []
    for _, pub in run.dataset.published.iterrows():
        doc, ana = str(pub["document"]), str(pub["analysis"])
        if settings.wants(doc, ana) and pub["measure"] in ("OR", "RR") and not pd.isna(pub["ci_low"]):
            out.append((f"summary-level {doc}/{ana}", lambda d=doc, a=ana: kinds.summary_level(run, d, a)))
    for key, s in run.sets.items():
        if not settings.wants(s.document, s.analysis):
            continue
        out.append((f"exact grids {key}", lambda s=s: kinds.exact_grids(run, s)))
        out.append((f"binomial-normal MCMC {key}", lambda s=s: kinds.study_level(run, s)))
        if s.missing and s.document != EVIDENCE_BASE:
            out.append((f"missing studies {key}", lambda s=s: kinds.missing_studies(run, s)))
        if key in LOO_SETS:
            out.append((f"leave one out ({key})", lambda s=s: kinds.leave_one_out(run, s)))
    if settings.wants(EVIDENCE_BASE, "all") or settings.wants("scrt2026", "mortality"):
        out.insert(0, ("published totals", lambda: evidence.published_totals(run)))
    if settings.wants(EVIDENCE_BASE, "all"):
        base = run.sets[f"{EVIDENCE_BASE}/all"]
        out.append(("non-randomised studies through a bias model", lambda: evidence.design_bias(run, base)))
        out.append(("absolute effects and Bayes factors", lambda: evidence.primary_summaries(run)))
        out.append(("small-study effects", lambda: evidence.small_study(run)))
        for make in REGRESSIONS:
            out.append((f"meta-regression {make.__name__}", lambda m=make: kinds.regression(run, base, m)))
        out.append(("design down-weighting", lambda: kinds.downweight_nrs(run, base)))
        out.append(("evidence over time", lambda: kinds.over_time(run, base)))
    if settings.wants("shi_followup_3y", ""):
        out.append(("3-year follow-up", lambda: kinds.followup(run)))
    out.append(("figures", lambda: kinds.prior_heatmaps(run)))
    return out


def run_reanalysis(
    dataset: Dataset,
    settings: RunSettings,
    out_dir: Path,
    progress: bool = True,
    fit_fn: FitFunction = fit_binomial_normal,
) -> RunResult:
    """Run the whole reanalysis into ``out_dir`` (fits and figures; the caller writes tables and the report).

    ``fit_fn`` fits the binomial-normal model (:func:`models.bayes.sampling.fit_binomial_normal`; a test injects a
    fake sampler here).
    """
    start = time.perf_counter()
    run = Run(dataset, settings, out_dir, fit_fn)
    todo = jobs(run)
    bar = tqdm(todo, desc="reanalysis", unit="job", disable=not progress, dynamic_ncols=True)
    with run.policy:
        for label, job in bar:
            bar.set_postfix_str(label[:60])
            began = time.perf_counter()
            job()
            run.result.job_seconds[label] = time.perf_counter() - began
    run.result.wall_seconds = time.perf_counter() - start
    return run.result
