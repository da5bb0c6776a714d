"""Sensitivity analyses: subgroups with a test of subgroup differences, leave-one-out, cumulative pooling.

``leave_one_out`` and ``cumulative`` take any study table with ``.study`` and ``.subset()`` (an
:class:`~models.effects.EffectTable`, :class:`~models.tables.BinaryTable`, ...) and a ``pool`` callable mapping such
a table to a :class:`PooledResult`, so the same code serves MH, Peto and inverse-variance methods, e.g.
``leave_one_out(effects, lambda e: rma(e, "REML"))`` or ``leave_one_out(table, lambda t: peto(t))``.
Their frames report on the analysis scale (log OR/RR for ratio measures), like metafor's ``leave1out``/``cumul``
with ``transf`` unset.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from models.effects import EffectTable
from models.frequentist.random_effects import rma
from models.frequentist.result import PooledResult, SubgroupResult

FRAME_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "z", "p", "tau2", "q", "q_p", "i2", "k")


def subgroup_analysis(
    effects: EffectTable, groups: Mapping[str, str], method: str = "EE", hksj: bool = False, level: float = 0.95
) -> SubgroupResult:
    """Pool each subgroup with :func:`rma` (``method``) and test for subgroup differences.

    ``groups`` maps every study label of ``effects`` to a subgroup name. Subgroups appear in order of first
    appearance. The test is Cochran's Q across subgroup estimates with weights ``1/se_g^2`` and ``G - 1`` df, as
    RevMan's "test for subgroup differences" (separate tau^2 per subgroup for random-effects methods); for ``EE`` it
    equals ``Q_total - sum(Q_within)`` and metafor's moderator test ``rma(yi, vi, mods=~group, method="EE")``.
    """
    if not isinstance(effects, EffectTable):
        raise TypeError(f"effects must be an EffectTable; got {type(effects).__name__}")
    missing = [s for s in effects.study if s not in groups]
    if missing:
        raise ValueError(f"groups has no subgroup for study(ies): {', '.join(missing)}")
    names: list[str] = []
    for s in effects.study:
        if groups[s] not in names:
            names.append(groups[s])
    if len(names) < 2:
        raise ValueError(f"subgroup analysis needs at least 2 subgroups; got {names}")
    results = {
        g: rma(effects.subset([s for s in effects.study if groups[s] == g]), method=method, hksj=hksj, level=level)
        for g in names
    }
    est = np.array([r.estimate for r in results.values()])
    w = 1 / np.array([r.se for r in results.values()]) ** 2
    q = float(np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2))
    df = len(names) - 1
    return SubgroupResult(groups=results, q_between=q, df=df, p=float(special.chdtrc(df, q)))


def _row(result: PooledResult) -> dict[str, float]:
    return {c: getattr(result, c) for c in FRAME_COLUMNS}


def leave_one_out(data: Any, pool: Callable[[Any], PooledResult]) -> pd.DataFrame:
    """Re-pool with each study omitted in turn: one row per omitted study (column ``omitted``)."""
    if len(data.study) < 2:
        raise ValueError("leave-one-out needs at least 2 studies")
    rows = []
    for s in data.study:
        rest = [x for x in data.study if x != s]
        rows.append({"omitted": s, **_row(pool(data.subset(rest)))})
    return pd.DataFrame(rows)


def cumulative(data: Any, order: Sequence[str], pool: Callable[[Any], PooledResult]) -> pd.DataFrame:
    """Pool the first 1, 2, ..., k studies of ``order`` (e.g. by publication year): row i adds study ``order[i]``.

    ``order`` must list every study of ``data`` exactly once.
    """
    order = [str(s) for s in order]
    if sorted(order) != sorted(data.study):
        extra = sorted(set(order) - set(data.study))
        missing = sorted(set(data.study) - set(order))
        raise ValueError(
            f"order must list every study once; unknown: {extra or 'none'}, missing: {missing or 'none'}"
            + (", duplicates present" if len(order) != len(set(order)) else "")
        )
    rows = [{"added": s, **_row(pool(data.subset(order[: i + 1])))} for i, s in enumerate(order)]
    return pd.DataFrame(rows)
