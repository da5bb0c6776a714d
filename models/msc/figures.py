"""Adapters from the pipeline's objects (study sets, posteriors, grids) to the plotting functions in models.report.

Every figure is drawn on the measure its data carry and says so: a forest plot or density of a risk-ratio set is the
normal-normal model on log RR, with the published RR beside it; everything drawn from binomial-normal posteriors is
an odds ratio. Study rows are labelled "Author Year" (:meth:`models.msc.datasets.Dataset.label`). Every figure built
from studies that include non-randomised ones says how they entered (:func:`nrs_phrase`) in its title and caption.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.bayes.exact import exact_from_effects
from models.bayes.fit import Fit
from models.bayes.posterior import Posterior
from models.effects import EffectTable, escalc
from models.frequentist import cochran_q, i2_from_q
from models.frequentist.sensitivity import subgroup_analysis
from models.msc.findings import HIERARCHY, Tier
from models.msc.missing import missing_arm_sizes
from models.msc.priors import PRIMARY_BIAS_PRIOR
from models.msc.records import Subgroup
from models.msc.specs import EVIDENCE_BASE, PRIMARY_ANALYSIS, StudySet
from models.msc.state import FigureEntry, Run
from models.priors import BIAS_PRESETS, EFFECT_PRESETS, TAU_PRESETS, BiasPrior, TauPrior
from models.report.densities import posterior_density, tau_prior_posterior
from models.report.forest import Heterogeneity, SubgroupTest, forest_plot, subgroup_effects
from models.report.sensitivity import prior_sensitivity_heatmap
from models.report.timeline import evidence_over_time
from models.report.tipping import tipping_map as report_tipping_map
from models.results import Result
from models.tables import BinaryTable

Z95 = 1.959963984540054

POOLED_AS_TRIALS = "pooled as if randomised"
THROUGH_BIAS_MODEL = "through the bias model"
OWN_LEVEL = "as their own level"
"""How non-randomised studies entered a figure (the words of :func:`nrs_phrase`)."""

FINDINGS = "findings"
"""Report section of the forest plots of the summary of findings (one per row, right after the table)."""


def subgroup_test_method(measure: str) -> str:
    """How the test for subgroup differences under a forest plot is computed (:func:`subgroup_test`), in words."""
    return f"random effects (DerSimonian-Laird) within subgroups on the observed log {measure}s, as RevMan"


SEVERITY_GROUPS = {"critical": "Critical illness", "moderate": "Including moderate illness",
                   "severe": "Severe or severe-to-critical illness"}  # fmt: skip
"""Severity subgroups of the randomised forest plots (the coding of the severity meta-regression)."""


def nrs_phrase(n: int, how: str) -> str:
    """'includes 6 non-randomised studies, pooled as if randomised' (empty for none)."""
    if n == 0:
        return ""
    return f"includes {n} non-randomised {'study' if n == 1 else 'studies'}, {how}"


def non_randomised(run: Run, studies: Sequence[str]) -> tuple[str, ...]:
    """The non-randomised studies among ``studies`` (by the design column of data/studies.csv)."""
    design = run.dataset.studies["design"]
    return tuple(x for x in studies if design.get(x) == "NRS")


def with_nrs(text: str, n: int, how: str, *, sentence: bool = False) -> str:
    """``text`` with the non-randomised note: '... (includes 6 non-randomised studies, pooled as if randomised)' for
    a title, '... Includes 6 ...' as a last sentence for a caption; unchanged when ``n`` is 0."""
    phrase = nrs_phrase(n, how)
    if not phrase:
        return text
    if sentence:
        return f"{text.rstrip()} {phrase[0].upper()}{phrase[1:]}."
    return f"{text} ({phrase})"


def study_labels(run: Run, studies: Sequence[str]) -> dict[str, str]:
    """Study id -> 'Author Year' for readers."""
    return {x: run.dataset.label(x) for x in studies}


def _favours(s: StudySet | None) -> tuple[str, str]:
    return ("control", "MSC") if s is not None and s.higher_is_benefit else ("MSC", "control")


def _published(s: StudySet, measure: str) -> dict | None:
    """The paper's pooled estimate for a figure drawn on ``measure``; None when the paper gave no interval or
    reported another measure (an OR figure never shows a published RR on its axis)."""
    pub = s.published
    if pub is None or not pub.has_ci or pub.measure != measure:
        return None
    return {"estimate": pub.estimate, "low": pub.ci_low, "high": pub.ci_high,
            "label": f"Published {pub.measure} ({s.document})"}  # fmt: skip


def _heterogeneity(observed: EffectTable, post: Posterior) -> Heterogeneity | None:
    """tau as the posterior median of the model of the pooled row (named), with Q, df, p and I² of the observed
    effects (inverse-variance, as metafor)."""
    if observed.k < 2:
        return None
    q, df, p = cochran_q(observed.yi, observed.vi)
    return Heterogeneity(tau=post.tau_median(), i2=i2_from_q(q, df), q=q, df=df, p=p,
                         tau_note="posterior median, the total row's model",
                         q_note=f"inverse variance, observed log {observed.measure}s")  # fmt: skip


def subgroup_test(observed: EffectTable, groups: Mapping[str, str]) -> SubgroupTest | None:
    """Test for subgroup differences (:func:`subgroup_test_method`): Cochran's Q between the subgroups'
    DerSimonian-Laird estimates, as RevMan; None with fewer than two subgroups that have an estimable study."""
    kept = [x for x in observed.study if x in groups]
    if len({groups[x] for x in kept}) < 2:
        return None
    result = subgroup_analysis(observed.subset(kept), {x: groups[x] for x in kept}, method="DL")
    return SubgroupTest(result.q_between, result.df, result.p, subgroup_test_method(observed.measure))


@dataclass(frozen=True)
class ForestData:
    """What one forest plot draws: the studies with counts (``table``, ids), the posterior of the total row, the
    observed effects on the same measure, the subgroup of each study with the subgroup posteriors (empty for none),
    the studies whose counts are imputed, the studies never reported (with arm sizes where known) and the bias
    model's SD per study."""

    table: BinaryTable
    post: Posterior
    observed: EffectTable
    groups: Mapping[str, str]
    group_labels: Mapping[str, str]
    group_posts: Mapping[str, Posterior]
    imputed: tuple[str, ...] = ()
    not_reported: tuple[tuple[str, int | None, int | None], ...] = ()
    bias_sd: Mapping[str, float] | None = None
    """Per-study SD of the bias model (0 for trials); adds to each study's variance in the weights."""


