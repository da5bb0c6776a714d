"""Prior sensitivity: a probability (e.g. P(OR < 1)) per heterogeneity prior x effect prior, and a per-prior table
of P(benefit), P(important benefit), tau's median and the 95% prediction interval.

Prior names reach these figures as preset keys (``turner2015_mortality_pharma``); an optional ``labels`` mapping
turns them into readable text ("Turner 2015, pharmacological"); keys without an entry are shown with underscores
replaced by spaces.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from models.formatting import fmt_probability
from models.report._common import (
    BLACK,
    BLUE,
    FONT_SIZE,
    GREY,
    draw_interval,
    effect_limits,
    fmt_number,
    fmt_range,
    measure_info,
    new_figure,
    require_columns,
    set_title,
    setup_effect_axis,
)

_CMAP = "cividis"  # sequential, perceptually uniform and readable with colour-vision deficiency
_MISSING_COLOUR = "#DDDDDD"
_MIN_SPAN = 0.02  # the colour scale spans at least this much probability, so noise is not painted as contrast
TABLE_COLUMNS = ("tau_prior", "effect_prior", "p_benefit", "p_important", "tau_median", "pred_low", "pred_high")


def readable(key: object, labels: Mapping[str, str] | None = None) -> str:
    """Display text for a preset key: ``labels[key]`` if given, else the key with underscores as spaces."""
    if labels is not None and str(key) in labels:
        return str(labels[str(key)])
    return str(key).replace("_", " ")


def _wrap(text: str, width: int) -> str:
    """Wrap at spaces, never inside a word."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


