"""Density figures: the pooled-effect posterior with its benefit tail shaded, and tau's prior against its posterior.

Which tail is benefit depends on the outcome (``higher_is_benefit``): below no effect for deaths, above it for
clinical improvement.

Densities are Gaussian kernel density estimates of the posterior draws. For ratio measures the pooled
effect is estimated on the log scale and drawn against a log-scaled ratio axis, so the curve is the
density per unit of log OR (the natural density on that axis).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from models.report._common import (
    BLUE,
    FONT_SIZE,
    GREEN,
    ORANGE,
    PURPLE,
    SKY,
    VERMILLION,
    add_favours_labels,
    effect_limits,
    fmt_interval,
    interval_from_mapping,
    measure_info,
    new_figure,
    set_title,
    setup_effect_axis,
)

_REFERENCE_STYLES = ((ORANGE, "--"), (PURPLE, "-."), (GREEN, ":"))
_GRID_POINTS = 512
_CHUNK = 2**20
"""Kernel evaluations per block of :class:`_GaussianKDE` (bounds its memory to a few MB)."""


class _GaussianKDE:
    """One-dimensional Gaussian kernel density estimate, as ``scipy.stats.gaussian_kde`` computes it by default:
    Scott's rule, bandwidth = SD of the draws (ddof 1) x n^(-1/5), the average of normal kernels at the draws (equal
    to scipy's to rounding; checked in the tests). Here so that drawing a density does not import scipy.stats, about
    half a second of a command's first answer."""

    def __init__(self, draws: np.ndarray) -> None:
        self.draws = np.asarray(draws, dtype=float)
        self.bandwidth = float(np.std(self.draws, ddof=1)) * self.draws.size ** (-1.0 / 5.0)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float)
        step = max(1, _CHUNK // self.draws.size)
        out = np.empty(points.size)
        for start in range(0, points.size, step):
            z = (points[start : start + step, None] - self.draws[None, :]) / self.bandwidth
            out[start : start + step] = np.exp(-0.5 * z * z).sum(axis=1)
        return out / (self.draws.size * self.bandwidth * np.sqrt(2.0 * np.pi))


def _draws(values: np.ndarray, *, argument: str) -> np.ndarray:
    """A 1-D array of finite draws with some spread; ValueError naming the argument otherwise."""
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size < 10:
        raise ValueError(f"{argument} needs at least 10 draws; got {arr.size}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{argument} contains {int((~np.isfinite(arr)).sum())} non-finite draws")
    if np.ptp(arr) == 0:
        raise ValueError(f"{argument} has no spread (all draws equal {arr[0]:g}); cannot estimate a density")
    return arr


def _fmt_threshold(x: float) -> str:
    """Three significant digits: 0.8, 1, 1.11 (for 1/0.9), 1.25."""
    return f"{x:.3g}"


def posterior_density(
    log_draws: np.ndarray,
    *,
    measure: str,
    threshold: float | None = None,
    published: Mapping[str, float | str] | None = None,
    title: str,
    reference_lines: Sequence[float] = (),
    favours: tuple[str, str] = ("treatment", "control"),
    higher_is_benefit: bool = False,
) -> Figure:
    """Posterior density of the pooled effect with the benefit tail beyond ``threshold`` shaded and its probability.

    log_draws: posterior draws of the pooled effect, on the log scale for ratio measures (log OR), as is for
        differences; probabilities are shares of draws beyond each line (not integrals of the KDE).
    threshold: effect value (ratio scale for OR/RR/HR) bounding the shaded benefit tail; default no effect (1 or 0).
    published: the paper's pooled estimate, keys ``estimate, low, high`` (95% CI, ratio scale) and optionally
        ``label``; drawn as a bar under the density. None to omit.
    reference_lines: further effect values (e.g. 0.9, 0.8; 1.11, 1.25 when higher is benefit) drawn as lines,
        each with the probability of the benefit side of it.
    higher_is_benefit: False (deaths, adverse events): benefit is effect < threshold, the lower tail is shaded and
        labelled P(OR < 1). True (clinical improvement, survival): benefit is effect > threshold, the upper tail
        is shaded and labelled P(OR > 1).
    """
    m = measure_info(measure)
    draws = _draws(log_draws, argument="log_draws")
    to_log = np.log if m.is_ratio else (lambda x: np.asarray(x, dtype=float))
    from_log = np.exp if m.is_ratio else (lambda x: np.asarray(x, dtype=float))
    thr = m.null if threshold is None else float(threshold)
    for name, value in [("threshold", thr)] + [("reference_lines", float(v)) for v in reference_lines]:
        if not np.isfinite(value) or (m.is_ratio and value <= 0):
            raise ValueError(f"{name} value {value!r} must be finite{' and > 0' if m.is_ratio else ''}")
    pub = None
    if published is not None:
        pub = interval_from_mapping(published, ("estimate", "low", "high"), argument="published", ratio=m.is_ratio)

    kde = _GaussianKDE(draws)
    bw = kde.bandwidth
    lo_q, hi_q = np.quantile(draws, [0.0005, 0.9995])
    grid = np.linspace(lo_q - 2 * bw, hi_q + 2 * bw, _GRID_POINTS)
    dens = kde(grid)
    x = from_log(grid)
    median, low, high = from_log(np.quantile(draws, [0.5, 0.025, 0.975]))

    fig = new_figure(8.0, 5.0)
    ax = fig.subplots()
    set_title(fig, title)
    extra = [thr, *map(float, reference_lines), *(pub or ())]
    setup_effect_axis(ax, m, effect_limits([x[0], x[-1], *extra], m, pad=0.03))

    ymax = float(dens.max())
    ax.plot(x, dens, color=BLUE, linewidth=1.8, zorder=3)
    op = ">" if higher_is_benefit else "<"

    def p_benefit_side(value: float) -> float:
        return float(np.mean(draws > to_log(value)) if higher_is_benefit else np.mean(draws < to_log(value)))

    tail = grid >= to_log(thr) if higher_is_benefit else grid <= to_log(thr)
    p_tail = p_benefit_side(thr)
    ax.fill_between(x[tail], 0, dens[tail], color=SKY, alpha=0.6, linewidth=0, zorder=2)
    if thr != m.null:
        ax.axvline(thr, color=BLUE, linewidth=1.0, linestyle="--", zorder=2)
    handles = [
        Line2D(
            [], [], color=BLUE, linewidth=1.8, label=f"Posterior: median {fmt_interval(median, low, high)} (95% CrI)"
        ),
        Patch(
            facecolor=SKY, alpha=0.6, label=f"Benefit (shaded): P({m.code} {op} {_fmt_threshold(thr)}) = {p_tail:.2f}"
        ),
    ]
    for value, (color, style) in zip(reference_lines, _REFERENCE_STYLES * 10, strict=False):
        value = float(value)
        p = p_benefit_side(value)
        ax.axvline(value, color=color, linestyle=style, linewidth=1.4, zorder=2)
        handles.append(
            Line2D([], [], color=color, linestyle=style, label=f"P({m.code} {op} {_fmt_threshold(value)}) = {p:.2f}")
        )

    bottom = 0.0
    if pub is not None:
        y_bar = -0.08 * ymax
        ax.plot([pub[1], pub[2]], [y_bar, y_bar], color=VERMILLION, linewidth=3, solid_capstyle="butt", zorder=3)
        ax.plot([pub[0]], [y_bar], marker="D", color=VERMILLION, markerfacecolor="white", markersize=7, zorder=4)
        label = str(published.get("label", "Published")) if published is not None else "Published"
        handles.append(
            Line2D(
                [],
                [],
                color=VERMILLION,
                linewidth=3,
                marker="D",
                markerfacecolor="white",
                label=f"{label}: {fmt_interval(*pub)} (95% CI)",
            )
        )
        bottom = -0.15 * ymax
    ax.set_ylim(bottom, 1.08 * ymax)
    ax.set_yticks([])
    ax.set_ylabel(
        f"Posterior density (per unit log {m.code})" if m.is_ratio else "Posterior density", fontsize=FONT_SIZE
    )
    ax.tick_params(axis="x", labelsize=FONT_SIZE)
    ax.set_xlabel(m.axis_label(), fontsize=FONT_SIZE, labelpad=18)
    add_favours_labels(ax, m, favours)
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=FONT_SIZE, frameon=False)
    return fig