def forest(
    data: ForestData,
    labels: Mapping[str, str],
    *,
    title: str,
    published: Mapping[str, object] | None,
    favours: tuple[str, str],
    arms: tuple[str, str] = ("MSC", "Control"),
) -> Figure:
    """Cochrane-style forest plot: per-arm counts, weights, observed and shrunken effects, subgroup diamonds with the
    test for subgroup differences, the total row (pooled posterior), prediction interval and the published estimate.

    The total row, the shrunken estimates, tau in the heterogeneity line and the weights (``1/(v_i + tau^2
    [+ bias_sd_i^2])`` at that tau, approximate: the model weighs the counts) all come from ``data.post``, the
    subgroup diamonds from the same model on each subgroup alone; Q and I² from the observed effects. Studies are
    labelled by ``labels`` (study id -> 'Author Year'), imputed counts marked with an asterisk and a footnote.
    """
    t, post = data.table, data.post
    names = [labels.get(x, x) + ("*" if x in data.imputed else "") for x in t.study]
    name_of = dict(zip(t.study, names, strict=True))
    yi = dict(zip(data.observed.study, data.observed.yi, strict=True))
    se = dict(zip(data.observed.study, data.observed.sei, strict=True))
    log_y = np.array([yi.get(x, np.nan) for x in t.study])
    log_se = np.array([se.get(x, np.nan) for x in t.study])
    shrunk = post.shrunken(0.95)
    obs = pd.DataFrame({
        "study": names, "observed": np.exp(log_y), "obs_low": np.exp(log_y - Z95 * log_se),
        "obs_high": np.exp(log_y + Z95 * log_se),
        "shrunk": [shrunk.loc[x, "median"] if x in shrunk.index else np.nan for x in t.study],
        "shrunk_low": [shrunk.loc[x, "low"] if x in shrunk.index else np.nan for x in t.study],
        "shrunk_high": [shrunk.loc[x, "high"] if x in shrunk.index else np.nan for x in t.study],
        "events_treat": t.e_t, "total_treat": t.n_t, "events_control": t.e_c, "total_control": t.n_c,
    })  # fmt: skip
    order = _group_order(t.study, data.groups, data.group_labels)
    obs = obs.iloc[order].reset_index(drop=True)
    ci, pred = post.interval(0.95), post.predictive_interval(0.95)
    summaries = None
    if data.group_posts:
        summaries = {}
        for code, g in data.group_posts.items():
            g_ci = g.interval(0.95)
            summaries[code] = {"median": g.median(), "low": g_ci.low, "high": g_ci.high}
    tau = post.tau_median()
    extra = data.bias_sd or {}
    weights = {name_of[x]: 1 / (v + tau**2 + extra.get(x, 0.0) ** 2)
               for x, v in zip(data.observed.study, data.observed.vi, strict=True)}  # fmt: skip
    notes = [f"Weights: 1/(v + \u03c4\u00b2{' + bias variance' if extra else ''}) with \u03c4 = {tau:.2f}, the "
             "total row's posterior median (approximate; the model weighs the counts exactly)."]  # fmt: skip
    if data.imputed:
        notes.append("* Deaths imputed from SCRT 2026's published totals (not reported by the study).")
    return forest_plot(
        obs, {"median": post.median(), "low": ci.low, "high": ci.high}, {"low": pred.low, "high": pred.high},
        published, measure=post.measure, title=title, favours=favours, arms=arms, weights=weights,
        design={name_of[x]: data.groups[x] for x in t.study} if data.groups else None,
        group_labels=data.group_labels, group_summaries=summaries,
        heterogeneity=_heterogeneity(data.observed, post),
        subgroup_test=subgroup_test(data.observed, data.groups) if data.group_posts else None,
        not_reported=[(labels.get(x, x), n_t, n_c) for x, n_t, n_c in data.not_reported],
        pooled_label=f"Total (pooled {post.measure})", footnotes=notes,
    )  # fmt: skip


