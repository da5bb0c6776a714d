"""Forest-style figures: per-study effects with shrinkage and pooled rows, and subgroup comparisons.

Inputs are on the reporting scale: ratios (OR, RR, HR) as ratios, not logs; differences as they are.
All intervals are 95% intervals: CI for observed/published (frequentist) values, CrI for posterior ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon
from matplotlib.ticker import FixedLocator

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
    set_title,
    setup_effect_axis,
)

STUDY_COLUMNS = ("study", "observed", "obs_low", "obs_high")
SHRUNK_COLUMNS = ("shrunk", "shrunk_low", "shrunk_high")
POOLED_LABEL = "Pooled (posterior)"
PREDICTIVE_LABEL = "Prediction (true effect, new setting)"
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


COUNT_COLUMNS = ("events_treat", "total_treat", "events_control", "total_control")
GROUP_LABELS = {"RCT": "Randomised controlled trials", "NRS": "Non-randomised studies"}
ROW_LABEL_GID = "row-label"
HETEROGENEITY_GID = "heterogeneity"
NOT_REPORTED = "not reported"
_FOREST_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
_DECADE_TICKS = (0.01, 0.1, 1.0, 10.0, 100.0)
# Symmetric ratio axes, as in Cochrane reviews; the narrowest one holding every point estimate and summary is used.
SYMMETRIC_LIMITS = ((0.5, 2.0), (0.2, 5.0), (0.1, 10.0), (0.05, 20.0), (0.02, 50.0), (0.01, 100.0))


@dataclass(frozen=True)
class Heterogeneity:
    """Heterogeneity statistics printed under the pooled rows.

    tau: between-study SD on the analysis scale (e.g. log OR); ``tau_note`` says which estimate it is (e.g.
        "posterior median" or "DerSimonian-Laird"), and should name the model of the pooled row when it is that
        model's. i2: I² in percent. q, df, p: Cochran's Q, its degrees of freedom and chi-square p-value;
        ``q_note`` says what they were computed from (e.g. "inverse-variance, observed log ORs").
    """

    tau: float
    i2: float
    q: float
    df: int
    p: float
    tau_note: str = ""
    q_note: str = ""

    @classmethod
    def coerce(cls, value: Heterogeneity | Mapping[str, object]) -> Heterogeneity:
        """A Heterogeneity from itself or a dict with keys tau, i2, q, df, p (and optionally tau_note)."""
        if isinstance(value, Heterogeneity):
            return value
        if not isinstance(value, Mapping):
            raise TypeError(f"heterogeneity must be a Heterogeneity or a dict; got {type(value).__name__}")
        missing = [k for k in ("tau", "i2", "q", "df", "p") if k not in value]
        if missing:
            raise ValueError(f"heterogeneity lacks key {missing[0]!r} (needs tau, i2, q, df, p)")
        return cls(float(value["tau"]), float(value["i2"]), float(value["q"]), int(value["df"]), float(value["p"]),
                   str(value.get("tau_note", "")), str(value.get("q_note", "")))  # fmt: skip

    def text(self) -> str:
        """'Heterogeneity: τ = 0.21 (posterior median); I² = 12%; Q = 9.10 (df = 8), p = 0.33' (each note in
        brackets after what it describes)."""
        note = f" ({self.tau_note})" if self.tau_note else ""
        q_note = f" ({self.q_note})" if self.q_note else ""
        return (
            f"Heterogeneity: \u03c4 = {self.tau:.2f}{note}; I\u00b2 = {self.i2:.0f}%; "
            f"Q = {self.q:.2f} (df = {self.df}), p {fmt_p_value(self.p)}{q_note}"
        )


def fmt_p_value(p: float) -> str:
    """'= 0.33', '= 0.004', '< 0.001': a test's p-value with the precision it has."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}" if p < 0.01 else f"= {p:.2f}"


