"""Tipping-point maps: how a posterior probability would change with the unknown event counts of some studies.

The grid holds, for each combination of total events in the missing studies' treatment and control arms, the
posterior probability of benefit (and of an important benefit) had those been the counts. Each grid point is drawn
as a cell centred on its counts, so the coloured area ends exactly half a step beyond the first and last counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from models.report._common import FONT_SIZE, new_figure, require_columns, set_title

# Probability bands: pale near 0.5 (undecided), blue towards benefit, red towards harm; band edges at the usual
# decision thresholds so that a colour reads as "above 0.95" rather than as a number to guess.
BANDS = (0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 0.99, 1.0)
CONTOUR_LEVELS = (0.5, 0.9, 0.95)
_CMAP = "RdBu"
_SCENARIO_MARKERS = ("*", "P", "X", "D", "^", "v")
DEFAULT_VALUE_LABELS = {"p_benefit": "P(benefit)", "p_important": "P(important benefit)"}
EQUAL_RISK_GID = "equal-risk"
FLAT_GID = "flat-message"


def cell_edges(values: np.ndarray) -> np.ndarray:
    """Edges of cells centred on sorted ``values``: midpoints between neighbours, and half a step beyond each end."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mids = (v[:-1] + v[1:]) / 2
    return np.concatenate([[v[0] - (v[1] - v[0]) / 2], mids, [v[-1] + (v[-1] - v[-2]) / 2]])


def _arm_sizes(grid: pd.DataFrame) -> tuple[float, float]:
    """Arm totals from the ``risk_*`` columns when present (events / risk), else the largest event counts."""
    sizes = []
    for deaths, risk in (("events_t", "risk_t"), ("events_c", "risk_c")):
        n = float(grid[deaths].max())
        if risk in grid.columns and float(grid[risk].max()) > 0:
            n = round(float(grid[deaths].max()) / float(grid[risk].max()))
        sizes.append(n)
    return sizes[0], sizes[1]


def _panel(
    ax: Axes,
    table: pd.DataFrame,
    *,
    label: str,
    norm: BoundaryNorm,
    arm_sizes: tuple[float, float],
    scenarios: Sequence[tuple[str, float, float]],
    flat_tolerance: float,
) -> bool:
    """Draw one map; return True if it was drawn as a colour field, False if replaced by a 'hardly varies' note."""
    x, y = table.columns.to_numpy(dtype=float), table.index.to_numpy(dtype=float)
    z = table.to_numpy(dtype=float)
    xe, ye = cell_edges(x), cell_edges(y)
    lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
    varied = hi - lo >= flat_tolerance
    if varied:
        cmap = colormaps[_CMAP].with_extremes(bad="#DDDDDD")
        ax.pcolormesh(xe, ye, np.ma.masked_invalid(z), cmap=cmap, norm=norm, shading="flat")
        if len(x) > 1 and len(y) > 1:
            levels = [v for v in CONTOUR_LEVELS if lo < v < hi]
            if levels:
                contour = ax.contour(x, y, z, levels=levels, colors="black", linewidths=1.0)
                ax.clabel(contour, fmt={v: f"{v:g}" for v in levels}, fontsize=FONT_SIZE - 1)
        ax.set_title(label, fontsize=FONT_SIZE + 1)
    else:
        ax.set_facecolor("#F4F4F4")
        ax.text(
            0.5,
            0.55,
            f"{label} hardly varies:\nbetween {lo:.2f} and {hi:.2f}\nfor every count in the grid.\n"
            "The missing studies cannot\nchange this probability.",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=FONT_SIZE + 1,
            gid=FLAT_GID,
            zorder=10,
            bbox={"facecolor": "white", "edgecolor": "#999999", "boxstyle": "round,pad=0.5"},
        )
        ax.set_title(f"{label}: no change", fontsize=FONT_SIZE + 1)
    # Equal risk in both missing arms: a white line under a black dashed one is visible on every colour.
    n_t, n_c = arm_sizes
    line = ([0, n_t], [0, n_c])
    ax.plot(*line, color="white", linewidth=2.6, zorder=5)
    ax.plot(*line, color="black", linewidth=1.3, linestyle=(0, (5, 3)), zorder=6, gid=EQUAL_RISK_GID)
    for (name, d_t, d_c), marker in zip(scenarios, _SCENARIO_MARKERS * 4, strict=False):
        ax.plot([d_t], [d_c], linestyle="none", marker=marker, markersize=12 if marker == "*" else 9,
                markerfacecolor="#FFD400", markeredgecolor="black", markeredgewidth=1.2, zorder=7,
                label=str(name), clip_on=False)  # fmt: skip
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    ax.tick_params(labelsize=FONT_SIZE)
    return varied


