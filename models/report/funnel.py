"""Contour-enhanced funnel plot (Peters et al. 2008, J Clin Epidemiol 61:991).

Each study is a point at its effect (x) and standard error (y, inverted: the largest studies at the top). Shaded
contours mark where a study's own two-sided Wald test against no effect would be significant: ``|y_i| / se_i``
beyond the normal quantiles for p = 0.10, 0.05 and 0.01, i.e. the straight lines ``y = +/- z se`` around the null
(log OR = 0, drawn at OR = 1). Missing studies in the white (non-significant) area point to publication bias;
missing studies in the shaded areas point to other causes of asymmetry (Peters et al. 2008).

Scales: the points come from an :class:`~models.effects.EffectTable`, whose ``yi`` are log OR/log RR for ratio
measures; the x axis is drawn on the log scale and labelled on the ratio scale (0.1, 1, 10). The y axis is the SE
on the analysis scale (SE of the log OR). ``pooled`` is given on the reported scale (an OR for OR, as every other
figure of :mod:`models.report`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import stats

from models.effects import EffectTable
from models.report._common import (
    BLACK,
    BLUE,
    FONT_SIZE,
    GREEN,
    GREY,
    ORANGE,
    PURPLE,
    VERMILLION,
    measure_info,
    new_figure,
    set_title,
    setup_effect_axis,
)

CONTOUR_LEVELS = (0.01, 0.05, 0.10)
"""Two-sided significance levels whose contours are shaded (Peters et al. 2008)."""
BAND_LABELS = ("study p < 0.01", "study 0.01 \u2264 p < 0.05", "study 0.05 \u2264 p < 0.10")
BAND_COLOURS = ("#8c8c8c", "#b8b8b8", "#e0e0e0")
"""Darker grey = more significant; the area with p >= 0.10 stays white."""
POINTS_GID = "funnel-studies"
"""``gid`` prefix of the point artists (one per design group); tests and callers find the studies by it."""
BAND_GID = "funnel-contour"
_DESIGN_STYLE = {
    "RCT": {"marker": "o", "color": BLUE, "mfc": BLUE},
    "NRS": {"marker": "^", "color": VERMILLION, "mfc": "white"},
}
_OTHER_STYLES = (
    {"marker": "s", "color": GREEN, "mfc": "white"},
    {"marker": "D", "color": PURPLE, "mfc": "white"},
    {"marker": "v", "color": ORANGE, "mfc": "white"},
)


def _design_labels(effects: EffectTable, design: Mapping[str, str] | pd.Series | None) -> list[str]:
    if design is None:
        return ["Study"] * effects.k
    if not isinstance(design, Mapping | pd.Series):
        raise TypeError(f"design must be a mapping or Series from study label to design; got {type(design).__name__}")
    lookup = {str(k): v for k, v in dict(design).items()}
    missing = [s for s in effects.study if s not in lookup or pd.isna(lookup[s])]
    if missing:
        raise ValueError(f"design has no label for study {missing[0]!r}")
    return [str(lookup[s]) for s in effects.study]


def _style(group: str, others: dict[str, dict]) -> dict:
    if group in _DESIGN_STYLE:
        return _DESIGN_STYLE[group]
    if group == "Study":
        return {"marker": "o", "color": BLACK, "mfc": BLACK}
    if group not in others:
        others[group] = _OTHER_STYLES[len(others) % len(_OTHER_STYLES)]
    return others[group]


def funnel_plot(
    effects: EffectTable,
    *,
    design: Mapping[str, str] | pd.Series | None = None,
    pooled: float | None = None,
    pooled_label: str = "Pooled estimate",
    label_studies: bool = False,
    title: str = "Contour-enhanced funnel plot",
) -> Figure:
    """Contour-enhanced funnel plot of ``effects`` (Peters et al. 2008); returns the figure, the caller saves it.

    effects: per-study effects (log OR/log RR for ratio measures) and variances; every study is drawn once.
    design: study label -> design label (e.g. ``"RCT"``/``"NRS"`` from ``ds.covariates(...)["design"]``); each
        design gets its own marker and a legend entry with its count. None: one marker for all.
    pooled: a pooled estimate on the reported scale (OR for OR), drawn as a dashed vertical line; None to omit.
    label_studies: write each study's label beside its point.

    Studies left out of ``effects`` (``effects.dropped``: double-zero studies without a log OR) and studies whose
    cells were continuity-corrected are listed in a note under the axis, so the figure says what it does not show.
    """
    if not isinstance(effects, EffectTable):
        raise TypeError(f"effects must be an EffectTable; got {type(effects).__name__}")
    m = measure_info(effects.measure)
    groups = _design_labels(effects, design)
    if pooled is not None:
        pooled = float(pooled)
        if not np.isfinite(pooled) or (m.is_ratio and pooled <= 0):
            raise ValueError(f"pooled must be a finite {'positive ratio' if m.is_ratio else 'number'}; got {pooled}")
    to_x = np.exp if m.is_ratio else (lambda v: np.asarray(v, dtype=float))
    yi, se = effects.yi, effects.sei
    z = [float(stats.norm.isf(level / 2)) for level in CONTOUR_LEVELS]  # 2.576, 1.960, 1.645
    se_top = float(se.max()) * 1.08
    centre_pooled = np.log(pooled) if (pooled is not None and m.is_ratio) else (pooled or 0.0)
    half = 1.05 * max(float(np.abs(yi).max()), z[0] * se_top, abs(centre_pooled), 0.1)

    fig = new_figure(7.5, 5.6)
    ax = fig.subplots()
    set_title(fig, title)
    setup_effect_axis(ax, m, (float(to_x(-half)), float(to_x(half))))

    grid = np.linspace(0.0, se_top, 60)
    edges = [z_ * grid for z_ in z]  # |effect| at which a study's p equals 0.01, 0.05, 0.10
    bounds = [(edges[0], np.full_like(grid, half)), (edges[1], edges[0]), (edges[2], edges[1])]
    for (inner, far), colour, label in zip(bounds, BAND_COLOURS, BAND_LABELS, strict=True):
        for side, (lo, hi) in (("left", (-far, -inner)), ("right", (inner, far))):
            poly = ax.fill_betweenx(grid, to_x(lo), to_x(hi), color=colour, linewidth=0, zorder=0)
            poly.set_gid(f"{BAND_GID}:{label}:{side}")

    others: dict[str, dict] = {}
    handles: list = []
    for group in dict.fromkeys(groups):
        rows = [i for i, g in enumerate(groups) if g == group]
        st = _style(group, others)
        line = ax.plot(
            to_x(yi[rows]),
            se[rows],
            linestyle="none",
            marker=st["marker"],
            color=st["color"],
            markerfacecolor=st["mfc"],
            markersize=7,
            markeredgewidth=1.3,
            zorder=5,
            label=f"{group} (k = {len(rows)})",
        )[0]
        line.set_gid(f"{POINTS_GID}:{group}")
        handles.append(line)
    if label_studies:
        for x, y, s in zip(to_x(yi), se, effects.study, strict=True):
            ax.annotate(s, (x, y), xytext=(5, 3), textcoords="offset points", fontsize=FONT_SIZE - 1, color=GREY)
    if pooled is not None:
        ax.axvline(pooled, color=BLACK, linestyle="--", linewidth=1.2, zorder=3)
        handles.append(Line2D([], [], color=BLACK, linestyle="--", label=f"{pooled_label} ({m.code} {pooled:.2f})"))
    handles.append(Line2D([], [], color=GREY, linewidth=1.0, label=f"No effect ({m.code} = {m.null:g})"))
    handles += [
        Patch(facecolor=c, edgecolor="none", label=lab) for c, lab in zip(BAND_COLOURS, BAND_LABELS, strict=True)
    ]
    handles.append(Patch(facecolor="white", edgecolor=GREY, linewidth=0.6, label="study p \u2265 0.10"))

    ax.set_ylim(se_top, 0.0)  # inverted: precise studies at the top
    scale = f"log {m.code}" if m.is_ratio else m.code
    ax.set_ylabel(f"Standard error of the {scale}", fontsize=FONT_SIZE)
    ax.set_xlabel(m.axis_label(), fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=FONT_SIZE,
        frameon=False,
    )
    notes = []
    if effects.dropped:
        notes.append(f"Not shown (no {m.code}, double-zero): {', '.join(effects.dropped)}.")
    corrected = [s for s, c in zip(effects.study, effects.corrected, strict=True) if c]
    if corrected:
        notes.append(f"0.5 added to every cell of: {', '.join(corrected)}.")
    if notes:
        fig.supxlabel("\n".join(notes), x=0.01, ha="left", fontsize=FONT_SIZE - 1, color=GREY)
    return fig
