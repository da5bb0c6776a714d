"""Compiled kernels of step 1 (see :mod:`models.bayes.exact_binomial`): one study's log likelihood ``l(t) = log L(t)``
of its log-OR ``t`` with the baseline log-odds ``a`` integrated out, the search for its level set, and the
not-a-knot cubic spline through its nodes.

``L(t) = int Bin(e_c | n_c, expit(a + o_c)) Bin(e_t | n_t, expit(a + o_t)) N(a; 0, sa^2) da`` with the arm offsets
``(o_c, o_t) = (-t/2, t/2)`` (symmetric) or ``(0, t)`` (control); binomial coefficients included.
"""

import math

import numba
import numpy as np


@numba.njit(cache=True)
def _log_lik_const(et, nt, ec, nc, sa):  # pragma: no cover - compiled
    """The t-free part of log L(t): log binomial coefficients and the normalising constant of a's prior."""
    return (
        math.lgamma(nt + 1.0)
        - math.lgamma(et + 1.0)
        - math.lgamma(nt - et + 1.0)
        + math.lgamma(nc + 1.0)
        - math.lgamma(ec + 1.0)
        - math.lgamma(nc - ec + 1.0)
        - math.log(sa)
        - 0.5 * math.log(2.0 * math.pi)
    )


@numba.njit(cache=True)
def _mode_a(t, a, et, nt, ec, nc, sa, control):  # pragma: no cover - compiled
    """The mode in a of the log-concave integrand of l(t), by Newton steps from the guess ``a``, safeguarded: the
    gradient is decreasing in a, so every evaluation narrows a bracket of the mode, and a step leaving it bisects
    instead (plain Newton can cycle between saturated tails from a cold start, leaving a off the mode). Returns the
    mode, the curvature there (minus the second derivative) and the mode's slope ``da/dt``, which predicts the mode
    at a nearby t (a good guess saves most of the steps; the mode found is the same to the tolerance)."""
    cc, ct = (0.0, 1.0) if control else (-0.5, 0.5)  # arm offsets oc = cc t, ot = ct t
    oc, ot = cc * t, ct * t
    ivar = 1.0 / (sa * sa)
    lo_a, hi_a = -np.inf, np.inf
    for _ in range(200):
        pc = 1.0 / (1.0 + math.exp(-(a + oc)))
        pt = 1.0 / (1.0 + math.exp(-(a + ot)))
        g1 = ec - nc * pc + et - nt * pt - a * ivar
        h2 = nc * pc * (1.0 - pc) + nt * pt * (1.0 - pt) + ivar
        if g1 > 0.0:
            lo_a = a
        else:
            hi_a = a
        step = min(max(g1 / h2, -5.0), 5.0)
        new = a + step
        if not (lo_a < new < hi_a) and math.isfinite(lo_a) and math.isfinite(hi_a):
            new = 0.5 * (lo_a + hi_a)
        step = new - a
        a = new
        if abs(step) < 1e-12 * (1.0 + abs(a)):
            break
    pc = 1.0 / (1.0 + math.exp(-(a + oc)))
    pt = 1.0 / (1.0 + math.exp(-(a + ot)))
    vc, vt = nc * pc * (1.0 - pc), nt * pt * (1.0 - pt)
    h2 = vc + vt + ivar
    return a, h2, -(cc * vc + ct * vt) / h2


