"""Cumulative (by publication date) Bayesian meta-analysis: how the pooled effect and P(benefit) evolved."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.report._common import (
    BLUE,
    FONT_SIZE,
    VERMILLION,
    effect_limits,
    measure_info,
    new_figure,
    numeric_column,
    require_columns,
    require_positive,
    set_title,
    setup_effect_axis,
)


def _when(rows: pd.DataFrame) -> list[str]:
    """Tick text for each step from the ``date`` (shown as YYYY-MM) or ``year`` column."""
    if "date" in rows.columns:
        dates = pd.to_datetime(rows["date"], errors="coerce")
        if dates.isna().any():
            bad = rows["date"].iloc[int(np.argmax(dates.isna().to_numpy()))]
            raise ValueError(f"rows column 'date' holds {bad!r}, which is not a date")
        return [d.strftime("%Y-%m") for d in dates]
    if "year" in rows.columns:
        return [str(y) for y in rows["year"]]
    raise ValueError(f"rows lacks a 'year' or 'date' column (has {', '.join(map(str, rows.columns))})")


def evidence_over_time(
    rows: pd.DataFrame,
    *,
    measure: str,
    title: str,
    benefit_label: str | None = None,
    favours: tuple[str, str] = ("treatment", "control"),
) -> Figure:
    """Two stacked panels over cumulative steps: pooled effect (median, 95% CrI) and P(benefit) with a 0.95 line.

    rows: one row per cumulative step in publication order, columns ``year`` (or ``date``), ``k`` (studies
        pooled so far), ``median, low, high`` (posterior of the pooled effect, ratio scale for OR/RR/HR) and
        ``p_benefit`` (posterior probability of benefit, e.g. P(OR < 1)); optionally ``study`` (the study
        added at that step), used in the tick labels.
    benefit_label: y label of the lower panel; default 'P(OR < 1)' (or 'P(MD < 0)' for differences).
    favours: arms favoured below and above the null, as in the forest plot (only the first is shown).
    Steps are spaced evenly (not by calendar time) so that studies published in the same year stay apart.
    """
    m = measure_info(measure)
    require_columns(rows, ("k", "median", "low", "high", "p_benefit"), argument="rows")
    when = _when(rows)
    labels = [str(s) for s in rows["study"]] if "study" in rows.columns else when
    vals = {
        c: numeric_column(rows, c, argument="rows", labels=labels) for c in ("k", "median", "low", "high", "p_benefit")
    }
    for c, arr in vals.items():
        missing = np.isnan(arr)
        if missing.any():
            raise ValueError(f"rows column {c!r} row {labels[int(np.argmax(missing))]!r} is missing")
    if m.is_ratio:
        for c in ("median", "low", "high"):
            require_positive(vals[c], argument="rows", column=c, labels=labels)
    p = vals["p_benefit"]
    bad = (p < 0) | (p > 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"rows column 'p_benefit' row {labels[i]!r} is {p[i]:g}, not a probability in [0, 1]")

    n = len(rows)
    k = vals["k"].astype(int)
    if "study" in rows.columns:
        ticks = [f"{s} ({w})\nk={kk}" for s, w, kk in zip(labels, when, k, strict=True)]
    else:
        ticks = [f"{w}\nk={kk}" for w, kk in zip(when, k, strict=True)]
    rotate = n > 8 or any(len(t.split("\n")[0]) > 14 for t in ticks)
    if rotate:
        ticks = [t.replace("\n", ", ") for t in ticks]

    fig = new_figure(max(7.0, 3.0 + 0.4 * n), 6.5 + (1.0 if rotate else 0.0))
    ax_eff, ax_p = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    set_title(fig, title)
    x = np.arange(n, dtype=float)

    setup_effect_axis(ax_eff, m, effect_limits([*vals["low"], *vals["high"]], m), axis="y")
    ylo, yhi = ax_eff.get_ylim()
    low_c, high_c = np.clip(vals["low"], ylo, yhi), np.clip(vals["high"], ylo, yhi)
    ax_eff.vlines(x, low_c, high_c, color=BLUE, linewidth=1.6)
    ax_eff.plot(x, vals["median"], marker="o", color=BLUE, linewidth=1.0, markersize=5)
    ax_eff.set_ylabel(
        f"Pooled {m.code} (posterior median, 95% CrI)\nbelow {m.null:g} favours {favours[0]}", fontsize=FONT_SIZE
    )

    ax_p.plot(x, p, marker="o", color=BLUE, linewidth=1.2, markersize=5)
    ax_p.axhline(0.95, color=VERMILLION, linestyle="--", linewidth=1.2)
    ax_p.text(
        1.01,
        0.95,
        "0.95",
        transform=ax_p.get_yaxis_transform(),
        ha="left",
        va="center",
        fontsize=FONT_SIZE,
        color=VERMILLION,
    )
    ax_p.set_ylim(0, 1)
    ax_p.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    default_label = f"P({m.code} < 1)" if m.is_ratio else f"P({m.code} < 0)"
    ax_p.set_ylabel(benefit_label or default_label, fontsize=FONT_SIZE)
    ax_p.set_xticks(x, ticks, fontsize=FONT_SIZE, rotation=45 if rotate else 0, ha="right" if rotate else "center")
    ax_p.set_xlim(-0.5, n - 0.5)
    ax_p.set_xlabel("Cumulative analysis, in order of publication", fontsize=FONT_SIZE)
    for ax in (ax_eff, ax_p):
        ax.tick_params(axis="y", labelsize=FONT_SIZE)
        ax.grid(axis="y", color="#EEEEEE", linewidth=0.6)
        ax.set_axisbelow(True)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
    return fig
