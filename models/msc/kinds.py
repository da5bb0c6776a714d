"""The analyses of the MSC job that run per study set or per published estimate, one function per kind.

Each function takes the run's shared state (:class:`models.msc.state.Run`), adds typed results
(:class:`models.results.Result`) to its store and registers its figures. The prior grid, leave-one-out, cumulative
and summary-level analyses run through the toolkit's generic kinds (:mod:`models.toolkit.kinds`), as the ``fit``
command's do; MCMC fits go through the run's fitting policy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from models.bayes.exact import exact_from_effects, exact_normal_normal
from models.bayes.policy import fit_seed
from models.msc import figures as figs
from models.msc.followup import followup_results
from models.msc.missing import describe_boundary, missing_arm_sizes, tipping_grid
from models.msc.records import Slope, Subgroup
from models.msc.regression import Regression, studies_in_group, subgroup_log_or
from models.msc.specs import (
    BINARY_TAU_PRESETS,
    EFFECT_PRESETS_GRID,
    EVIDENCE_BASE,
    HIGHER_IS_BENEFIT,
    PRIMARY_ANALYSIS,
    StudySet,
    published_of,
)
from models.msc.state import Run, crude_control, direction, published_figure, set_context
from models.msc.wording import set_name, study_names
from models.priors import EffectPrior, TauPrior, effect_prior, tau_prior
from models.results import Context, Kind, McmcCheck, Method, ResultKey
from models.results.summarise import summarise_draws
from models.toolkit import kinds as generic

MAP_CELLS = 600
"""Largest number of cells of a missing-study map; above it the map steps by the smallest integer that fits (stated
in the caption)."""

MISSING_MAP = "missing_studies"
"""Kind of the missing-study maps among a set's figures (the report shows SCRT 2026's with the published totals)."""


def _grid_priors() -> tuple[list[TauPrior], list[EffectPrior]]:
    return [tau_prior(t) for t in BINARY_TAU_PRESETS], [effect_prior(e) for e in EFFECT_PRESETS_GRID]


def summary_level(run: Run, document: str, analysis: str) -> None:
    """A published pooled ratio reanalysed at summary level over the whole prior grid: the published CI at face
    value (closed form), and (fixed-effect estimates) the CI widened by tau^2/k with tau integrated over its prior (a
    normal mixture; ``k`` = the paper's k). Absolute effects at the crude control risk of the paper's set (else of all
    studies with counts)."""
    pub = published_of(run.dataset, document, analysis)
    assert pub is not None
    s = run.sets.get(f"{document}/{analysis}") or run.sets.get(f"{document}/mortality")
    higher = run.dataset.analysis_set(document, analysis).outcome in HIGHER_IS_BENEFIT
    variants: list[tuple[str, int | None, Method]] = [("summary_level", None, Method.CLOSED_FORM)]
    if pub.is_fixed_effect and pub.k:
        variants.append(("summary_level_re", pub.k, Method.NORMAL_MIXTURE))
    taus, effects = _grid_priors()
    context = Context(
        source=document, title=f"{set_name(run.dataset, f'{document}/{analysis}')} (published pooled estimate)",
        studies=("published",), published=published_figure(pub),
        control=crude_control(s if s is not None else run.sets[f"{EVIDENCE_BASE}/all"]),
    )  # fmt: skip
    seed = fit_seed(run.settings.seed, f"summary {document}/{analysis}")
    for model, k, method in variants:
        grid = generic.published_estimate(pub.estimate, pub.ci_low, pub.ci_high, pub.measure, taus, effects,
                                          fixed_effect_k=k, seed=seed)  # fmt: skip
        for tp, ep, post in grid:
            key = ResultKey(f"{document}/{analysis}", model, tp.key, ep.key)
            run.add(post, key, context, higher_is_benefit=higher, kind=Kind.PUBLISHED, method=method, k=k or 1)


def exact_grids(run: Run, s: StudySet) -> None:
    """The exact normal-normal posterior (paper's measure, 0.5 correction) and the exact binomial-normal posterior
    over the whole prior grid.

    The binomial-normal per-study likelihood integrals are computed once and reused for every prior, so the 32
    posteriors of a set cost little more than one. The primary priors' exact posterior is the twin of the MCMC fit
    (:func:`study_level`): their difference in Monte Carlo standard errors is reported as a convergence check.
    """
    effects = run.effects(s)
    taus, priors = _grid_priors()
    context, higher = set_context(s), s.higher_is_benefit
    normal = generic.prior_grid(taus, priors, lambda t, e: exact_from_effects(effects, t, e, n_draws=20_000))
    for tp, ep, post in normal:
        run.add(post, ResultKey(s.key, "normal_normal_exact", tp.key, ep.key),
                replace(context, studies=tuple(effects.study)), higher_is_benefit=higher)  # fmt: skip
    for tp, ep, post in generic.prior_grid(taus, priors, lambda t, e: run.posterior(s.table, tp=t, ep=e)):
        run.add(post, ResultKey(s.key, "binomial_normal_exact", tp.key, ep.key), context, higher_is_benefit=higher,
                log_evidence=post.log_evidence)  # fmt: skip


def study_level(run: Run, s: StudySet) -> None:
    """The binomial-normal MCMC fit under the primary priors beside its exact twin, with the set's figures.

    The normal-normal model beside it is computed exactly by :func:`exact_grids`, the set's job before this one
    (the job list says so: :func:`models.msc.runner.jobs`): MCMC would only reproduce the quadrature within Monte
    Carlo error (checked by the oracle tests), at the cost of a fit per set.
    """
    tp, ep = run.primary()
    saved = run.policy.fit(s.table, tp, ep, label=f"{s.key} binomial-normal primary",
                           name=f"{s.file_stem}__binomial_normal__primary", covariates=None)  # fmt: skip
    fit = saved.fit
    exact = run.posterior(s.table)
    mu = fit.idata["posterior"]["mu"].values.reshape(-1)
    mcse = float(np.std(mu, ddof=1)) / math.sqrt(float(fit.diagnostics.table.loc["mu", "ess_bulk"]))
    sampled = fit.posterior(seed=run.settings.seed)
    check = McmcCheck.of(fit.diagnostics, saved.path, (float(np.mean(mu)) - exact.log_mean()) / mcse)
    run.add(sampled, ResultKey(s.key, "binomial_normal", tp.key, ep.key), set_context(s),
            higher_is_benefit=s.higher_is_benefit, method=Method.MCMC, mcmc=check)  # fmt: skip
    normal = run.results.get(s.key, "normal_normal_exact")
    if normal is None:
        raise RuntimeError(f"study_level({s.key}) needs the exact grid of the set: run exact_grids first")
    figs.set_figures(run, s, fit, normal.posterior)


def map_step(n_msc: int, n_control: int) -> int:
    """The smallest step (in deaths) that keeps a missing-study map within :data:`MAP_CELLS` cells."""
    step = 1
    while math.ceil(n_msc / step + 1) * math.ceil(n_control / step + 1) > MAP_CELLS:
        step += 1
    return step


def missing_studies(run: Run, s: StudySet) -> None:
    """Tipping-point map over the deaths in the studies with unknown counts (:mod:`models.msc.missing`)."""
    sizes = missing_arm_sizes(run.dataset, s.outcome, s.missing)
    if sizes is None:
        return
    n_t, n_c = sizes
    key = repr((s.table, s.missing))
    step = map_step(int(n_t.sum()), int(n_c.sum()))
    if key not in run.grids:
        tp, ep = run.primary()
        run.grids[key] = tipping_grid(s.table, n_t, n_c, s.missing, tp, ep, step=step,
                                      higher_is_benefit=s.higher_is_benefit)  # fmt: skip
    grid = run.grids[key]
    text = (
        f"{len(s.missing)} {'study lacks its counts' if len(s.missing) == 1 else 'studies lack counts'} "
        f"({study_names(run.dataset, s.missing)}; {n_t.sum()} MSC and {n_c.sum()} control patients). "
        + describe_boundary(grid, step=step)
    )
    run.result.tipping[s.key] = text
    scenarios = ()
    totals = None if run.result.totals is None else run.result.totals.implied
    if totals is not None and s.document == "scrt2026":
        scenarios = (("published totals", totals.deaths_t, totals.deaths_c),)
    studies = tuple(s.table.study) + tuple(s.missing)
    signature = ("missing map", key, scenarios)
    first = run.first_drawn(signature)
    if first is not None:
        run.same_figure(s.key, first[1][MISSING_MAP], same_as=first[0], studies=studies)
        return
    n_nrs = len(figs.non_randomised(run, studies))
    fig = figs.tipping_map(grid, scenarios=scenarios, arm_sizes=(int(n_t.sum()), int(n_c.sum())),
                           higher_is_benefit=s.higher_is_benefit,
                           title=figs.with_nrs(f"{s.title}: deaths the missing studies would need (binomial-normal, "
                                               "exact)", n_nrs, figs.POOLED_AS_TRIALS))  # fmt: skip
    caption = figs.with_nrs(f"{s.title}: P(OR < 1) over the possible deaths in the studies without counts. {text}",
                            n_nrs, figs.POOLED_AS_TRIALS, sentence=True)  # fmt: skip
    entry = run.figure(s.key, fig, run.fig_dir / f"{s.file_stem}__missing.png", caption, kind=MISSING_MAP,
                       studies=studies, alt=f"Map of P(OR < 1) for {s.title} over every split of deaths in the "
                       f"{len(s.missing)} studies without counts.")  # fmt: skip
    run.remember_drawn(signature, s.title, {MISSING_MAP: entry})


def leave_one_out(run: Run, s: StudySet) -> None:
    """Exact binomial-normal posterior without each study in turn (primary priors)."""
    tp, ep = run.primary()
    context = set_context(s)
    without = generic.leave_one_out(s.table.study, lambda kept: run.posterior(s.table.subset(kept)))
    for omitted, kept, post in without:
        variant = replace(context, title=f"{s.title}, without {omitted}", studies=tuple(kept), parent=s.key,
                          subject=omitted)  # fmt: skip
        run.add(post, ResultKey(f"{s.key}/without_{omitted}", "binomial_normal_exact", tp.key, ep.key), variant,
                higher_is_benefit=s.higher_is_benefit, kind=Kind.LEAVE_ONE_OUT)  # fmt: skip


def regression(run: Run, base: StudySet, make: Callable[[pd.DataFrame], Regression]) -> None:
    """A binomial-normal meta-regression (MCMC) and its subgroup ORs beside the published subgroup ORs.

    Its results, subgroups and figure are named by the regression and the studies it ran on (randomised trials, the
    primary hierarchy's version, first; all studies with known counts, non-randomised ones pooled as if randomised
    unless the regression gives them their own level, as a sensitivity analysis).
    """
    reg = make(run.dataset.covariates(list(base.table.study)))
    table = base.table.subset(list(reg.covariates.index))
    tp, ep = run.primary()
    saved = run.policy.fit(table, tp, ep, label=f"{base.key} meta-regression {reg.key}", covariates=reg.covariates,
                           name=f"{base.file_stem}__regression__{reg.key}")  # fmt: skip
    ds = saved.fit.idata["posterior"].to_dataset()
    tau = ds["tau"].values.reshape(-1)
    check = McmcCheck.of(saved.fit.diagnostics, saved.path)
    subgroups = []
    for group, log_or in subgroup_log_or(reg, ds).items():
        pub_key = reg.published.get(group)
        pub = published_of(run.dataset, *pub_key) if pub_key else None
        context = Context(source=EVIDENCE_BASE, title=f"{reg.title}: {group}", studies=tuple(table.study),
                          missing=tuple(reg.dropped), parent=base.key, subject=group,
                          published=published_figure(pub))  # fmt: skip
        key = ResultKey(f"{base.key}/regression_{reg.key}/{group}", "binomial_normal_regression", tp.key, ep.key)
        result = summarise_draws(
            log_or,
            tau,
            key,
            direction("OR", False),
            measure="OR",
            method=Method.MCMC,
            k=table.k,
            kind=Kind.SUBGROUP,
            context=context,
            primary_priors=True,
            mcmc=check,
        )
        run.results.add(result)  # fmt: skip
        subgroups.append(Subgroup(result, studies_in_group(reg.covariates, reg.subgroups[group]),
                                  f"{pub.document} {pub.analysis}" if pub else ""))  # fmt: skip
    n_nrs = len(figs.non_randomised(run, table.study))
    how = figs.OWN_LEVEL if "nrs" in reg.covariates.columns else figs.POOLED_AS_TRIALS
    which = f"{reg.title}, {'randomised trials' if n_nrs == 0 else 'all studies with known counts'}"
    name = figs.with_nrs(which, n_nrs, how)
    run.result.subgroups[name] = tuple(subgroups)
    run.result.slopes[name] = _slopes(reg, ds)
    caption = f"{which}: posterior OR by subgroup (95% CrI) beside the published subgroup OR where one exists."
    if reg.dropped:
        caption += f" Left out (covariate unknown): {study_names(run.dataset, reg.dropped)}."
    fig = figs.subgroups(run.result.subgroups[name], title=f"{name} (binomial-normal, primary priors)")
    run.figure("regression", fig, run.fig_dir / f"regression_{base.analysis}_{reg.key}.png",
               figs.with_nrs(caption, n_nrs, how, sentence=True), kind="regression", studies=tuple(table.study),
               alt=f"Posterior OR by subgroup beside the published subgroup ORs: {which}.")  # fmt: skip


def _slopes(reg: Regression, ds) -> tuple[Slope, ...]:
    """Each covariate's slope as a ratio of ORs (median, 95% CrI), P(ratio < 1) and the studies with the feature."""
    beta = ds["beta"].transpose("chain", "draw", "covariate")
    slopes = []
    for j, name in enumerate(reg.covariates.columns):
        b = beta.values[..., j].reshape(-1)
        lo, med, hi = np.exp(np.quantile(b, [0.025, 0.5, 0.975]))
        binary = set(reg.covariates[name].unique()) <= {0.0, 1.0}
        k_with = int((reg.covariates[name] > 0).sum()) if binary else len(reg.covariates)
        slopes.append(Slope(str(name), float(med), float(lo), float(hi), float(np.mean(b < 0)), k_with))
    return tuple(slopes)


def downweight_nrs(run: Run, base: StudySet) -> None:
    """Non-randomised studies down-weighted: their variances doubled (weight 1/2), exact normal-normal."""
    effects = run.effects(base, "OR")
    cov = run.dataset.covariates(list(effects.study))
    factor = np.where(cov["design"].to_numpy() == "NRS", 2.0, 1.0)
    tp, ep = run.primary()
    post = exact_normal_normal(effects.yi, effects.vi * factor, tp, ep, study=effects.study, measure="OR")
    context = replace(set_context(base), title="All studies, non-randomised studies at half weight (variance x2)",
                      studies=tuple(effects.study))  # fmt: skip
    run.add(post, ResultKey(f"{base.document}/nrs_half_weight", "normal_normal_exact", tp.key, ep.key), context,
            higher_is_benefit=base.higher_is_benefit)  # fmt: skip


def over_time(run: Run, base: StudySet) -> None:
    """Cumulative binomial-normal analysis by publication year (exact, primary priors) of ``base``: the randomised
    trials first (the primary hierarchy), then all studies with known counts, non-randomised ones pooled as if
    randomised (a sensitivity analysis, labelled so)."""
    years = run.dataset.covariates(list(base.table.study))["year"].astype(int)
    tp, ep = run.primary()
    steps = generic.cumulative(base.table.study, [int(years[s]) for s in base.table.study],
                               lambda kept: run.posterior(base.table.subset(list(kept))), by="year",
                               min_studies=2)  # fmt: skip
    randomised = base.analysis == PRIMARY_ANALYSIS
    prefix = f"{base.document}/{base.analysis}_up_to" if randomised else f"{base.document}/up_to"
    context, results = set_context(base), []
    what = "Randomised trials" if randomised else "Studies"
    for step in steps:
        variant = replace(context, title=f"{what} published up to {step.year}", studies=tuple(step.studies),
                          parent=base.key, subject=str(step.year))  # fmt: skip
        key = ResultKey(f"{prefix}_{step.year}", "binomial_normal_exact", tp.key, ep.key)
        results.append(run.add(step.posterior, key, variant, higher_is_benefit=base.higher_is_benefit,
                               kind=Kind.CUMULATIVE))  # fmt: skip
    n_nrs = len(figs.non_randomised(run, base.table.study))
    which = "randomised trials" if randomised else "all studies with known counts"
    fig = figs.over_time(results, title=figs.with_nrs(f"Evidence over time, {which} (binomial-normal, primary "
                                                      "priors)", n_nrs, figs.POOLED_AS_TRIALS))  # fmt: skip
    caption = (
        f"Evidence over time, {which}: pooled OR and P(OR < 1) as the studies with known counts accumulated, "
        "by publication year."
    )
    run.figure("evidence", fig, run.fig_dir / f"evidence_over_time_{base.analysis}.png",
               figs.with_nrs(caption, n_nrs, figs.POOLED_AS_TRIALS, sentence=True), kind="over_time",
               studies=tuple(base.table.study),
               alt=f"Cumulative pooled OR and P(OR < 1) by year of publication, {which}.")  # fmt: skip


def followup(run: Run) -> None:
    """Single-trial reanalysis of the Shi 2021 3-year follow-up (see :mod:`models.msc.followup`)."""
    run.results.extend(followup_results(run.dataset, lambda analysis: fit_seed(run.settings.seed, analysis)))


def prior_heatmaps(run: Run) -> None:
    """Prior-sensitivity heatmaps of P(OR < 1) for the primary analysis and the bias-model analysis."""
    for key, title in (
        (f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", "Randomised trials (primary)"),
        (f"{EVIDENCE_BASE}/nrs_bias", "RCT + NRS through the bias model"),
    ):
        grid = run.results.select(kinds=(Kind.POOLED,), analysis=key, model="binomial_normal_exact")
        if len({r.key.tau_prior for r in grid}) < 2:
            continue
        table = pd.DataFrame([{"tau_prior": r.key.tau_prior, "effect_prior": r.key.effect_prior,
                               "p_benefit": r.effect.p_benefit} for r in grid])  # fmt: skip
        table = table.pivot_table(index="tau_prior", columns="effect_prior", values="p_benefit")
        table = table.reindex(index=[t for t in BINARY_TAU_PRESETS if t in table.index],
                              columns=[e for e in EFFECT_PRESETS_GRID if e in table.columns])  # fmt: skip
        studies = grid[0].context.studies
        n_nrs = len(figs.non_randomised(run, studies))
        fig = figs.sensitivity(
            table,
            title=figs.with_nrs(f"{title}: P(OR < 1) by prior", n_nrs, figs.THROUGH_BIAS_MODEL),
            value_label="P(OR < 1)",
        )
        caption = (f"{title}: P(OR < 1) by heterogeneity prior (rows) and effect prior (columns), exact "
                   "binomial-normal; colours span the range of the values shown.")  # fmt: skip
        run.figure("priors", fig, run.fig_dir / f"{key.replace('/', '__')}__priors.png",
                   figs.with_nrs(caption, n_nrs, figs.THROUGH_BIAS_MODEL, sentence=True), kind="priors",
                   studies=tuple(studies), alt=f"Heat map of P(OR < 1) over {table.shape[0]} heterogeneity x "
                   f"{table.shape[1]} effect priors: {title}.")  # fmt: skip
