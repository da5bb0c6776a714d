"""The main job: every published analysis reanalysed, with ArviZ files, summary tables and figures.

:func:`run_reanalysis` builds a list of jobs (one per fit or per group of cheap exact fits), runs them with a
progress bar, and returns a :class:`RunResult` that the report builder turns into ``report.md``/``report.html``.
Each MCMC fit is seeded from the run seed and a stable hash of its content (model, data, priors), so a fit's numbers
do not depend on which other jobs ran (``--only``) or in what order. NetCDF files are written by one background thread
while the next fit samples (each write atomic); the run waits for every write before it returns.
"""

from __future__ import annotations

import hashlib
import math
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from models.analyses import figures as figs
from models.analyses.absolute import (
    RECOVERY_OXYGEN,
    RECOVERY_VENTILATED,
    ControlRisk,
    absolute_effect,
    crude_control_risk,
)
from models.analyses.followup import followup_rows
from models.analyses.missing import describe_boundary, missing_arm_sizes, tipping_grid
from models.analyses.regression import REGRESSIONS, Regression, studies_in_group, subgroup_log_or
from models.analyses.rows import COLUMNS, absolute_row, diagnostic_columns, draws_row, posterior_row
from models.analyses.specs import (
    BINARY_TAU_PRESETS,
    EFFECT_PRESETS_GRID,
    EVIDENCE_BASE,
    HIGHER_IS_BENEFIT,
    PRIMARY_ANALYSIS,
    StudySet,
    published_of,
    study_sets,
)
from models.analyses.totals import allocations, implied_missing_deaths
from models.atomic import write_atomic
from models.bayes.diagnostics import GATES
from models.bayes.exact import exact_from_effects, exact_normal_normal
from models.bayes.exact_binomial import exact_binomial_normal
from models.bayes.fit import Fit
from models.bayes.model_averaging import average_binomial
from models.bayes.posterior import Posterior
from models.bayes.sampling import DRAWS, fit_binomial_normal
from models.bayes.small_study import SLOPE_SD_DEFAULT, small_study_comparison
from models.bayes.summary_level import SummaryLevelPosterior
from models.datasets import Dataset
from models.effects import escalc
from models.frequentist.bias import egger_lm, harbord, peters
from models.priors import (
    BIAS_PRESETS,
    PRIMARY_BIAS_PRIOR,
    PRIMARY_EFFECT_PRIOR,
    PRIMARY_TAU_PRIOR,
    BiasPrior,
    effect_prior,
    tau_prior,
)
from models.report.funnel import funnel_plot

LOO_SETS = ("tang2024/mortality", f"{EVIDENCE_BASE}/all", f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}")
"""Study sets with a leave-one-study-out analysis (exact binomial-normal, primary priors)."""

QUICK_GATES = {"rhat_max": 1.05, "ess_min": 100, "divergences_max": 0}
"""Relaxed gates for ``--quick`` smoke runs (few draws); quick results are not for inference."""

SCRT_TOTALS = {"risk_t": 0.264, "risk_c": 0.319, "n_published": 1080}
"""Crude mortality of all 24 studies printed in the SCRT 2026 abstract (data/published.csv, scrt2026 mortality note):
MSC 26.4% vs control 31.9%, n = 1,080."""

MAP_CELLS = 600
"""Largest number of cells of a missing-study map; above it the map steps by the smallest integer that fits (stated
in the caption)."""

RETRY_SETTINGS = {"target_accept": 0.99}
"""Sampler settings of the one retry a fit gets when it fails its gates (draws are doubled as well)."""


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


@dataclass
class RunResult:
    """Everything the report needs."""

    settings: RunSettings
    dataset: Dataset
    rows: list[dict[str, Any]] = field(default_factory=list)
    fits: list[tuple[str, Fit, str]] = field(default_factory=list)
    figures: dict[str, list[tuple[Path, str]]] = field(default_factory=dict)
    tipping: dict[str, str] = field(default_factory=dict)
    retried: list[tuple[str, tuple[str, ...], bool]] = field(default_factory=list)
    job_seconds: dict[str, float] = field(default_factory=dict)
    absolute: dict[str, list] = field(default_factory=dict)
    totals: dict[str, object] = field(default_factory=dict)
    averaging: dict[str, object] = field(default_factory=dict)
    regressions: dict[str, pd.DataFrame] = field(default_factory=dict)
    regression_slopes: dict[str, pd.DataFrame] = field(default_factory=dict)
    twins: dict[str, float] = field(default_factory=dict)
    small_study: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=dict)
    cumulative: pd.DataFrame | None = None
    study_sets: dict[str, StudySet] = field(default_factory=dict)
    wall_seconds: float = 0.0

    @property
    def summary(self) -> pd.DataFrame:
        """The summary table (one row per analysis x model x prior)."""
        return pd.DataFrame(self.rows, columns=list(COLUMNS))

    @property
    def failed_fits(self) -> list[tuple[str, Fit]]:
        """Fits that failed their gates."""
        return [(label, fit) for label, fit, _ in self.fits if not fit.diagnostics.passed]

    def add_figure(self, section: str, path: Path, caption: str) -> None:
        """Register a figure under a report section."""
        self.figures.setdefault(section, []).append((path, caption))