def tipping_map(
    grid: pd.DataFrame,
    *,
    title: str,
    scenarios: Sequence[tuple[str, float, float]] = (),
    value: str = "p_benefit",
    second: str | None = "p_important",
    value_labels: Mapping[str, str] | None = None,
    arms: tuple[str, str] = ("treatment", "control"),
    events: str = "events",
    arm_sizes: tuple[float, float] | None = None,
    flat_tolerance: float = 0.02,
) -> Figure:
    """Maps of posterior probabilities over the unknown event totals of the studies that did not report them.

    grid: one row per grid point with columns ``events_t`` and ``events_c`` (integer totals over the
        missing studies' treatment and control arms; any step), ``value`` and optionally ``second``; optional
        ``risk_t``/``risk_c`` (the totals as proportions) give the arm sizes when ``arm_sizes`` is None.
    scenarios: (label, treatment events, control events) points to mark, e.g. the counts implied by a paper's
        published totals; each gets its own symbol and a legend entry.
    value, second: probability columns drawn side by side (``second`` only if present in the grid; None for one
        panel), both on one banded colour scale with contours at 0.5, 0.9 and 0.95.
    value_labels: panel titles per column, e.g. ``{"p_benefit": "P(OR < 1)", "p_important": "P(OR < 0.8)"}``.
    arms, events: names used in the axis labels, e.g. ("MSC", "control") and "deaths" give "deaths among 31 MSC
        patients".
    arm_sizes: total patients in the missing treatment and control arms; default inferred from the grid.
    flat_tolerance: a panel whose values span less than this is replaced by a sentence saying so.
    """
    require_columns(grid, ("events_t", "events_c", value), argument="grid")
    columns = [value] + ([second] if second is not None and second in grid.columns else [])
    for col in columns:
        v = pd.to_numeric(grid[col], errors="coerce").to_numpy(dtype=float)
        if ((v < 0) | (v > 1)).any():
            raise ValueError(f"grid column {col!r} must hold probabilities in [0, 1]")
    if grid.duplicated(["events_t", "events_c"]).any():
        raise ValueError("grid has more than one row for some (events_t, events_c) pair")
    labels = {**DEFAULT_VALUE_LABELS, **(value_labels or {})}
    sizes = arm_sizes if arm_sizes is not None else _arm_sizes(grid)

    fig = new_figure(5.2 * len(columns) + 1.2, 5.6)
    axes = fig.subplots(1, len(columns), squeeze=False, sharey=True)[0]
    set_title(fig, title)
    norm = BoundaryNorm(BANDS, colormaps[_CMAP].N)
    varied = []
    for ax, col in zip(axes, columns, strict=True):
        table = grid.pivot(index="events_c", columns="events_t", values=col).sort_index().sort_index(axis=1)
        varied.append(
            _panel(
                ax,
                table,
                label=labels.get(col, col),
                norm=norm,
                arm_sizes=sizes,
                scenarios=scenarios,
                flat_tolerance=flat_tolerance,
            )  # fmt: skip
        )
        ax.set_xlabel(f"{events} among the {sizes[0]:g} {arms[0]} patients\nof the missing studies", fontsize=FONT_SIZE)
    axes[0].set_ylabel(f"{events} among the {sizes[1]:g} {arms[1]} patients of the missing studies", fontsize=FONT_SIZE)
    if any(varied):
        mappable = next(c for ax, v in zip(axes, varied, strict=True) if v for c in ax.collections)
        bar = fig.colorbar(mappable, ax=list(axes), ticks=BANDS, shrink=0.9)
        bar.set_label("Posterior probability", fontsize=FONT_SIZE)
        bar.ax.tick_params(labelsize=FONT_SIZE)
    handles = [
        Line2D(
            [],
            [],
            color="black",
            linestyle=(0, (5, 3)),
            linewidth=1.3,
            label="equal risk in both missing arms (no effect in the missing studies)",
        )  # fmt: skip
    ]
    handles += [h for h in axes[0].get_lines() if not h.get_label().startswith("_")]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(3, len(handles)), fontsize=FONT_SIZE,
               frameon=False)  # fmt: skip
    return fig