def tau_prior_posterior(
    tau_draws: np.ndarray,
    prior_logpdf: Callable[[np.ndarray], np.ndarray],
    *,
    prior_label: str,
    title: str,
    measure: str = "OR",
    upper: float | None = None,
) -> Figure:
    """Posterior density of tau (between-study SD) drawn over its prior density, on one axis from 0.

    tau_draws: posterior draws of tau (>= 0), on the scale of the analysed effect (SD of log OR for ratios).
    prior_logpdf: vectorised log prior density of tau, taking and returning arrays of the same shape
        (e.g. ``lambda t: scipy.stats.halfnorm(scale=0.5).logpdf(t)``).
    upper: right end of the axis; default the 99.5% posterior quantile plus 10%.
    The posterior KDE is reflected at 0 so no mass leaks below the boundary.
    """
    m = measure_info(measure)
    draws = _draws(tau_draws, argument="tau_draws")
    if (draws < 0).any():
        raise ValueError(f"tau_draws must be >= 0; the smallest is {draws.min():g}")
    right = float(np.quantile(draws, 0.995)) * 1.1 if upper is None else float(upper)
    if not np.isfinite(right) or right <= 0:
        raise ValueError(f"upper must be a positive number; got {upper!r}")

    grid = np.linspace(0.0, right, _GRID_POINTS)
    kde = _GaussianKDE(draws)
    post = kde(grid) + kde(-grid)
    with np.errstate(divide="ignore", over="ignore"):
        logp = np.asarray(prior_logpdf(grid), dtype=float)
        if logp.shape != grid.shape:
            raise ValueError(f"prior_logpdf must return one value per input; got shape {logp.shape} for {grid.shape}")
        prior = np.exp(logp)
    prior[~np.isfinite(prior)] = np.nan
    if not np.isfinite(prior).any():
        raise ValueError("prior_logpdf returned no finite density on the plotted range")

    median, low, high = np.quantile(draws, [0.5, 0.025, 0.975])
    fig = new_figure(8.0, 4.8)
    ax = fig.subplots()
    set_title(fig, title)
    ax.fill_between(grid, 0, post, color=SKY, alpha=0.5, linewidth=0)
    ax.plot(grid, post, color=BLUE, linewidth=1.8)
    ax.plot(grid, prior, color=VERMILLION, linewidth=1.8, linestyle="--")
    post_max = float(post.max())
    prior_max = float(np.nanmax(prior))
    ax.set_ylim(0, 1.1 * max(post_max, min(prior_max, 3 * post_max)))
    ax.set_xlim(0, right)
    scale = f"log {m.code}" if m.is_ratio else m.code
    ax.set_xlabel(f"\u03c4, between-study SD of the {scale}", fontsize=FONT_SIZE)
    ax.set_ylabel("Density", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    handles = [
        Patch(
            facecolor=SKY,
            edgecolor=BLUE,
            label=f"Posterior: median {fmt_interval(median, low, high)} (95% CrI)",
        ),
        Line2D([], [], color=VERMILLION, linestyle="--", linewidth=1.8, label=f"Prior: {prior_label}"),
    ]
    ax.legend(handles=handles, loc="best", fontsize=FONT_SIZE, frameon=False)
    return fig
