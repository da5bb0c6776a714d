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
from models.analyses.followup import followup_rows
from models.analyses.missing import describe_boundary, missing_arm_sizes, tipping_grid
from models.analyses.regression import REGRESSIONS, Regression, studies_in_group, subgroup_log_or
from models.analyses.rows import COLUMNS, diagnostic_columns, draws_row, posterior_row
from models.analyses.specs import (
    BINARY_TAU_PRESETS,
    EFFECT_PRESETS_GRID,
    EVIDENCE_BASE,
    HIGHER_IS_BENEFIT,
    StudySet,
    published_of,
    study_sets,
)
from models.atomic import write_atomic
from models.bayes.diagnostics import GATES
from models.bayes.exact import exact_from_effects, exact_normal_normal
from models.bayes.fit import Fit
from models.bayes.posterior import DrawsPosterior, Posterior
from models.bayes.reweight import KHAT_MAX, reweight
from models.bayes.sampling import DRAWS, fit_binomial_normal
from models.bayes.summary_level import SummaryLevelPosterior
from models.datasets import Dataset
from models.effects import escalc
from models.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR, effect_prior, tau_prior

GRID_SETS = ("tang2024/mortality", "yao2022/mortality", "scrt2026/mortality", f"{EVIDENCE_BASE}/all")
"""Study sets whose binomial-normal model is fitted over the whole prior grid (others: primary priors only)."""

LOO_SETS = ("tang2024/mortality", f"{EVIDENCE_BASE}/all")
"""Study sets with a leave-one-study-out analysis."""

QUICK_GATES = {"rhat_max": 1.05, "ess_min": 100, "divergences_max": 0}
"""Relaxed gates for ``--quick`` smoke runs (few draws); quick results are not for inference."""

PROPOSAL = ("halfcauchy_1", "vague")
"""Priors of the broad proposal fit of the prior grid: the widest tau and effect priors of the grid."""

SCEPTICAL_PROPOSAL = ("turner2015_mortality_pharma", "sceptical")
"""Priors of the concentrated proposal fit: the narrowest tau and effect priors of the grid."""