def _write_netcdf(ds: xr.Dataset, path: Path) -> Path:
    """Write a dataset to NetCDF atomically."""
    return write_atomic(path, lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf"))


def _content_key(kind: str, data, covariates: pd.DataFrame | None, tp, ep) -> str:
    """A stable text key of what a fit depends on: model, data, covariates and priors."""
    if hasattr(data, "e_t"):
        payload = [list(data.study), *(getattr(data, a).tolist() for a in ("e_t", "n_t", "e_c", "n_c"))]
    else:
        payload = [list(data.study), np.round(data.yi, 12).tolist(), np.round(data.vi, 12).tolist(), data.measure]
    cov = None if covariates is None else covariates.round(12).to_dict(orient="split")
    return hashlib.sha256(repr((kind, payload, cov, tp.key, tp.params, ep.key, ep.mean, ep.sd)).encode()).hexdigest()


def _map_step(n_msc: int, n_control: int) -> int:
    """The smallest step (in deaths) that keeps a missing-study map within :data:`MAP_CELLS` cells."""
    step = 1
    while math.ceil(n_msc / step + 1) * math.ceil(n_control / step + 1) > MAP_CELLS:
        step += 1
    return step


def fit_seed(seed: int, label: str) -> int:
    """A per-fit seed from the run seed and a stable hash of the fit's label."""
    return (seed * 1_000_003 + zlib.crc32(label.encode())) % (2**31 - 1)


class Reanalysis:
    """Builds and runs the jobs of one reanalysis into ``out_dir``."""

    def __init__(self, dataset: Dataset, settings: RunSettings, out_dir: Path) -> None:
        self.dataset = dataset
        self.settings = settings
        self.out = Path(out_dir)
        self.fit_dir = self.out / "fits"
        self.fig_dir = self.out / "figures"
        self.result = RunResult(settings, dataset)
        self.sets = {s.key: s for s in study_sets(dataset)}
        self._done: dict[str, tuple[Fit, str]] = {}
        self._grids: dict[str, pd.DataFrame] = {}
        self._exact: dict[tuple, Posterior] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netcdf")
        self._writes: list[Future] = []
        self.result.study_sets = self.sets

    # -- helpers --------------------------------------------------------------------------------------------

    def _primary(self):
        return tau_prior(PRIMARY_TAU_PRIOR), effect_prior(PRIMARY_EFFECT_PRIOR)

    def _fit(self, fit_fn: Callable[..., Fit], data, tp, ep, *, label: str, name: str, **kw) -> tuple[Fit, str]:
        """Fit (or reuse an identical earlier fit), save it as NetCDF, and return it with its relative path.

        Identical fits -- same model, data, covariates and priors, e.g. a paper's candidate set that equals the
        evidence base -- are run once. The seed comes from the run seed and the fit's content, so a fit's numbers
        do not depend on which other jobs ran (``--only``) or in what order.

        Retry policy (stated in the report): a fit that fails its gates is run again with a new seed, twice the
        draws and target_accept 0.99. The first attempt is never used; its failures are recorded in the retry's
        ``settings["first_attempt_failures"]`` and in ``RunResult.retried``. If the retry fails too, it is kept,
        flagged as failed, and the run exits non-zero.
        """
        key = _content_key(fit_fn.__name__, data, kw.get("covariates"), tp, ep)
        sampler = {**self.settings.sampler, **({"draws": kw.pop("draws")} if "draws" in kw else {})}
        if key in self._done and self._done[key][0].settings["draws"] >= sampler.get("draws", DRAWS):
            return self._done[key]  # an identical fit with at least as many draws
        seed = fit_seed(self.settings.seed, key)
        fit = fit_fn(data, tp, ep, seed=seed, label=label, **sampler, **kw)
        if not fit.diagnostics.passed:
            sampler = {**sampler, **RETRY_SETTINGS, "draws": 2 * sampler.get("draws", DRAWS)}
            retry = fit_fn(data, tp, ep, seed=(seed + 1) % (2**31 - 1), label=label, **sampler, **kw)
            retry.settings["first_attempt_failures"] = list(fit.diagnostics.failures)
            self.result.retried.append((label, fit.diagnostics.failures, retry.diagnostics.passed))
            fit = retry
        self.fit_dir.mkdir(parents=True, exist_ok=True)
        path = self.fit_dir / f"{name}.nc"
        self._writes.append(self._writer.submit(fit.save, path))
        self.result.fits.append((fit.label, fit, path.name))
        self._done[key] = (fit, f"fits/{path.name}")
        return self._done[key]

    def _save_figure(self, fig, path: Path) -> Path:
        """Render and write a figure on the background writer thread (it overlaps the next fit); return its path."""
        self._writes.append(self._writer.submit(figs.save, fig, path))
        return path

    def _bn(
        self, s: StudySet, tp, ep, *, label: str, name: str, covariates=None, table=None, draws: int | None = None,
        **kw: Any,
    ) -> tuple[Fit, str]:
        data = table if table is not None else s.table
        extra = {} if draws is None else {"draws": draws}
        return self._fit(fit_binomial_normal, data, tp, ep, label=label, name=name, covariates=covariates, **extra,
                         **kw)  # fmt: skip

    def _row(self, post, s: StudySet, *, model: str, tp: str, ep: str, analysis: str | None = None, **kw) -> None:
        """Append the summary row of ``post``; absolute-risk columns at the set's crude control risk unless told.

        The binomial-normal model's internal baseline risk (expit of the mean control log-odds, pulled down by
        zero-event studies) describes no patient population, so it is never the baseline of an absolute effect.
        """
        baseline = kw.pop("baseline_risk", None)
        if baseline is None and post.measure in ("OR", "RR"):
            baseline = s.crude_control_risk
        extra = {c: kw.pop(c) for c in list(kw) if c in ("log_evidence", "title")}
        row = posterior_row(
            post,
            analysis_id=s.key if analysis is None else f"{s.document}/{analysis}",
            document=s.document,
            analysis=s.analysis if analysis is None else analysis,
            title=s.title,
            model=model,
            tau_prior=tp,
            effect_prior=ep,
            studies=kw.pop("studies", s.table.study),
            missing=kw.pop("missing", s.missing),
            higher_is_benefit=s.higher_is_benefit,
            baseline_risk=baseline,
            published=kw.pop("published", s.published),
            **kw,
        )
        if row["baseline_source"] == "user":
            row["baseline_source"] = "crude control risk of the set"
        row.update(extra)
        self.result.rows.append(row)

    # -- job builders ---------------------------------------------------------------------------------------

    def jobs(self) -> list[tuple[str, Callable[[], None]]]:
        """Every job of the run, in order, as (label, callable)."""
        jobs: list[tuple[str, Callable[[], None]]] = []
        for _, pub in self.dataset.published.iterrows():
            doc, ana = str(pub["document"]), str(pub["analysis"])
            if self.settings.wants(doc, ana) and pub["measure"] in ("OR", "RR") and not math.isnan(pub["ci_low"]):
                jobs.append((f"summary-level {doc}/{ana}", lambda d=doc, a=ana: self.summary_level(d, a)))
        for key, s in self.sets.items():
            if not self.settings.wants(s.document, s.analysis):
                continue
            jobs.append((f"exact grids {key}", lambda s=s: (self.exact_grid(s), self.exact_bn_grid(s))))
            jobs.append((f"binomial-normal MCMC {key}", lambda s=s: self.study_level(s)))
            if s.missing and s.document != EVIDENCE_BASE:
                jobs.append((f"missing studies {key}", lambda s=s: self.missing_studies(s)))
            if key in LOO_SETS:
                jobs.append((f"leave one out ({key})", lambda s=s: [self.leave_one_out(s, o) for o in s.table.study]))
        if self.settings.wants(EVIDENCE_BASE, "all") or self.settings.wants("scrt2026", "mortality"):
            jobs.insert(0, ("published totals", self.published_totals))
        if self.settings.wants(EVIDENCE_BASE, "all"):
            base = self.sets[f"{EVIDENCE_BASE}/all"]
            jobs.append(("non-randomised studies through a bias model", lambda b=base: self.design_bias(b)))
            jobs.append(("absolute effects and Bayes factors", self.primary_summaries))
            jobs.append(("small-study effects", self.small_study))
            for make in REGRESSIONS:
                jobs.append((f"meta-regression {make.__name__}", lambda m=make, b=base: self.regression(b, m)))
            jobs.append(("design down-weighting", lambda b=base: self.downweight_nrs(b)))
            jobs.append(("evidence over time", lambda b=base: self.over_time(b)))
        if self.settings.wants("shi_followup_3y", ""):
            jobs.append(("3-year follow-up", self.followup))
        jobs.append(("figures", self.figures))
        return jobs

    def run(self, progress: bool = True) -> RunResult:
        """Run every job; returns the result (fits saved, figures written)."""
        start = time.perf_counter()
        jobs = self.jobs()
        bar = tqdm(jobs, desc="reanalysis", unit="job", disable=not progress, dynamic_ncols=True)
        try:
            for label, job in bar:
                bar.set_postfix_str(label[:60])
                began = time.perf_counter()
                job()
                self.result.job_seconds[label] = time.perf_counter() - began
        finally:
            self._writer.shutdown(wait=True)
        for write in self._writes:
            write.result()  # re-raise a failed NetCDF write
        self.result.wall_seconds = time.perf_counter() - start
        return self.result

    # -- the analyses ---------------------------------------------------------------------------------------

    def summary_level(self, document: str, analysis: str) -> None:
        """Every published pooled ratio reanalysed at summary level over the whole prior grid."""
        pub = published_of(self.dataset, document, analysis)
        assert pub is not None
        s = self.sets.get(f"{document}/{analysis}") or self.sets.get(f"{document}/mortality")
        baseline = s.crude_control_risk if s is not None else self.sets[f"{EVIDENCE_BASE}/all"].crude_control_risk
        higher = self.dataset.analysis_set(document, analysis).outcome in HIGHER_IS_BENEFIT
        variants = [("summary_level", None, "closed form (conjugate normal), the published CI at face value; "
                     "tau from its prior")]  # fmt: skip
        if pub.is_fixed_effect and pub.k:
            variants.append(("summary_level_re", pub.k, f"fixed-effect CI widened by tau^2/k (k = {pub.k}), tau "
                             "integrated over its prior (normal mixture)"))  # fmt: skip
        for model, k, method in variants:
            for tk in BINARY_TAU_PRESETS:
                for ek in EFFECT_PRESETS_GRID:
                    post = SummaryLevelPosterior(
                        pub.estimate, pub.ci_low, pub.ci_high, pub.measure, tau_prior(tk), effect_prior(ek),
                        fixed_effect_k=k, seed=fit_seed(self.settings.seed, f"summary {document}/{analysis}"),
                    )  # fmt: skip
                    row = posterior_row(
                        post,
                        analysis_id=f"{document}/{analysis}",
                        document=document,
                        analysis=analysis,
                        title=f"{document} {analysis.replace('_', ' ')} (published pooled estimate)",
                        model=model,
                        tau_prior=tk,
                        effect_prior=ek,
                        studies=("published",),
                        higher_is_benefit=higher,
                        baseline_risk=baseline,
                        published=pub,
                        method=method,
                    )
                    self.result.rows.append(row)

    def _effects(self, s: StudySet, measure: str | None = None):
        return escalc(s.table, measure or s.measure, correction="only0", drop00=True)

    def exact_grid(self, s: StudySet) -> None:
        """Exact normal-normal posterior (paper's measure, 0.5 correction) over the whole prior grid."""
        effects = self._effects(s)
        for tk in BINARY_TAU_PRESETS:
            for ek in EFFECT_PRESETS_GRID:
                post = exact_from_effects(effects, tau_prior(tk), effect_prior(ek), n_draws=20_000)
                self._row(post, s, model="normal_normal_exact", tp=tk, ep=ek, studies=effects.study,
                          method="exact quadrature")  # fmt: skip

    def study_level(self, s: StudySet) -> None:
        """The binomial-normal MCMC fit under the primary priors, with its figures.

        The normal-normal model beside it is computed exactly (``exact_grid``): MCMC would only reproduce the
        quadrature within Monte Carlo error (checked by the oracle tests), at the cost of a fit per set.
        """
        tp, ep = self._primary()
        fit, path = self._bn(s, tp, ep, label=f"{s.key} binomial-normal primary",
                             name=f"{s.file_stem}__binomial_normal__primary")  # fmt: skip
        post = fit.posterior(seed=self.settings.seed)
        self._row(post, s, model="binomial_normal", tp=tp.key, ep=ep.key, fit=fit, fit_file=path)
        exact = self._posterior(s.table)
        mu = fit.idata["posterior"]["mu"].values.reshape(-1)
        mcse = float(np.std(mu, ddof=1)) / math.sqrt(float(fit.diagnostics.table.loc["mu", "ess_bulk"]))
        self.result.twins[fit.label] = (float(np.mean(mu)) - exact.log_mean()) / mcse
        self.result.rows[-1]["exact_twin_diff_mcse"] = self.result.twins[fit.label]
        self.result.study_sets[s.key] = s
        self._figures_for_set(s, fit, exact_from_effects(self._effects(s), tp, ep, n_draws=20_000))

    def exact_bn_grid(self, s: StudySet) -> None:
        """The binomial-normal model over the whole prior grid, exactly (:mod:`models.bayes.exact_binomial`).

        The per-study likelihood integrals are computed once and reused for every prior, so the 32 posteriors of a
        set cost little more than one. The primary priors' exact posterior is the twin of the MCMC fit
        (``study_level``): their difference in Monte Carlo standard errors is reported as a convergence check.
        """
        for tk in BINARY_TAU_PRESETS:
            for ek in EFFECT_PRESETS_GRID:
                post = self._posterior(s.table, tp=tau_prior(tk), ep=effect_prior(ek))
                self._row(post, s, model="binomial_normal_exact", tp=tk, ep=ek, method="exact quadrature",
                          log_evidence=post.log_evidence)  # fmt: skip

    def missing_studies(self, s: StudySet) -> None:
        """Tipping-point map over the deaths in the studies with unknown counts (:mod:`models.analyses.missing`)."""
        sizes = missing_arm_sizes(self.dataset, s.outcome, s.missing)
        if sizes is None:
            return
        n_t, n_c = sizes
        key = repr((s.table, s.missing))
        step = _map_step(int(n_t.sum()), int(n_c.sum()))
        if key not in self._grids:
            tp, ep = self._primary()
            self._grids[key] = tipping_grid(s.table, n_t, n_c, s.missing, tp, ep, step=step,
                                            higher_is_benefit=s.higher_is_benefit)  # fmt: skip
        grid = self._grids[key]
        text = (
            f"{len(s.missing)} {'study lacks its counts' if len(s.missing) == 1 else 'studies lack counts'} "
            f"({', '.join(s.missing)}; {n_t.sum()} MSC and {n_c.sum()} control patients). "
            + describe_boundary(grid, step=step)
        )
        self.result.tipping[s.key] = text
        scenarios = ()
        totals = self.result.totals.get("implied")
        if totals is not None and s.document == "scrt2026":
            scenarios = (("published totals", totals.deaths_t, totals.deaths_c),)
        fig = figs.tipping_map(grid, scenarios=scenarios, arm_sizes=(int(n_t.sum()), int(n_c.sum())),
                               higher_is_benefit=s.higher_is_benefit,
                               title=f"{s.title}: deaths the missing studies would need (binomial-normal, "
                                     "exact)")  # fmt: skip
        self.result.add_figure(s.key, self._save_figure(fig, self.fig_dir / f"{s.file_stem}__missing.png"), text)

    def leave_one_out(self, s: StudySet, omit: str) -> None:
        """Exact binomial-normal posterior without one study (primary priors)."""
        keep = [x for x in s.table.study if x != omit]
        tp, ep = self._primary()
        post = self._posterior(s.table.subset(keep))
        self._row(post, s, model="binomial_normal_exact", tp=tp.key, ep=ep.key, analysis=f"{s.analysis}/without_{omit}",
                  studies=tuple(keep), method="exact quadrature")  # fmt: skip
        row = self.result.rows[-1]
        row["analysis_id"] = f"{s.key}/without_{omit}"
        row["title"] = f"{s.title}, without {omit}"

    def regression(self, base: StudySet, make: Callable[[pd.DataFrame], Regression]) -> None:
        """A binomial-normal meta-regression and its subgroup ORs beside the published subgroup ORs."""
        reg = make(self.dataset.covariates(list(base.table.study)))
        table = base.table.subset(list(reg.covariates.index))
        tp, ep = self._primary()
        fit, path = self._bn(base, tp, ep, label=f"{base.key} meta-regression {reg.key}", covariates=reg.covariates,
                             table=table, name=f"{base.file_stem}__regression__{reg.key}")  # fmt: skip
        ds = fit.idata["posterior"].to_dataset()
        tau = ds["tau"].values.reshape(-1)
        rows = []
        for group, log_or in subgroup_log_or(reg, ds).items():
            pub_key = reg.published.get(group)
            pub = published_of(self.dataset, *pub_key) if pub_key else None
            row = draws_row(
                log_or, tau, analysis_id=f"{base.key}/regression_{reg.key}/{group}", document=EVIDENCE_BASE,
                analysis=f"regression_{reg.key}", title=f"{reg.title}: {group}", model="binomial_normal_regression",
                method="mcmc", measure="OR", tau_prior=tp.key, effect_prior=ep.key, studies=table.study,
                missing=reg.dropped, published=pub, fit_file=path,
            )  # fmt: skip
            row.update(diagnostic_columns(fit))
            self.result.rows.append(row)
            rows.append(
                {"group": group, "median": row["median"], "low": row["low"], "high": row["high"],
                 "p_benefit": row["p_benefit"], "k": studies_in_group(reg.covariates, reg.subgroups[group]),
                 "published": row["published_estimate"], "published_low": row["published_low"],
                 "published_high": row["published_high"],
                 "published_source": f"{pub.document} {pub.analysis}" if pub else ""}
            )  # fmt: skip
        frame = pd.DataFrame(rows)
        self.result.regressions[reg.key] = frame
        beta = ds["beta"].transpose("chain", "draw", "covariate")
        slopes = []
        for j, name in enumerate(reg.covariates.columns):
            b = beta.values[..., j].reshape(-1)
            lo, med, hi = np.exp(np.quantile(b, [0.025, 0.5, 0.975]))
            slopes.append({"covariate": name, "ratio_of_ors": med, "low": lo, "high": hi,
                           "p_below_1": float(np.mean(b < 0)),
                           "k_with": int((reg.covariates[name] > 0).sum()) if set(
                               reg.covariates[name].unique()) <= {0.0, 1.0} else len(reg.covariates)})  # fmt: skip
        self.result.regression_slopes[reg.key] = pd.DataFrame(slopes)
        fig = figs.subgroups(frame, title=reg.title + " (binomial-normal, primary priors)")
        caption = f"{reg.title}: posterior OR by subgroup (95% CrI) beside the published subgroup OR where one exists."
        if reg.dropped:
            caption += f" Left out (covariate unknown): {', '.join(reg.dropped)}."
        self.result.add_figure(
            "regression", self._save_figure(fig, self.fig_dir / f"regression_{reg.key}.png"), caption
        )

    def downweight_nrs(self, base: StudySet) -> None:
        """Non-randomised studies down-weighted: their variances doubled (weight 1/2), exact normal-normal."""
        effects = self._effects(base, "OR")
        cov = self.dataset.covariates(list(effects.study))
        factor = np.where(cov["design"].to_numpy() == "NRS", 2.0, 1.0)
        tp, ep = self._primary()
        post = exact_normal_normal(effects.yi, effects.vi * factor, tp, ep, study=effects.study, measure="OR")
        self._row(post, base, model="normal_normal_exact", tp=tp.key, ep=ep.key, analysis="nrs_half_weight",
                  method="exact quadrature", studies=effects.study)  # fmt: skip
        self.result.rows[-1]["title"] = "All studies, non-randomised studies at half weight (variance x2)"

    def over_time(self, base: StudySet) -> None:
        """Cumulative binomial-normal analysis by publication year (exact, primary priors)."""
        years = self.dataset.covariates(list(base.table.study))["year"].astype(int)
        tp, ep = self._primary()
        rows = []
        for year in sorted(set(years)):
            keep = [s for s in base.table.study if years[s] <= year]
            if len(keep) < 2:
                continue
            post = self._posterior(base.table.subset(keep))
            ci = post.interval(0.95)
            rows.append({"year": year, "k": len(keep), "median": post.median(), "low": ci.low, "high": ci.high,
                         "p_benefit": post.prob_below(1.0)})  # fmt: skip
            self._row(post, base, model="binomial_normal_exact", tp=tp.key, ep=ep.key, analysis=f"up_to_{year}",
                      studies=tuple(keep), method="exact quadrature")  # fmt: skip
            self.result.rows[-1]["title"] = f"Studies published up to {year}"
        self.result.cumulative = pd.DataFrame(rows)
        fig = figs.over_time(self.result.cumulative, title="Evidence over time (binomial-normal, primary priors)")
        self.result.add_figure(
            "evidence", self._save_figure(fig, self.fig_dir / "evidence_over_time.png"),
            "Pooled OR and P(OR < 1) as the studies with known counts accumulated, by publication year.",
        )  # fmt: skip

    # -- the hierarchy of analyses: randomised first, non-randomised only through a bias model --------------------

    def _bias_vectors(self, studies: tuple[str, ...], bias: BiasPrior | None) -> tuple[np.ndarray, np.ndarray]:
        """Per-study bias mean and SD: ``bias`` for non-randomised studies (and for a pooled row of studies without
        counts, most of which are non-randomised), 0 for randomised trials; zeros when ``bias`` is None."""
        k = len(studies)
        if bias is None:
            return np.zeros(k), np.zeros(k)
        design = self.dataset.studies["design"]
        nrs = np.array([design.get(x, "NRS") == "NRS" for x in studies])
        return np.where(nrs, bias.mean, 0.0), np.where(nrs, bias.sd, 0.0)

    def _posterior(self, table, bias: BiasPrior | None = None, *, parametrisation: str = "symmetric", tp=None, ep=None):
        """Exact binomial-normal posterior of ``table`` (primary priors unless told), with the NRS bias model.

        Computed once per (data, bias model, parametrisation, priors) in a run: the grid, the MCMC twin check, the
        absolute effects and the funnel plot's pooled line ask for the same posteriors.
        """
        ptp, pep = self._primary()
        tp, ep = tp or ptp, ep or pep
        key = (table.study, *(getattr(table, a).tobytes() for a in ("e_t", "n_t", "e_c", "n_c")),
               None if bias is None else bias.key, parametrisation, tp.key, ep.key)  # fmt: skip
        if key not in self._exact:
            mean, sd = self._bias_vectors(table.study, bias)
            self._exact[key] = exact_binomial_normal(table, tp, ep, bias_mean=mean, bias_sd=sd,
                                                     parametrisation=parametrisation)  # fmt: skip
        return self._exact[key]

    def design_bias(self, base: StudySet) -> None:
        """RCT + NRS with each NRS's additive bias integrated out (:data:`models.priors.BIAS_PRESETS`), over the
        prior grid; and the control-arm parametrisation of the binomial-normal model as a sensitivity analysis."""
        for key, bias in BIAS_PRESETS.items():
            for tk in BINARY_TAU_PRESETS:
                for ek in EFFECT_PRESETS_GRID:
                    if key != PRIMARY_BIAS_PRIOR and (tk, ek) != (PRIMARY_TAU_PRIOR, PRIMARY_EFFECT_PRIOR):
                        continue
                    post = self._posterior(base.table, bias, tp=tau_prior(tk), ep=effect_prior(ek))
                    self._row(post, base, model="binomial_normal_exact", tp=tk, ep=ek, analysis=key,
                              method="exact quadrature", title=f"RCT + NRS, NRS through a bias model: {bias}",
                              log_evidence=post.log_evidence)  # fmt: skip
        tp, ep = self._primary()
        for analysis in (PRIMARY_ANALYSIS, "all"):
            s = self.sets[f"{EVIDENCE_BASE}/{analysis}"]
            post = self._posterior(s.table, parametrisation="control")
            self._row(post, s, model="binomial_normal_exact_control_arm", tp=tp.key, ep=ep.key,
                      method="exact quadrature, control-arm parametrisation "
                             "(logit p_c = a, logit p_t = a + t)")  # fmt: skip

    def published_totals(self) -> None:
        """The deaths implied in the 9 studies without counts by SCRT 2026's published crude totals, spread over
        those studies in several ways (:mod:`models.analyses.totals`), each added to the 15 studies with counts."""
        base = self.sets[f"{EVIDENCE_BASE}/all"]
        sizes = missing_arm_sizes(self.dataset, "mortality", base.missing)
        if sizes is None:
            return
        n_t, n_c = sizes
        implied = implied_missing_deaths(base.table, n_t, n_c, **SCRT_TOTALS)
        self.result.totals["implied"] = implied
        tp, ep = self._primary()
        bias = BIAS_PRESETS[PRIMARY_BIAS_PRIOR]
        spreads = allocations(base.table, base.missing, n_t, n_c, implied.deaths_t, implied.deaths_c)
        self.result.totals["proportional"] = spreads[0].table
        for alloc in spreads:
            for model, b in (("binomial_normal_exact_nrs_bias", bias), ("binomial_normal_exact", None)):
                post = self._posterior(alloc.table, b)
                how = "NRS through the bias model" if b is not None else "all 24 exchangeable, as SCRT 2026 pooled"
                self._row(post, base, model=model, tp=tp.key, ep=ep.key, analysis=f"published_totals/{alloc.key}",
                          studies=alloc.table.study, missing=(), method="exact quadrature",
                          title=f"All 24 studies, published-totals scenario: {alloc.label} ({how})",
                          log_evidence=post.log_evidence)  # fmt: skip

    def control_risks(self) -> tuple[ControlRisk, ...]:
        """The stated control risks of the absolute effects: the randomised trials' crude control risk and two
        RECOVERY usual-care risks (on oxygen; ventilated)."""
        rct = self.sets[f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}"].table
        crude = crude_control_risk(
            rct.e_c.sum(), rct.n_c.sum(), key="rct_crude", label="crude control risk of the randomised trials",
            source=f"{int(rct.e_c.sum())} of {int(rct.n_c.sum())} control patients in the {rct.k} RCTs with counts",
        )  # fmt: skip
        return (crude, RECOVERY_OXYGEN, RECOVERY_VENTILATED)

    def primary_summaries(self) -> None:
        """Absolute effects at stated control risks, Bayes factors and the model-averaged effect, for the primary
        analysis and the analyses the bottom line quotes."""
        bias = BIAS_PRESETS[PRIMARY_BIAS_PRIOR]
        targets = [
            (self.sets[f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}"], None, None, None),
            (self.sets[f"{EVIDENCE_BASE}/rct_blinded"], None, None, None),
            (self.sets[f"{EVIDENCE_BASE}/all"], bias, PRIMARY_BIAS_PRIOR, None),
            (self.sets[f"{EVIDENCE_BASE}/all"], None, None, None),
        ]
        proportional = self.result.totals.get("proportional")
        if proportional is not None:
            targets.append((self.sets[f"{EVIDENCE_BASE}/all"], bias, "published_totals/proportional", proportional))
        tp, ep = self._primary()
        controls = self.control_risks()
        for s, b, analysis, table in targets:
            table = s.table if table is None else table
            analysis_name = analysis or s.analysis
            model = "binomial_normal_exact_nrs_bias" if analysis == "published_totals/proportional" else (
                "binomial_normal_exact")  # fmt: skip
            key = f"{s.document}/{analysis_name}"
            post = self._posterior(table, b)
            averaged = average_binomial(post.lik, tp, ep, random_effects=post)
            self.result.averaging[key] = averaged
            for row in self.result.rows:
                if row["analysis_id"] == key and row["model"] == model and row["tau_prior"] == tp.key and (
                        row["effect_prior"] == ep.key):  # fmt: skip
                    row.update(bf10_effect=averaged.bf10_effect, bf10_heterogeneity=averaged.bf10_heterogeneity,
                               p_benefit_model_averaged=averaged.prob_below_1,
                               **{"p_below_0.8_model_averaged": averaged.prob_below_0_8})  # fmt: skip
                    base_row = row
                    break
            else:
                continue
            effects = [absolute_effect(post, c) for c in controls]
            self.result.absolute[key] = effects
            for eff in effects:
                self.result.rows.append(absolute_row(base_row, eff))

    def small_study(self) -> None:
        """Small-study effects: Egger (t form), Peters and Harbord tests, a contour-enhanced funnel plot, and the
        Bayesian PET/PEESE adjustment inside the binomial-normal model (MCMC; slope prior Normal(0, 1) per unit SE),
        for the randomised trials and for all studies with counts."""
        tp, ep = self._primary()
        for analysis in (PRIMARY_ANALYSIS, "all"):
            s = self.sets[f"{EVIDENCE_BASE}/{analysis}"]
            tests = []
            for test in (egger_lm, peters, harbord):
                try:
                    r = test(escalc(s.table, "OR") if test is egger_lm else s.table)
                except ValueError as err:
                    tests.append({"test": test.__name__, "note": str(err)})
                    continue
                tests.append({"test": r.method, "statistic": r.statistic, "df": r.df, "p": r.p, "k": r.k,
                              "underpowered": r.underpowered,
                              "dropped": ", ".join(r.dropped)})  # fmt: skip

            def fitter(table, tau_p, effect_p, *, seed: int, covariates=None, s: StudySet = s, **kw):
                kind = "unadjusted" if covariates is None else "_".join(covariates.columns)
                return self._bn(s, tau_p, effect_p, table=table, covariates=covariates,
                                label=f"{s.key} small-study {kind}",
                                name=f"{s.file_stem}__small_study__{kind}", **kw)[0]  # fmt: skip

            comp = small_study_comparison(s.table, tp, ep, fitter=fitter)
            table = comp.table()
            self.result.small_study[analysis] = (pd.DataFrame(tests), table)
            for kind, fit in comp.adjusted.items():
                self._row(fit.posterior(seed=self.settings.seed), s, model=f"binomial_normal_{kind}", tp=tp.key,
                          ep=ep.key, analysis=f"{s.analysis}/small_study_{kind}", studies=fit.fit.study,
                          fit=fit.fit, method=f"mcmc, {kind.upper()} meta-regression on the study SE (uncentred), "
                          f"slope ~ Normal(0, {SLOPE_SD_DEFAULT:g})",
                          title=f"{s.title}, adjusted for small-study effects ({kind.upper()})")  # fmt: skip
            if analysis == "all":
                effects = escalc(s.table, "OR")
                design = self.dataset.studies["design"]
                fig = funnel_plot(effects, design={x: str(design[x]) for x in effects.study},
                                  pooled=self._posterior(s.table).median(), pooled_label="Posterior median OR",
                                  title="All studies with known counts: contour-enhanced funnel plot")  # fmt: skip
                self.result.add_figure("small_study", self._save_figure(fig, self.fig_dir / "funnel.png"),
                                       "Contour-enhanced funnel plot (Peters et al. 2008): each study's log OR (OR "
                                       "scale) against its standard error, shaded where its own test would give p < "
                                       "0.01, 0.01-0.05 and 0.05-0.10; markers by design.")  # fmt: skip

    def followup(self) -> None:
        """Single-trial reanalysis of the Shi 2021 3-year follow-up (see :mod:`models.analyses.followup`)."""
        self.result.rows.extend(followup_rows(self.dataset, lambda analysis: fit_seed(self.settings.seed, analysis)))

    # -- figures --------------------------------------------------------------------------------------------

    def _figures_for_set(self, s: StudySet, bn: Fit, nn: Posterior) -> None:
        """Forest plot (Cochrane layout) and the posterior of the pooled OR for one study set; tau for key sets.

        One pooled quantity per display: the forest plot is drawn on the paper's measure (binomial-normal OR for OR
        sets; normal-normal on log RR for RR sets, so that study RRs and the published RR share an axis), the
        density shows the binomial-normal pooled OR, and each says so in its title.
        """
        post = nn if s.measure == "RR" else bn.posterior(seed=self.settings.seed)
        observed = self._effects(s, s.measure)
        design = self.dataset.studies["design"]
        sizes = missing_arm_sizes(self.dataset, s.outcome, s.missing) if s.missing else None
        not_reported = (
            [(m, int(t), int(c)) for m, t, c in zip(s.missing, *sizes, strict=True)] if sizes is not None
            else list(s.missing)
        )  # fmt: skip
        model = "normal-normal on log RR" if s.measure == "RR" else "binomial-normal"
        fig = figs.forest(
            s, observed, post, title=f"{s.title}: pooled {s.measure} ({model})",
            design={x: str(design.get(x, "")) for x in s.table.study},
            weights=figs.random_effects_weights(observed, nn.tau_median()),
            heterogeneity=figs._heterogeneity(observed, nn), not_reported=not_reported, model=model,
        )  # fmt: skip
        self.result.add_figure(s.key, self._save_figure(fig, self.fig_dir / f"{s.file_stem}__forest.png"),
                               f"Forest plot ({s.measure}, {model}): deaths/patients per arm, random-effects weights "
                               f"(normal-normal), observed {s.measure} (95% CI; 0.5 added to zero cells), shrunken "
                               "estimates, pooled posterior (95% CrI), 95% prediction interval, the published pooled "
                               "estimate, and the studies whose counts were never reported.")  # fmt: skip
        ds = bn.idata["posterior"].to_dataset()
        fig = figs.density(ds["mu"].values.reshape(-1), s, title=f"{s.title}: pooled OR (binomial-normal)")
        self.result.add_figure(s.key, self._save_figure(fig, self.fig_dir / f"{s.file_stem}__density.png"),
                               "Posterior of the pooled OR (binomial-normal, MCMC draws, primary priors) with the "
                               "benefit side shaded and the published 95% CI marked.")  # fmt: skip
        if s.document == EVIDENCE_BASE and s.analysis in (PRIMARY_ANALYSIS, "all"):
            fig = figs.tau(ds["tau"].values.reshape(-1), bn.tau_prior, title=f"{s.title}: heterogeneity")
            self.result.add_figure(
                s.key,
                self._save_figure(fig, self.fig_dir / f"{s.file_stem}__tau.png"),
                f"Posterior of tau (binomial-normal) against its prior ({bn.tau_prior.label}).",
            )

    def figures(self) -> None:
        """Prior-sensitivity heatmaps of P(OR < 1) for the primary analysis and the bias-model analysis."""
        summary = self.result.summary
        for key, model, title in (
            (f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", "binomial_normal_exact", "Randomised trials (primary)"),
            (f"{EVIDENCE_BASE}/nrs_bias", "binomial_normal_exact", "RCT + NRS through the bias model"),
        ):
            sub = summary[(summary["analysis_id"] == key) & (summary["model"] == model)]
            if sub["tau_prior"].nunique() < 2:
                continue
            table = sub.pivot_table(index="tau_prior", columns="effect_prior", values="p_benefit")
            table = table.reindex(index=[t for t in BINARY_TAU_PRESETS if t in table.index],
                                  columns=[e for e in EFFECT_PRESETS_GRID if e in table.columns])  # fmt: skip
            fig = figs.sensitivity(table, title=f"{title}: P(OR < 1) by prior", value_label="P(OR < 1)")
            stem = key.replace("/", "__") + "__priors"
            caption = (f"{title}: P(OR < 1) by heterogeneity prior (rows) and effect prior (columns), exact "
                       "binomial-normal; colours span the range of the values shown.")  # fmt: skip
            self.result.add_figure("priors", self._save_figure(fig, self.fig_dir / f"{stem}.png"), caption)


def run_reanalysis(dataset: Dataset, settings: RunSettings, out_dir: Path, progress: bool = True) -> RunResult:
    """Run the whole reanalysis into ``out_dir`` (fits and figures; the caller writes tables and the report)."""
    return Reanalysis(dataset, settings, out_dir).run(progress=progress)