@dataclass(frozen=True)
class SubgroupTest:
    """A test for subgroup differences printed under the forest plot: Cochran's Q between the subgroup estimates,
    its degrees of freedom and chi-square p-value, and the method that produced it (stated on the plot)."""

    q: float
    df: int
    p: float
    method: str

    def text(self) -> str:
        """'Test for subgroup differences: Q = 1.20 (df = 2), p = 0.55 (method)'."""
        p = fmt_p_value(self.p)
        return f"Test for subgroup differences: Q = {self.q:.2f} (df = {self.df}), p {p} ({self.method})"


def forest_limits(core: list[float], everything: list[float]) -> tuple[float, float]:
    """Symmetric ratio limits: the narrowest of SYMMETRIC_LIMITS holding ``core`` (point estimates, summaries),
    widened by one step if that makes ``everything`` (all interval ends) fit; intervals beyond end in arrows."""

    def narrowest(values: list[float]) -> int:
        vals = [v for v in values if np.isfinite(v) and v > 0]
        for i, (lo, hi) in enumerate(SYMMETRIC_LIMITS):
            if all(lo <= v <= hi for v in vals):
                return i
        return len(SYMMETRIC_LIMITS) - 1

    margin = 1.2  # keep point estimates off the axis ends
    need = narrowest([v * margin for v in core] + [v / margin for v in core])
    total = narrowest(everything)
    return SYMMETRIC_LIMITS[total if total <= need + 1 else need]


def _forest_ticks(limits: tuple[float, float]) -> list[float]:
    ticks = [t for t in _FOREST_TICKS if limits[0] <= t <= limits[1]]
    return ticks if len(ticks) <= 9 else [t for t in _DECADE_TICKS if limits[0] <= t <= limits[1]]


def _counts(studies: pd.DataFrame, labels: list[str]) -> dict[str, np.ndarray] | None:
    if not all(c in studies.columns for c in COUNT_COLUMNS):
        return None
    return {c: numeric_column(studies, c, argument="studies", labels=labels) for c in COUNT_COLUMNS}


def _fraction(events: float, total: float) -> str:
    e = MISSING_TEXT if not np.isfinite(events) else f"{events:.0f}"
    n = MISSING_TEXT if not np.isfinite(total) else f"{total:.0f}"
    return f"{e}/{n}"


MISSING_TEXT = "\u2013"


def _weights(weights: Mapping[str, float] | None, labels: list[str]) -> np.ndarray | None:
    """Weights as percent of their sum over the plotted studies (NaN for studies without one)."""
    if weights is None:
        return None
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights must be a dict study -> weight; got {type(weights).__name__}")
    w = np.array([float(weights.get(s, np.nan)) for s in labels])
    if (w[np.isfinite(w)] < 0).any():
        raise ValueError("weights must be >= 0")
    total = np.nansum(w)
    if total <= 0:
        raise ValueError("weights must have a positive sum over the plotted studies")
    return 100 * w / total


def _arm_totals(
    ax: Axes,
    y: float,
    counts: dict[str, np.ndarray],
    rows: Sequence[int],
    left_x: dict[str, float],
    left_kw: dict,
    *,
    bold: bool,
) -> None:
    """Summed events/patients of each arm over ``rows`` (a total or subtotal row)."""
    idx = list(rows)
    weight = "bold" if bold else "normal"
    for arm, (events, total) in (("arm_t", ("events_treat", "total_treat")),
                                 ("arm_c", ("events_control", "total_control"))):  # fmt: skip
        text = _fraction(np.nansum(counts[events][idx]), np.nansum(counts[total][idx]))
        ax.text(left_x[arm], y, text, ha="center", fontweight=weight, **left_kw)


def _not_reported(entries: Sequence[str | tuple[str, float | None, float | None]]) -> list[tuple[str, float, float]]:
    out = []
    for e in entries:
        if isinstance(e, str):
            out.append((e, np.nan, np.nan))
        else:
            label, n_t, n_c = e
            out.append((str(label), np.nan if n_t is None else float(n_t), np.nan if n_c is None else float(n_c)))
    return out


