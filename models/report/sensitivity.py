"""Prior-sensitivity heatmap: one probability (e.g. P(OR < 1)) per heterogeneity prior x effect prior."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from models.report._common import FONT_SIZE, new_figure

_CMAP = "cividis"  # sequential, perceptually uniform and readable with colour-vision deficiency
_MISSING_COLOUR = "#DDDDDD"


def _wrap(label: object, width: int) -> str:
    """Wrap at spaces and after underscores (common in preset names), never inside a word."""
    text = str(label).replace("_", "_\x00 ")  # marked break opportunity, removed again below
    lines = textwrap.wrap(text, width, break_long_words=False)
    return "\n".join(line.replace("\x00 ", "").replace("\x00", "") for line in lines) or str(label)


def prior_sensitivity_heatmap(
    table: pd.DataFrame,
    *,
    title: str,
    value_label: str = "P(OR < 1)",
    row_title: str = "Heterogeneity (\u03c4) prior",
    column_title: str = "Effect prior",
) -> Figure:
    """Heatmap of a probability over priors: rows = tau priors (index), columns = effect priors.

    table: probabilities in [0, 1] with the tau-prior names as index and the effect-prior names as columns;
        NaN marks a fit that failed or was not run and is drawn grey with the text 'n/a'.
    The colour scale is fixed to 0..1 so heatmaps of different analyses compare directly; each cell is
    annotated with its value to 2 decimals. Long prior names are wrapped onto several lines.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame; got {type(table).__name__}")
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise ValueError(f"table is empty (shape {table.shape})")
    values = np.empty(table.shape, dtype=float)
    for j, col in enumerate(table.columns):
        numbers = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
        for i, (v, raw) in enumerate(zip(numbers, table[col].to_numpy(dtype=object), strict=True)):
            where = f"table row {table.index[i]!r} column {col!r}"
            if np.isnan(v) and not pd.isna(raw):
                raise ValueError(f"{where}: {raw!r} is not a number")
            if np.isfinite(v) and not 0 <= v <= 1:
                raise ValueError(f"{where}: {v:g} is not a probability in [0, 1]")
            if np.isinf(v):
                raise ValueError(f"{where} is infinite")
        values[:, j] = numbers

    n_rows, n_cols = values.shape
    fig = new_figure(max(5.5, 2.6 + 1.4 * n_cols), max(3.2, 1.8 + 0.55 * n_rows))
    ax = fig.subplots()
    fig.suptitle(title, fontsize=FONT_SIZE + 2)
    cmap = colormaps[_CMAP].with_extremes(bad=_MISSING_COLOUR)
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(n_rows):
        for j in range(n_cols):
            v = values[i, j]
            if np.isnan(v):
                text, colour = "n/a", "black"
            else:
                r, g, b, _ = cmap(v)
                text = f"{v:.2f}"
                colour = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
            ax.text(j, i, text, ha="center", va="center", fontsize=FONT_SIZE + 1, color=colour)
    ax.set_xticks(np.arange(n_cols), [_wrap(c, 16) for c in table.columns], fontsize=FONT_SIZE)
    ax.set_yticks(np.arange(n_rows), [_wrap(r, 34) for r in table.index], fontsize=FONT_SIZE)
    ax.tick_params(length=0)
    ax.set_xlabel(column_title, fontsize=FONT_SIZE)
    ax.set_ylabel(row_title, fontsize=FONT_SIZE)
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label(value_label, fontsize=FONT_SIZE)
    bar.ax.tick_params(labelsize=FONT_SIZE)
    return fig
