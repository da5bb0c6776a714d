"""Shared pieces of the report figures: palette, effect measures, the ratio axis, input checks.

Every figure draws effects the way clinical readers expect: ratio measures (OR, RR, HR) on a
log-scaled axis with plain ticks (0.25, 0.5, 1, 2), a vertical line at no effect and "favours ..."
labels under the axis; difference measures (MD, SMD, RD) on a linear axis with the line at 0.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator, StrMethodFormatter

# Okabe & Ito (2008) colour-blind-safe palette.
BLACK = "#000000"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
PURPLE = "#CC79A7"
GREY = "#777777"

FONT_SIZE = 9.0

_RATIO = {"OR": "Odds ratio", "RR": "Risk ratio", "HR": "Hazard ratio"}
_DIFFERENCE = {"MD": "Mean difference", "SMD": "Standardised mean difference", "RD": "Risk difference"}

# Candidate ticks for a log axis, coarse to fine; the first set giving enough ticks in range is used.
_LOG_TICK_SETS = (
    (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0),
    (0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0, 20.0, 50.0, 100.0),
    (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0),
    (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.3, 1.5, 2.0),
)
# Ratio axes never extend beyond this range; longer intervals end in an arrow at the edge.
RATIO_AXIS_LIMITS = (0.01, 100.0)


@dataclass(frozen=True)
class Measure:
    """An effect measure: its abbreviation, long name, and whether it is a ratio (log axis, null at 1)."""

    code: str
    name: str
    is_ratio: bool

    @property
    def null(self) -> float:
        """The no-effect value: 1 for ratios, 0 for differences."""
        return 1.0 if self.is_ratio else 0.0

    def axis_label(self) -> str:
        """x-axis label, e.g. 'Odds ratio (log scale)'."""
        return f"{self.name} (log scale)" if self.is_ratio else self.name


def measure_info(measure: str) -> Measure:
    """Look up an effect measure by code (OR, RR, HR, MD, SMD, RD); raise ValueError naming the argument."""
    if measure in _RATIO:
        return Measure(measure, _RATIO[measure], True)
    if measure in _DIFFERENCE:
        return Measure(measure, _DIFFERENCE[measure], False)
    known = ", ".join([*_RATIO, *_DIFFERENCE])
    raise ValueError(f"measure must be one of {known}; got {measure!r}")


def new_figure(width: float, height: float) -> Figure:
    """A constrained-layout figure not registered with pyplot (no global state, nothing to leak)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig


def set_title(fig: Figure, title: str) -> None:
    """The figure's title, wrapped at word boundaries to the figure's width (long titles name the model and how
    non-randomised studies entered; they must not run off the image)."""
    width_chars = max(40, int(fig.get_figwidth() * 72 / ((FONT_SIZE + 2) * 0.6)))
    lines = [
        textwrap.fill(part, width_chars, break_long_words=False, break_on_hyphens=False)
        for part in str(title).split("\n")
    ]
    fig.suptitle("\n".join(lines), fontsize=FONT_SIZE + 2)


def fmt_number(x: float) -> str:
    """Two decimals from 0.01 to 100 (0.52, 12.30), two significant digits below (0.0041), none above (412)."""
    if not np.isfinite(x):
        return "NA"
    ax = abs(x)
    if ax == 0 or 0.01 <= ax < 100:
        return f"{x:.2f}"
    return f"{x:.2g}" if ax < 0.01 else f"{x:.0f}"


def fmt_interval(est: float, low: float, high: float) -> str:
    """'0.52 [0.20, 1.35]', or 'not estimable' when the estimate is missing."""
    if not np.isfinite(est):
        return "not estimable"
    return f"{fmt_number(est)} [{fmt_number(low)}, {fmt_number(high)}]"