def _group_order(studies: Sequence[str], groups: Mapping[str, str], group_labels: Mapping[str, str]) -> list[int]:
    """Row order: by subgroup in the order of ``group_labels`` (then first appearance), studies in data order."""
    if not groups:
        return list(range(len(studies)))
    rank = {code: i for i, code in enumerate(group_labels)}
    return sorted(range(len(studies)), key=lambda i: (rank.get(groups[studies[i]], len(rank)), i))


def density(log_draws: np.ndarray, measure: str, s: StudySet, *, title: str) -> Figure:
    """Posterior of the pooled ratio (``log_draws`` on the log ``measure`` scale) with P(benefit) shaded on the
    benefit side and the published CI marked when the paper reported the same measure.

    Reference lines at 0.9 and 0.8 (1/0.9 and 1.25 when higher is benefit).
    """
    refs = (1 / 0.9, 1.25) if s.higher_is_benefit else (0.9, 0.8)
    return posterior_density(
        log_draws, measure=measure, published=_published(s, measure), title=title, reference_lines=refs,
        favours=_favours(s), higher_is_benefit=s.higher_is_benefit,
    )  # fmt: skip


def tau(tau_draws: np.ndarray, prior: TauPrior, *, title: str, measure: str = "OR") -> Figure:
    """Posterior of tau (SD of the log ``measure``) against its prior."""
    return tau_prior_posterior(tau_draws, prior.logpdf, prior_label=prior.label, title=title, measure=measure)


def prior_labels() -> dict[str, str]:
    """Readable names of every tau and effect prior preset ("Turner 2015 mortality, pharmacological")."""
    return {**{k: v.label for k, v in TAU_PRESETS.items()}, **{k: v.label for k, v in EFFECT_PRESETS.items()}}


def sensitivity(
    table: pd.DataFrame, *, title: str, value_label: str, labels: Mapping[str, str] | None = None
) -> Figure:
    """P(benefit) by tau prior x effect prior; prior keys shown by their preset labels unless ``labels`` is given."""
    return prior_sensitivity_heatmap(
        table, title=title, value_label=value_label, labels=prior_labels() if labels is None else labels
    )


