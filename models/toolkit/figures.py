"""The figures of a reanalysis, drawn with the generic functions of :mod:`models.report` into ``out/figures/``.

Every figure is drawn once, from what the pipeline already computed: the primary exact posterior (forest plot's
shrunken effects), its exact draws (density), the grid's results (heatmap) and the cumulative steps."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from models.report import evidence_over_time, forest_plot, posterior_density, prior_sensitivity_heatmap, save_figure
from models.results import ALL_STUDIES, find
from models.toolkit import analyses
from models.toolkit.pipeline import Reanalysis


def _published(run: Reanalysis) -> dict | None:
    pub = run.spec.published
    if pub is None or pub.measure != run.primary.measure:
        return None
    return {"estimate": pub.estimate, "low": pub.ci_low, "high": pub.ci_high, "label": f"{pub.label} {pub}"}


def forest(run: Reanalysis, folder: Path) -> Path:
    """Observed and shrunken study effects, pooled effect, prediction interval and published estimate."""
    spec, primary = run.spec, run.primary
    post = run.posterior
    observed = analyses.observed_effects(spec)
    shrunk = post.shrunken()
    same_scale = primary.measure == spec.measure
    rows = []
    for i, s in enumerate(spec.study):
        obs = observed.get(s, (math.nan, math.nan, math.nan)) if same_scale else (math.nan,) * 3
        row = {"study": s, "observed": obs[0], "obs_low": obs[1], "obs_high": obs[2]}
        row |= {
            "shrunk": shrunk.loc[s, "median"],
            "shrunk_low": shrunk.loc[s, "low"],
            "shrunk_high": shrunk.loc[s, "high"],
        }
        if spec.counts is not None:
            c = spec.counts
            row |= {
                "events_treat": c.e_t[i],
                "total_treat": c.n_t[i],
                "events_control": c.e_c[i],
                "total_control": c.n_c[i],
            }
        rows.append(row)
    pooled = {"median": primary.effect.median, "low": primary.effect.low, "high": primary.effect.high}
    pred = {"low": primary.prediction.low, "high": primary.prediction.high}
    model = primary.key.model.replace("_exact", "").replace("_", "-")
    fig = forest_plot(
        pd.DataFrame(rows),
        pooled,
        pred,
        _published(run),
        measure=primary.measure,
        title=f"{spec.title}: studies and pooled {primary.measure} ({model}, exact)",
        favours=spec.favours,
        arms=(spec.arms[0].capitalize(), spec.arms[1].capitalize()),
        design=dict(zip(spec.study, spec.design, strict=True)) if spec.design is not None else None,
        pooled_label=f"Pooled {primary.measure}, {model}",
    )
    return save_figure(fig, folder / "forest.png")


def density(run: Reanalysis, folder: Path) -> Path:
    """Posterior of the pooled effect (its exact draws), benefit side shaded."""
    spec, primary = run.spec, run.primary
    important = [spec.important] if spec.important is not None and primary.measure == spec.measure else []
    fig = posterior_density(
        np.asarray(run.draws["mu"]),
        measure=primary.measure,
        published=_published(run),
        title=f"{spec.title}: posterior of the pooled {primary.measure} (exact)",
        reference_lines=important,
        favours=spec.favours,
        higher_is_benefit=spec.higher_is_benefit,
    )
    return save_figure(fig, folder / "density.png")


def prior_heatmap(run: Reanalysis, folder: Path) -> Path:
    """P(benefit) of the primary model over the tau x effect prior grid."""
    model = analyses.primary_model(run.spec)
    table = pd.DataFrame(index=[t.key for t in run.taus], columns=[e.key for e in run.effects], dtype=float)
    for r in find(run.results, model=model, analysis=ALL_STUDIES):
        table.loc[r.key.tau_prior, r.key.effect_prior] = r.effect.p_benefit
    labels = {t.key: t.label for t in run.taus} | {e.key: e.label for e in run.effects}
    fig = prior_sensitivity_heatmap(
        table, title=f"{run.spec.title}: P(benefit) by prior ({model.replace('_', '-')})", labels=labels
    )
    return save_figure(fig, folder / "priors.png")


def timeline(run: Reanalysis, folder: Path) -> Path | None:
    """Cumulative pooled effect and P(benefit) by year, when the data have years."""
    if not run.cumulative:
        return None
    rows = pd.DataFrame(
        {
            "year": [s.year for s in run.cumulative],
            "study": [s.study for s in run.cumulative],
            "k": [s.result.k for s in run.cumulative],
            "median": [s.result.effect.median for s in run.cumulative],
            "low": [s.result.effect.low for s in run.cumulative],
            "high": [s.result.effect.high for s in run.cumulative],
            "p_benefit": [s.result.effect.p_benefit for s in run.cumulative],
        }
    )
    measure = run.primary.measure
    fig = evidence_over_time(
        rows, measure=measure, title=f"{run.spec.title}: evidence over time", benefit_label="P(benefit)",
        favours=run.spec.favours,
    )  # fmt: skip
    return save_figure(fig, folder / "evidence_over_time.png")


def draw_all(run: Reanalysis, out: Path) -> dict[str, Path]:
    """Every figure; returns name -> path."""
    folder = out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"forest": forest(run, folder), "density": density(run, folder), "priors": prior_heatmap(run, folder)}
    time_path = timeline(run, folder)
    if time_path is not None:
        paths["evidence_over_time"] = time_path
    return paths