@numba.njit(cache=True)
def _log_lik_at(t, a, h2, et, nt, ec, nc, sa, control, xa, lwa, lconst, work):  # pragma: no cover - compiled
    """log L(t) by Gauss-Hermite over a centred at the mode ``a`` and scaled by the curvature ``h2`` there (module
    doc, step 1). At each node a + z_q (z_q = sqrt(2) x_q / sqrt(h2)) both arms need log expit(+/-x) for
    x = a + offset + z_q, i.e. |x| and log1p(exp(-|x|)); exp(-|x|) is formed as exp(-/+(a + offset)) exp(-/+z_q)
    (the rule's nodes are symmetric): 4 + 12 exponentials per t instead of 48, a few ulp each. ``work`` is scratch
    space of shape (3, size of the rule)."""
    nq = xa.size
    oc, ot = (0.0, t) if control else (-0.5 * t, 0.5 * t)
    c = math.sqrt(2.0) / math.sqrt(h2)
    bc, bt = a + oc, a + ot
    emc, epc, emt, ept = math.exp(-bc), math.exp(bc), math.exp(-bt), math.exp(bt)
    em, ep, vals = work[0], work[1], work[2]
    for q in range((nq + 1) // 2):  # em = exp(-z), ep = exp(z); x_{nq-1-q} = -x_q
        em[q] = math.exp(-c * xa[q])
        ep[q] = 1.0 / em[q]
        em[nq - 1 - q], ep[nq - 1 - q] = ep[q], em[q]
    half_iv = 0.5 / (sa * sa)
    top = -np.inf
    for q in range(nq):
        z = c * xa[q]
        xc, xt = bc + z, bt + z
        l1c = math.log1p(emc * em[q] if xc >= 0.0 else epc * ep[q])  # log1p(exp(-|xc|))
        l1t = math.log1p(emt * em[q] if xt >= 0.0 else ept * ep[q])
        lc, lnc = min(xc, 0.0) - l1c, min(-xc, 0.0) - l1c
        lt, lnt = min(xt, 0.0) - l1t, min(-xt, 0.0) - l1t
        aq = a + z
        g = ec * lc + (nc - ec) * lnc + et * lt + (nt - et) * lnt - half_iv * aq * aq + xa[q] * xa[q] + lwa[q]
        vals[q] = g
        top = max(top, g)
    acc = 0.0
    for q in range(nq):
        acc += math.exp(vals[q] - top)
    return top + math.log(acc) + math.log(c) + lconst


@numba.njit(cache=True)
def _log_lik_t(t, a0, et, nt, ec, nc, sa, control, xa, lwa):  # pragma: no cover - compiled
    """log L(t) at each t for one study (module doc, step 1). The mode in a at t[0] is searched from the guess
    ``a0``, each later one from the previous mode moved along its slope."""
    out = np.empty(t.size)
    work = np.empty((3, xa.size))
    lconst = _log_lik_const(et, nt, ec, nc, sa)
    a, slope = a0, 0.0
    for j in range(t.size):
        guess = a if j == 0 else a + slope * (t[j] - t[j - 1])
        a, h2, slope = _mode_a(t[j], guess, et, nt, ec, nc, sa, control)
        out[j] = _log_lik_at(t[j], a, h2, et, nt, ec, nc, sa, control, xa, lwa, lconst, work)
    return out


@numba.njit(cache=True)
def _grid_l(
    j, t, ell, modes, slopes, a_start, et, nt, ec, nc, sa, control, xa, lwa, lconst, work
):  # pragma: no cover - compiled
    """l at the grid point ``t[j]``, evaluated once (``ell`` holds NaN where not yet evaluated): the mode in a is
    searched from the nearest point already evaluated, moved along its slope (from ``a_start`` at the first)."""
    if np.isnan(ell[j]):
        near = -1
        for i in range(t.size):
            if not np.isnan(ell[i]) and (near < 0 or abs(t[i] - t[j]) < abs(t[near] - t[j])):
                near = i
        guess = a_start if near < 0 else modes[near] + slopes[near] * (t[j] - t[near])
        am, h2, slope = _mode_a(t[j], guess, et, nt, ec, nc, sa, control)
        modes[j], slopes[j] = am, slope
        ell[j] = _log_lik_at(t[j], am, h2, et, nt, ec, nc, sa, control, xa, lwa, lconst, work)
    return ell[j]


@numba.njit(cache=True)
def _level_set(t, start, a_start, drop, et, nt, ec, nc, sa, control, xa, lwa):  # pragma: no cover - compiled
    """Index of the grid's maximum of l, and the first and last index of the points of the grid t where
    l(t) >= max l - drop, as a full evaluation of the grid gives, from a few evaluations of l: l is concave (module
    doc), so the grid's maximum is reached by climbing from index ``start``, and on each side of it l is monotone,
    so the last point at or above the level is found by bisection. About 2 log2(N) + (climb) evaluations instead
    of N (:func:`_grid_l`, the first mode searched from ``a_start``). Also returns the modes at the maximum and at
    the grid point before the first index (where the next grid starts)."""
    n = t.size
    ell = np.full(n, np.nan)
    modes, slopes = np.empty(n), np.empty(n)
    work = np.empty((3, xa.size))
    lconst = _log_lik_const(et, nt, ec, nc, sa)

    def at(j):
        return _grid_l(j, t, ell, modes, slopes, a_start, et, nt, ec, nc, sa, control, xa, lwa, lconst, work)

    j = min(max(start, 0), n - 1)
    step = 1 if j + 1 < n and at(j + 1) > at(j) else -1
    while 0 <= j + step < n and at(j + step) > at(j):
        j += step
    level = at(j) - drop
    a, b = 0, j  # first index at or above the level lies in [a, b], l increasing there
    if at(np.int64(0)) >= level:  # not a literal 0: that would compile _grid_l a second time, for Literal[int](0)
        b = 0
    while b - a > 1:
        m = (a + b) // 2
        if at(m) >= level:
            b = m
        else:
            a = m
    first = b
    at(max(first - 1, 0))  # evaluated already unless the bisection did not run: the next grid starts there
    a, b = j, n - 1  # last index at or above the level lies in [a, b], l decreasing there
    if at(n - 1) >= level:
        a = n - 1
    while b - a > 1:
        m = (a + b) // 2
        if at(m) >= level:
            a = m
        else:
            b = m
    return j, first, a, modes[j], modes[max(first - 1, 0)]


@numba.njit(cache=True)
def _linspace(lo, hi, n):  # pragma: no cover - compiled
    """``np.linspace(lo, hi, n)`` as numpy computes it: ``lo + i * step``, the last node ``hi`` itself."""
    out = np.empty(n)
    step = (hi - lo) / (n - 1)
    for i in range(n):
        out[i] = lo + i * step
    out[n - 1] = hi
    return out


@numba.njit(cache=True)
def _curve_nodes(et, nt, ec, nc, sa, control, xa, lwa, t_max, drop, n_t):  # pragma: no cover - compiled
    """The n_t spline nodes of l(t) and l there (module doc, step 1): the level set ``l >= max - drop`` on the
    coarse grid of 81 points over ``|t| <= t_max``, refined on n_t / 2 points over it and its two neighbours, and
    n_t points over the refined level set and its neighbours. Each grid's climb starts at the previous maximum; the
    modes in a are carried from grid to grid."""
    t = _linspace(-t_max, t_max, np.int64(81))  # int64, not Literal[int](81): one compilation of _linspace
    peak, a_peak, a_lo = t.size // 2, 0.0, 0.0
    for size in (n_t // 2, n_t):
        top, first, last, a_peak, a_lo = _level_set(t, peak, a_peak, drop, et, nt, ec, nc, sa, control, xa, lwa)
        lo, hi = t[max(first - 1, 0)], t[min(last + 1, t.size - 1)]
        peak = int(np.rint((t[top] - lo) / (hi - lo) * (size - 1))) if hi > lo else 0
        t = _linspace(lo, hi, size)
    return t, _log_lik_t(t, a_lo, et, nt, ec, nc, sa, control, xa, lwa)


@numba.njit(cache=True)
def _curve_fit(t, ell):  # pragma: no cover - compiled
    """The spline of l through its nodes ``(t, ell)``: cubic coefficients (N - 1, 4), the quadratic ends (value,
    slope and non-positive curvature at each end), and the Gaussian approximation (mode by the parabola through
    the largest node and its neighbours; variance the largest of minus the inverse curvature there, the square of
    half the half-width of the drop-2 set, and (h/2)^2; precision 0 when the largest node is an end)."""
    n = t.size
    h = t[1] - t[0]
    c = _spline_coef(ell.reshape(1, n))[0]  # (4, n - 1)
    coef = np.empty((n - 1, 4))
    for i in range(n - 1):
        for m in range(4):
            coef[i, m] = c[m, i]
    ext = np.empty(6)
    ext[0], ext[1], ext[2] = ell[0], c[2, 0] / h, min(2.0 * c[1, 0], 0.0) / (h * h)
    ext[3], ext[4] = ell[n - 1], (3 * c[0, n - 2] + 2 * c[1, n - 2] + c[2, n - 2]) / h
    ext[5] = min(6 * c[0, n - 2] + 2 * c[1, n - 2], 0.0) / (h * h)
    j = 0
    for i in range(n):
        if ell[i] > ell[j]:
            j = i
    mode, prec = 0.0, 0.0
    if 0 < j < n - 1:
        curv = (ell[j - 1] - 2 * ell[j] + ell[j + 1]) / (h * h)
        shift = 0.5 * (ell[j - 1] - ell[j + 1]) / (ell[j - 1] - 2 * ell[j] + ell[j + 1])
        mode = t[j] + shift * h
        first, last = n, -1  # the first and last node within 2 of the largest
        for i in range(n):
            if ell[i] >= ell[j] - 2.0:
                first, last = min(first, i), i
        half = max(mode - t[first], t[last] - mode) / 2.0
        var = max(-1.0 / curv if curv < 0 else 0.0, half * half, (h / 2.0) * (h / 2.0))
        prec = 1.0 / var
    return coef, ext, mode, prec


@numba.njit(cache=True)
def _spline_coef(y):  # pragma: no cover - compiled
    """Coefficients (R, 4, N-1) of the not-a-knot cubic splines through the rows of y on the nodes 0, 1, ..., N-1
    (N >= 4), as ``scipy.interpolate.CubicSpline(arange(N), y, axis=1).c`` with its axes moved: the slopes solve
    the same tridiagonal system (by elimination without pivoting, stable here: after the first row every pivot
    exceeds 2), then the Hermite form. Building a scipy spline costs about 100 microseconds, this a few."""
    r_n, n = y.shape
    out = np.empty((r_n, 4, n - 1))
    diag, rhs, s = np.empty(n), np.empty(n), np.empty(n)
    for r in range(r_n):
        # rows: [1, 2] (not-a-knot), [1, 4, 1] ..., [2, 1] (not-a-knot); upper/lower entries 2 at the ends
        d0 = y[r, 1] - y[r, 0]
        d1 = y[r, 2] - y[r, 1]
        diag[0], rhs[0] = 1.0, (5.0 * d0 + d1) / 2.0
        up = 2.0  # upper entry of row 0
        for i in range(1, n - 1):
            m = 1.0 / diag[i - 1]  # lower entry over the pivot above
            diag[i] = 4.0 - m * up
            rhs[i] = 3.0 * ((y[r, i] - y[r, i - 1]) + (y[r, i + 1] - y[r, i])) - m * rhs[i - 1]
            up = 1.0
        m = 2.0 / diag[n - 2]
        diag[n - 1] = 1.0 - m * up
        rhs[n - 1] = ((y[r, n - 2] - y[r, n - 3]) + 5.0 * (y[r, n - 1] - y[r, n - 2])) / 2.0 - m * rhs[n - 2]
        s[n - 1] = rhs[n - 1] / diag[n - 1]
        for i in range(n - 2, -1, -1):
            s[i] = (rhs[i] - (2.0 if i == 0 else 1.0) * s[i + 1]) / diag[i]
        for i in range(n - 1):
            slope = y[r, i + 1] - y[r, i]
            t = s[i] + s[i + 1] - 2.0 * slope
            out[r, 0, i] = t
            out[r, 1, i] = slope - s[i] - t
            out[r, 2, i] = s[i]
            out[r, 3, i] = y[r, i]
    return out
