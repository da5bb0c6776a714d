"""Compiled kernels of step 2 (see :mod:`models.bayes.exact_binomial`): each study's likelihood curve convolved with
the normal distribution of its effect, ``log L_i(mu, tau) = log int L_i(t) N(t; mu + b_i, tau^2 + s_bi^2) dt``.
"""

import math

import numba
import numpy as np
from numpy.polynomial.hermite import hermgauss

_XT, _WT = hermgauss(16)  # Gauss-Hermite nodes of the convolution (and of the predictive's normal kernel)


@numba.njit(cache=True)
def _ell(coef, lo, h, ih, ext, i, t):  # pragma: no cover - compiled
    """The spline of l_i at t, continued by a quadratic outside its nodes (``ih = 1 / h``: a product, not a
    division, per evaluation)."""
    n = coef.shape[1] + 1
    u = (t - lo[i]) * ih[i]
    if u < 0.0:
        d = t - lo[i]
        return ext[i, 0] + d * (ext[i, 1] + 0.5 * d * ext[i, 2])
    if u > n - 1.0:
        d = t - (lo[i] + h[i] * (n - 1))
        return ext[i, 3] + d * (ext[i, 4] + 0.5 * d * ext[i, 5])
    j = min(int(u), n - 2)
    d = u - j
    return ((coef[i, j, 0] * d + coef[i, j, 1]) * d + coef[i, j, 2]) * d + coef[i, j, 3]


@numba.njit(parallel=True, cache=True)
def _log_conv(mu, tau2, coef, lo, h, ext, tmode, prec, bmean, bvar, xt, lwt):  # pragma: no cover - compiled
    """log L_i(mu_p, tau_p) for every point p and study i (shape (P, k)); see step 2 of the module doc. Divisions
    are kept out of the node loop (one reciprocal per study and point): this is the engine's innermost loop."""
    npt, k = mu.size, lo.size
    out = np.empty((npt, k))
    ih = 1.0 / h
    c2 = xt * xt + lwt  # the Gauss-Hermite weight and the e^{x^2} that undoes the rule's own weight function
    for p in numba.prange(npt):
        vals = np.empty(xt.size)
        for i in range(k):
            m = mu[p] + bmean[i]
            var = tau2[p] + bvar[i]
            if var <= 0.0:
                out[p, i] = _ell(coef, lo, h, ih, ext, i, m)
                continue
            # product of the kernel N(m, var) and the Gaussian approximation N(tmode, 1 / prec): precision
            # prec + 1 / var = (pv + 1) / var; its centre relative to m, d = c - m, is exact for any var (c - m by
            # subtraction cancels once s < ulp(m))
            pv = prec[i] * var
            d = pv * (tmode[i] - m) / (pv + 1.0)
            s = math.sqrt(2.0 * var / (pv + 1.0))
            half_iv = 0.5 / var
            top = -np.inf
            for q in range(xt.size):
                dq = d + s * xt[q]
                v = _ell(coef, lo, h, ih, ext, i, m + dq) - half_iv * dq * dq + c2[q]
                vals[q] = v
                top = max(top, v)
            acc = 0.0
            for q in range(xt.size):
                acc += math.exp(vals[q] - top)
            # log s - log sqrt(2 pi var) = -log(pi (pv + 1)) / 2
            out[p, i] = top + math.log(acc) - 0.5 * math.log(math.pi * (pv + 1.0))
    return out
