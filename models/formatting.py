"""Numbers as a reader sees them: probabilities with the precision their error allows, effects and intervals.

Standard library only, so that a command can print a table without loading numpy.
"""

from __future__ import annotations

import math

RATIO_SHOWN = (0.001, 1000.0)
"""Ratios outside this range print as '< 0.001' / '> 1000' (a prediction interval under a wide tau prior reaches
far beyond any ratio a reader can use; the exact value is in the JSON and CSV outputs)."""


def fmt_probability(p: float) -> str:
    """A probability as text: 'n/a' when missing, '> 0.999' / '< 0.001' at the ends, three decimals from 0.99 up
    (and to 0.01 down) where two would print 1.00 or 0.00, else two decimals."""
    if not math.isfinite(p):
        return "n/a"
    if p > 0.999:
        return "> 0.999"
    if p < 0.001:
        return "< 0.001"
    if p >= 0.99 or p <= 0.01:
        return f"{p:.3f}"
    return f"{p:.2f}"


def probability_clause(event: str, p: float, mark: str = "") -> str:
    """``P(event) = 0.97``, or ``P(event) > 0.999`` / ``< 0.001`` at the ends (never '= > 0.999'); the value
    between ``mark`` on both sides (``"**"``: bold in Markdown)."""
    text = fmt_probability(p)
    return f"P({event}) {'' if text[0] in '<>' else '= '}{mark}{text}{mark}"


def fmt_effect(x: float, *, ratio: bool) -> str:
    """An effect on the reported scale: three significant digits (two decimals at least below 10); ratios outside
    :data:`RATIO_SHOWN` as '< 0.001' / '> 1000'; 'n/a' when not finite."""
    if not math.isfinite(x):
        return "n/a"
    if ratio and x < RATIO_SHOWN[0]:
        return f"< {RATIO_SHOWN[0]:g}"
    if ratio and x > RATIO_SHOWN[1]:
        return f"> {RATIO_SHOWN[1]:g}"
    return f"{x:.2f}" if abs(x) < 10 else f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def fmt_interval(low: float, high: float, *, ratio: bool) -> str:
    """An interval as '0.55 to 0.99' (each end as :func:`fmt_effect`)."""
    return f"{fmt_effect(low, ratio=ratio)} to {fmt_effect(high, ratio=ratio)}"
