"""Mantel-Haenszel fixed-effect pooling of 2x2 tables (OR, RR, RD), in two named conventions.

Estimators and variances (as metafor 3.8 ``rma.mh``), with per-study cells ``a, b, c, d``, arm sizes ``n1, n2`` and
``N = n1 + n2``:

* OR: ``R/S`` with ``R = sum(a d / N)``, ``S = sum(b c / N)``; variance of log OR by Robins, Breslow & Greenland
  (1986).
* RR: ``sum(a n2 / N) / sum(c n1 / N)``; variance of log RR by Greenland & Robins (1985).
* RD: ``sum(a n2 / N - c n1 / N) / sum(n1 n2 / N)``; variance by Sato, Greenland & Robins (1989), which is what
  metafor uses (it is consistent in both sparse-data and large-strata limits, unlike the 1985 estimator).

The two conventions differ only in how zero cells are handled:

* ``"metafor"`` (``rma.mh`` defaults): the MH estimate uses the raw counts (no continuity correction; the MH
  estimator does not need one). Heterogeneity Q uses the per-study effects of ``escalc(to="only0", add=0.5,
  drop00=TRUE)`` with inverse-variance weights around the MH estimate; Q's df is the number of those effects - 1.
* ``"revman"`` (RevMan 5, as used by Tang 2024): double-zero studies are dropped, and 0.5 is added to all four
  cells of studies with a zero cell *also for the MH estimate*; Q as above. Method label ``"MH-RevMan"``.

I^2 is ``max(0, 100 (Q - df) / Q)``. Results are on the log scale for OR/RR.
"""

from __future__ import annotations

import math

import numpy as np

from models.effects import EffectTable, corrected_cells, escalc
from models.frequentist.heterogeneity import cochran_q, i2_from_q
from models.frequentist.result import PooledResult, normal_crit, z_p_value
from models.tables import BinaryTable

MH_MEASURES = ("OR", "RR", "RD")
CONVENTIONS = ("metafor", "revman")


def _mh_estimate(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, measure: str) -> tuple[float, float]:
    """MH estimate (log scale for OR/RR) and its standard error from cell arrays."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    if measure == "OR":
        r_i, s_i = a * d / n, b * c / n
        p_i, q_i = (a + d) / n, (b + c) / n
        r, s = r_i.sum(), s_i.sum()
        if r == 0 or s == 0:
            raise ValueError("the MH odds ratio is not estimable: sum(a d / N) or sum(b c / N) is 0")
        var = 0.5 * (np.sum(p_i * r_i) / r**2 + np.sum(p_i * s_i + q_i * r_i) / (r * s) + np.sum(q_i * s_i) / s**2)
        return math.log(r / s), math.sqrt(var)
    if measure == "RR":
        r, s = np.sum(a * n2 / n), np.sum(c * n1 / n)
        if a.sum() == 0 or c.sum() == 0:
            raise ValueError("the MH risk ratio is not estimable: no events in one arm across all studies")
        var = np.sum(n1 / n * n2 / n * (a + c) - a / n * c) / (r * s)
        return math.log(r / s), math.sqrt(var)
    w = n1 * n2 / n
    est = np.sum(a * n2 / n - c * n1 / n) / w.sum()
    var = (
        est * np.sum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2)
        + np.sum(a * (n2 - c) / n + c * (n1 - a) / n) / 2
    ) / w.sum() ** 2
    return float(est), math.sqrt(var)


def _heterogeneity_effects(table: BinaryTable, measure: str) -> EffectTable:
    """Per-study effects for Q: metafor's ``escalc(to="only0", add=0.5, drop00=TRUE)``."""
    return escalc(table, measure, correction="only0", add=0.5, drop00=True)


def mantel_haenszel(table: BinaryTable, measure: str, convention: str = "metafor", level: float = 0.95) -> PooledResult:
    """Mantel-Haenszel pooled OR, RR or RD (log scale for OR/RR) under ``convention`` "metafor" or "revman".

    See the module docstring for the estimators and the two zero-cell conventions. ``k`` is the number of studies
    in the MH estimate (metafor counts double-zero tables, which add nothing to OR/RR; RevMan drops them).
    """
    if measure not in MH_MEASURES:
        raise ValueError(f"Mantel-Haenszel measure must be one of {', '.join(MH_MEASURES)}; got {measure!r}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}; got {convention!r}")
    if not isinstance(table, BinaryTable):
        raise TypeError(f"mantel_haenszel needs a BinaryTable; got {type(table).__name__}")
    effects = _heterogeneity_effects(table, measure)
    if convention == "revman":
        used = table.subset(effects.study) if effects.dropped else table
        a, b, c, d, _ = corrected_cells(used, "only0", 0.5)
    else:
        used = table
        a, b, c, d, _ = corrected_cells(used, "none", 0.5)
    estimate, se = _mh_estimate(a, b, c, d, measure)
    crit = normal_crit(level)
    q, q_df, q_p = cochran_q(effects.yi, effects.vi, center=estimate)
    z = estimate / se
    return PooledResult(
        method="MH" if convention == "metafor" else "MH-RevMan",
        measure=measure,
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        z=z,
        p=z_p_value(z),
        tau2=0.0,
        q=q,
        q_df=q_df,
        q_p=q_p,
        i2=i2_from_q(q, q_df),
        k=used.k,
        ci_method="wald",
        pi_low=None,
        pi_high=None,
        level=level,
    )