def subgroups(groups: Sequence[Subgroup], *, title: str) -> Figure:
    """Posterior subgroup ORs from a meta-regression beside the published subgroup ORs (published ORs only; a
    subgroup the paper reported on another measure shows none)."""
    rows = []
    for g in groups:
        r, pub = g.result, g.result.context.published
        rows.append({"group": r.context.subject, "median": r.effect.median, "low": r.effect.low,
                     "high": r.effect.high, "published": math.nan if pub is None else pub.estimate,
                     "published_low": math.nan if pub is None else pub.low,
                     "published_high": math.nan if pub is None else pub.high})  # fmt: skip
    return subgroup_effects(pd.DataFrame(rows), measure="OR", title=title, favours=("MSC", "control"))


def over_time(steps: Sequence[Result], *, title: str) -> Figure:
    """Cumulative pooled OR and P(OR < 1) by publication year (one ``cumulative`` result per year)."""
    frame = pd.DataFrame([{"year": int(r.context.subject), "k": r.k, "median": r.effect.median, "low": r.effect.low,
                           "high": r.effect.high, "p_benefit": r.effect.p_benefit} for r in steps])  # fmt: skip
    return evidence_over_time(frame, measure="OR", title=title, favours=("MSC", "control"))


def tipping_map(
    grid: pd.DataFrame,
    *,
    title: str,
    scenarios: Sequence[tuple[str, float, float]] = (),
    arm_sizes: tuple[float, float] | None = None,
    higher_is_benefit: bool = False,
) -> Figure:
    """P(OR < 1) and, when the grid has ``p_important``, P(OR < 0.8) over the possible deaths in the studies with
    unknown counts (the grid is binomial-normal, so always odds ratios).

    scenarios: (label, MSC deaths, control deaths) to mark, e.g. the split implied by a paper's published totals.
    arm_sizes: patients in the missing MSC and control arms; default inferred from the grid's risk columns.
    higher_is_benefit: labels the panels P(OR > 1) / P(OR > 1.25) instead.
    """
    value_labels = (
        {"p_benefit": "P(benefit) = P(OR > 1)", "p_important": "P(OR > 1.25)"}
        if higher_is_benefit
        else {"p_benefit": "P(benefit) = P(OR < 1)", "p_important": "P(important benefit) = P(OR < 0.8)"}
    )
    return report_tipping_map(
        grid, title=title, scenarios=scenarios, value_labels=value_labels, arms=("MSC", "control"),
        events="deaths", arm_sizes=arm_sizes,
    )  # fmt: skip


def _not_reported(run: Run, s: StudySet) -> tuple[tuple[str, int | None, int | None], ...]:
    sizes = missing_arm_sizes(run.dataset, s.outcome, s.missing) if s.missing else None
    if sizes is None:
        return tuple((m, None, None) for m in s.missing)
    return tuple((m, int(t), int(c)) for m, t, c in zip(s.missing, *sizes, strict=True))


def _severity(run: Run, studies: Sequence[str]) -> dict[str, str]:
    """Study -> severity subgroup (critical; including moderate; severe or severe-to-critical), the coding of the
    severity meta-regression (:func:`models.msc.regression.severity_regression`)."""
    cov = run.dataset.covariates(list(studies))
    return {x: "moderate" if bool(cov.loc[x, "includes_moderate"]) else "critical"
            if cov.loc[x, "severity_class"] == "critical" else "severe" for x in studies}  # fmt: skip


def _design_groups(run: Run, studies: Sequence[str]) -> dict[str, str]:
    design = run.dataset.studies["design"]
    return {x: str(design.get(x, "NRS")) for x in studies}


def _groups_for(run: Run, s_table: BinaryTable, *, randomised_only: bool) -> tuple[dict[str, str], dict[str, str]]:
    """Subgroups of a forest plot: by design when the studies mix RCTs and NRS, by severity for randomised trials
    only; with their header labels."""
    if not randomised_only:
        groups = _design_groups(run, s_table.study)
        if len(set(groups.values())) > 1:
            return groups, {"RCT": "Randomised controlled trials", "NRS": "Non-randomised studies"}
    groups = _severity(run, s_table.study)
    if len(set(groups.values())) > 1:
        return groups, {code: SEVERITY_GROUPS[code] for code in SEVERITY_GROUPS if code in groups.values()}
    return {}, {}