def forest_plot(
    studies: pd.DataFrame,
    pooled: Mapping[str, float],
    predictive: Mapping[str, float] | None,
    published: Mapping[str, float | str] | None,
    *,
    measure: str,
    title: str,
    favours: tuple[str, str] = ("treatment", "control"),
    arms: tuple[str, str] = ("Treatment", "Control"),
    weights: Mapping[str, float] | None = None,
    design: Mapping[str, str] | None = None,
    group_labels: Mapping[str, str] | None = None,
    heterogeneity: Heterogeneity | Mapping[str, object] | None = None,
    not_reported: Sequence[str | tuple[str, float | None, float | None]] = (),
    pooled_label: str = POOLED_LABEL,
    predictive_label: str = PREDICTIVE_LABEL,
    group_summaries: Mapping[str, Mapping[str, float]] | None = None,
    subgroup_test: SubgroupTest | None = None,
    footnotes: Sequence[str] = (),
) -> Figure:
    """Forest plot in the Cochrane layout: per-arm counts, weights, observed and shrunken study effects, the
    pooled posterior, the prediction for a new study and the paper's estimate.

    studies: one row per study, top to bottom, with columns ``study, observed, obs_low, obs_high`` (observed
        effect and 95% CI; NaN when not estimable, e.g. a double-zero study), optionally
        ``shrunk, shrunk_low, shrunk_high`` (posterior median and 95% CrI of the study's own effect) and
        ``events_treat, total_treat, events_control, total_control`` (shown as events/total per arm).
    pooled: posterior of the pooled effect, keys ``median, low, high`` (95% CrI), drawn as a filled diamond in the
        row named ``pooled_label`` (say which model and quantity, e.g. "Pooled OR, binomial-normal").
    predictive: effect in a new study, keys ``low, high`` (95% interval) and optionally ``median``; None to omit.
    published: the paper's pooled estimate, keys ``estimate, low, high`` (95% CI) and ``label`` (row name);
        None to omit; drawn as an open diamond.
    measure: OR, RR, HR (values on the ratio scale, symmetric log axis with ticks 0.1, 0.2, 0.5, 1, 2, 5...) or
        MD, SMD, RD (linear axis). Intervals running past the axis end in arrows.
    favours: arms named under the axis, left (below the null) then right. arms: count column headers
        (treatment, control).
    weights: study -> weight (any scale; shown as % of the sum, square size grows with it); None for no column.
    design: study -> design code (e.g. "RCT", "NRS"); studies are grouped under a header per design, in order
        of first appearance; ``group_labels`` maps codes to header text (default RCT/NRS spelled out).
    heterogeneity: tau, I² (%), Q, df, p (a :class:`Heterogeneity` or dict), printed under the pooled rows.
    not_reported: studies without event counts, listed at the bottom as 'not reported': labels, or
        (label, treatment arm size, control arm size) with None for an unknown size.
    group_summaries: design code -> pooled effect of that group's studies, keys ``median, low, high`` (95%
        interval, ratio scale), drawn as a light diamond in a 'Subtotal' row under the group's studies (with the
        group's summed counts); needs ``design``.
    subgroup_test: a :class:`SubgroupTest`, printed under the heterogeneity line.
    footnotes: further lines printed at the bottom (e.g. what the weights are).

    With counts, the pooled row is the total row: it shows the summed events/patients of each arm.

    Returns the figure; the caller saves it (see :func:`models.report.save_figure`).
    """
    m = measure_info(measure)
    require_columns(studies, STUDY_COLUMNS, argument="studies")
    labels = [str(s) for s in studies["study"]]
    has_shrunk = all(c in studies.columns for c in SHRUNK_COLUMNS)
    cols = STUDY_COLUMNS[1:] + (SHRUNK_COLUMNS if has_shrunk else ())
    vals = {c: numeric_column(studies, c, argument="studies", labels=labels) for c in cols}
    _ratio_checks(vals, m, labels, "studies")
    counts = _counts(studies, labels)
    pct = _weights(weights, labels)
    het = Heterogeneity.coerce(heterogeneity) if heterogeneity is not None else None
    missing_rows = _not_reported(not_reported)
    pool = interval_from_mapping(pooled, ("median", "low", "high"), argument="pooled", ratio=m.is_ratio)
    if group_summaries is not None and design is None:
        raise ValueError("group_summaries needs design (the study -> group mapping)")
    subtotals = {
        str(code): interval_from_mapping(g, ("median", "low", "high"), argument=f"group_summaries[{code!r}]",
                                         ratio=m.is_ratio)
        for code, g in (group_summaries or {}).items()
    }  # fmt: skip

    summary: list[tuple[str, str]] = [(pooled_label, "pooled")]
    pred = None
    pred_median = np.nan
    if predictive is not None:
        pred = interval_from_mapping(predictive, ("low", "high"), argument="predictive", ratio=m.is_ratio)
        pred_mid = predictive.get("median")
        pred_median = float(pred_mid) if pred_mid is not None else np.nan
        summary.append((predictive_label, "predictive"))
    pub = None
    if published is not None:
        pub = interval_from_mapping(published, ("estimate", "low", "high"), argument="published", ratio=m.is_ratio)
        summary.append((str(published.get("label", "Published")), "published"))

    # Row layout, top (y = 0) to bottom: [group header, studies]..., gap, summary rows, heterogeneity, not reported.
    layout: list[tuple[float, str, int | str]] = []  # (y, kind, study index or text)
    y = 0.0
    groups: dict[str, list[int]] = {}
    if design is not None:
        for i, s in enumerate(labels):
            groups.setdefault(str(design.get(s, "other")), []).append(i)
        names = {**GROUP_LABELS, "other": "Design not given", **(group_labels or {})}
        order = sorted(groups, key=lambda c: list(GROUP_LABELS).index(c) if c in GROUP_LABELS else len(GROUP_LABELS))
        for code in order:
            members = groups[code]
            layout.append((y, "header", names.get(code, code)))
            y += 1
            for i in members:
                layout.append((y, "study", i))
                y += 1
            if code in subtotals:
                layout.append((y, "subtotal", code))
                y += 1.3
    else:
        for i in range(len(labels)):
            layout.append((y, "study", i))
            y += 1
    y_sep = y - 0.5 + 0.05
    y += 0.6
    for label, kind in summary:
        layout.append((y, kind, label))
        y += 1
    for line in ([het.text()] if het is not None else []) + ([subgroup_test.text()] if subgroup_test else []):
        layout.append((y, "heterogeneity", line))
        y += 1
    for line in footnotes:
        layout.append((y, "heterogeneity", str(line)))
        y += 1
    if missing_rows:
        y += 0.3
        layout.append((y, "header", "Not in the analysis (events not reported)"))
        y += 1
        for j in range(len(missing_rows)):
            layout.append((y, "missing", j))
            y += 1
    y_bottom = y - 1

    fig = new_figure(12.0, 2.4 + _ROW_HEIGHT * (len(layout) + 2))
    grid = fig.add_gridspec(1, 3, width_ratios=[3.7, 4.3, 3.0], wspace=0.0)
    ax = fig.add_subplot(grid[1])
    ax_text = fig.add_subplot(grid[2], sharey=ax)
    ax_left = fig.add_subplot(grid[0], sharey=ax)
    set_title(fig, title)

    core = [*vals["observed"], *pool, *(pred or ()), *(pub or ()), *(v for sub in subtotals.values() for v in sub)]
    if has_shrunk:
        core += [*vals["shrunk"], *vals["shrunk_low"], *vals["shrunk_high"]]
    everything = core + [*vals["obs_low"], *vals["obs_high"]]
    if m.is_ratio:
        setup_effect_axis(ax, m, forest_limits(core, everything))
        ax.xaxis.set_major_locator(FixedLocator(_forest_ticks(ax.get_xlim())))
    else:
        setup_effect_axis(ax, m, effect_limits(everything, m))

    xs = (0.03, 0.53)
    _text_axis(ax_text, (f"Observed {m.code}\n[95% CI]", f"Posterior {m.code}\n[95% CrI]"), xs)
    text_kw = {"va": "center", "ha": "left", "fontsize": FONT_SIZE, "transform": ax_text.get_yaxis_transform()}
    left_x = {"label": 0.0, "arm_t": 0.60, "arm_c": 0.78, "weight": 0.97}
    ax_left.set_axis_off()
    left_kw = {"va": "center", "fontsize": FONT_SIZE, "transform": ax_left.get_yaxis_transform()}
    header_kw = {"va": "bottom", "fontsize": FONT_SIZE, "transform": ax_left.transAxes}
    ax_left.text(left_x["label"], 1.0, "Study", ha="left", **header_kw)
    if counts is not None or missing_rows:
        ax_left.text(left_x["arm_t"], 1.0, f"{arms[0]}\nevents/N", ha="center", **header_kw)
        ax_left.text(left_x["arm_c"], 1.0, f"{arms[1]}\nevents/N", ha="center", **header_kw)
    if pct is not None:
        ax_left.text(left_x["weight"], 1.0, "Weight\n(%)", ha="right", **header_kw)
    max_pct = np.nanmax(pct) if pct is not None else np.nan

    for y, kind, what in layout:
        if kind == "header":
            ax_left.text(left_x["label"], y, str(what), ha="left", fontweight="bold", gid=ROW_LABEL_GID, **left_kw)
        elif kind == "study":
            i = int(what)
            ax_left.text(left_x["label"], y, labels[i], ha="left", gid=ROW_LABEL_GID, **left_kw)
            if counts is not None:
                ax_left.text(left_x["arm_t"], y, _fraction(counts["events_treat"][i], counts["total_treat"][i]),
                             ha="center", **left_kw)  # fmt: skip
                ax_left.text(left_x["arm_c"], y, _fraction(counts["events_control"][i], counts["total_control"][i]),
                             ha="center", **left_kw)  # fmt: skip
            size = 5.0
            if pct is not None:
                if np.isfinite(pct[i]):
                    ax_left.text(left_x["weight"], y, f"{pct[i]:.1f}", ha="right", **left_kw)
                    size = 3.5 + 7.5 * np.sqrt(pct[i] / max_pct)
                else:
                    ax_left.text(left_x["weight"], y, MISSING_TEXT, ha="right", color=GREY, **left_kw)
            obs = (vals["observed"][i], vals["obs_low"][i], vals["obs_high"][i])
            draw_interval(ax, y - _OFFSET if has_shrunk else y, *obs, color=BLACK, marker="s", markersize=size)
            ax_text.text(xs[0], y, fmt_interval(*obs), color=BLACK if np.isfinite(obs[0]) else GREY, **text_kw)
            if has_shrunk:
                shr = (vals["shrunk"][i], vals["shrunk_low"][i], vals["shrunk_high"][i])
                draw_interval(ax, y + _OFFSET, *shr, color=BLUE, marker="o", markersize=5)
                shr_text = fmt_interval(*shr) if np.isfinite(shr[0]) else "not in model"
                ax_text.text(xs[1], y, shr_text, color=BLUE if np.isfinite(shr[0]) else GREY, **text_kw)
        elif kind in ("pooled", "predictive", "published"):
            bold = "bold" if kind == "pooled" else "normal"
            ax_left.text(left_x["label"], y, str(what), ha="left", gid=ROW_LABEL_GID, fontweight=bold, **left_kw)
            if kind == "pooled":
                _diamond(ax, y, *pool, color=BLUE, filled=True)
                ax_text.text(xs[1], y, fmt_interval(*pool), color=BLUE, fontweight="bold", **text_kw)
                if pct is not None:
                    ax_left.text(left_x["weight"], y, "100.0", ha="right", fontweight="bold", **left_kw)
                if counts is not None:
                    _arm_totals(ax_left, y, counts, range(len(labels)), left_x, left_kw, bold=True)
            elif kind == "predictive" and pred is not None:
                xlo, xhi = ax.get_xlim()
                a, b = max(pred[0], xlo), min(pred[1], xhi)
                ax.barh(y, b - a, left=a, height=0.3, color=SKY, edgecolor=BLUE, linewidth=0.8)
                if np.isfinite(pred_median):
                    ax.plot([pred_median] * 2, [y - 0.15, y + 0.15], color=BLUE, linewidth=1.4)
                text = fmt_interval(pred_median, *pred) if np.isfinite(pred_median) else fmt_range(*pred)
                ax_text.text(xs[1], y, text, color=BLUE, **text_kw)
            elif kind == "published" and pub is not None:
                _diamond(ax, y, *pub, color=VERMILLION, filled=False)
                ax_text.text(xs[0], y, fmt_interval(*pub), color=VERMILLION, **text_kw)
        elif kind == "subtotal":
            members = groups[str(what)]
            ax_left.text(left_x["label"], y, f"Subtotal (k = {len(members)})", ha="left", gid=ROW_LABEL_GID,
                         **left_kw)  # fmt: skip
            if counts is not None:
                _arm_totals(ax_left, y, counts, members, left_x, left_kw, bold=False)
            if pct is not None:
                ax_left.text(left_x["weight"], y, f"{np.nansum(pct[members]):.1f}", ha="right", **left_kw)
            sub = subtotals[str(what)]
            _diamond(ax, y, *sub, color=BLUE, filled=False)
            ax_text.text(xs[1], y, fmt_interval(*sub), color=BLUE, **text_kw)
        elif kind == "heterogeneity":
            ax_left.text(left_x["label"], y, str(what), ha="left", gid=HETEROGENEITY_GID, clip_on=False, **left_kw)
        elif kind == "missing":
            label, n_t, n_c = missing_rows[int(what)]
            ax_left.text(left_x["label"], y, label, ha="left", color=GREY, gid=ROW_LABEL_GID, **left_kw)
            ax_left.text(left_x["arm_t"], y, _fraction(np.nan, n_t), ha="center", color=GREY, **left_kw)
            ax_left.text(left_x["arm_c"], y, _fraction(np.nan, n_c), ha="center", color=GREY, **left_kw)
            ax_text.text(xs[0], y, NOT_REPORTED, color=GREY, **text_kw)

    for text in ax_left.texts:  # long rows (heterogeneity) may run under the plot; they must not squeeze the layout
        text.set_in_layout(False)
    ax.axhline(y_sep, color=GREY, linewidth=0.6, linestyle=":")
    ax.set_ylim(y_bottom + 0.7, -0.7)
    ax.tick_params(axis="y", left=False, labelleft=False)
    ax.tick_params(axis="x", labelsize=FONT_SIZE)
    ax.set_xlabel(f"{m.axis_label()}, 95% intervals", fontsize=FONT_SIZE, labelpad=18)
    add_favours_labels(ax, m, favours)
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)

    handles = [
        Line2D(
            [],
            [],
            color=BLACK,
            marker="s",
            markersize=5,
            label="Observed (95% CI)" + ("; square size grows with weight" if pct is not None else ""),
        ),  # fmt: skip
        Line2D([], [], color=BLUE, marker="o", markersize=5, label="Shrunken posterior (95% CrI)"),
        Patch(facecolor=BLUE, edgecolor=BLUE, label="Pooled posterior (95% CrI)"),
        Patch(facecolor="white", edgecolor=BLUE, label="Subgroup pooled posterior (95% CrI)"),
        Patch(facecolor=SKY, edgecolor=BLUE, label="95% prediction interval (true effect in a new setting)"),
        Patch(facecolor="white", edgecolor=VERMILLION, label="Published (95% CI)"),
    ]
    keep = [True, has_shrunk, True, bool(subtotals), pred is not None, pub is not None]
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
    set_title(fig, title)
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
