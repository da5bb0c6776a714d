"""The (mu, log tau) grid of the binomial-normal posterior (step 3 of :mod:`models.bayes.exact_binomial`): rows in
tau, sheared mu nodes per row, the log joint density and its integrals (the log evidence)."""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial.legendre import leggauss

from models.bayes.exact_binomial.likelihood import TableCurves
from models.priors import EffectPrior, TauPrior

_DROP = 50.0  # initial coverage of the posterior grid (log-density drop)
_EDGE = 30.0  # required drop at the ends of every row / of the s range
_FLAT = 0.01  # allowed |log L(tau_0) - log L(0)| of the row integrals over the lump [0, tau_0]
_XM, _WM = leggauss(24)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _trap(n: int) -> np.ndarray:
    w = np.ones(n)
    w[[0, -1]] = 0.5
    return w


def _prior_m2(prior: TauPrior, t0: float, t: float | None = None) -> float:
    """``int_0^t u^2 p(u) du`` (t defaults to t0) by 24-node Gauss-Legendre on [0, t] (u^2 p(u) is smooth there for
    every prior family, also log-t on tau^2 whose density has an integrable spike at 0)."""
    t = t0 if t is None else t
    if t <= 0:
        return 0.0
    u = (_XM + 1.0) * (t / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.nan_to_num(u * u * np.exp(prior.logpdf(u)))
    return float(f @ _WM * (t / 2.0))


class _TauRows:
    """The (mu, tau) grid: rows in tau, sheared mu nodes per row, the log joint density J and its integrals.

    Random effects: row 0 is tau = 0, rows 1.. are equally spaced in ``s = log tau`` from ``s_0`` up (see the module
    docstring: the lump ``[0, tau_0]`` is integrated against the prior itself). ``tau_prior=None``: one row at
    tau = 0 (fixed effect). ``effect_prior=None``: mu fixed at 0 (one node per row).
    """

    def __init__(
        self,
        lik: TableCurves,
        tau_prior: TauPrior | None,
        effect_prior: EffectPrior | None,
        n_tau: int,
        n_mu: int,
    ) -> None:
        self.lik, self.tau_prior, self.effect_prior = lik, tau_prior, effect_prior
        self.fixed = tau_prior is None
        self.null = effect_prior is None
        self._lump_at, self._lump_w = math.nan, (0.0, 0.0)  # tau_0 of the last lump weights, and those weights
        n_mu = 1 if self.null else n_mu
        self.n_tau = n_tau
        self.u = np.linspace(-1.0, 1.0, n_mu) if not self.null else np.zeros(1)
        self.approx_prior = effect_prior if effect_prior is not None else EffectPrior("null", "null", 0.0, 1e-6, "")
        if self.fixed:
            s = np.empty(0)
        else:
            s, self.s_flat = self._s_range(n_tau)
        self.cen, self.half = self._placement(s)
        for _ in range(12):
            self._evaluate(s)
            if self._settled():
                break
            s = self.s
        self._finish()

    def _placement(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centres and half-widths of the mu rows from the normal-normal approximation (drop _DROP)."""
        tau = np.concatenate([[0.0], np.exp(s)])
        _, cen, sd = self.lik._approx(tau, self.approx_prior)
        return cen, _DROP**0.5 * 1.45 * sd

    def _s_range(self, n_tau: int) -> tuple[np.ndarray, float]:
        """Initial s grid from the normal-normal approximation, and the flat limit ``log tau_flat``."""
        lik, prior = self.lik, self.tau_prior
        has = lik._prec > 0
        v = (1.0 / lik._prec[has] + lik._bvar[has]) if has.any() else np.ones(1)
        y = (lik._mode - lik.bias_mean)[has] if has.any() else np.zeros(1)
        _, m0, sd0 = lik._approx(np.zeros(1), self.approx_prior)
        # d log L / d tau^2 at tau = 0 is sum_i ((y_i - mu)^2 / v_i - 1) / (2 v_i); bound it over mu within 4 SD
        slope = float(np.sum((1.0 + (np.abs(y - m0[0]) + 4.0 * sd0[0]) ** 2 / v) / (2.0 * v)))
        s_flat = 0.5 * math.log(_FLAT / slope)
        lo = min(s_flat, math.log(prior.median())) - 12.0
        hi = math.log(max(float(np.sqrt(v.max())), prior.median(), 1.0)) + 6.0
        while True:
            s = np.arange(lo, hi + 0.05, 0.05)
            ll = lik._approx(np.exp(s), self.approx_prior)[0]
            with np.errstate(invalid="ignore", divide="ignore"):
                lf = prior.logpdf(np.exp(s)) + s + ll
            lf = np.where(np.isnan(lf), -np.inf, lf)
            top = float(np.max(lf))
            grow_lo = lf[0] > top - _DROP and lo > s_flat
            grow_hi = lf[-1] > top - _DROP and hi < 120
            if not (grow_lo or grow_hi):
                break
            lo, hi = (lo - 10.0 if grow_lo else lo), (hi + 10.0 if grow_hi else hi)
        keep = np.flatnonzero(lf > top - _DROP)
        s0 = max(float(s[max(keep[0] - 1, 0)]), s_flat)
        return np.linspace(s0, float(s[min(keep[-1] + 1, s.size - 1)]), n_tau), s_flat

    def _evaluate(self, s: np.ndarray) -> None:
        self.s = s
        tau = np.concatenate([[0.0], np.exp(s)])
        self.tau = tau
        cen, half = self.cen, self.half
        mu = np.zeros((tau.size, self.u.size)) if self.null else cen[:, None] + half[:, None] * self.u[None, :]
        self.mu = mu
        ll = self.lik.log_lik(mu, np.broadcast_to(tau[:, None], mu.shape))
        self.ll = ll
        j = ll.sum(axis=-1)
        if not self.null:
            ep = self.effect_prior
            j = j - 0.5 * ((mu - ep.mean) / ep.sd) ** 2 - math.log(ep.sd) - _LOG_SQRT_2PI
        self.j = j  # log joint density of (mu, y) given tau (the tau prior enters the row weights)
        if self.null:
            self.row = j[:, 0]
        else:
            dmu = half * (self.u[1] - self.u[0])
            top = np.max(j, axis=1)
            self.row = top + np.log(np.exp(j - top[:, None]) @ _trap(self.u.size) * dmu)
        if not self.fixed:
            with np.errstate(divide="ignore", invalid="ignore"):
                lp = self.tau_prior.logpdf(tau[1:]) + s
            self.lg = self.row[1:] + np.where(np.isnan(lp), -np.inf, lp)  # log integrand in s

    def _lump(self) -> tuple[float, float]:
        """Prior weights ``(W0, W1)`` of the rows tau = 0 and tau_0 over ``[0, tau_0]`` (module docstring); kept for
        the last tau_0 asked about, since each costs two calls of the prior's scipy distribution."""
        t0 = math.exp(self.s[0])
        if self._lump_at != t0:
            m2 = _prior_m2(self.tau_prior, t0) / t0**2
            self._lump_at, self._lump_w = t0, (max(float(self.tau_prior.cdf(t0)) - m2, 0.0), m2)
        return self._lump_w

    def _settled(self) -> bool:
        """Check the ends of every row and of the s range, and the flatness over the lump; widen/recentre what is
        not negligible or not flat."""
        ok = True
        if not self.null:
            top = np.max(self.j, axis=1)
            live = np.full(self.j.shape[0], True)
            if not self.fixed:
                rowmass = np.concatenate([[self.row[0]], self.lg])
                live = rowmass > np.max(rowmass) - 45.0
            bad = live & ((self.j[:, 0] > top - _EDGE) | (self.j[:, -1] > top - _EDGE))
            if bad.any():
                ok = False
                best = self.mu[np.arange(self.mu.shape[0]), np.argmax(self.j, axis=1)]
                self.cen = np.where(bad, best, self.cen)
                self.half = np.where(bad, self.half * 1.6, self.half)
        if self.fixed:
            return ok
        top = float(np.max(self.lg))
        w0, w1 = self._lump()
        lump = math.log(max(w0 + w1, 1e-300)) + max(self.row[0], self.row[1])
        lo, hi = self.s[0], self.s[-1]
        if lump > top - _EDGE and abs(self.row[1] - self.row[0]) > _FLAT:
            self.s_flat = min(self.s_flat, lo) - 1.5  # not flat over the lump: move tau_0 down
            lo = self.s_flat
        elif self.lg[0] > top - _EDGE and lo > self.s_flat:
            lo = max(lo - 2.0, self.s_flat)
        if self.lg[-1] > top - _EDGE:
            hi = hi + 2.0
        if (lo, hi) != (self.s[0], self.s[-1]):
            new = np.linspace(lo, hi, self.n_tau)
            cen, half = self._placement(new)
            old = self.s
            self.cen = np.concatenate([[self.cen[0]], np.interp(new, old, self.cen[1:], left=cen[1], right=cen[-1])])
            self.half = np.concatenate([[self.half[0]], np.maximum(np.interp(new, old, self.half[1:]), half[1:])])
            self.s = new
            return False
        return ok

    def _finish(self) -> None:
        if self.fixed:
            self.log_evidence = float(self.row[0])
            self.w = np.ones(1)
            return
        h = self.s[1] - self.s[0]
        # trapezoid in s with the Gregory end correction at s_0 (h^2/12 g'(s_0), one-sided difference)
        ws = _trap(self.s.size) * h
        ws[:3] += h / 24.0 * np.array([-3.0, 4.0, -1.0])
        w0, w1 = self._lump()
        top = float(max(np.max(self.lg), self.row[0], self.row[1]))
        w = np.concatenate([[w0 * math.exp(self.row[0] - top)], ws * np.exp(self.lg - top)])
        w[1] += w1 * math.exp(self.row[1] - top)
        z = float(np.sum(w))
        self.log_evidence = top + math.log(z)
        self.w = w / z
        self.lump_w = (w0 * math.exp(self.row[0] - top) / z, w1 * math.exp(self.row[1] - top) / z)
