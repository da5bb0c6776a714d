"""Forest-style figures: per-study effects with shrinkage and pooled rows, and subgroup comparisons.

Inputs are on the reporting scale: ratios (OR, RR, HR) as ratios, not logs; differences as they are.
All intervals are 95% intervals: CI for observed/published (frequentist) values, CrI for posterior ones.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from models.report._common import (
    BLACK,
    BLUE,
    FONT_SIZE,
    GREY,
    SKY,
    VERMILLION,
    Measure,
    add_favours_labels,
    draw_interval,
    effect_limits,
    fmt_interval,
    fmt_range,
    interval_from_mapping,
    measure_info,
    new_figure,
    numeric_column,
    require_columns,
    require_positive,
    setup_effect_axis,
)

STUDY_COLUMNS = ("study", "observed", "obs_low", "obs_high")
SHRUNK_COLUMNS = ("shrunk", "shrunk_low", "shrunk_high")
POOLED_LABEL = "Pooled (posterior)"
PREDICTIVE_LABEL = "Prediction (new study)"
_ROW_HEIGHT = 0.3  # inches per row: keeps 9-pt labels of 25+ studies apart
_OFFSET = 0.18  # vertical offset (in rows) between observed and shrunken marks of a study


def _diamond(ax: Axes, y: float, est: float, low: float, high: float, *, color: str, filled: bool) -> None:
    """A summary diamond from low to high, widest at the estimate, clipped to the axis limits."""
    xlo, xhi = ax.get_xlim()
    pts = [(max(low, xlo), y), (est, y - 0.3), (min(high, xhi), y), (est, y + 0.3)]
    face = color if filled else "white"
    ax.add_patch(Polygon(pts, closed=True, facecolor=face, edgecolor=color, linewidth=1.4, zorder=4))


def _ratio_checks(values: dict[str, np.ndarray], measure: Measure, labels: list[str], argument: str) -> None:
    if measure.is_ratio:
        for col, arr in values.items():
            require_positive(arr, argument=argument, column=col, labels=labels)


def _text_axis(ax_text: Axes, headers: tuple[str, str], xs: tuple[float, float]) -> None:
    ax_text.set_axis_off()
    for x, header in zip(xs, headers, strict=True):
        ax_text.text(x, 1.0, header, transform=ax_text.transAxes, ha="left", va="bottom", fontsize=FONT_SIZE)


def forest_plot(
    studies: pd.DataFrame,
    pooled: Mapping[str, float],
    predictive: Mapping[str, float] | None,
    published: Mapping[str, float | str] | None,
    *,
    measure: str,
    title: str,
    favours: tuple[str, str] = ("treatment", "control"),
) -> Figure:
    """Forest plot of observed and shrunken study effects, the pooled posterior, the prediction and the paper.

    studies: one row per study, top to bottom, with columns ``study, observed, obs_low, obs_high`` (observed
        effect and 95% CI; NaN when not estimable, e.g. a double-zero study) and optionally
        ``shrunk, shrunk_low, shrunk_high`` (posterior median and 95% CrI of the study's own effect).
    pooled: posterior of the pooled effect, keys ``median, low, high`` (95% CrI), drawn as a filled diamond.
    predictive: effect in a new study, keys ``low, high`` (95% interval) and optionally ``median``; None to omit.
    published: the paper's pooled estimate, keys ``estimate, low, high`` (95% CI) and ``label`` (row name);
        None to omit; drawn as an open diamond.
    measure: OR, RR, HR (values on the ratio scale, log axis) or MD, SMD, RD (linear axis).
    favours: arms named under the axis, left (below the null) then right.

    Returns the figure; the caller saves it (see :func:`models.report.save_figure`).
    """
    m = measure_info(measure)
    require_columns(studies, STUDY_COLUMNS, argument="studies")
    labels = [str(s) for s in studies["study"]]
    has_shrunk = all(c in studies.columns for c in SHRUNK_COLUMNS)
    cols = STUDY_COLUMNS[1:] + (SHRUNK_COLUMNS if has_shrunk else ())
    vals = {c: numeric_column(studies, c, argument="studies", labels=labels) for c in cols}
    _ratio_checks(vals, m, labels, "studies")
    pool = interval_from_mapping(pooled, ("median", "low", "high"), argument="pooled", ratio=m.is_ratio)

    summary: list[tuple[str, str]] = [(POOLED_LABEL, "pooled")]
    pred = None
    if predictive is not None:
        pred = interval_from_mapping(predictive, ("low", "high"), argument="predictive", ratio=m.is_ratio)
        pred_mid = predictive.get("median")
        pred_median = float(pred_mid) if pred_mid is not None else np.nan
        summary.append((PREDICTIVE_LABEL, "predictive"))
    pub = None
    if published is not None:
        pub = interval_from_mapping(published, ("estimate", "low", "high"), argument="published", ratio=m.is_ratio)
        summary.append((str(published.get("label", "Published")), "published"))

    n = len(labels)
    rows_total = n + len(summary)
    fig = new_figure(10.0, 2.3 + _ROW_HEIGHT * (rows_total + 1))
    ax, ax_text = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [2.2, 1.4], "wspace": 0.02})
    fig.suptitle(title, fontsize=FONT_SIZE + 2)

    all_values = [v for arr in vals.values() for v in arr] + list(pool)
    all_values += list(pred or ()) + list(pub or ())
    setup_effect_axis(ax, m, effect_limits(all_values, m))

    y_study = np.arange(n, dtype=float)
    y_summary = n + 0.6 + np.arange(len(summary), dtype=float)
    xs = (0.04, 0.54)
    _text_axis(ax_text, (f"Observed {m.code}\n[95% CI]", f"Posterior {m.code}\n[95% CrI]"), xs)
    text_kw = {"va": "center", "ha": "left", "fontsize": FONT_SIZE, "transform": ax_text.get_yaxis_transform()}

    for i, y in enumerate(y_study):
        obs = (vals["observed"][i], vals["obs_low"][i], vals["obs_high"][i])
        draw_interval(ax, y - _OFFSET if has_shrunk else y, *obs, color=BLACK, marker="s", markersize=5)
        ax_text.text(xs[0], y, fmt_interval(*obs), color=BLACK if np.isfinite(obs[0]) else GREY, **text_kw)
        if has_shrunk:
            shr = (vals["shrunk"][i], vals["shrunk_low"][i], vals["shrunk_high"][i])
            draw_interval(ax, y + _OFFSET, *shr, color=BLUE, marker="o", markersize=5)
            shr_text = fmt_interval(*shr) if np.isfinite(shr[0]) else "not in model"
            ax_text.text(xs[1], y, shr_text, color=BLUE if np.isfinite(shr[0]) else GREY, **text_kw)

    ax.axhline(n - 0.5 + 0.05, color=GREY, linewidth=0.6, linestyle=":")
    for (_, kind), y in zip(summary, y_summary, strict=True):
        if kind == "pooled":
            _diamond(ax, y, *pool, color=BLUE, filled=True)
            ax_text.text(xs[1], y, fmt_interval(*pool), color=BLUE, fontweight="bold", **text_kw)
        elif kind == "predictive" and pred is not None:
            ax.barh(y, pred[1] - pred[0], left=pred[0], height=0.3, color=SKY, edgecolor=BLUE, linewidth=0.8)
            if np.isfinite(pred_median):
                ax.plot([pred_median] * 2, [y - 0.15, y + 0.15], color=BLUE, linewidth=1.4)
            text = fmt_interval(pred_median, *pred) if np.isfinite(pred_median) else fmt_range(*pred)
            ax_text.text(xs[1], y, text, color=BLUE, **text_kw)
        elif kind == "published" and pub is not None:
            _diamond(ax, y, *pub, color=VERMILLION, filled=False)
            ax_text.text(xs[0], y, fmt_interval(*pub), color=VERMILLION, **text_kw)

    y_all = np.concatenate([y_study, y_summary])
    ax.set_yticks(y_all, labels + [label for label, _ in summary], fontsize=FONT_SIZE)
    ax.set_ylim(y_all[-1] + 0.7, -0.7)
    ax.tick_params(axis="y", length=0, pad=8)
    ax.tick_params(axis="x", labelsize=FONT_SIZE)
    ax.set_xlabel(f"{m.axis_label()}, 95% intervals", fontsize=FONT_SIZE, labelpad=18)
    add_favours_labels(ax, m, favours)
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)

    handles = [
        Line2D([], [], color=BLACK, marker="s", markersize=5, label="Observed (95% CI)"),
        Line2D([], [], color=BLUE, marker="o", markersize=5, label="Shrunken posterior (95% CrI)"),
        Patch(facecolor=BLUE, edgecolor=BLUE, label="Pooled posterior (95% CrI)"),
        Patch(facecolor=SKY, edgecolor=BLUE, label="New-study prediction (95%)"),
        Patch(facecolor="white", edgecolor=VERMILLION, label="Published (95% CI)"),
    ]
    keep = [True, has_shrunk, True, pred is not None, pub is not None]
    handles = [h for h, k in zip(handles, keep, strict=True) if k]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=FONT_SIZE, frameon=False)
    return fig


def subgroup_effects(
    rows: pd.DataFrame,
    *,
    measure: str,
    title: str,
    favours: tuple[str, str] = ("treatment", "control"),
) -> Figure:
    """Posterior effect per subgroup (or meta-regression level) beside the published subgroup estimate.

    rows: one row per subgroup with columns ``group, median, low, high`` (posterior median and 95% CrI) and
        optionally ``published, published_low, published_high`` (the paper's subgroup estimate and 95% CI;
        NaN where the paper gave none). Values on the ratio scale for OR/RR/HR.
    measure: OR, RR, HR (log axis) or MD, SMD, RD.
    """
    m = measure_info(measure)
    require_columns(rows, ("group", "median", "low", "high"), argument="rows")
    labels = [str(g) for g in rows["group"]]
    pub_cols = ("published", "published_low", "published_high")
    has_pub = all(c in rows.columns for c in pub_cols)
    cols = ("median", "low", "high") + (pub_cols if has_pub else ())
    vals = {c: numeric_column(rows, c, argument="rows", labels=labels) for c in cols}
    _ratio_checks(vals, m, labels, "rows")
    for c in ("median", "low", "high"):
        missing = np.isnan(vals[c])
        if missing.any():
            raise ValueError(f"rows column {c!r} row {labels[int(np.argmax(missing))]!r} is missing")

    n = len(labels)
    fig = new_figure(10.0, 2.2 + 2 * _ROW_HEIGHT * n)
    ax, ax_text = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [2.2, 1.4], "wspace": 0.02})
    fig.suptitle(title, fontsize=FONT_SIZE + 2)
    setup_effect_axis(ax, m, effect_limits([v for arr in vals.values() for v in arr], m))
    xs = (0.04, 0.54)
    _text_axis(ax_text, (f"Posterior {m.code}\n[95% CrI]", f"Published {m.code}\n[95% CI]"), xs)
    text_kw = {"va": "center", "ha": "left", "fontsize": FONT_SIZE, "transform": ax_text.get_yaxis_transform()}

    offset = 0.15 if has_pub else 0.0
    for i in range(n):
        post = (vals["median"][i], vals["low"][i], vals["high"][i])
        draw_interval(ax, i - offset, *post, color=BLUE, marker="o", markersize=6)
        ax_text.text(xs[0], i, fmt_interval(*post), color=BLUE, **text_kw)
        if has_pub:
            paper = (vals["published"][i], vals["published_low"][i], vals["published_high"][i])
            draw_interval(ax, i + offset, *paper, color=VERMILLION, marker="D", markersize=5, mfc="white")
            text = fmt_interval(*paper) if np.isfinite(paper[0]) else "not reported"
            ax_text.text(xs[1], i, text, color=VERMILLION if np.isfinite(paper[0]) else GREY, **text_kw)

    ax.set_yticks(np.arange(n), labels, fontsize=FONT_SIZE)
    ax.set_ylim(n - 0.4, -0.6)
    ax.tick_params(axis="y", length=0, pad=8)
    ax.tick_params(axis="x", labelsize=FONT_SIZE)
    ax.set_xlabel(f"{m.axis_label()}, 95% intervals", fontsize=FONT_SIZE, labelpad=18)
    add_favours_labels(ax, m, favours)
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)
    handles = [Line2D([], [], color=BLUE, marker="o", markersize=6, label="Posterior (95% CrI)")]
    if has_pub:
        handles.append(
            Line2D([], [], color=VERMILLION, marker="D", markersize=5, mfc="white", label="Published (95% CI)")
        )
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=FONT_SIZE, frameon=False)
    return fig
