"""Cochran's Q and I^2 (Higgins & Thompson 2002), as metafor computes them.

Q is always the inverse-variance statistic ``sum(w_i (y_i - mu)^2)`` with ``w_i = 1/v_i``; ``mu`` is the
inverse-variance mean for the IV models, or the Mantel-Haenszel estimate for MH analyses (metafor ``rma.mh`` and
RevMan both do this). I^2 is reported in percent.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def cochran_q(yi: np.ndarray, vi: np.ndarray, center: float | None = None) -> tuple[float, int, float]:
    """Q, its degrees of freedom ``k - 1`` and chi-square p-value around ``center`` (IV mean when None).

    With a single study Q = 0, df = 0 and p = 1 (metafor's convention).
    """
    yi = np.asarray(yi, dtype=float)
    wi = 1 / np.asarray(vi, dtype=float)
    k = yi.size
    if k < 2:
        return 0.0, 0, 1.0
    mu = float(np.sum(wi * yi) / np.sum(wi)) if center is None else center
    q = max(0.0, float(np.sum(wi * (yi - mu) ** 2)))
    return q, k - 1, float(special.chdtrc(k - 1, q))


def i2_from_q(q: float, df: int) -> float:
    """I^2 in percent from Q: ``max(0, 100 (Q - df) / Q)`` (0 when Q = 0 or df = 0)."""
    if df < 1 or q <= 0:
        return 0.0
    return max(0.0, 100 * (q - df) / q)


def typical_variance(vi: np.ndarray) -> float:
    """Higgins-Thompson 'typical' within-study variance ``(k-1) / (sum w - sum w^2 / sum w)``, ``w = 1/vi``."""
    wi = 1 / np.asarray(vi, dtype=float)
    return (wi.size - 1) / (np.sum(wi) - np.sum(wi**2) / np.sum(wi))


def i2_from_tau2(tau2: float, vi: np.ndarray) -> float:
    """I^2 in percent implied by a between-study variance: ``100 tau2 / (v_typical + tau2)`` (metafor rma)."""
    if np.asarray(vi).size < 2:
        return 0.0
    return float(100 * tau2 / (typical_variance(vi) + tau2))
