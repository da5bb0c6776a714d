"""Peto's one-step odds ratio (Yusuf et al. 1985), as metafor 3.8 ``rma.peto``.

Per study, observed minus expected events in arm t, ``O - E`` with ``E = (a + c) n1 / N``, and the hypergeometric
variance ``V = (a + c)(b + d) n1 n2 / (N^2 (N - 1))``. The pooled log OR is ``sum(O - E) / sum(V)`` with standard
error ``1/sqrt(sum V)``; no continuity correction is needed or applied. Heterogeneity:
``Q = sum((O - E)^2 / V) - sum(O - E)^2 / sum(V)`` over the studies with ``V > 0`` (double-zero tables carry no
information and are excluded from Q and from ``k``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from models.frequentist.heterogeneity import i2_from_q
from models.frequentist.result import PooledResult, normal_crit, z_p_value
from models.tables import BinaryTable


def peto(table: BinaryTable, level: float = 0.95) -> PooledResult:
    """Peto pooled log odds ratio (measure "OR", method "Peto") with Wald interval and Peto's Q."""
    if not isinstance(table, BinaryTable):
        raise TypeError(f"peto needs a BinaryTable; got {type(table).__name__}")
    a, c = table.e_t.astype(float), table.e_c.astype(float)
    n1, n2 = table.n_t.astype(float), table.n_c.astype(float)
    n = n1 + n2
    events, non_events = a + c, n - a - c
    expected = events * n1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(n > 1, events * non_events * (n1 / n) * (n2 / n) / (n - 1), 0.0)
    if v.sum() == 0:
        raise ValueError("Peto's method needs at least one study with both outcomes; every table is double-zero")
    o_e = a - expected
    estimate = float(o_e.sum() / v.sum())
    se = math.sqrt(1 / v.sum())
    pos = v > 0
    k = int(pos.sum())
    q = max(0.0, float(np.sum(o_e[pos] ** 2 / v[pos]) - o_e.sum() ** 2 / v.sum()))
    q_df = k - 1
    q_p = float(special.chdtrc(q_df, q)) if q_df > 0 else 1.0
    crit = normal_crit(level)
    z = estimate / se
    return PooledResult(
        method="Peto",
        measure="OR",
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
        k=k,
        ci_method="wald",
        pi_low=None,
        pi_high=None,
        level=level,
    )