def fmt_range(low: float, high: float) -> str:
    """'[0.20, 1.35]' for an interval without a point estimate."""
    return f"[{fmt_number(low)}, {fmt_number(high)}]"


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, argument: str) -> None:
    """Raise ValueError naming the argument and the first missing column."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{argument} must be a pandas DataFrame; got {type(df).__name__}")
    for col in columns:
        if col not in df.columns:
            raise ValueError(f"{argument} lacks column {col!r} (has {', '.join(map(str, df.columns))})")
    if len(df) == 0:
        raise ValueError(f"{argument} has no rows")


def numeric_column(df: pd.DataFrame, col: str, *, argument: str, labels: Sequence[str]) -> np.ndarray:
    """Column as floats (NaN allowed); raise ValueError naming argument, column and row on non-numbers."""
    values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    raw = df[col].to_numpy(dtype=object)
    for i, (v, r) in enumerate(zip(values, raw, strict=True)):
        if np.isnan(v) and not pd.isna(r):
            raise ValueError(f"{argument} column {col!r} row {labels[i]!r}: {r!r} is not a number")
        if np.isinf(v):
            raise ValueError(f"{argument} column {col!r} row {labels[i]!r} is infinite")
    return values


def require_positive(values: np.ndarray, *, argument: str, column: str, labels: Sequence[str]) -> None:
    """Ratio-scale values must be > 0 where present; raise ValueError naming the row otherwise."""
    bad = np.isfinite(values) & (values <= 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{argument} column {column!r} row {labels[i]!r} is {values[i]:g}; ratio-scale values must be > 0"
        )


def interval_from_mapping(
    d: Mapping[str, float], keys: Sequence[str], *, argument: str, ratio: bool
) -> tuple[float, ...]:
    """Read finite floats for keys from a dict (e.g. median/low/high); raise ValueError naming the key."""
    if not isinstance(d, Mapping):
        raise TypeError(f"{argument} must be a dict with keys {', '.join(keys)}; got {type(d).__name__}")
    out = []
    for key in keys:
        if key not in d:
            raise ValueError(f"{argument} lacks key {key!r} (needs {', '.join(keys)})")
        try:
            value = float(d[key])
        except (TypeError, ValueError):
            raise ValueError(f"{argument}[{key!r}] must be a number; got {d[key]!r}") from None
        if not np.isfinite(value):
            raise ValueError(f"{argument}[{key!r}] must be finite; got {value}")
        if ratio and value <= 0:
            raise ValueError(f"{argument}[{key!r}] is {value:g}; ratio-scale values must be > 0")
        out.append(value)
    if len(out) == 3 and not out[1] <= out[0] <= out[2]:
        raise ValueError(f"{argument}: expected {keys[1]} <= {keys[0]} <= {keys[2]}; got {out[1]}, {out[0]}, {out[2]}")
    return tuple(out)


def effect_limits(values: Iterable[float], measure: Measure, *, pad: float = 0.08) -> tuple[float, float]:
    """Axis limits covering the finite values and the null; ratio limits are clipped to RATIO_AXIS_LIMITS."""
    arr = np.asarray([v for v in values if np.isfinite(v)] + [measure.null], dtype=float)
    if measure.is_ratio:
        logs = np.log(arr[arr > 0])
        lo, hi = logs.min(), logs.max()
        span = max(hi - lo, np.log(1.5))
        lo, hi = np.exp(lo - pad * span), np.exp(hi + pad * span)
        return max(lo, RATIO_AXIS_LIMITS[0]), min(hi, RATIO_AXIS_LIMITS[1])
    lo, hi = float(arr.min()), float(arr.max())
    span = max(hi - lo, 1e-9)
    return lo - pad * span, hi + pad * span


def _log_ticks(lo: float, hi: float) -> list[float]:
    for candidates in _LOG_TICK_SETS:
        ticks = [t for t in candidates if lo <= t <= hi]
        if len(ticks) > 10:
            ticks = _thin(ticks)
        if len(ticks) >= 4 or candidates is _LOG_TICK_SETS[-1]:
            return ticks
    return []  # unreachable: the last set always returns


def _thin(ticks: list[float]) -> list[float]:
    """Keep every other tick, always keeping 1 (the null)."""
    i1 = ticks.index(1.0) if 1.0 in ticks else 0
    return [t for i, t in enumerate(ticks) if (i - i1) % 2 == 0]


def setup_effect_axis(ax: Axes, measure: Measure, limits: tuple[float, float], *, axis: str = "x") -> None:
    """Log scale with plain ticks for ratios, the no-effect line, limits; axis is 'x' or 'y'."""
    set_scale, set_lim = (ax.set_xscale, ax.set_xlim) if axis == "x" else (ax.set_yscale, ax.set_ylim)
    target = ax.xaxis if axis == "x" else ax.yaxis
    if measure.is_ratio:
        set_scale("log")
        target.set_major_locator(FixedLocator(_log_ticks(*limits)))
        target.set_major_formatter(StrMethodFormatter("{x:g}"))
        target.set_minor_locator(NullLocator())
    set_lim(*limits)
    line = ax.axvline if axis == "x" else ax.axhline
    line(measure.null, color=GREY, linewidth=1.0, zorder=1)


def add_favours_labels(ax: Axes, measure: Measure, favours: tuple[str, str], *, offset_points: float = 20) -> None:
    """'<- favours A' left of the null and 'favours B ->' right of it (A, B = favours), just under the tick labels."""
    lo, hi = ax.get_xlim()
    if not lo < measure.null < hi:
        return
    trans = ax.get_xaxis_transform()
    common = {"xycoords": trans, "textcoords": "offset points", "va": "top", "fontsize": FONT_SIZE, "color": GREY}
    ax.annotate(f"\u2190 favours {favours[0]}", xy=(measure.null, 0), xytext=(-6, -offset_points), ha="right", **common)
    ax.annotate(f"favours {favours[1]} \u2192", xy=(measure.null, 0), xytext=(6, -offset_points), ha="left", **common)


def draw_interval(
    ax: Axes,
    y: float,
    est: float,
    low: float,
    high: float,
    *,
    color: str,
    marker: str,
    markersize: float = 6.0,
    linewidth: float = 1.6,
    mfc: str | None = None,
) -> None:
    """One horizontal interval with its point estimate; ends beyond the axis limits become arrows."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return
    xlo, xhi = ax.get_xlim()
    a, b = max(low, xlo), min(high, xhi)
    ax.plot([a, b], [y, y], color=color, linewidth=linewidth, solid_capstyle="butt", zorder=2)
    if low < xlo:
        ax.plot([xlo], [y], marker="<", color=color, markersize=5, clip_on=False, zorder=3)
    if high > xhi:
        ax.plot([xhi], [y], marker=">", color=color, markersize=5, clip_on=False, zorder=3)
    if np.isfinite(est) and xlo <= est <= xhi:
        ax.plot(
            [est],
            [y],
            marker=marker,
            color=color,
            markersize=markersize,
            markerfacecolor=mfc or color,
            linestyle="none",
            zorder=4,
        )
