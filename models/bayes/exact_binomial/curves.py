"""Per-study likelihood curves (step 1 of :mod:`models.bayes.exact_binomial`), built by the compiled kernels and
cached by the study's counts, baseline SD and parametrisation: re-using a study costs nothing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite import hermgauss

from models.bayes.exact_binomial.kernels import _curve_fit, _curve_nodes

_N_T = 128  # spline nodes of l_i(t) per study
_T_MAX = 40.0  # |t| (log-OR) covered by the coarse pass
_T_DROP = 60.0  # l_i(t) tabulated where it is within this of its maximum
_XA, _WA = hermgauss(24)  # Gauss-Hermite over the baseline log-odds a
_LWA = np.log(_WA)


# -- per-study likelihood curves ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Curve:
    """l(t) = log L(t) of one study: spline nodes lo + h * j (j < _N_T), cubic coefficients, quadratic ends, and the
    Gaussian approximation (mode, precision; precision 0 when l has no interior maximum)."""

    lo: float
    h: float
    coef: np.ndarray
    ext: np.ndarray
    mode: float
    prec: float


_CACHE: dict[tuple[int, int, int, int, float, str], _Curve] = {}


def _curve(key: tuple[int, int, int, int, float, str]) -> _Curve:
    """The curve of one study, key ``(e_t, n_t, e_c, n_c, baseline_sd, parametrisation)``, from the cache or built
    by two compiled calls (nodes, then spline)."""
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    et, nt, ec, nc, sa, par = key
    t, ell = _curve_nodes(
        float(et), float(nt), float(ec), float(nc), float(sa), par == "control", _XA, _LWA, _T_MAX, _T_DROP, _N_T
    )
    coef, ext, mode, prec = _curve_fit(t, ell)
    out = _Curve(float(t[0]), float(t[1] - t[0]), coef, ext, float(mode), float(prec))
    _CACHE[key] = out
    return out


def clear_cache() -> None:
    """Forget the cached per-study likelihood curves."""
    _CACHE.clear()
