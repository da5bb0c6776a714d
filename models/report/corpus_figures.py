"""Figures of a corpus of meta-analyses (one point, bar or value per meta-analysis), from plain arrays.

* :func:`probability_vs_p` -- posterior P(benefit) against the one-sided p-value for benefit, both on logit axes,
  with the line ``P = 1 - p`` (where a flat prior and a normal likelihood put every point);
* :func:`bayes_factor_classes` -- the share of meta-analyses in each Bayes factor category, for an effect and for
  heterogeneity;
* :func:`tau_by_group` -- tau by group (outcome type): the corpus's posterior medians and REML estimates as box plots,
  beside published predictive distributions (median and 95% interval);
* :func:`pit_histograms` -- probability integral transforms of a prior predictive check, against the uniform;
* :func:`agreement` -- one quantity by two models, meta-analysis by meta-analysis, with the identity line.

Colours and sizes as the other report figures (:mod:`models.report._common`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from models.report._common import BLACK, BLUE, FONT_SIZE, GREY, ORANGE, VERMILLION, new_figure

LOGIT_CLIP = 1e-6
"""Probabilities are drawn within [1e-6, 1 - 1e-6] on logit axes (the captions say so)."""


def _finite_pairs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def probability_vs_p(panels: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> Figure:
    """One panel per ``(title, one-sided p, P(benefit))``; logit axes (module docstring)."""
    fig = new_figure(5.2 * len(panels), 4.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    ticks = [1e-6, 1e-4, 0.01, 0.5, 0.99, 1 - 1e-4, 1 - 1e-6]
    labels = ["1e-6", "1e-4", "0.01", "0.5", "0.99", "1-1e-4", "1-1e-6"]
    for ax, (title, p, prob) in zip(axes, panels, strict=True):
        p, prob = _finite_pairs(p, prob)
        x, y = np.clip(p, LOGIT_CLIP, 1 - LOGIT_CLIP), np.clip(prob, LOGIT_CLIP, 1 - LOGIT_CLIP)
        ax.scatter(x, y, s=8, alpha=0.45, color=BLUE, linewidths=0)
        line = np.array([LOGIT_CLIP, 1 - LOGIT_CLIP])
        ax.plot(line, 1 - line, color=BLACK, lw=1, label="P(benefit) = 1 - p (flat prior, normal likelihood)")
        ax.set_xscale("logit")
        ax.set_yscale("logit")
        for setter in (ax.set_xticks, ax.set_yticks):
            setter(ticks, labels)
        ax.axvline(0.025, color=GREY, ls="--", lw=0.8, label="p = 0.025")
        ax.axhline(0.975, color=GREY, ls=":", lw=0.8, label="P(benefit) = 0.975")
        ax.set_xlabel("one-sided p-value for benefit (REML, Wald)", fontsize=FONT_SIZE)
        ax.set_ylabel("posterior P(benefit)", fontsize=FONT_SIZE)
        ax.tick_params(labelsize=FONT_SIZE - 1)
        ax.set_title(f"{title} (n = {x.size})", fontsize=FONT_SIZE + 1)
        ax.legend(fontsize=FONT_SIZE - 1, loc="upper right")
    return fig


def bayes_factor_classes(panels: Sequence[tuple[str, Sequence[str], dict[str, np.ndarray]]]) -> Figure:
    """One panel per ``(title, class labels, {series: share per class})``: grouped bars of percentages."""
    fig = new_figure(5.4 * len(panels), 4.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    colours = (BLUE, ORANGE, VERMILLION, GREY)
    for ax, (title, classes, series) in zip(axes, panels, strict=True):
        x = np.arange(len(classes))
        width = 0.8 / max(len(series), 1)
        for i, (name, shares) in enumerate(series.items()):
            bars = ax.bar(x + (i - (len(series) - 1) / 2) * width, 100 * np.asarray(shares), width,
                          color=colours[i % len(colours)], label=name)  # fmt: skip
            ax.bar_label(bars, fmt="%.0f", fontsize=FONT_SIZE - 2)
        ax.set_xticks(x, classes, fontsize=FONT_SIZE - 1)
        ax.set_xlabel("Bayes factor BF10 (for vs against)", fontsize=FONT_SIZE)
        ax.set_ylabel("% of meta-analyses", fontsize=FONT_SIZE)
        ax.axvline(2.5, color=GREY, lw=0.8, ls="--")
        ax.set_title(title, fontsize=FONT_SIZE + 1)
        ax.legend(fontsize=FONT_SIZE - 1)
    return fig


@dataclass(frozen=True)
class TauGroup:
    """One row of :func:`tau_by_group`: a label, the corpus's posterior medians and REML estimates of tau, and the
    published predictive distributions to draw beside them as ``(median, 2.5%, 97.5%)``."""

    label: str
    posterior_medians: np.ndarray
    reml: np.ndarray
    published: tuple[tuple[float, float, float], ...]


def tau_by_group(groups: Sequence[TauGroup], published_label: str, x_max: float = 1.6) -> Figure:
    """Box plots of tau by group with the published predictive medians (dots) and 95% intervals (lines)."""
    fig = new_figure(7.5, 0.8 * len(groups) + 1.8)
    ax = fig.subplots()
    for i, group in enumerate(groups):
        y = len(groups) - 1 - i
        for values, dy, colour in ((group.posterior_medians, 0.22, BLUE), (group.reml, 0.0, ORANGE)):
            v = np.asarray(values, dtype=float)
            v = v[np.isfinite(v)]
            if v.size:
                ax.boxplot(np.minimum(v, x_max), positions=[y + dy], widths=0.18, orientation="horizontal",
                           showfliers=False, patch_artist=True, boxprops={"facecolor": colour, "alpha": 0.6},
                           medianprops={"color": BLACK}, whiskerprops={"color": colour},
                           capprops={"color": colour})  # fmt: skip
        for j, (med, lo, hi) in enumerate(group.published):
            yy = y - 0.2 - 0.05 * j
            ax.plot([lo, min(hi, x_max)], [yy, yy], color=GREY, lw=0.8, alpha=0.8)
            ax.plot([med], [yy], "o", color=BLACK, ms=2.5)
    labels = [textwrap.fill(g.label, 34, break_long_words=False) for g in reversed(groups)]
    ax.set_yticks(range(len(groups)), labels, fontsize=FONT_SIZE - 1)
    ax.set_ylim(-0.7, len(groups) - 0.5)
    ax.set_xlim(0, x_max)
    ax.set_xlabel(f"tau (SD of log odds ratios; values above {x_max:g} drawn at {x_max:g})", fontsize=FONT_SIZE)
    handles = [
        ax.plot([], [], "s", color=BLUE, alpha=0.6)[0],
        ax.plot([], [], "s", color=ORANGE, alpha=0.6)[0],
        ax.plot([], [], "o-", color=GREY, mfc=BLACK, ms=3)[0],
    ]
    ax.legend(handles, ["posterior median (this corpus)", "REML estimate (this corpus)", published_label],
              fontsize=FONT_SIZE - 1, loc="upper center", bbox_to_anchor=(0.5, -0.06),
              ncol=1)  # fmt: skip
    return fig


def pit_histograms(panels: Sequence[tuple[str, np.ndarray]]) -> Figure:
    """One histogram (10 bins) per ``(title, PIT values)``, with the uniform's height."""
    fig = new_figure(4.6 * len(panels), 3.6)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, u) in zip(axes, panels, strict=True):
        u = np.asarray(u, dtype=float)
        ax.hist(np.clip(u, 0, 1), bins=np.linspace(0, 1, 11), density=True, color=BLUE, alpha=0.7, edgecolor="white")
        ax.axhline(1.0, color=BLACK, lw=1, ls="--", label="calibrated (uniform)")
        ax.set_xlabel("u = P(Q_rep <= Q_obs) under the prior predictive", fontsize=FONT_SIZE)
        ax.set_ylabel("density", fontsize=FONT_SIZE)
        ax.set_title(textwrap.fill(f"{title} (n = {u.size})", 44), fontsize=FONT_SIZE)
        ax.legend(fontsize=FONT_SIZE - 1)
    return fig


def agreement(panels: Sequence[tuple[str, np.ndarray, np.ndarray, str, str]]) -> Figure:
    """One scatter per ``(title, x, y, x label, y label)`` with the identity line."""
    fig = new_figure(4.6 * len(panels), 4.4)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, x, y, x_label, y_label) in zip(axes, panels, strict=True):
        x, y = _finite_pairs(x, y)
        ax.scatter(x, y, s=8, alpha=0.45, color=BLUE, linewidths=0)
        if x.size:
            lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
            ax.plot([lo, hi], [lo, hi], color=BLACK, lw=1)
        ax.set_xlabel(x_label, fontsize=FONT_SIZE)
        ax.set_ylabel(y_label, fontsize=FONT_SIZE)
        ax.set_title(f"{title} (n = {x.size})", fontsize=FONT_SIZE + 1)
    return fig
