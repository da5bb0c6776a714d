"""The per-study likelihood curves of a 2x2 table (steps 1 and 2 of :mod:`models.bayes.exact_binomial`): each study's
log likelihood of its own log-OR, ``log L_i(t)``, and of the pooled parameters, ``log L_i(mu, tau)``."""

from __future__ import annotations

import math

import numpy as np

from models.bayes.exact import normal_given_tau
from models.bayes.exact_binomial.convolution import _WT, _XT, _log_conv
from models.bayes.exact_binomial.curves import _curve
from models.priors import BASELINE_SD_DEFAULT, EffectPrior
from models.tables import BinaryTable

PARAMETRISATIONS = ("symmetric", "control")


class TableCurves:
    """The per-study integrals of a 2x2 table, built once and reused for any pair of priors.

    Parameters
    ----------
    table : BinaryTable
        Arm counts (t = experimental, c = control).
    parametrisation : str
        ``"symmetric"`` (primary; logit p = a -/+ t/2) or ``"control"`` (logit p_c = a, logit p_t = a + t).
    baseline_sd : float
        SD of the Normal(0, sd) prior on each study's baseline log-odds ``a``.
    bias_mean, bias_sd : array-like, optional
        Per-study additive bias on the log-OR scale (mean and SD; 0 for randomised studies), Turner et al. 2009.

    Methods: :meth:`posterior` (random effects, or ``model="fixed"`` for tau = 0), :meth:`log_evidence` (log
    marginal likelihood of the data, optionally with tau = 0 and/or mu = 0), :meth:`log_lik` (the matrix
    ``log L_i(mu, tau)``).
    """

    def __init__(
        self,
        table: BinaryTable,
        *,
        parametrisation: str = "symmetric",
        baseline_sd: float = BASELINE_SD_DEFAULT,
        bias_mean: np.ndarray | list[float] | None = None,
        bias_sd: np.ndarray | list[float] | None = None,
    ) -> None:
        if not isinstance(table, BinaryTable):
            raise TypeError(f"table must be a BinaryTable, got {type(table).__name__}")
        if parametrisation not in PARAMETRISATIONS:
            raise ValueError(f"parametrisation {parametrisation!r} is not one of {', '.join(PARAMETRISATIONS)}")
        baseline_sd = float(baseline_sd)
        if not (math.isfinite(baseline_sd) and baseline_sd > 0):
            raise ValueError(f"baseline_sd must be positive and finite, got {baseline_sd!r}")
        self.table, self.parametrisation, self.baseline_sd = table, parametrisation, baseline_sd
        self.study = table.study
        self.k = table.k
        self.bias_mean = self._per_study(bias_mean, "bias_mean")
        self.bias_sd = self._per_study(bias_sd, "bias_sd")
        if (self.bias_sd < 0).any():
            raise ValueError("bias_sd must be non-negative")
        curves = [
            _curve((int(et), int(nt), int(ec), int(nc), baseline_sd, parametrisation))
            for et, nt, ec, nc in zip(table.e_t, table.n_t, table.e_c, table.n_c, strict=True)
        ]
        self._lo = np.array([c.lo for c in curves])
        self._h = np.array([c.h for c in curves])
        self._coef = np.ascontiguousarray(np.stack([c.coef for c in curves]))
        self._ext = np.ascontiguousarray(np.stack([c.ext for c in curves]))
        self._mode = np.array([c.mode for c in curves])
        self._prec = np.array([c.prec for c in curves])
        self._bvar = self.bias_sd**2

    def _per_study(self, x: np.ndarray | list[float] | None, name: str) -> np.ndarray:
        if x is None:
            return np.zeros(self.k)
        arr = np.asarray(x, dtype=float).ravel()
        if arr.size != self.k:
            raise ValueError(f"{name} has {arr.size} values for {self.k} studies")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite")
        return arr

    def log_lik(self, mu: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """``log L_i(mu, tau)`` (log-OR scale), shape ``mu.shape + (k,)``; mu and tau broadcast together."""
        mu, tau = np.broadcast_arrays(np.asarray(mu, float), np.asarray(tau, float))
        out = _log_conv(
            np.ascontiguousarray(mu.ravel()),
            np.ascontiguousarray(tau.ravel() ** 2),
            self._coef,
            self._lo,
            self._h,
            self._ext,
            self._mode,
            self._prec,
            self.bias_mean,
            self._bvar,
            _XT,
            np.log(_WT),
        )
        return out.reshape(*mu.shape, self.k)

    def log_lik_t(self, t: np.ndarray) -> np.ndarray:
        """``log L_i(t)``: each study's log likelihood of its log-OR t (a integrated out), shape ``t.shape + (k,)``."""
        t = np.asarray(t, float)
        return np.stack([self._ell_i(i, t) for i in range(self.k)], axis=-1)

    def _ell_i(self, i: int, t: np.ndarray) -> np.ndarray:
        """``log L_i(t)`` of study ``i`` (its spline, no bias), at the points ``t``."""
        t = np.asarray(t, float)
        return self._conv_i(i, t, np.zeros(t.shape), bias=False)

    def _conv_i(self, i: int, mu: np.ndarray, tau: np.ndarray, bias: bool = True) -> np.ndarray:
        """``log L_i(mu, tau)`` of study ``i`` alone (with its bias terms unless ``bias=False``)."""
        mu = np.asarray(mu, float)
        out = _log_conv(
            np.ascontiguousarray(mu.ravel()),
            np.ascontiguousarray(np.asarray(tau, float).ravel() ** 2),
            self._coef[i : i + 1],
            self._lo[i : i + 1],
            self._h[i : i + 1],
            self._ext[i : i + 1],
            self._mode[i : i + 1],
            self._prec[i : i + 1],
            self.bias_mean[i : i + 1] if bias else np.zeros(1),
            self._bvar[i : i + 1] if bias else np.zeros(1),
            _XT,
            np.log(_WT),
        )
        return out[:, 0].reshape(mu.shape)

    # -- the normal approximation that places the grids ------------------------------------------------------------

    def _approx(self, tau: np.ndarray, effect_prior: EffectPrior) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Normal-normal approximation: log p(y | tau) (mu integrated), and the mean and SD of mu given tau."""
        has = self._prec > 0
        y = (self._mode - self.bias_mean)[has]
        v = 1.0 / self._prec[has] + self._bvar[has]
        return normal_given_tau(np.asarray(tau, float), y, v, effect_prior.mean, effect_prior.sd**2)