SENSITIVITY_DRAWS = 1000
"""Draws per chain of the leave-one-out and cumulative fits (primary priors). Under the primary priors the smallest
bulk/tail ESS of a 2000-draw fit is about 5,000 (Tang set: 5,465), so 1000 draws keep every reported quantity well
above the ESS gate of 1000, which is still enforced."""

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
    psis: dict[str, pd.DataFrame] = field(default_factory=dict)
    regressions: dict[str, pd.DataFrame] = field(default_factory=dict)
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

    @property
    def _sensitivity_draws(self) -> int:
        """Draws per chain of leave-one-out and cumulative fits (never more than the run's own setting)."""
        return min(SENSITIVITY_DRAWS, self.settings.sampler.get("draws", DRAWS))

    def _save_figure(self, fig, path: Path) -> Path:
        """Render and write a figure on the background writer thread (it overlaps the next fit); return its path."""
        self._writes.append(self._writer.submit(figs.save, fig, path))
        return path

    def _bn(
        self, s: StudySet, tp, ep, *, label: str, name: str, covariates=None, table=None, draws: int | None = None
    ) -> tuple[Fit, str]:
        data = table if table is not None else s.table
        extra = {} if draws is None else {"draws": draws}
        return self._fit(fit_binomial_normal, data, tp, ep, label=label, name=name, covariates=covariates, **extra)

    def _row(self, post, s: StudySet, *, model: str, tp: str, ep: str, analysis: str | None = None, **kw) -> None:
        baseline = kw.pop("baseline_risk", None)
        if (
            baseline is None
            and post.measure in ("OR", "RR")
            and getattr(post, "_baseline_draws", lambda: None)() is None
        ):
            baseline = s.crude_control_risk
        self.result.rows.append(
            posterior_row(
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
        )

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
            jobs.append((f"exact grid {key}", lambda s=s: self.exact_grid(s)))
            jobs.append((f"binomial-normal {key}", lambda s=s: self.study_level(s)))
            if key in GRID_SETS and not self.settings.quick:
                jobs.append((f"prior grid {key}", lambda s=s: self.prior_grid(s)))
            if s.missing and s.document != EVIDENCE_BASE:
                jobs.append((f"missing studies {key}", lambda s=s: self.missing_studies(s)))
            if key in LOO_SETS:
                for omit in s.table.study:
                    jobs.append((f"leave out {omit} ({key})", lambda s=s, o=omit: self.leave_one_out(s, o)))
        if self.settings.wants(EVIDENCE_BASE, "all"):
            base = self.sets[f"{EVIDENCE_BASE}/all"]
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
        for tk in BINARY_TAU_PRESETS:
            for ek in EFFECT_PRESETS_GRID:
                post = SummaryLevelPosterior(
                    pub.estimate, pub.ci_low, pub.ci_high, pub.measure, tau_prior(tk), effect_prior(ek),
                    seed=fit_seed(self.settings.seed, f"summary {document}/{analysis}"),
                )  # fmt: skip
                row = posterior_row(
                    post,
                    analysis_id=f"{document}/{analysis}",
                    document=document,
                    analysis=analysis,
                    title=f"{document} {analysis.replace('_', ' ')} (published pooled estimate)",
                    model="summary_level",
                    tau_prior=tk,
                    effect_prior=ek,
                    studies=("published",),
                    higher_is_benefit=higher,
                    baseline_risk=baseline,
                    published=pub,
                    method="closed form (conjugate normal); tau from its prior",
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
        if s.measure == "RR":
            self._rr_row(fit, s, path)
        self.result.study_sets[s.key] = s
        self._figures_for_set(s, fit, exact_from_effects(self._effects(s), tp, ep, n_draws=20_000))

    def _rr_row(self, fit: Fit, s: StudySet, path: str) -> None:
        """The binomial-normal model's RR implied at its baseline risk, as its own row (no predictive columns)."""
        ds = fit.idata["posterior"].to_dataset()
        rr = xr.Dataset({"mu": np.log(ds["rr"]), "tau": ds["tau"], "baseline_risk": ds["baseline_risk"]})
        post = DrawsPosterior(rr, "RR", seed=self.settings.seed)
        tp, ep = self._primary()
        self._row(post, s, model="binomial_normal_rr_at_baseline", tp=tp.key, ep=ep.key, fit=fit, fit_file=path)
        row = self.result.rows[-1]
        for col in ("tau_median", "p_tau_above_0.5", "pred_low", "pred_high", "p_new_benefit"):
            row[col] = math.nan

    def prior_grid(self, s: StudySet) -> None:
        """The binomial-normal model over the whole prior grid, by PSIS reweighting of a few proposal fits.

        Proposals: the primary fit, a broad fit (tau ~ HalfCauchy(1), mu ~ Normal(0, 3.16^2): the widest priors of
        the grid) and a sceptical fit (Turner 2015 tau, sceptical effect prior: the most concentrated priors), the
        last two with twice the draws. Every other prior of the grid is reweighted from each proposal by
        Pareto-smoothed importance sampling (:mod:`models.bayes.reweight`); the proposal with the largest
        importance-sampling ESS is used when its k-hat <= 0.7 and that ESS >= the ESS gate, else the prior gets its
        own MCMC fit. Log weights are saved in ``fits/<set>__psis_from_<tau>__<effect>.nc``.
        """
        ess_min = self.settings.sampler["gates"]["ess_min"]
        double = 2 * self.settings.sampler.get("draws", DRAWS)
        proposals = []
        for (tk, ek), draws in (((PRIMARY_TAU_PRIOR, PRIMARY_EFFECT_PRIOR), None), (PROPOSAL, double),
                                (SCEPTICAL_PROPOSAL, double)):  # fmt: skip
            fit, path = self._bn(s, tau_prior(tk), effect_prior(ek), label=f"{s.key} binomial-normal {tk}/{ek}",
                                 name=f"{s.file_stem}__binomial_normal__{tk}__{ek}", draws=draws)  # fmt: skip
            if (tk, ek) != (PRIMARY_TAU_PRIOR, PRIMARY_EFFECT_PRIOR):
                self._row(fit.posterior(seed=self.settings.seed), s, model="binomial_normal", tp=tk, ep=ek, fit=fit,
                          fit_file=path, method="mcmc (PSIS proposal)")  # fmt: skip
            if fit.diagnostics.passed:
                post = fit.idata["posterior"].to_dataset()
                table = fit.diagnostics.table
                ess = float(min(table.loc["mu", "ess_bulk"], table.loc["tau", "ess_bulk"]))
                proposals.append(((tk, ek), fit, path, post, ess / (post.sizes["chain"] * post.sizes["draw"])))
        weights: dict[tuple[str, str], dict[str, np.ndarray]] = {}
        diagnostics = []
        done = {p[0] for p in proposals}
        for tk in BINARY_TAU_PRESETS:
            for ek in EFFECT_PRESETS_GRID:
                if (tk, ek) in done or (tk, ek) == (PRIMARY_TAU_PRIOR, PRIMARY_EFFECT_PRIOR):
                    continue
                target = (tau_prior(tk), effect_prior(ek))
                best = None
                for priors, fit, path, post, r_eff in proposals:
                    rw = reweight(post, target, (tau_prior(priors[0]), effect_prior(priors[1])), r_eff=r_eff,
                                  ess_min=ess_min, seed=fit_seed(self.settings.seed, f"{s.key} {tk} {ek}"))  # fmt: skip
                    if best is None or (rw.khat <= KHAT_MAX and rw.ess > best[0].ess):
                        best = (rw, priors, fit, path)
                rw, priors, fit, path = best
                diagnostics.append({"tau_prior": tk, "effect_prior": ek, "proposal": "/".join(priors),
                                    "khat": rw.khat, "ess": rw.ess, "used": rw.passed})  # fmt: skip
                if rw.passed:
                    weights.setdefault(priors, {})[f"{tk}/{ek}"] = rw.log_weights
                    self._row(DrawsPosterior(rw.posterior, "OR", seed=self.settings.seed), s, model="binomial_normal",
                              tp=tk, ep=ek, fit=fit, fit_file=path,
                              method=f"mcmc, PSIS-reweighted from {'/'.join(priors)}")  # fmt: skip
                else:
                    direct, direct_path = self._bn(s, *target, label=f"{s.key} binomial-normal {tk}/{ek}",
                                                   name=f"{s.file_stem}__binomial_normal__{tk}__{ek}")  # fmt: skip
                    self._row(direct.posterior(seed=self.settings.seed), s, model="binomial_normal", tp=tk, ep=ek,
                              fit=direct, fit_file=direct_path, method="mcmc")  # fmt: skip
                self.result.rows[-1].update(is_khat=rw.khat, is_ess=rw.ess)
        self.result.psis[s.key] = pd.DataFrame(diagnostics)
        for (tk, ek), by_prior in weights.items():
            path = next(p[2] for p in proposals if p[0] == (tk, ek))
            ds = xr.Dataset(
                {"log_weight": (("prior", "sample"), np.stack(list(by_prior.values())))},
                coords={"prior": list(by_prior)},
                attrs={"proposal_fit": path, "proposal_priors": f"{tk}/{ek}", "sample_order": "chain-major",
                       "method": "Pareto-smoothed importance sampling (arviz-stats psislw)"},
            )  # fmt: skip
            target_path = self.fit_dir / f"{s.file_stem}__psis_from_{tk}__{ek}.nc"
            self._writes.append(self._writer.submit(_write_netcdf, ds, target_path))

    def missing_studies(self, s: StudySet) -> None:
        """Tipping-point grid over the deaths in the studies with unknown counts (:mod:`models.analyses.missing`)."""
        sizes = missing_arm_sizes(self.dataset, s.outcome, s.missing)
        if sizes is None:
            return
        n_t, n_c = sizes
        key = repr((s.table, s.missing))
        if key not in self._grids:
            tp, ep = self._primary()
            step = max(1, int(n_t.sum() + n_c.sum()) // 80)  # at most about 40 x 40 grid points
            self._grids[key] = tipping_grid(s.table, n_t, n_c, s.missing, tp, ep, step=step,
                                            higher_is_benefit=s.higher_is_benefit)  # fmt: skip
        grid = self._grids[key]
        text = (
            f"{len(s.missing)} {'study lacks its counts' if len(s.missing) == 1 else 'studies lack counts'} "
            f"({', '.join(s.missing)}; {n_t.sum()} MSC and {n_c.sum()} control patients). " + describe_boundary(grid)
        )
        self.result.tipping[s.key] = text
        fig = figs.tipping_map(grid, title=f"{s.title}: deaths the missing studies would need")
        self.result.add_figure(s.key, self._save_figure(fig, self.fig_dir / f"{s.file_stem}__missing.png"), text)

    def leave_one_out(self, s: StudySet, omit: str) -> None:
        """Binomial-normal primary fit without one study."""
        keep = [x for x in s.table.study if x != omit]
        tp, ep = self._primary()
        fit, path = self._bn(s, tp, ep, label=f"{s.key} without {omit}", table=s.table.subset(keep),
                             name=f"{s.file_stem}__loo__{omit}", draws=self._sensitivity_draws)  # fmt: skip
        self._row(
            fit.posterior(seed=self.settings.seed), s, model="binomial_normal", tp=tp.key, ep=ep.key,
            analysis=f"{s.analysis}/without_{omit}", studies=tuple(keep), fit=fit, fit_file=path,
        )  # fmt: skip
        self.result.rows[-1]["analysis_id"] = f"{s.key}/without_{omit}"

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
        """Cumulative binomial-normal analysis by publication year."""
        years = self.dataset.covariates(list(base.table.study))["year"].astype(int)
        tp, ep = self._primary()
        rows = []
        for year in sorted(set(years)):
            keep = [s for s in base.table.study if years[s] <= year]
            if len(keep) < 2:
                continue
            fit, path = self._bn(base, tp, ep, label=f"evidence up to {year}", table=base.table.subset(keep),
                                 name=f"{base.file_stem}__cumulative__{year}",
                                 draws=self._sensitivity_draws)  # fmt: skip
            post = fit.posterior(seed=self.settings.seed)
            ci = post.interval(0.95)
            rows.append({"year": year, "k": len(keep), "median": post.median(), "low": ci.low, "high": ci.high,
                         "p_benefit": post.prob_below(1.0)})  # fmt: skip
            self._row(post, base, model="binomial_normal", tp=tp.key, ep=ep.key, analysis=f"up_to_{year}",
                      studies=tuple(keep), fit=fit, fit_file=path)  # fmt: skip
            self.result.rows[-1]["title"] = f"Studies published up to {year}"
        self.result.cumulative = pd.DataFrame(rows)
        fig = figs.over_time(self.result.cumulative, title="Evidence over time (binomial-normal, primary priors)")
        self.result.add_figure(
            "evidence", self._save_figure(fig, self.fig_dir / "evidence_over_time.png"),
            "Pooled OR and P(OR < 1) as the studies with known counts accumulated, by publication year.",
        )  # fmt: skip

    def followup(self) -> None:
        """Single-trial reanalysis of the Shi 2021 3-year follow-up (see :mod:`models.analyses.followup`)."""
        self.result.rows.extend(followup_rows(self.dataset, lambda analysis: fit_seed(self.settings.seed, analysis)))

    # -- figures --------------------------------------------------------------------------------------------

    def _figures_for_set(self, s: StudySet, bn: Fit, nn: Posterior) -> None:
        """Forest plot, posterior density and tau prior-vs-posterior for one study set.

        The forest plot is drawn on the paper's measure: the binomial-normal model for OR sets, the (exact)
        normal-normal model on log RR for RR sets, so that study RRs, shrunken RRs and the published RR share an axis.
        """
        post = nn if s.measure == "RR" else bn.posterior(seed=self.settings.seed)
        observed = self._effects(s, s.measure)
        fig = figs.forest(
            s,
            observed,
            post,
            title=f"{s.title}: {'normal-normal (log RR)' if s.measure == 'RR' else 'binomial-normal'}",
        )
        self.result.add_figure(s.key, self._save_figure(fig, self.fig_dir / f"{s.file_stem}__forest.png"),
                               f"Forest plot: observed study {s.measure}s (95% CI; 0.5 added to zero cells), "
                               "shrunken estimates and pooled posterior (95% CrI), predictive interval for a new "
                               f"study, and the published pooled {s.measure}.")  # fmt: skip
        ds = bn.idata["posterior"].to_dataset()
        draws = np.log(ds["rr"].values.reshape(-1)) if s.measure == "RR" else ds["mu"].values.reshape(-1)
        fig = figs.density(draws, s, title=f"{s.title}: posterior of the pooled {s.measure} (binomial-normal)")
        what = "RR implied at the model's baseline risk" if s.measure == "RR" else "OR"
        self.result.add_figure(s.key, self._save_figure(fig, self.fig_dir / f"{s.file_stem}__density.png"),
                               f"Posterior of the pooled {what} (binomial-normal, primary priors) with P(benefit) "
                               "shaded and the published 95% CI marked.")  # fmt: skip
        fig = figs.tau(ds["tau"].values.reshape(-1), bn.tau_prior, title=f"{s.title}: heterogeneity")
        self.result.add_figure(
            s.key,
            self._save_figure(fig, self.fig_dir / f"{s.file_stem}__tau.png"),
            f"Posterior of tau (binomial-normal) against its prior ({bn.tau_prior.label}).",
        )

    def figures(self) -> None:
        """Prior-sensitivity heatmaps (P(benefit), and P(ratio < 0.8) for the binomial-normal grid)."""
        summary = self.result.summary
        for key, s in self.sets.items():
            if not self.settings.wants(s.document, s.analysis):
                continue
            for model, column, label in (
                ("binomial_normal", "p_benefit", "P(benefit)"),
                ("binomial_normal", "p_below_0.8", "P(OR < 0.8)"),
                ("normal_normal_exact", "p_benefit", "P(benefit)"),
            ):
                sub = summary[(summary["analysis_id"] == key) & (summary["model"] == model)]
                if sub["tau_prior"].nunique() < 2 or (column != "p_benefit" and s.higher_is_benefit):
                    continue
                table = sub.pivot_table(index="tau_prior", columns="effect_prior", values=column)
                table = table.reindex(index=[t for t in BINARY_TAU_PRESETS if t in table.index],
                                      columns=[e for e in EFFECT_PRESETS_GRID if e in table.columns])  # fmt: skip
                name = model.replace("_", "-")
                fig = figs.sensitivity(table, title=f"{s.title}: {label} by prior ({name})", value_label=label)
                stem = f"{s.file_stem}__priors__{model}" + ("" if column == "p_benefit" else "__p_below_0.8")
                caption = f"Prior sensitivity: {label} by tau prior (rows) and effect prior (columns), {name} model."
                self.result.add_figure(key, self._save_figure(fig, self.fig_dir / f"{stem}.png"), caption)


def known_target(dataset: Dataset, only: str) -> bool:
    """True when ``--only DOCUMENT[/ANALYSIS]`` names something the run can do."""
    doc, _, ana = only.partition("/")
    if doc == EVIDENCE_BASE:
        return True
    pub = dataset.published[dataset.published["document"] == doc]
    return not pub.empty and (not ana or bool((pub["analysis"] == ana).any()))


def run_reanalysis(dataset: Dataset, settings: RunSettings, out_dir: Path, progress: bool = True) -> RunResult:
    """Run the whole reanalysis into ``out_dir`` (fits and figures; the caller writes tables and the report)."""
    return Reanalysis(dataset, settings, out_dir).run(progress=progress)
