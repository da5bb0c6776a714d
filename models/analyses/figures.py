"""Adapters from the pipeline's objects (study sets, posteriors, grids) to the plotting functions in models.report."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.analyses.specs import StudySet
from models.bayes.posterior import Posterior
from models.effects import EffectTable
from models.priors import TauPrior
from models.report.densities import posterior_density, tau_prior_posterior
from models.report.files import save_figure
from models.report.forest import forest_plot, subgroup_effects
from models.report.sensitivity import prior_sensitivity_heatmap
from models.report.timeline import evidence_over_time

Z95 = 1.959963984540054


def _favours(s: StudySet | None) -> tuple[str, str]:
    return ("control", "MSC") if s is not None and s.higher_is_benefit else ("MSC", "control")


def _published(s: StudySet) -> dict | None:
    pub = s.published
    if pub is None or not pub.has_ci:
        return None
    return {"estimate": pub.estimate, "low": pub.ci_low, "high": pub.ci_high, "label": f"Published ({s.document})"}


def save(fig: Figure, path: Path) -> Path:
    """Write a figure atomically and close it."""
    return save_figure(fig, path)


def forest(s: StudySet, observed: EffectTable, post: Posterior, *, title: str) -> Figure:
    """Observed effects (every study, NaN where not estimable), shrunken estimates, pooled and predictive rows."""
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
    ci = post.interval(0.95)
    pred = post.predictive_interval(0.95)
    pooled = {"median": post.median(), "low": ci.low, "high": ci.high}
    predictive = {"low": pred.low, "high": pred.high}
    return forest_plot(obs, pooled, predictive, _published(s), measure=post.measure, title=title, favours=_favours(s))


def density(log_draws: np.ndarray, s: StudySet, *, title: str) -> Figure:
    """Posterior of the pooled ratio with P(benefit) shaded and the published CI marked."""
    return posterior_density(
        log_draws, measure=s.measure, published=_published(s), title=title, reference_lines=(0.8, 0.9),
        favours=_favours(s),
    )  # fmt: skip


def tau(tau_draws: np.ndarray, prior: TauPrior, *, title: str, measure: str = "OR") -> Figure:
    """Posterior of tau (SD of the log ``measure``) against its prior."""
    return tau_prior_posterior(tau_draws, prior.logpdf, prior_label=prior.label, title=title, measure=measure)


def sensitivity(table: pd.DataFrame, *, title: str, value_label: str) -> Figure:
    """P(benefit) by tau prior x effect prior."""
    return prior_sensitivity_heatmap(table, title=title, value_label=value_label)


def subgroups(frame: pd.DataFrame, *, title: str) -> Figure:
    """Posterior subgroup ORs from a meta-regression beside the published subgroup ORs."""
    return subgroup_effects(frame, measure="OR", title=title)


def over_time(frame: pd.DataFrame, *, title: str) -> Figure:
    """Cumulative pooled OR and P(OR < 1) by publication year."""
    return evidence_over_time(frame, measure="OR", title=title)


def tipping_map(grid: pd.DataFrame, *, title: str) -> Figure:
    """P(benefit) over the possible death counts of the studies with unknown counts, 0.9 contour drawn."""
    table = grid.pivot(index="deaths_control", columns="deaths_msc", values="p_benefit")
    fig, ax = plt.subplots(figsize=(7.2, 5.6), layout="constrained")
    x, y = table.columns.to_numpy(), table.index.to_numpy()
    mesh = ax.pcolormesh(x, y, table.to_numpy(), cmap="viridis", vmin=0, vmax=1, shading="nearest")
    fig.colorbar(mesh, ax=ax, label="P(benefit) = P(OR < 1)")
    contour = ax.contour(x, y, table.to_numpy(), levels=[0.9], colors="white", linewidths=2)
    ax.clabel(contour, fmt={0.9: "0.90"}, fontsize=9)
    n_t = grid["deaths_msc"].max() / grid["risk_msc"].max()
    n_c = grid["deaths_control"].max() / grid["risk_control"].max()
    line = np.linspace(0, 1, 50)
    ax.plot(line * n_t, line * n_c, ls="--", color="0.85", lw=1.2, label="equal risk in both missing arms")
    ax.set_xlabel(f"deaths in the missing studies' MSC arms (of {n_t:.0f})")
    ax.set_ylabel(f"deaths in the missing studies' control arms (of {n_c:.0f})")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    return fig
