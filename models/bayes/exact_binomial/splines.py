"""Densities known by their log on equally spaced nodes (the rows of the posterior grid, the marginal of log tau, the
shrunken effects): not-a-knot cubic splines of the log density, cdfs by 5-point Gauss-Legendre per cell, quantiles by
compiled safeguarded Newton steps, and the mixtures over grid rows behind the posterior of mu and the predictive.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.polynomial.legendre import leggauss

from models.bayes.exact_binomial.convolution import _WT, _XT
from models.bayes.exact_binomial.kernels import _spline_coef

_GL_X, _GL_W = leggauss(5)  # Gauss-Legendre per spline cell
_NO_ROWS, _NO_NODES = np.zeros(1), np.zeros((1, 1))  # placeholders for the arguments only the predictive uses


@numba.njit(cache=True)
def _row_cdf_pdf(x0, dx, c, cum, total, r, x, gx, gw):  # pragma: no cover - compiled
    """Row r's cdf at x (as :func:`_row_cdf`) and its density there, ``exp(spline) / total`` (0 outside)."""
    n = cum.shape[1]
    u = (x - x0[r]) / dx[r]
    if u <= 0.0:
        return 0.0, 0.0
    if u >= n - 1.0:
        return 1.0, 0.0
    j = min(int(math.floor(u)), n - 2)
    frac = u - j
    part = 0.0
    for q in range(gx.size):
        d = frac * (gx[q] + 1.0) / 2.0
        part += math.exp(((c[r, 0, j] * d + c[r, 1, j]) * d + c[r, 2, j]) * d + c[r, 3, j]) * gw[q]
    out = (cum[r, j] + part * frac / 2.0 * dx[r]) / total[r]
    dens = math.exp(((c[r, 0, j] * frac + c[r, 1, j]) * frac + c[r, 2, j]) * frac + c[r, 3, j]) / total[r]
    return min(max(out, 0.0), 1.0), dens


@numba.njit(cache=True)
def _row_cdf(x0, dx, c, cum, total, r, x, gx, gw):  # pragma: no cover - compiled
    """Row r's cdf at x (see :meth:`_LogSplineRows.cdf`): whole cells from ``cum``, the partial cell by
    Gauss-Legendre on the exponentiated cubic (:func:`_row_cdf_pdf` without the density)."""
    return _row_cdf_pdf(x0, dx, c, cum, total, r, x, gx, gw)[0]


@numba.njit(cache=True)
def _rows_cdf(x0, dx, c, cum, total, x, gx, gw):  # pragma: no cover - compiled
    """Row-wise cdf at the points x (shape (R, M), each row's points on that row's axis)."""
    out = np.empty(x.shape)
    for r in range(x.shape[0]):
        for m in range(x.shape[1]):
            out[r, m] = _row_cdf(x0, dx, c, cum, total, r, x[r, m], gx, gw)
    return out


@numba.njit(cache=True)
def _mix_cdf_pdf(x, pred, w, tau, dmu, cw, mu, x0, dx, c, cum, total, xt, wt, gx, gw):  # pragma: no cover - compiled
    """cdf and density at x of the mixture ``sum_r w_r F_r`` of the rows (``pred`` False; rows with weight 0
    skipped), or of a new study's effect ``mu + tau z`` (``pred`` True; then tau, dmu, cw and mu are used): per row,
    the normal cdf averaged over the mu nodes when tau is wide against the mu spacing, else Gauss-Hermite in z on
    the row's cdf (see :meth:`ExactBinomialPosterior.predictive_cdf`)."""
    cdf, pdf = 0.0, 0.0
    for r in range(w.size):
        if w[r] == 0.0:
            continue
        f, d = 0.0, 0.0
        if not pred:
            f, d = _row_cdf_pdf(x0, dx, c, cum, total, r, x, gx, gw)
        elif tau[r] >= 2.0 * dmu[r]:
            for m in range(mu.shape[1]):
                z = (x - mu[r, m]) / tau[r]
                f += cw[r, m] * 0.5 * math.erfc(-z / math.sqrt(2.0))
                d += cw[r, m] * math.exp(-0.5 * z * z)
            d /= tau[r] * math.sqrt(2.0 * math.pi)
        else:
            for q in range(xt.size):
                fq, dq = _row_cdf_pdf(x0, dx, c, cum, total, r, x - math.sqrt(2.0) * tau[r] * xt[q], gx, gw)
                f += wt[q] * fq
                d += wt[q] * dq
            f /= math.sqrt(math.pi)
            d /= math.sqrt(math.pi)
        cdf += w[r] * f
        pdf += w[r] * d
    return cdf, pdf