def _binomial_group_posts(run: Run, table: BinaryTable, groups: Mapping[str, str],
                          bias: BiasPrior | None) -> dict[str, Posterior]:  # fmt: skip
    """The exact binomial-normal posterior (primary priors, ``bias`` for NRS) of each subgroup alone."""
    out = {}
    for code in dict.fromkeys(groups.values()):
        members = [x for x in table.study if groups[x] == code]
        out[code] = run.posterior(table.subset(members), bias)
    return out


def _normal_group_posts(run: Run, observed: EffectTable, groups: Mapping[str, str]) -> dict[str, Posterior]:
    """The exact normal-normal posterior (primary priors) of each subgroup alone, on the effects' measure."""
    tp, ep = run.primary()
    out = {}
    for code in dict.fromkeys(groups.values()):
        members = [x for x in observed.study if groups.get(x) == code]
        if members:
            out[code] = exact_from_effects(observed.subset(members), tp, ep, n_draws=4000)
    return out


def _signature(kind: str, table: BinaryTable, *parts: object) -> tuple:
    """What a figure of ``kind`` is drawn from: its studies and counts and ``parts`` (e.g. the measure and, for a
    forest plot, the studies never reported)."""
    cells = tuple(getattr(table, a).tobytes() for a in ("e_t", "n_t", "e_c", "n_c"))
    return (kind, tuple(table.study), cells, *parts)


def set_figures(run: Run, s: StudySet, bn: Fit, nn: Posterior) -> None:
    """Forest plot (Cochrane layout) and the posterior of the pooled effect for one study set; tau for key sets.

    Each figure is drawn on the measure of its data: the forest plot and the density of an OR set show the
    binomial-normal OR (the forest plot its exact posterior, the density the MCMC draws), those of an RR set the
    normal-normal model on log RR (exact), so that study RRs, the pooled RR and the published RR share an axis.
    A figure drawn from the same data as one drawn before it for another set (same studies, counts and measure;
    for a forest plot also the same studies never reported) is registered as "same as" that one instead of being
    drawn twice. ``nn`` is the exact normal-normal posterior on the paper's measure.
    """
    wanted = [("density", _signature("density", s.table, s.measure), _draw_density)]
    if s.key not in _findings_sets(run):
        wanted.insert(0, ("forest", _signature("forest", s.table, s.measure, s.missing), _draw_forest))
    for kind, signature, draw in wanted:
        first = run.first_drawn(signature)
        if first is not None:
            run.same_figure(s.key, first[1][kind], same_as=first[0])
        else:
            run.remember_drawn(signature, s.title, {kind: draw(run, s, bn, nn)})
    if s.document == EVIDENCE_BASE and s.analysis in (PRIMARY_ANALYSIS, "all"):
        studies = tuple(s.table.study)
        n_nrs = len(non_randomised(run, studies))
        ds = bn.idata["posterior"].to_dataset()
        fig = tau(ds["tau"].values.reshape(-1), bn.tau_prior,
                  title=with_nrs(f"{s.title}: heterogeneity", n_nrs, POOLED_AS_TRIALS))  # fmt: skip
        caption = f"{s.title}: posterior of tau (binomial-normal, MCMC) against its prior ({bn.tau_prior.label})."
        run.figure(s.key, fig, run.fig_dir / f"{s.file_stem}__tau.png",
                   with_nrs(caption, n_nrs, POOLED_AS_TRIALS, sentence=True), kind="tau", studies=studies,
                   alt=f"Prior and posterior density of the between-study SD tau for {s.title}.")  # fmt: skip


