"""Small-study effects: Egger's regression test in metafor's formulation.

metafor ``regtest(rma(yi, vi, method="EE"))`` fits the weighted regression ``yi = b0 + b1 * sei`` with weights
``1/vi`` and the model-based (not residual-scaled) covariance ``(X' W X)^-1``, and reports the z test of ``b1``.
``b1`` equals the intercept of Egger et al. (1997)'s regression of ``yi/sei`` on ``1/sei``; unlike Egger's original
test, its standard error is not scaled by the residual variance and the reference distribution is normal, not t.
"""

from __future__ import annotations

import math

import numpy as np

from models.effects import EffectTable
from models.frequentist.result import EggerResult, z_p_value


def egger(effects: EffectTable) -> EggerResult:
    """Egger's test for funnel-plot asymmetry on ``effects`` (log scale for OR/RR); needs at least 3 studies."""
    if not isinstance(effects, EffectTable):
        raise TypeError(f"effects must be an EffectTable; got {type(effects).__name__}")
    if effects.k < 3:
        raise ValueError(f"Egger's test needs at least 3 studies; got k = {effects.k}")
    x = np.column_stack([np.ones(effects.k), effects.sei])
    w = 1 / effects.vi
    xtwx = x.T @ (w[:, None] * x)
    cov = np.linalg.inv(xtwx)
    beta = cov @ (x.T @ (w * effects.yi))
    slope_se = math.sqrt(cov[1, 1])
    z = float(beta[1] / slope_se)
    return EggerResult(
        z=z,
        p=z_p_value(z),
        slope=float(beta[1]),
        slope_se=slope_se,
        intercept=float(beta[0]),
        intercept_se=math.sqrt(cov[0, 0]),
        k=effects.k,
    )