@numba.njit(cache=True)
def _mix_ppf(
    q, guess, scale, lo, hi, pred, w, tau, dmu, cw, mu, x0, dx, c, cum, total, xt, wt, gx, gw
):  # pragma: no cover - compiled
    """Root of ``F(x) = q`` for the cdf F of :func:`_mix_cdf_pdf`, by Newton steps from ``guess`` kept inside a
    bracket: ``[lo, hi]`` (infinite ends allowed) narrowed by every evaluation; a step that leaves it, or that
    does not halve |F - q|, bisects instead, or, with one end still infinite, steps outwards by ``scale``,
    doubling. Stops when a step is below 1e-12 (1 + |x|), returning the stepped point (its error is second order
    in the step), or when the bracket is that narrow: the root of Brent's method at tolerance 1e-12, in about half
    the evaluations (each one cdf and density; no Python callbacks)."""
    a, b = lo, hi
    x = min(max(guess, lo), hi) if math.isfinite(guess) else 0.5 * (lo + hi)
    out, last = scale, np.inf
    for _ in range(200):
        f, p = _mix_cdf_pdf(x, pred, w, tau, dmu, cw, mu, x0, dx, c, cum, total, xt, wt, gx, gw)
        f -= q
        if f == 0.0:
            return x
        if f < 0.0:
            a = x
        else:
            b = x
        new = x - f / p if p > 0.0 else np.nan
        if a <= new <= b and abs(new - x) < 1e-12 * (1.0 + abs(new)):
            return new  # (new may equal x = a or b: |F - q| at rounding level)
        inside = a < new < b
        if not inside or abs(f) > 0.5 * last:
            if math.isfinite(a) and math.isfinite(b):
                new = 0.5 * (a + b)
            elif not inside:
                new = a + out if math.isfinite(a) else b - out
                out *= 2.0
        last = abs(f)
        if b - a < 1e-12 * (1.0 + abs(new)):
            return new
        x = new
    return x


# -- densities known on grids: splines of the log, Gauss-Legendre cell integrals ------------------------------------


class _LogSplineRows:
    """R densities, row r known by its log on nodes ``x0[r] + dx[r] * j`` (j < N); cdfs by 5-point Gauss-Legendre
    integration of the exponentiated cubic spline of the log density, per cell."""

    def __init__(self, x0: np.ndarray, dx: np.ndarray, logf: np.ndarray) -> None:
        # contiguous (x0 is often a column of the grid): one compiled specialisation of the kernels serves all rows
        self.x0, self.dx = np.ascontiguousarray(x0, float), np.ascontiguousarray(dx, float)
        top = np.max(logf, axis=1, keepdims=True)
        self.top = top[:, 0]
        self.n = logf.shape[1]
        lf = np.maximum(logf - top, -700.0)
        self.c = _spline_coef(np.ascontiguousarray(lf))  # (R, 4, N-1)
        d = (_GL_X + 1.0) / 2.0
        poly = ((self.c[:, 0, :, None] * d + self.c[:, 1, :, None]) * d + self.c[:, 2, :, None]) * d + self.c[
            :, 3, :, None
        ]
        cells = np.exp(poly) @ _GL_W / 2.0 * self.dx[:, None]
        self.cum = np.concatenate([np.zeros((cells.shape[0], 1)), np.cumsum(cells, axis=1)], axis=1)
        self.total = np.ascontiguousarray(self.cum[:, -1])

    def _logval(self, r: np.ndarray, j: np.ndarray, d: np.ndarray) -> np.ndarray:
        c = self.c[r, :, j]
        return ((c[..., 0] * d + c[..., 1]) * d + c[..., 2]) * d + c[..., 3]

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Row-wise cdf at ``x`` of shape (R, ...) (each row's x on that row's axis)."""
        x = np.asarray(x, float)
        shape = x.shape
        flat = np.ascontiguousarray(x.reshape(shape[0], -1))
        return _rows_cdf(self.x0, self.dx, self.c, self.cum, self.total, flat, _GL_X, _GL_W).reshape(shape)

    def mix_cdf(self, w: np.ndarray, x: float) -> float:
        """``sum_r w[r] F_r(x)``: the cdf at one point of the mixture of the rows with weights ``w``."""
        return float(
            _mix_cdf_pdf(float(x), False, w, _NO_ROWS, _NO_ROWS, _NO_NODES, _NO_NODES, self.x0, self.dx, self.c,
                         self.cum, self.total, _XT, _WT, _GL_X, _GL_W)[0]
        )  # fmt: skip

    def mix_ppf(self, w: np.ndarray, q: float, guess: float = math.nan, scale: float = 1.0) -> float:
        """The quantile q of the mixture of the rows with weights ``w`` (:func:`_mix_ppf`, bracketed by the
        mixture's support; ``guess`` defaults to the middle of it)."""
        lo = float(np.min(self.x0))
        hi = float(np.max(self.x0 + self.dx * (self.n - 1)))
        return float(
            _mix_ppf(float(q), float(guess), float(scale), lo, hi, False, w, _NO_ROWS, _NO_ROWS, _NO_NODES, _NO_NODES,
                     self.x0, self.dx, self.c, self.cum, self.total, _XT, _WT, _GL_X, _GL_W)
        )  # fmt: skip

    def logpdf(self, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Normalised log density of the rows ``rows`` (default all) at ``x`` (one row of x each); -inf outside
        the nodes."""
        rows = np.arange(self.x0.size) if rows is None else np.asarray(rows)
        x0, dx = self.x0[rows][:, None], self.dx[rows][:, None]
        u = (x - x0) / dx
        uc = np.clip(u, 0.0, self.n - 1.0)
        j = np.minimum(np.floor(uc).astype(int), self.n - 2)
        r = np.broadcast_to(rows[:, None], j.shape)
        val = self._logval(r, j, uc - j) - np.log(self.total[rows])[:, None]
        return np.where((u < 0) | (u > self.n - 1), -np.inf, val)
