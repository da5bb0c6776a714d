"""The main job's orchestration: the list of jobs in their order, and the run with a progress bar.

:func:`run_reanalysis` builds the list of jobs (:func:`jobs`: one per fit or per group of cheap exact fits), checks
that every job comes after the jobs it needs (:func:`check_order`), runs them with a progress bar on the run's shared
state (:class:`models.msc.state.Run`, below the analyses), and returns the :class:`~models.msc.state.RunResult` that
the report builder turns into ``report.md``/``report.html``. The analyses themselves are functions of
:mod:`models.msc.kinds` (per study set) and :mod:`models.msc.evidence` (the hierarchy of analyses of the evidence
base); MCMC fits go through one :class:`models.bayes.policy.FitPolicy`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from models.bayes.policy import FitFunction
from models.bayes.sampling import fit_binomial_normal
from models.msc import evidence, kinds, update
from models.msc import figures as figs
from models.msc.datasets import Dataset
from models.msc.findings import HIERARCHY
from models.msc.regression import RANDOMISED_REGRESSIONS, REGRESSIONS
from models.msc.specs import EVIDENCE_BASE, PRIMARY_ANALYSIS
from models.msc.state import Run, RunResult, RunSettings

LOO_SETS = ("tang2024/mortality", f"{EVIDENCE_BASE}/all", f"{EVIDENCE_BASE}/rct")
"""Study sets with a leave-one-study-out analysis (exact binomial-normal, primary priors)."""

EVIDENCE_BASE_COMPARES = ("qin2024",)
"""Published analyses the evidence base's report sections set beside its own (Qin 2024's risk ratios by time point):
their summary-level jobs run whenever the evidence base does."""

TOTALS = "published totals"
BIAS_MODEL = "non-randomised studies through a bias model"
SUMMARIES = "absolute effects and Bayes factors"
BY_TIMEPOINT = "mortality by time point"
BEFORE_UPDATE = "before the later evidence"
FINDINGS_FORESTS = "forest plots of the summary of findings"


@dataclass(frozen=True)
class Job:
    """One step of the run: its label, what it does, and the labels of the jobs whose results it reads (they must
    come before it in the list)."""

    label: str
    action: Callable[[], None]
    needs: tuple[str, ...] = ()


def grids_of(key: str) -> str:
    """The label of the exact-grid job of study set ``key``."""
    return f"exact grids {key}"


def check_order(todo: list[Job]) -> None:
    """Raise ValueError when a job comes before a job it needs that is in the list (a need that is not in the list,
    e.g. outside ``--only``, is simply absent: the job then finds no results and says so or skips)."""
    labels = [job.label for job in todo]
    for i, job in enumerate(todo):
        late = [need for need in job.needs if need in labels[i + 1 :]]
        if late:
            raise ValueError(f"job {job.label!r} runs before {', '.join(map(repr, late))}, whose results it reads")


def _set_jobs(run: Run) -> list[Job]:
    """Per study set: the exact grid, then the MCMC fit beside its exact twin, missing-study maps, leave-one-out.

    Sets run in the report's order (the primary randomised set, the other evidence-base sets, then the published
    analyses' sets), so that a figure drawn from the same data for two sets is drawn for the one the report shows first
    and referred to by the other (:func:`models.msc.figures.set_figures`)."""
    out = []
    primary = f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}"
    order = sorted(run.sets, key=lambda k: (k != primary, not k.startswith(f"{EVIDENCE_BASE}/")))
    for key, s in ((k, run.sets[k]) for k in order):
        if not run.settings.wants(s.document, s.analysis):
            continue
        out.append(Job(grids_of(key), lambda s=s: kinds.exact_grids(run, s)))
        out.append(Job(f"binomial-normal MCMC {key}", lambda s=s: kinds.study_level(run, s), needs=(grids_of(key),)))
        if s.document != EVIDENCE_BASE and s.outcome == "mortality":
            out.append(Job(f"bias model {key}", lambda s=s: evidence.set_bias_model(run, s)))
        if s.missing and s.document != EVIDENCE_BASE:
            out.append(Job(f"missing studies {key}", lambda s=s: kinds.missing_studies(run, s), needs=(TOTALS,)))
        if key in LOO_SETS:
            out.append(Job(f"leave one out ({key})", lambda s=s: kinds.leave_one_out(run, s)))
    return out


def _evidence_jobs(run: Run) -> list[Job]:
    """The hierarchy of analyses of the evidence base (all studies with known counts): where a meta-regression or the
    evidence over time runs on the randomised trials too, that version comes first; then the forest plots of the
    summary of findings."""
    base = run.sets[f"{EVIDENCE_BASE}/all"]
    rct = run.sets[f"{EVIDENCE_BASE}/rct"]
    primary_sets = [grids_of(f"{EVIDENCE_BASE}/{a}") for a in ("rct", "rct_blinded", "all")]
    out = [
        Job(BIAS_MODEL, lambda: evidence.design_bias(run, base)),
        Job(SUMMARIES, lambda: evidence.primary_summaries(run), needs=(*primary_sets, BIAS_MODEL, TOTALS)),
        Job("small-study effects", lambda: evidence.small_study(run)),
    ]
    for s, makers in ((rct, RANDOMISED_REGRESSIONS), (base, REGRESSIONS)):
        for make in makers:
            out.append(Job(f"meta-regression {make.__name__} ({s.analysis})",
                           lambda m=make, s=s: kinds.regression(run, s, m)))  # fmt: skip
    out.append(Job("design down-weighting", lambda: kinds.downweight_nrs(run, base)))
    out.append(Job("evidence over time (rct)", lambda: kinds.over_time(run, rct)))
    out.append(Job("evidence over time (all)", lambda: kinds.over_time(run, base)))
    out.append(Job(BY_TIMEPOINT, lambda: update.by_timepoint(run)))
    out.append(Job(BEFORE_UPDATE, lambda: update.before_update(run)))
    rows = tuple(dict.fromkeys(grids_of(t.analysis_id) for t in HIERARCHY if t.analysis_id in run.sets))
    out.append(Job(FINDINGS_FORESTS, lambda: figs.findings_forests(run), needs=(*rows, BIAS_MODEL, TOTALS)))
    return out


def jobs(run: Run) -> list[Job]:
    """Every job of the run, in the order they run: the published totals first (the missing-study maps and the
    summaries mark them), then the summary-level analyses, the study sets, the evidence base, the 3-year follow-up,
    and the prior heatmaps last (they read the exact grids)."""
    settings = run.settings
    out: list[Job] = []
    if settings.wants(EVIDENCE_BASE, "all") or settings.wants("scrt2026", "mortality"):
        out.append(Job(TOTALS, lambda: evidence.published_totals(run)))
    for _, pub in run.dataset.published.iterrows():
        doc, ana = str(pub["document"]), str(pub["analysis"])
        compared = doc in EVIDENCE_BASE_COMPARES and settings.wants(EVIDENCE_BASE, "all")
        if (settings.wants(doc, ana) or compared) and pub["measure"] in ("OR", "RR") and not pd.isna(pub["ci_low"]):
            out.append(Job(f"summary-level {doc}/{ana}", lambda d=doc, a=ana: kinds.summary_level(run, d, a)))
    out += _set_jobs(run)
    if settings.wants(EVIDENCE_BASE, "all"):
        out += _evidence_jobs(run)
    if settings.wants("shi_followup_3y", ""):
        out.append(Job("3-year follow-up", lambda: kinds.followup(run)))
    heatmaps = (grids_of(f"{EVIDENCE_BASE}/rct"), BIAS_MODEL)
    out.append(Job("figures", lambda: kinds.prior_heatmaps(run), needs=heatmaps))
    check_order(out)
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
        for job in bar:
            bar.set_postfix_str(job.label[:60])
            began = time.perf_counter()
            job.action()
            run.result.job_seconds[job.label] = time.perf_counter() - began
    run.result.wall_seconds = time.perf_counter() - start
    return run.result