def fitted_norm(values: np.ndarray, *, min_span: float = _MIN_SPAN) -> Normalize:
    """Colour limits fitted to the finite values (rounded outwards to 0.01, within [0, 1]), at least ``min_span``
    wide, so values that all lie in 0.86-1.00 use the whole colour map instead of its top tenth."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return Normalize(0.0, 1.0)
    lo, hi = np.floor(finite.min() * 100) / 100, np.ceil(finite.max() * 100) / 100
    if hi - lo < min_span:
        mid = (lo + hi) / 2
        lo, hi = mid - min_span / 2, mid + min_span / 2
        if lo < 0:
            lo, hi = 0.0, min_span
        if hi > 1:
            lo, hi = 1.0 - min_span, 1.0
    return Normalize(max(0.0, float(lo)), min(1.0, float(hi)))


def _text_colour(cmap: Colormap, norm: Normalize, v: float) -> str:
    r, g, b, _ = cmap(norm(v))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def _probabilities(table: pd.DataFrame) -> np.ndarray:
    values = np.empty(table.shape, dtype=float)
    for j, col in enumerate(table.columns):
        numbers = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
        for i, (v, raw) in enumerate(zip(numbers, table[col].to_numpy(dtype=object), strict=True)):
            where = f"table row {table.index[i]!r} column {col!r}"
            if np.isnan(v) and not pd.isna(raw):
                raise ValueError(f"{where}: {raw!r} is not a number")
            if np.isinf(v):
                raise ValueError(f"{where} is infinite")
            if np.isfinite(v) and not 0 <= v <= 1:
                raise ValueError(f"{where}: {v:g} is not a probability in [0, 1]")
        values[:, j] = numbers
    return values


def prior_sensitivity_heatmap(
    table: pd.DataFrame,
    *,
    title: str,
    value_label: str = "P(benefit)",
    row_title: str = "Heterogeneity (\u03c4) prior",
    column_title: str = "Effect prior",
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Heatmap of a probability over priors: rows = tau priors (index), columns = effect priors.

    table: probabilities in [0, 1] with the tau-prior names as index and the effect-prior names as columns;
        NaN marks a fit that failed or was not run and is drawn grey with the text 'n/a'.
    labels: optional display text per prior key (index and column names), e.g.
        ``{"turner2015_mortality_pharma": "Turner 2015, pharmacological"}``.
    The colour limits are fitted to the data (see :func:`fitted_norm`) so that differences between priors show;
    every cell carries its value as text (:func:`fmt_probability`), which is what to compare across figures.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame; got {type(table).__name__}")
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise ValueError(f"table is empty (shape {table.shape})")
    values = _probabilities(table)

    n_rows, n_cols = values.shape
    fig = new_figure(max(5.5, 2.8 + 1.5 * n_cols), max(3.2, 1.9 + 0.6 * n_rows))
    ax = fig.subplots()
    set_title(fig, title)
    cmap = colormaps[_CMAP].with_extremes(bad=_MISSING_COLOUR)
    norm = fitted_norm(values)
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto")
    for i in range(n_rows):
        for j in range(n_cols):
            v = values[i, j]
            colour = "black" if np.isnan(v) else _text_colour(cmap, norm, v)
            ax.text(j, i, fmt_probability(v), ha="center", va="center", fontsize=FONT_SIZE + 1, color=colour)
    ax.set_xticks(np.arange(n_cols), [_wrap(readable(c, labels), 16) for c in table.columns], fontsize=FONT_SIZE)
    ax.set_yticks(np.arange(n_rows), [_wrap(readable(r, labels), 30) for r in table.index], fontsize=FONT_SIZE)
    ax.tick_params(length=0)
    ax.set_xlabel(column_title, fontsize=FONT_SIZE)
    ax.set_ylabel(row_title, fontsize=FONT_SIZE)
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label(f"{value_label} (colour scale fitted to the values)", fontsize=FONT_SIZE)
    bar.ax.tick_params(labelsize=FONT_SIZE)
    return fig


def prior_sensitivity_table_figure(
    frame: pd.DataFrame,
    *,
    title: str,
    measure: str = "OR",
    labels: Mapping[str, str] | None = None,
    benefit_label: str = "P(benefit)",
    important_label: str = "P(important benefit)",
) -> Figure:
    """One row per prior combination: P(benefit), P(important benefit), tau's median, and the 95% prediction
    interval for a new study drawn on the effect axis.

    frame: columns ``tau_prior, effect_prior, p_benefit, p_important, tau_median, pred_low, pred_high``; the
        prediction interval on the reporting scale (ratio scale for OR/RR/HR). Rows are drawn top to bottom in
        the frame's order. Probability cells are coloured on one scale fitted to both probability columns.
    labels: optional display text per prior key.
    """
    m = measure_info(measure)
    require_columns(frame, TABLE_COLUMNS, argument="frame")
    numbers = {}
    for col in TABLE_COLUMNS[2:]:
        numbers[col] = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(numbers[col]) & frame[col].notna().to_numpy()
        if bad.any():
            raise ValueError(f"frame column {col!r} row {int(np.argmax(bad))}: {frame[col].iloc[int(np.argmax(bad))]!r}"
                             " is not a number")  # fmt: skip
    probs = np.column_stack([numbers["p_benefit"], numbers["p_important"]])
    if (np.isfinite(probs) & ((probs < 0) | (probs > 1))).any():
        raise ValueError("frame columns 'p_benefit' and 'p_important' must be probabilities in [0, 1]")
    n = len(frame)
    fig = new_figure(11.0, 1.6 + 0.42 * (n + 1))
    ax_tab, ax_pi = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [2.6, 1.4], "wspace": 0.02})
    set_title(fig, title)
    cmap = colormaps[_CMAP].with_extremes(bad=_MISSING_COLOUR)
    norm = fitted_norm(probs)

    headers = ["\u03c4 prior", "Effect prior", benefit_label, important_label, "\u03c4 median", "95% PI (new setting)"]
    xs = [0.0, 0.33, 0.58, 0.72, 0.86, 1.0]
    ax_tab.set_xlim(0, 1)
    ax_tab.set_axis_off()
    kw = {"va": "center", "fontsize": FONT_SIZE}
    for x, h in zip(xs[:5], headers[:5], strict=True):
        ax_tab.text(x + (0.06 if x >= 0.58 else 0), -1, _wrap(h, 18), ha="center" if x >= 0.58 else "left",
                    fontweight="bold", **kw)  # fmt: skip
    for i, (_, row) in enumerate(frame.iterrows()):
        ax_tab.text(xs[0], i, _wrap(readable(row["tau_prior"], labels), 26), ha="left", **kw)
        ax_tab.text(xs[1], i, _wrap(readable(row["effect_prior"], labels), 28), ha="left", **kw)
        for x, col in ((xs[2], "p_benefit"), (xs[3], "p_important")):
            v = numbers[col][i]
            face = _MISSING_COLOUR if np.isnan(v) else cmap(norm(v))
            ax_tab.add_patch(Rectangle((x, i - 0.42), 0.12, 0.84, facecolor=face, edgecolor="white"))
            colour = BLACK if np.isnan(v) else _text_colour(cmap, norm, v)
            ax_tab.text(x + 0.06, i, fmt_probability(v), ha="center", color=colour, **kw)
        ax_tab.text(xs[4] + 0.06, i, fmt_number(numbers["tau_median"][i]), ha="center", **kw)
    ax_tab.set_ylim(n - 0.5, -1.6)

    lows, highs = numbers["pred_low"], numbers["pred_high"]
    setup_effect_axis(ax_pi, m, effect_limits([*lows, *highs], m))
    for i in range(n):
        draw_interval(ax_pi, i, np.nan, lows[i], highs[i], color=BLUE, marker="o")
        if np.isfinite(lows[i]):
            ax_pi.annotate(fmt_range(lows[i], highs[i]), (1.0, i), xycoords=ax_pi.get_yaxis_transform(), xytext=(4, 0),
                           textcoords="offset points", ha="left", color=BLUE, **kw)  # fmt: skip
    ax_pi.set_title(headers[5], fontsize=FONT_SIZE, fontweight="bold")
    ax_pi.set_xlabel(m.axis_label(), fontsize=FONT_SIZE)
    ax_pi.tick_params(axis="x", labelsize=FONT_SIZE)
    ax_pi.tick_params(axis="y", length=0, labelleft=False)
    for spine in ("top", "right", "left"):
        ax_pi.spines[spine].set_visible(False)
    fig.text(0.01, 0.005, f"Probability colours fitted to the values shown ({norm.vmin:.2f}-{norm.vmax:.2f}).",
             fontsize=FONT_SIZE - 1, color=GREY)  # fmt: skip
    return fig
