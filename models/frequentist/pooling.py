"""One entry point from a study table and (measure, method) names to a pooled result, plus its text report.

This is the library side of ``reanalyse pool`` / ``scripts/pool.py`` (which read the file with
:func:`models.reader.read_study_file`): it checks that the measure suits the method and the table layout
(Peto is OR only; MH needs a 2x2 table; MD/SMD need means and SDs and an inverse-variance method), dispatches to the
estimator and formats a plain-text per-study table. Method names: ``MH``, ``MH-RevMan``, ``Peto``, ``IV`` (alias of
``EE``, the inverse-variance fixed effect), ``EE``, ``DL``, ``REML``, ``PM``.
"""

from __future__ import annotations

import math

from models.effects import BINARY_MEASURES, MEASURES, EffectTable, escalc, escalc_continuous
from models.frequentist.mantel_haenszel import mantel_haenszel
from models.frequentist.peto import peto
from models.frequentist.random_effects import RANDOM_METHODS, rma
from models.frequentist.result import PooledResult, normal_crit
from models.measures import POOLING_METHODS as METHODS
from models.tables import BinaryTable, ContinuousTable


def check_method(measure: str, method: str, hksj: bool = False) -> None:
    """Raise ``ValueError`` naming the problem when ``measure`` and ``method`` (and ``hksj``) do not fit together."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}; got {measure!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if method == "Peto" and measure != "OR":
        raise ValueError(f"method Peto estimates an odds ratio only; use --measure OR (got {measure})")
    if method in ("MH", "MH-RevMan") and measure not in BINARY_MEASURES:
        raise ValueError(f"method {method} needs a binary measure (OR, RR, RD); got {measure}")
    if hksj and method not in RANDOM_METHODS:
        raise ValueError(f"the HKSJ interval is for random-effects methods (DL, REML, PM); got method {method}")


def study_effects(table: BinaryTable | ContinuousTable | EffectTable, measure: str) -> EffectTable:
    """Per-study effects as displayed and as pooled by the IV methods (binary: 0.5 to zero-cell studies, drop00);
    an effect table is its own effects."""
    if isinstance(table, EffectTable):
        if table.measure != measure:
            raise ValueError(f"the effect table holds {table.measure}, not {measure}")
        return table
    if isinstance(table, ContinuousTable):
        return escalc_continuous(table, measure)
    return escalc(table, measure, correction="only0", add=0.5, drop00=True)


def pool(
    table: BinaryTable | ContinuousTable | EffectTable,
    measure: str,
    method: str,
    hksj: bool = False,
    level: float = 0.95,
) -> PooledResult:
    """Pool ``table`` on ``measure`` with ``method`` (see module docstring); result on the analysis scale.

    MH and Peto need arm counts (a BinaryTable); the inverse-variance methods take counts, arm summaries or an
    effect table (whose measure must be ``measure``)."""
    check_method(measure, method, hksj)
    if method in ("MH", "MH-RevMan", "Peto") and not isinstance(table, BinaryTable):
        raise ValueError(f"method {method} needs a 2x2 table (study,e_t,n_t,e_c,n_c)")
    if method == "MH":
        return mantel_haenszel(table, measure, "metafor", level)
    if method == "MH-RevMan":
        return mantel_haenszel(table, measure, "revman", level)
    if method == "Peto":
        return peto(table, level)
    return rma(study_effects(table, measure), "EE" if method == "IV" else method, hksj=hksj, level=level)


def _fmt(x: float | None, ratio: bool) -> str:
    if x is None or math.isnan(x):
        return "NA"
    return f"{math.exp(x) if ratio else x:.3f}"


def format_report(effects: EffectTable, result: PooledResult) -> str:
    """Plain-text per-study table and the pooled line, on the ratio scale for OR/RR."""
    ratio = effects.is_ratio
    crit = normal_crit(result.level)
    pct = f"{100 * result.level:g}%"
    width = max(len("study"), *(len(s) for s in effects.study))
    lines = [f"{'study'.ljust(width)}  {effects.measure:>8}  {pct + ' CI':>19}"]
    for s, y, se, corr in zip(effects.study, effects.yi, effects.sei, effects.corrected, strict=True):
        ci = f"[{_fmt(y - crit * se, ratio)}, {_fmt(y + crit * se, ratio)}]"
        lines.append(f"{s.ljust(width)}  {_fmt(y, ratio):>8}  {ci:>19}" + ("  (+0.5 correction)" if corr else ""))
    for s in effects.dropped:
        lines.append(f"{s.ljust(width)}  dropped (double-zero: no information on OR/RR)")
    ci = f"[{_fmt(result.ci_low, ratio)}, {_fmt(result.ci_high, ratio)}]"
    lines.append("")
    lines.append(
        f"{result.method} pooled {result.measure} = {_fmt(result.estimate, ratio)} {ci} "
        f"({pct} CI, {result.ci_method}), p = {result.p:.4g}, k = {result.k}"
    )
    het = f"Q = {result.q:.3f} (df = {result.q_df}, p = {result.q_p:.4g}), I2 = {result.i2:.1f}%"
    if result.method in RANDOM_METHODS:
        het += f", tau2 = {result.tau2:.4g}"
    lines.append(het)
    if result.pi_low is not None:
        lines.append(f"{pct} prediction interval: [{_fmt(result.pi_low, ratio)}, {_fmt(result.pi_high, ratio)}]")
    return "\n".join(lines)