def _draw_forest(run: Run, s: StudySet, bn: Fit, nn: Posterior) -> FigureEntry:
    """A set's forest plot: design subgroups when it mixes RCTs and NRS, severity subgroups for randomised trials."""
    ratio = s.measure == "RR"
    model = "normal-normal on log RR, exact" if ratio else "binomial-normal, exact"
    studies = tuple(s.table.study) + tuple(s.missing)
    n_nrs = len(non_randomised(run, studies))
    observed = run.effects(s, s.measure)
    groups, group_labels = _groups_for(run, s.table, randomised_only=n_nrs == 0)
    post = nn if ratio else run.posterior(s.table)
    group_posts = (_normal_group_posts(run, observed, groups) if ratio
                   else _binomial_group_posts(run, s.table, groups, None)) if groups else {}  # fmt: skip
    data = ForestData(s.table, post, observed, groups, group_labels, group_posts, not_reported=_not_reported(run, s))
    title = with_nrs(f"{s.title}: pooled {s.measure} ({model})", n_nrs, POOLED_AS_TRIALS)
    fig = forest(data, study_labels(run, studies), title=title, published=_published(s, s.measure),
                 favours=_favours(s))  # fmt: skip
    caption = with_nrs(_forest_caption(s.title, s.measure, model, bool(groups), s.missing), n_nrs,
                       POOLED_AS_TRIALS, sentence=True)  # fmt: skip
    alt = _forest_alt(s.title, s.table.k, len(s.missing), s.measure, post)
    return run.figure(s.key, fig, run.fig_dir / f"{s.file_stem}__forest.png", caption, kind="forest",
                      studies=studies, alt=alt)  # fmt: skip


def _draw_density(run: Run, s: StudySet, bn: Fit, nn: Posterior) -> FigureEntry:
    """A set's pooled-effect density: MCMC draws of the binomial-normal OR, or exact normal-normal draws of the RR."""
    if s.measure == "RR":
        draws, what = nn.draws()["mu"], "normal-normal on log RR, exact"
    else:
        draws, what = bn.idata["posterior"].to_dataset()["mu"].values.reshape(-1), "binomial-normal, MCMC"
    studies = tuple(s.table.study)
    n_nrs = len(non_randomised(run, studies))
    fig = density(draws, s.measure, s, title=with_nrs(f"{s.title}: pooled {s.measure} ({what})", n_nrs,
                                                      POOLED_AS_TRIALS))  # fmt: skip
    published = _published(s, s.measure)
    caption = (f"{s.title}: posterior of the pooled {s.measure} ({what}, primary priors) with the benefit side "
               "shaded" + (" and the published 95% CI marked." if published else "."))  # fmt: skip
    side = ">" if s.higher_is_benefit else "<"
    alt = (f"Posterior density of the pooled {s.measure} for {s.title}: median {np.exp(np.median(draws)):.2f}, "
           f"P({s.measure} {side} 1) {_share(draws, s.higher_is_benefit):.2f}.")  # fmt: skip
    return run.figure(s.key, fig, run.fig_dir / f"{s.file_stem}__density.png",
                      with_nrs(caption, n_nrs, POOLED_AS_TRIALS, sentence=True), kind="density", studies=studies,
                      alt=alt)  # fmt: skip


def _share(log_draws: np.ndarray, higher_is_benefit: bool) -> float:
    return float(np.mean(log_draws > 0) if higher_is_benefit else np.mean(log_draws < 0))


def _forest_caption(title: str, measure: str, model: str, subgroups: bool, missing: Sequence[str]) -> str:
    text = (
        f"{title}. Forest plot ({measure}, {model}): deaths/patients per arm, weights, observed {measure} (95% "
        "CI; 0.5 added to zero cells), shrunken estimates, the pooled posterior in the total row (95% CrI), the "
        "95% prediction interval and the published pooled estimate where the paper reported this measure."
    )
    if subgroups:
        text += (
            " Subgroup diamonds: the same model on each subgroup alone; the test for subgroup differences is "
            f"{subgroup_test_method(measure)}."
        )
    if missing:
        text += f" {len(missing)} {'study' if len(missing) == 1 else 'studies'} never reported counts (listed)."
    return text  # fmt: skip


def _forest_alt(title: str, k: int, n_missing: int, measure: str, post: Posterior) -> str:
    ci = post.interval(0.95)
    text = (
        f"Forest plot of {title}: {k} studies with counts, pooled {measure} {post.median():.2f} "
        f"(95% CrI {ci.low:.2f} to {ci.high:.2f})"
    )
    return text + (f"; {n_missing} without counts listed." if n_missing else ".")


