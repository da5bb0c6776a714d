"""Brent's root finder, step for step as R's ``uniroot`` (Forsythe, Malcolm & Moler's ``zeroin``).

metafor's Paule-Mandel estimator stops R's ``uniroot`` at its default tolerance ``eps^0.25`` (about 1.2e-4), so
the tau^2 it reports sits anywhere within that tolerance of the exact root. Reproducing metafor to 1e-6 therefore
needs the same iterates, not merely the same root; scipy's ``brentq`` takes different steps.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

EPS = sys.float_info.epsilon
R_UNIROOT_TOL = EPS**0.25


class RootNotFound(RuntimeError):
    """The iteration limit was reached before the bracket shrank below the tolerance."""


def zeroin(
    f: Callable[[float], float], lower: float, upper: float, tol: float = R_UNIROOT_TOL, maxiter: int = 1000
) -> float:
    """Root of ``f`` in ``[lower, upper]`` (``f(lower)`` and ``f(upper)`` of opposite sign), as R ``uniroot``."""
    a, b = lower, upper
    fa, fb = f(a), f(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if fa * fb > 0:
        raise ValueError(f"f(lower) = {fa} and f(upper) = {fb} have the same sign")
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    raise RootNotFound(f"no root within tolerance {tol} after {maxiter} iterations")
