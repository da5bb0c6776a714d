"""Compiled kernels of the exact normal-normal engine (:mod:`models.bayes.exact`) and of its null-model evidence
(:mod:`models.bayes.model_averaging`). Effects on the analysis scale (log-OR/log-RR, RD, MD or SMD).

Why compiled: the corpus batch evaluates the normal-normal likelihood on some 10,000 values of tau and inverts
normal mixtures of 2000 components several times per meta-analysis; as numpy passes over small arrays this cost
milliseconds per meta-analysis, mostly in per-call overhead and one ``log`` per study and grid point.

* Sums over the studies run with the grid innermost and ``error_model="numpy"`` (no zero-division branch), so
  that the divisions vectorise; ``sum_i log(v_i + tau^2)`` is taken as the log of products over chunks of studies
  sized so that no product can leave the normal floating-point range: one ``log`` per grid point and chunk
  instead of one per study. Both change results only by rounding (about 1e-14 absolute on a log likelihood).
* Quantiles of normal mixtures: safeguarded Newton on the exact cdf (the mixture density is its derivative),
  started from the same quantile of the mixture thinned to every ``stride``-th component. For the mixtures of the
  exact engine (trapezoid weights of a smooth density on an equally spaced grid in log tau) the thinned mixture is
  itself a trapezoid rule of a coarser step, whose cdf agrees with the full one to many digits, so one Newton step
  on the full mixture usually meets the stopping rule; the thinned mixture only supplies the starting point, the
  root is always that of the full mixture. Runs of bitwise equal components (every tau too small to change any
  ``v_i + tau^2``: often half the grid) are merged first, and components more than 9 SDs away skip their
  ``erfc`` and ``exp``; both change the cdf by rounding only.
* Grid points whose tau is too small to change any ``v_i + tau^2`` share one evaluation of the sums (exact).

Nothing here is a public API: the wrappers in :mod:`models.bayes.exact` and :mod:`models.bayes.model_averaging`
validate and shape the arrays (contiguous float64), so every kernel compiles once.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_LOG_PRODUCT_MAX = 680.0  # |log| of a partial product of variances: stays inside [1e-295, 1e295]
_SQRT_HALF = math.sqrt(0.5)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_2PI = math.log(2.0 * math.pi)


@numba.njit(cache=True, error_model="numpy")
def _min_max(x):  # pragma: no cover - compiled
    """The smallest and largest element (a loop: numpy's reductions compile several times slower)."""
    lo, hi = x[0], x[0]
    for i in range(1, x.size):
        lo, hi = min(lo, x[i]), max(hi, x[i])
    return lo, hi


@numba.njit(cache=True, error_model="numpy")
def _sum_log_var(t2, v):  # pragma: no cover - compiled
    """``sum_i log(v_i + t2_g)`` for each ``g``, as logs of products over chunks of studies (module docstring).

    Every factor lies in ``[min(v) + min(t2), max(v) + max(t2)]``; a chunk holds at most ``680 / max |log factor|``
    of them, so its product stays a normal double and its log carries only the rounding of the multiplications."""
    n, k = t2.size, v.size
    lo, hi = _min_max(v)
    t2_lo, t2_hi = _min_max(t2)
    big = max(abs(math.log(lo + t2_lo)), abs(math.log(hi + t2_hi)), 1.0)
    chunk = max(1, int(_LOG_PRODUCT_MAX / big))
    out = np.zeros(n)
    prod = np.empty(n)
    for i0 in range(0, k, chunk):
        for g in range(n):
            prod[g] = 1.0
        for i in range(i0, min(i0 + chunk, k)):
            vi = v[i]
            for g in range(n):
                prod[g] *= vi + t2[g]
        for g in range(n):
            out[g] += math.log(prod[g])
    return out


@numba.njit(cache=True, error_model="numpy")
def _live(t2, v):  # pragma: no cover - compiled
    """The indices of the ``t2`` that change some ``v_i + t2`` in floating point, and the values there preceded by
    a 0. Where ``min(v) + 2 t2 == min(v)``, ``t2`` is at most a quarter of the spacing of doubles at every ``v_i``,
    so ``v_i + t2 == v_i`` exactly and every sum over the studies equals its value at ``t2 = 0``: on the exact
    engine's grids (which reach 40 units of log tau below the posterior's bulk) that is often half the points."""
    vmin = _min_max(v)[0]
    idx = np.empty(t2.size, dtype=np.int64)
    n = 0
    for g in range(t2.size):
        if vmin + 2.0 * t2[g] != vmin:
            idx[n] = g
            n += 1
    live = np.zeros(n + 1)
    for j in range(n):
        live[j + 1] = t2[idx[j]]
    return idx[:n], live


@numba.njit(cache=True, error_model="numpy")
def _spread(values, idx, n):  # pragma: no cover - compiled
    """Values at the live points (``values[1:]`` at ``idx``) and ``values[0]`` (the value at ``t2 = 0``) elsewhere."""
    out = np.full(n, values[0])
    for j in range(idx.size):
        out[idx[j]] = values[j + 1]
    return out


@numba.njit(cache=True, error_model="numpy")
def _normal_sums(t2, y, v, m0, s0sq):  # pragma: no cover - compiled
    """``log p(y | tau)`` without ``-k/2 log(2 pi)``, and the precision and mean of mu given tau, at each ``t2``."""
    n, k = t2.size, y.size
    prec, mean, resid = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(k):
        vi, yi = v[i], y[i]
        for g in range(n):
            r = 1.0 / (vi + t2[g])
            prec[g] += r
            mean[g] += yi * r
    for g in range(n):
        prec[g] += 1.0 / s0sq
        mean[g] = (m0 / s0sq + mean[g]) / prec[g]
    for i in range(k):
        vi, yi = v[i], y[i]
        for g in range(n):
            d = yi - mean[g]
            resid[g] += d * d / (vi + t2[g])
    ll = _sum_log_var(t2, v)
    for g in range(n):
        d = m0 - mean[g]
        ll[g] = -0.5 * ll[g] - 0.5 * math.log(s0sq * prec[g]) - 0.5 * (resid[g] + d * d / s0sq)
    return ll, prec, mean


@numba.njit(cache=True, error_model="numpy")
def normal_loglik(tau, y, v, m0, s0sq):  # pragma: no cover - compiled
    """Per tau, for effects ``y`` with variances ``v + tau^2`` and ``mu ~ N(m0, s0sq)``: ``log p(y | tau)`` (mu
    integrated out, without the ``-k/2 log(2 pi)`` term), and the posterior mean and SD of mu given tau.

    Wrapped by :func:`models.bayes.exact.normal_given_tau`. Sums as in the module docstring; computed
    once for all tau too small to change any ``v_i + tau^2`` (:func:`_live`)."""
    t2 = np.empty(tau.size)
    for g in range(tau.size):
        t2[g] = tau[g] * tau[g]
    idx, t2 = _live(t2, v)
    ll, prec, mean = _normal_sums(t2, y, v, m0, s0sq)
    for g in range(prec.size):
        prec[g] = 1.0 / math.sqrt(prec[g])
    n = tau.size
    return _spread(ll, idx, n), _spread(mean, idx, n), _spread(prec, idx, n)


@numba.njit(cache=True, error_model="numpy")
def null_loglik(tau2, y, v):  # pragma: no cover - compiled
    """``log p(y | mu = 0, tau)`` at each ``tau^2``: effects ``y ~ N(0, v + tau^2)`` independently (computed once
    for all ``tau^2`` too small to change any ``v_i + tau^2``, :func:`_live`)."""
    idx, t2 = _live(tau2, v)
    n, k = t2.size, y.size
    quad = np.zeros(n)
    for i in range(k):
        vi, yy = v[i], y[i] * y[i]
        for g in range(n):
            quad[g] += yy / (vi + t2[g])
    slv = _sum_log_var(t2, v)
    for g in range(n):
        quad[g] = -0.5 * (k * _LOG_2PI + slv[g] + quad[g])
    return _spread(quad, idx, tau2.size)


@numba.njit(cache=True, error_model="numpy")
def _mixture_at(x, w, m, sd, n):  # pragma: no cover - compiled
    """The cdf, density and minus the density's slope at ``x`` of the mixture of the first ``n`` components.
    Components with ``|z| > 9`` enter the cdf as 0 or their weight (the normal cdf there is within 1.2e-19 of it)
    and not the density (below 1.1e-18 / sd), which saves their ``erfc`` and ``exp``."""
    cdf, pdf, slope = 0.0, 0.0, 0.0
    for g in range(n):
        z = (x - m[g]) / sd[g]
        if z > 9.0:
            cdf += w[g]
        elif z >= -9.0:
            cdf += w[g] * 0.5 * math.erfc(-z * _SQRT_HALF)
            dens = w[g] * math.exp(-0.5 * z * z) / (sd[g] * _SQRT_2PI)
            pdf += dens
            slope += dens * z / sd[g]
    return cdf, pdf, slope


@numba.njit(cache=True, error_model="numpy")
def _newton(q, w, m, sd, n, x, lo, hi):  # pragma: no cover - compiled
    """Root of ``cdf(x) = q`` for the mixture of the first ``n`` components (weights summing to 1), from ``x``,
    inside ``[lo, hi]``.

    Safeguarded Newton: bisection whenever a step leaves the bracket. Stops when the level is met to 1e-14 or the
    bracket is below 1e-13 relative; and, to save the last cdf evaluation, returns a Newton step without evaluating
    there once the level is met to 1e-6 and the step's second-order residual ``|f'| dx^2 / 2`` (``f'`` the slope of
    the mixture density, ``dx`` the step) is below 1e-15."""
    for _ in range(200):
        cdf, pdf, slope = _mixture_at(x, w, m, sd, n)
        err = cdf - q
        if err < 0.0:
            lo = x
        elif err > 0.0:
            hi = x
        if abs(err) < 1e-14 or hi - lo < 1e-13 * (1.0 + abs(x)):
            return x
        step = x - err / pdf
        if not lo < step < hi:  # also a NaN or infinite step (zero density)
            x = 0.5 * (lo + hi)
            continue
        if abs(err) < 1e-6 and 0.5 * abs(slope) * (step - x) ** 2 < 1e-15:
            return step
        x = step
    return x


@numba.njit(cache=True, error_model="numpy")
def _merge_equal(w, m, sd, cw, cm, csd):  # pragma: no cover - compiled
    """Runs of components with bitwise equal mean and SD merged into one (weights summed), written to ``cw``,
    ``cm``, ``csd``; returns their number. Exact up to the rounding of the sums: on the exact engine's grid every
    tau whose square vanishes next to the within-study variances gives the same component (often half the grid)."""
    n = 0
    for g in range(w.size):
        if n > 0 and m[g] == cm[n - 1] and sd[g] == csd[n - 1]:
            cw[n - 1] += w[g]
        else:
            cw[n], cm[n], csd[n] = w[g], m[g], sd[g]
            n += 1
    return n


@numba.njit(cache=True, error_model="numpy")
def mixture_quantiles(q, z_q, w, means, sds, stride):  # pragma: no cover - compiled
    """Quantile ``q`` of each normal mixture, one per column of ``means``/``sds`` (shape (G, n)), weights ``w`` (G,)
    summing to 1; ``z_q`` is the standard normal quantile of ``q`` (the moment-matched start).

    With ``stride > 1`` the Newton search on the full mixture starts from the root of the mixture thinned to every
    ``stride``-th component (weights renormalised); the bracket is the components' means widened by 60 times the
    largest SD."""
    n_comp, n_mix = means.shape
    n_thin = (n_comp + stride - 1) // stride
    out = np.empty(n_mix)
    m, sd, thin_w, thin_m, thin_sd = (np.empty(n_comp), np.empty(n_comp), np.empty(n_thin), np.empty(n_thin),
                                      np.empty(n_thin))  # fmt: skip
    cw, cm, csd = np.empty(n_comp), np.empty(n_comp), np.empty(n_comp)
    thin_total = 0.0
    for j in range(n_thin):
        thin_total += w[j * stride]
    for col in range(n_mix):
        m1, m2, spread = 0.0, 0.0, 0.0
        for g in range(n_comp):
            m[g], sd[g] = means[g, col], sds[g, col]
            m1 += w[g] * m[g]
            m2 += w[g] * (sd[g] * sd[g] + m[g] * m[g])
            spread = max(spread, 60.0 * sd[g])
        m_lo, m_hi = _min_max(m)
        lo, hi = m_lo - spread, m_hi + spread
        x = m1 + math.sqrt(max(m2 - m1 * m1, 1e-300)) * z_q
        if stride > 1:
            for j in range(n_thin):
                thin_w[j], thin_m[j], thin_sd[j] = w[j * stride] / thin_total, m[j * stride], sd[j * stride]
            n = _merge_equal(thin_w, thin_m, thin_sd, cw, cm, csd)
            x = _newton(q, cw, cm, csd, n, x, lo, hi)
        n = _merge_equal(w, m, sd, cw, cm, csd)
        out[col] = _newton(q, cw, cm, csd, n, x, lo, hi)
    return out


@numba.njit(cache=True, error_model="numpy")
def _polyval(x, c):  # pragma: no cover - compiled
    """``numpy.polynomial.polynomial.polyval`` for a scalar: Horner's scheme in the same order (same rounding)."""
    acc = c[-1] + x * 0.0
    for i in range(2, c.size + 1):
        acc = c[-i] + acc * x
    return acc


@numba.njit(cache=True, error_model="numpy")
def cell_quantile(mass, target):  # pragma: no cover - compiled
    """The point ``x`` in [-1, 1] where the polynomial ``mass`` (coefficients in increasing powers, increasing on
    [-1, 1], ``mass(-1) = 0``) reaches ``target``: safeguarded Newton on the polynomial, from the linear
    interpolation of ``target`` between the ends, until the step or the bracket is below 1e-15.

    The loop of :meth:`models.bayes.exact.ExactPosterior._tau_ppf` as it was written with numpy's ``polyval`` and
    ``polyder``, step for step (same arithmetic, same result), without their per-call overhead."""
    dens = np.empty(mass.size - 1)
    for j in range(mass.size - 1, 0, -1):
        dens[j - 1] = j * mass[j]
    whole = _polyval(1.0, mass)
    x = min(max(2.0 * target / whole - 1.0, -1.0), 1.0) if whole > 0 else 0.0
    lo, hi = -1.0, 1.0
    for _ in range(100):
        err = _polyval(x, mass) - target
        if err < 0:
            lo = x
        else:
            hi = x
        slope = _polyval(x, dens)
        step = x - err / slope if slope > 0 else lo
        new = step if lo < step < hi else 0.5 * (lo + hi)
        done = abs(new - x) <= 1e-15 or hi - lo <= 1e-15
        x = new
        if done:
            break
    return x


@numba.njit(cache=True, error_model="numpy")
def merged(w, m, sd):  # pragma: no cover - compiled
    """The mixture with runs of equal components merged (:func:`_merge_equal`), as three arrays."""
    cw, cm, csd = np.empty(w.size), np.empty(w.size), np.empty(w.size)
    n = _merge_equal(w, m, sd, cw, cm, csd)
    return cw[:n], cm[:n], csd[:n]


@numba.njit(cache=True, error_model="numpy")
def mixture_cdf(x, w, m, sd):  # pragma: no cover - compiled
    """The cdf at ``x`` of the normal mixture with weights ``w``, means ``m`` and SDs ``sd`` (1-D arrays)."""
    return _mixture_at(x, w, m, sd, w.size)[0]