def _findings_sets(run: Run) -> set[str]:
    """Study sets whose forest plot is drawn among the summary of findings (:func:`findings_forests`, which runs
    with the evidence base)."""
    return {tier.analysis_id for tier in HIERARCHY} if run.settings.wants(EVIDENCE_BASE, "all") else set()


def _tier_data(run: Run, tier: Tier) -> tuple[BinaryTable, BiasPrior | None, tuple[str, ...], StudySet] | None:
    """The table, bias model, imputed studies and underlying study set of a summary-of-findings row; None when the
    run did not compute it."""
    base = run.sets.get(f"{EVIDENCE_BASE}/all")
    bias = BIAS_PRESETS[PRIMARY_BIAS_PRIOR] if tier.model.endswith("nrs_bias") or tier.analysis_id.endswith(
        "/nrs_bias") else None  # fmt: skip
    if tier.analysis_id in run.sets:
        s = run.sets[tier.analysis_id]
        return s.table, bias, (), s
    if tier.analysis_id.endswith("/nrs_bias") and base is not None:
        return base.table, bias, (), base
    totals = run.result.totals
    if tier.analysis_id.endswith("/published_totals/proportional") and totals is not None and base is not None:
        scrt = run.sets.get("scrt2026/mortality", base)
        return totals.proportional, bias, tuple(scrt.missing), scrt
    return None


def findings_forests(run: Run) -> None:
    """One forest plot per row of the summary of findings, from that row's own posterior (exact binomial-normal,
    primary priors; NRS through the bias model where the row says so): severity subgroups for randomised-only rows,
    design subgroups where non-randomised studies enter, each with the test for subgroup differences."""
    for tier in HIERARCHY:
        result = run.results.get(tier.analysis_id, tier.model)
        found = _tier_data(run, tier)
        if result is None or result.posterior is None or found is None:
            continue
        table, bias, imputed, s = found
        post = result.posterior
        how = THROUGH_BIAS_MODEL if bias is not None else POOLED_AS_TRIALS
        model = "binomial-normal, exact" + (", NRS through the bias model" if bias is not None else "")
        observed = escalc(table, "OR", correction="only0", drop00=True)
        groups, group_labels = _groups_for(run, table, randomised_only=tier.randomised_only)
        group_posts = _binomial_group_posts(run, table, groups, bias) if groups else {}
        missing = () if imputed else s.missing
        _, sd = run.bias_vectors(table.study, bias)
        data = ForestData(table, post, observed, groups, group_labels, group_posts, imputed,
                          _not_reported(run, replace(s, missing=missing)),
                          dict(zip(table.study, sd, strict=True)) if bias is not None else None)  # fmt: skip
        studies = tuple(table.study) + tuple(missing)
        n_nrs = len(non_randomised(run, studies))
        title = with_nrs(f"{tier.short}: pooled OR ({model})", n_nrs, how)
        fig = forest(data, study_labels(run, studies), title=title, published=None, favours=("MSC", "control"))
        caption = (f"Summary of findings, {tier.label}: forest plot (OR, {model}, primary priors): deaths/patients "
                   "per arm, observed OR (95% CI; 0.5 added to zero cells), shrunken estimates, subgroup diamonds "
                   "(the same model on each subgroup alone) and the pooled posterior of this row of the summary of "
                   f"findings in the total row (95% CrI), with the 95% prediction interval. Test for subgroup "
                   f"differences: {subgroup_test_method('OR')}.")  # fmt: skip
        if imputed:
            caption += (
                f" The deaths of the {len(imputed)} studies without published counts are imputed from "
                "SCRT 2026's published totals, spread in proportion to arm size."
            )
        stem = tier.analysis_id.replace("/", "__")
        entry = run.figure(
            FINDINGS,
            fig,
            run.fig_dir / f"{stem}__findings_forest.png",
            with_nrs(caption, n_nrs, how, sentence=True),
            kind="forest",
            studies=studies,
            alt=_forest_alt(tier.short, table.k, len(missing), "OR", post),
            analysis=tier.analysis_id,
        )
        if tier.analysis_id in run.sets:
            run.same_figure(tier.analysis_id, entry, same_as=f"summary of findings, {tier.short}")
