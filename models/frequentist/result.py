"""Result records of the frequentist estimators, and the Wald/t interval arithmetic they share.

Every estimator returns a :class:`PooledResult` on the analysis scale (log OR / log RR for ratio measures, raw
RD/MD/SMD otherwise); :meth:`PooledResult.to_dict` converts to the reporting scale (ratio scale for OR/RR) for the
command line and for tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import special

RATIO_MEASURES = ("OR", "RR")


def normal_crit(level: float) -> float:
    """Two-sided normal critical value for a ``level`` interval (1.959964 for 0.95)."""
    check_level(level)
    return float(-special.ndtri((1 - level) / 2))


def t_crit(level: float, df: int) -> float:
    """Two-sided Student-t critical value with ``df`` degrees of freedom (NaN when ``df < 1``)."""
    check_level(level)
    return float(-special.stdtrit(df, (1 - level) / 2)) if df >= 1 else math.nan


def check_level(level: float) -> None:
    """Reject a confidence level outside (0, 1) with a message naming the argument."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level}")


def z_p_value(z: float) -> float:
    """Two-sided p-value of a standard-normal statistic."""
    return float(2 * special.ndtr(-abs(z)))


def _finite(x: float) -> float | None:
    """``x`` as a float, or None when it is NaN or infinite (JSON has no NaN)."""
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class PooledResult:
    """A pooled estimate with its interval, heterogeneity statistics and (random effects) prediction interval.

    ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``pi_low`` and ``pi_high`` are on the analysis scale: log OR or
    log RR for ratio measures (also Peto's OR), raw for RD/MD/SMD. ``i2`` is in percent; ``tau2`` is 0 for
    fixed-effect methods; ``ci_method`` is ``"wald"`` (normal) or ``"hksj"`` (Hartung-Knapp-Sidik-Jonkman, t with
    k-1 df); ``k`` is the number of studies contributing to the estimate.
    """

    method: str
    measure: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    tau2: float
    q: float
    q_df: int
    q_p: float
    i2: float
    k: int
    ci_method: str
    pi_low: float | None
    pi_high: float | None
    level: float = 0.95

    @property
    def is_ratio(self) -> bool:
        """True when the estimate is a log OR or log RR (reported exponentiated)."""
        return self.measure in RATIO_MEASURES

    def _report(self, x: float | None) -> float | None:
        if x is None:
            return None
        return _finite(math.exp(x) if self.is_ratio else x)

    def to_dict(self) -> dict:
        """Flat, JSON-ready record on the reporting scale (what ``scripts/pool.py --json`` prints).

        ``estimate``, ``ci_low``, ``ci_high`` (and ``pi_low``, ``pi_high`` when there is a prediction interval) are
        ratios for OR/RR and raw otherwise; ``log_estimate``, ``log_ci_low``, ``log_ci_high`` are the log-scale
        values for ratio measures (None otherwise); ``se`` is on the analysis scale. A value that is not defined
        (e.g. the HKSJ interval of a single study, with 0 degrees of freedom) is None, never NaN, so that the
        record is strict JSON (``json.dumps(..., allow_nan=False)``).
        """
        out: dict = {
            "method": self.method,
            "measure": self.measure,
            "estimate": self._report(self.estimate),
            "ci_low": self._report(self.ci_low),
            "ci_high": self._report(self.ci_high),
            "log_estimate": _finite(self.estimate) if self.is_ratio else None,
            "log_ci_low": _finite(self.ci_low) if self.is_ratio else None,
            "log_ci_high": _finite(self.ci_high) if self.is_ratio else None,
            "se": _finite(self.se),
            "z": _finite(self.z),
            "p": _finite(self.p),
            "tau2": _finite(self.tau2),
            "q": _finite(self.q),
            "q_df": self.q_df,
            "q_p": _finite(self.q_p),
            "i2": _finite(self.i2),
            "k": self.k,
            "ci_method": self.ci_method,
            "level": self.level,
        }
        if self.pi_low is not None and self.pi_high is not None:
            out["pi_low"] = self._report(self.pi_low)
            out["pi_high"] = self._report(self.pi_high)
        return out


@dataclass(frozen=True)
class EggerResult:
    """Egger's regression test as metafor ``regtest(rma(yi, vi, method="EE"))``.

    Weighted regression ``yi = intercept + slope * sei`` with weights ``1/vi``; ``z`` and ``p`` test ``slope = 0``
    (funnel-plot asymmetry). ``intercept`` is the limit estimate as the standard error goes to 0 (analysis scale).
    """

    z: float
    p: float
    slope: float
    slope_se: float
    intercept: float
    intercept_se: float
    k: int


@dataclass(frozen=True)
class SubgroupResult:
    """Per-subgroup pooled results and the test of subgroup differences.

    ``q_between`` is Cochran's Q across the subgroup estimates with weights ``1/se_g^2`` (RevMan's test for
    subgroup differences; for the fixed-effect method it equals metafor's moderator test QM), ``df = groups - 1``.
    """

    groups: dict[str, PooledResult]
    q_between: float
    df: int
    p: float

    def to_frame(self) -> pd.DataFrame:
        """One row per subgroup with the reporting-scale fields of :meth:`PooledResult.to_dict`."""
        rows = [{"group": g, **r.to_dict()} for g, r in self.groups.items()]
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class RegressionBiasResult:
    """A regression test for small-study effects fitted by weighted least squares with a multiplicative dispersion.

    The model is ``y_i = intercept + slope * x_i`` with weights ``w_i``; the covariance of the coefficients is
    ``s^2 (X' W X)^-1`` with ``s^2`` the weighted residual variance on ``k - 2`` df (R ``summary.lm``), and
    ``statistic = slope / slope_se`` is referred to a t distribution with ``df = k - 2`` (two-sided ``p``). ``slope``
    is the tested "bias" coefficient (meta's ``estimate["bias"]``); what ``y``, ``x``, ``w`` and ``intercept`` are
    depends on ``method`` (see ``formulation``). All effects are on the log-OR scale.

    ``k`` counts the studies in the regression; ``dropped`` lists the studies left out (double-zero studies, which
    have no log OR), ``corrected`` those whose log OR had 0.5 added to every cell. ``underpowered`` is True when
    ``k`` is below :data:`BIAS_K_RECOMMENDED` (10; Sterne et al. 2011, BMJ 343:d4002, and meta's ``k.min``): the
    test was run anyway but has little power to detect asymmetry, so a large p-value is not evidence of its absence.
    ``residual_sd`` is ``s`` (meta's ``tau`` for these tests).
    """

    method: str
    formulation: str
    statistic: float
    df: int
    p: float
    k: int
    slope: float
    slope_se: float
    intercept: float
    intercept_se: float
    residual_sd: float
    underpowered: bool
    dropped: tuple[str, ...] = ()
    corrected: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Flat, JSON-ready record (log-OR scale; tuples as lists)."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["dropped"] = list(self.dropped)
        out["corrected"] = list(self.corrected)
        return out


BIAS_K_RECOMMENDED = 10
"""Smallest number of studies for which funnel-plot asymmetry tests are recommended (Sterne et al. 2011)."""
