"""Adapters from the pipeline's objects (study sets, posteriors, grids) to the plotting functions in models.report."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.bayes.fit import Fit
from models.bayes.posterior import Posterior
from models.effects import EffectTable
from models.frequentist import cochran_q, i2_from_q
from models.msc.missing import missing_arm_sizes
from models.msc.records import Subgroup
from models.msc.specs import EVIDENCE_BASE, PRIMARY_ANALYSIS, StudySet
from models.msc.state import Run
from models.priors import EFFECT_PRESETS, TAU_PRESETS, TauPrior
from models.report.densities import posterior_density, tau_prior_posterior
from models.report.forest import Heterogeneity, forest_plot, subgroup_effects
from models.report.sensitivity import prior_sensitivity_heatmap
from models.report.timeline import evidence_over_time
from models.report.tipping import tipping_map as report_tipping_map
from models.results import Result

Z95 = 1.959963984540054


def _favours(s: StudySet | None) -> tuple[str, str]:
    return ("control", "MSC") if s is not None and s.higher_is_benefit else ("MSC", "control")


def _published(s: StudySet) -> dict | None:
    pub = s.published
    if pub is None or not pub.has_ci:
        return None
    return {"estimate": pub.estimate, "low": pub.ci_low, "high": pub.ci_high, "label": f"Published ({s.document})"}


def _heterogeneity(observed: EffectTable, post: Posterior) -> Heterogeneity | None:
    """Q, df, p and I² of the observed effects (inverse-variance, as metafor), tau as the posterior median."""
    if observed.k < 2:
        return None
    q, df, p = cochran_q(observed.yi, observed.vi)
    return Heterogeneity(tau=post.tau_median(), i2=i2_from_q(q, df), q=q, df=df, p=p, tau_note="posterior median")


def random_effects_weights(observed: EffectTable, tau: float) -> dict[str, float]:
    """Normal-normal random-effects weights ``1 / (v_i + tau^2)`` per study (the forest plot shows them as %)."""
    return {str(st): float(1 / (v + tau**2)) for st, v in zip(observed.study, observed.vi, strict=True)}


def forest(
    s: StudySet,
    observed: EffectTable,
    post: Posterior,
    *,
    title: str,
    design: Mapping[str, str] | None = None,
    weights: Mapping[str, float] | None = None,
    heterogeneity: Heterogeneity | Mapping[str, object] | None = None,
    not_reported: Sequence[str | tuple[str, float | None, float | None]] | None = None,
    model: str | None = None,
    arms: tuple[str, str] = ("MSC", "Control"),
) -> Figure:
    """Cochrane-style forest plot: per-arm counts, weights, observed and shrunken effects, pooled and predictive rows.

    design: study -> "RCT" / "NRS" to group the rows (None: one list).
    weights: study -> weight; default the normal-normal random-effects weights ``1/(v_i + tau^2)`` of the observed
        effects with tau at its posterior median (see :func:`random_effects_weights`).
    heterogeneity: default Q, df, p and I² of the observed effects with tau's posterior median.
    not_reported: studies without counts, as labels or (label, MSC arm size, control arm size); default the set's
        missing studies without arm sizes.
    model: named in the pooled row, e.g. "binomial-normal" -> "Pooled OR, binomial-normal".
    """
    obs = pd.DataFrame({"study": list(s.table.study)})
    yi = dict(zip(observed.study, observed.yi, strict=True))
    se = dict(zip(observed.study, observed.sei, strict=True))
    log_y = np.array([yi.get(x, np.nan) for x in s.table.study])
    log_se = np.array([se.get(x, np.nan) for x in s.table.study])
    obs["observed"] = np.exp(log_y)
    obs["obs_low"] = np.exp(log_y - Z95 * log_se)
    obs["obs_high"] = np.exp(log_y + Z95 * log_se)
    shrunk = post.shrunken(0.95)
    obs["shrunk"] = [shrunk.loc[x, "median"] if x in shrunk.index else np.nan for x in s.table.study]
    obs["shrunk_low"] = [shrunk.loc[x, "low"] if x in shrunk.index else np.nan for x in s.table.study]
    obs["shrunk_high"] = [shrunk.loc[x, "high"] if x in shrunk.index else np.nan for x in s.table.study]
    obs["events_treat"], obs["total_treat"] = s.table.e_t, s.table.n_t
    obs["events_control"], obs["total_control"] = s.table.e_c, s.table.n_c
    ci = post.interval(0.95)
    pred = post.predictive_interval(0.95)
    pooled = {"median": post.median(), "low": ci.low, "high": ci.high}
    predictive = {"low": pred.low, "high": pred.high}
    if weights is None:
        weights = random_effects_weights(observed, post.tau_median())
    if heterogeneity is None:
        heterogeneity = _heterogeneity(observed, post)
    return forest_plot(
        obs, pooled, predictive, _published(s), measure=post.measure, title=title, favours=_favours(s), arms=arms,
        weights=weights, design=design, heterogeneity=heterogeneity,
        not_reported=list(s.missing) if not_reported is None else not_reported,
        pooled_label=f"Pooled {post.measure}" + (f", {model}" if model else " (posterior)"),
    )  # fmt: skip


def density(log_draws: np.ndarray, s: StudySet, *, title: str) -> Figure:
    """Posterior of the pooled ratio with P(benefit) shaded on the benefit side and the published CI marked.

    Reference lines at 0.9 and 0.8 (1/0.9 and 1.25 when higher is benefit).
    """
    refs = (1 / 0.9, 1.25) if s.higher_is_benefit else (0.9, 0.8)
    return posterior_density(
        log_draws, measure=s.measure, published=_published(s), title=title, reference_lines=refs,
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
    """Posterior subgroup ORs from a meta-regression beside the published subgroup ORs."""
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
    unknown counts.

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


def set_figures(run: Run, s: StudySet, bn: Fit, bn_post: Posterior, nn: Posterior) -> None:
    """Forest plot (Cochrane layout) and the posterior of the pooled OR for one study set; tau for key sets.

    One pooled quantity per display: the forest plot is drawn on the paper's measure (binomial-normal OR for OR
    sets; normal-normal on log RR for RR sets, so that study RRs and the published RR share an axis), the density
    shows the binomial-normal pooled OR, and each says so in its title. ``bn_post`` is ``bn``'s posterior (already
    summarised by the caller), ``nn`` the exact normal-normal posterior on the paper's measure.
    """
    post = nn if s.measure == "RR" else bn_post
    observed = run.effects(s, s.measure)
    design = run.dataset.studies["design"]
    sizes = missing_arm_sizes(run.dataset, s.outcome, s.missing) if s.missing else None
    not_reported = (
        [(m, int(t), int(c)) for m, t, c in zip(s.missing, *sizes, strict=True)] if sizes is not None
        else list(s.missing)
    )  # fmt: skip
    model = "normal-normal on log RR" if s.measure == "RR" else "binomial-normal"
    fig = forest(
        s, observed, post, title=f"{s.title}: pooled {s.measure} ({model})",
        design={x: str(design.get(x, "")) for x in s.table.study},
        weights=random_effects_weights(observed, nn.tau_median()),
        heterogeneity=_heterogeneity(observed, nn), not_reported=not_reported, model=model,
    )  # fmt: skip
    run.figure(s.key, fig, run.fig_dir / f"{s.file_stem}__forest.png",
               f"Forest plot ({s.measure}, {model}): deaths/patients per arm, random-effects weights (normal-normal), "
               f"observed {s.measure} (95% CI; 0.5 added to zero cells), shrunken estimates, pooled posterior (95% "
               "CrI), 95% prediction interval, the published pooled estimate, and the studies whose counts were "
               "never reported.")  # fmt: skip
    ds = bn.idata["posterior"].to_dataset()
    fig = density(ds["mu"].values.reshape(-1), s, title=f"{s.title}: pooled OR (binomial-normal)")
    run.figure(s.key, fig, run.fig_dir / f"{s.file_stem}__density.png",
               "Posterior of the pooled OR (binomial-normal, MCMC draws, primary priors) with the benefit side shaded "
               "and the published 95% CI marked.")  # fmt: skip
    if s.document == EVIDENCE_BASE and s.analysis in (PRIMARY_ANALYSIS, "all"):
        fig = tau(ds["tau"].values.reshape(-1), bn.tau_prior, title=f"{s.title}: heterogeneity")
        run.figure(
            s.key,
            fig,
            run.fig_dir / f"{s.file_stem}__tau.png",
            f"Posterior of tau (binomial-normal) against its prior ({bn.tau_prior.label}).",
        )
