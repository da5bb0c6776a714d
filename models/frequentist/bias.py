"""Small-study effects: regression tests for funnel-plot asymmetry (all on the log-OR scale for binary data).

* :func:`egger` -- Egger's test in metafor's formulation (below).
* :func:`egger_lm` -- Egger et al. (1997)'s original form: the same regression with a multiplicative dispersion and
  a t test (R ``meta::metabias(method.bias="Egger")``, ``metafor::regtest(model="lm")``).
* :func:`peters` -- Peters et al. (2006, JAMA 295:676), for odds ratios from 2x2 tables.
* :func:`harbord` -- Harbord et al. (2006, Stat Med 25:3443), score-based, for odds ratios from 2x2 tables.

The last three are weighted least-squares regressions with a multiplicative dispersion and a t test on ``k - 2``
df, exactly as R meta 7/8 ``metabias`` runs them (its ``linregcore`` calls
``metafor::regtest(rma.uni(TE, sei, ni), model="lm")``); they return a
:class:`~models.frequentist.result.RegressionBiasResult`. Zero cells follow meta's ``metabin(sm="OR")`` defaults:
a study with a zero cell gets 0.5 added to all four cells for its log OR (``escalc(correction="only0")``); a
double-zero study (no events, or only events, in both arms) has no log OR and is left out (``dropped``); Peters'
weights and Harbord's score and information use the uncorrected counts. The tests run from ``k >= 3`` studies and
set ``underpowered`` when ``k < 10``.

metafor ``regtest(rma(yi, vi, method="EE"))`` fits the weighted regression ``yi = b0 + b1 * sei`` with weights
``1/vi`` and the model-based (not residual-scaled) covariance ``(X' W X)^-1``, and reports the z test of ``b1``.
``b1`` equals the intercept of Egger et al. (1997)'s regression of ``yi/sei`` on ``1/sei``; unlike Egger's original
test, its standard error is not scaled by the residual variance and the reference distribution is normal, not t.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from models.effects import EffectTable, escalc
from models.frequentist.result import BIAS_K_RECOMMENDED, EggerResult, RegressionBiasResult, z_p_value
from models.tables import BinaryTable

MIN_K = 3
"""Fewest studies a regression test is run on (two coefficients and at least one residual df)."""


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


def _wls_test(
    y: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    *,
    method: str,
    formulation: str,
    dropped: tuple[str, ...] = (),
    corrected: tuple[str, ...] = (),
) -> RegressionBiasResult:
    """Weighted least squares ``y = b0 + b1 x`` (weights ``w``), covariance ``s^2 (X'WX)^-1``, t test of ``b1``.

    The arithmetic of R ``summary(lm(y ~ x, weights = w))``: ``s^2 = sum(w r^2) / (k - 2)``.
    """
    k = y.size
    if np.ptp(x) == 0:
        raise ValueError(f"{method}: the predictor is the same in every study; the regression is not identified")
    design = np.column_stack([np.ones(k), x])
    xtwx = design.T @ (w[:, None] * design)
    beta = np.linalg.solve(xtwx, design.T @ (w * y))
    resid = y - design @ beta
    df = k - 2
    s2 = float(np.sum(w * resid**2) / df)
    cov = s2 * np.linalg.inv(xtwx)
    slope_se = math.sqrt(cov[1, 1])
    t = float(beta[1] / slope_se) if slope_se > 0 else math.copysign(math.inf, float(beta[1]))
    return RegressionBiasResult(
        method=method,
        formulation=formulation,
        statistic=t,
        df=df,
        p=float(2 * special.stdtr(df, -abs(t))),
        k=k,
        slope=float(beta[1]),
        slope_se=slope_se,
        intercept=float(beta[0]),
        intercept_se=math.sqrt(cov[0, 0]),
        residual_sd=math.sqrt(s2),
        underpowered=k < BIAS_K_RECOMMENDED,
        dropped=dropped,
        corrected=corrected,
    )


def _check_k(k: int, method: str) -> None:
    if k < MIN_K:
        raise ValueError(f"{method} test needs at least {MIN_K} studies with an estimable log OR; got k = {k}")


def egger_lm(effects: EffectTable) -> RegressionBiasResult:
    """Egger et al. (1997, BMJ 315:629) as originally published: t test with a multiplicative dispersion.

    Regression ``yi = intercept + slope * sei`` with weights ``1/vi`` (equivalently, the OLS of ``yi/sei`` on
    ``1/sei``, whose intercept is ``slope`` here); ``slope`` is the bias coefficient, ``intercept`` the effect as the
    SE goes to 0. Matches R ``meta::metabias(method.bias="Egger")`` and ``metafor::regtest(model="lm")``. Scale:
    that of ``effects`` (log OR/RR for ratio measures). Needs ``k >= 3``.
    """
    if not isinstance(effects, EffectTable):
        raise TypeError(f"effects must be an EffectTable; got {type(effects).__name__}")
    _check_k(effects.k, "Egger's")
    corrected = tuple(s for s, c in zip(effects.study, effects.corrected, strict=True) if c)
    return _wls_test(
        effects.yi,
        effects.sei,
        1 / effects.vi,
        method="Egger (lm)",
        formulation="Egger et al. 1997: WLS of yi on sei, weights 1/vi, multiplicative dispersion, t(k-2); "
        "as R meta::metabias(method.bias='Egger') / metafor::regtest(model='lm')",
        dropped=effects.dropped,
        corrected=corrected,
    )


def _binary_cells(table: BinaryTable, method: str) -> tuple[EffectTable, BinaryTable]:
    """Log ORs as meta's metabin defaults (0.5 to zero-cell studies, double-zero studies dropped) and their counts."""
    if not isinstance(table, BinaryTable):
        raise TypeError(f"table must be a BinaryTable; got {type(table).__name__}")
    empty = (table.n_t == 0) | (table.n_c == 0)
    if empty.any():
        raise ValueError(f"{method}: study {table.study[int(np.argmax(empty))]!r} has an arm with no participants")
    effects = escalc(table, "OR", correction="only0", add=0.5, drop00=True)
    kept_labels = list(effects.study)
    _check_k(effects.k, method)
    return effects, table.subset(kept_labels)


def peters(table: BinaryTable) -> RegressionBiasResult:
    """Peters et al. (2006, JAMA 295:676) test for small-study effects with odds ratios (log-OR scale).

    Weighted regression of the study log OR on ``1/N`` (``N = n_t + n_c``, the total sample size) with weights
    ``1 / (1/E + 1/F)``, ``E`` the total events and ``F`` the total non-events of the study (both arms, no
    correction); ``slope`` is the coefficient of ``1/N`` (tested, t on ``k - 2`` df) and ``intercept`` the log OR
    extrapolated to an infinitely large study. Matches R ``meta::metabias(method.bias="Peters")``, i.e.
    ``metafor::regtest(rma.uni(yi, sei = sqrt(1/E + 1/F), ni = N), predictor="ninv", model="lm")``. Zero cells: see
    the module docstring. Needs ``k >= 3`` studies that are not double-zero.
    """
    effects, kept = _binary_cells(table, "Peters'")
    n = (kept.n_t + kept.n_c).astype(float)
    events = (kept.e_t + kept.e_c).astype(float)
    w = 1 / (1 / events + 1 / (n - events))
    corrected = tuple(s for s, c in zip(effects.study, effects.corrected, strict=True) if c)
    return _wls_test(
        effects.yi,
        1 / n,
        w,
        method="Peters",
        formulation="Peters et al. 2006: WLS of log OR on 1/N, weights 1/(1/events + 1/non-events), multiplicative "
        "dispersion, t(k-2); as R meta::metabias(method.bias='Peters')",
        dropped=effects.dropped,
        corrected=corrected,
    )


def harbord(table: BinaryTable) -> RegressionBiasResult:
    """Harbord et al. (2006, Stat Med 25:3443) score-based test for small-study effects with odds ratios.

    With ``Z`` the efficient score of the log OR at 0 (``Z = a - (a + c) n_t / N``: observed minus expected events in
    arm t under the hypergeometric null) and ``V`` its variance (``V = n_t n_c (a + c)(b + d) / (N^2 (N - 1))``), all
    from the uncorrected counts, Harbord regresses ``Z/sqrt(V)`` on ``sqrt(V)`` and tests the intercept. This is run
    in meta's equivalent form: WLS of ``Z/V`` on ``1/sqrt(V)`` with weights ``V``, multiplicative dispersion, t on
    ``k - 2`` df, so that ``slope`` is Harbord's intercept (the bias) and ``intercept`` is Harbord's slope (a
    score-based log OR at infinite information). Matches R ``meta::metabias(method.bias="Harbord")``. Double-zero
    studies (``V = 0``) are left out, as in meta. Needs ``k >= 3``.
    """
    effects, kept = _binary_cells(table, "Harbord's")
    a, c = kept.e_t.astype(float), kept.e_c.astype(float)
    n1, n2 = kept.n_t.astype(float), kept.n_c.astype(float)
    n = n1 + n2
    z = a - (a + c) * n1 / n
    v = n1 * n2 * (a + c) * (n - a - c) / (n**2 * (n - 1))
    return _wls_test(
        z / v,
        1 / np.sqrt(v),
        v,
        method="Harbord",
        formulation="Harbord et al. 2006: score Z and variance V of the log OR at 0; WLS of Z/V on 1/sqrt(V), "
        "weights V (= OLS of Z/sqrt(V) on sqrt(V)), multiplicative dispersion, t(k-2); "
        "as R meta::metabias(method.bias='Harbord')",
        dropped=effects.dropped,
    )
