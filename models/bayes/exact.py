"""Exact posterior of the normal-normal random-effects model by one-dimensional quadrature over tau.

Model (effects on the analysis scale: log-OR/log-RR, RD, MD or SMD)::

    y_i ~ Normal(theta_i, v_i)        v_i known within-study variances
    theta_i ~ Normal(mu, tau^2)
    mu ~ Normal(m0, s0^2)             an EffectPrior
    tau ~ TauPrior

Given tau, mu is conjugate normal, so the joint posterior is a continuous mixture over tau of normals; only the
one-dimensional marginal posterior of tau needs numerical integration (as in R's bayesmeta, Röver 2020, J Stat Softw
93(6)). The result serves as the test oracle for the MCMC models and as a fast engine for prior-sensitivity sweeps.

Quadrature grid. The integration variable is ``s = log(tau)``: this stretches a tau posterior piled up near 0 (whose
density in ``s`` then decays like ``exp(s)``) and compresses heavy right tails such as the HalfCauchy's (density in
``s`` decaying like ``exp(-(k+1) s)`` at worst). The limits are adaptive: a coarse pass (step 0.05 in ``s``) starting
from the scale of the within-study SEs and of the prior is widened until the log density in ``s`` at both ends is 40
below its maximum, then trimmed to the region above that level. On that interval ``grid_size`` equally spaced points
carry a trapezoid rule, which for an integrand analytic in a strip around the real axis and negligible at both ends
converges geometrically (error of order ``exp(-pi^2 / h)`` for step ``h``), so posterior means, probabilities and
mixture quantiles of mu are accurate far beyond 1e-4. Partial integrals of the tau density (its cdf and quantiles)
use Gauss-Legendre instead, because the trapezoid rule is only second-order on a sub-interval: 8 nodes on each cell
of 8 grid steps (one density evaluation per grid point; cells are a small fraction of the posterior's width, where
the 8-node rule is exact to rounding; 5 nodes on every single step gave the same cdf within 1e-13 at five times the
cost). A quantile inverts, inside its cell, the polynomial through the density at the cell's nodes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
from numpy.polynomial import polynomial as npoly
from numpy.polynomial.legendre import leggauss
from scipy import special

from models.bayes import normal_kernels
from models.bayes.posterior import Posterior, check_measure, hdi_from_ppf
from models.priors import EffectPrior, TauPrior

_DROP = 40.0  # log-density drop (in s = log tau) at which the grid is cut: mass beyond is of order exp(-40)
_COARSE_STEP = 0.05
_S_MIN, _S_MAX = -300.0, 120.0
_CELL_STEPS = 8  # grid steps per cell of the tau distribution function
_THIN_STEP = 0.2  # step in s of the thinned mixture that starts a quantile search (exact to many digits)
_GL_X, _GL_W = leggauss(_CELL_STEPS)  # one Gauss-Legendre node per grid step
# Column q: coefficients (increasing powers of x) of int_{-1}^x l_q(y) dy, l_q the Lagrange polynomial of node q
_GL_PARTIAL = npoly.polyint(np.linalg.inv(np.vander(_GL_X, _GL_X.size, increasing=True)), lbnd=-1.0)


def normal_given_tau(
    tau: np.ndarray, y: np.ndarray, v: np.ndarray, m0: float, s0sq: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For effects ``y`` with variances ``v + tau^2`` and ``mu ~ N(m0, s0sq)``: ``log p(y | tau)`` (mu integrated
    out) without the ``-k/2 log(2 pi)`` term, and the posterior mean and SD of mu given tau, at each tau (the
    compiled :func:`models.bayes.normal_kernels.normal_loglik` on contiguous float arrays)."""
    return normal_kernels.normal_loglik(
        np.ascontiguousarray(tau, dtype=float), np.ascontiguousarray(y, dtype=float),
        np.ascontiguousarray(v, dtype=float), float(m0), float(s0sq),
    )  # fmt: skip


def mixture_ppf(q: float, w: np.ndarray, means: np.ndarray, sds: np.ndarray, stride: int = 1) -> np.ndarray:
    """Quantile ``q`` of normal mixtures, one per column of ``means``/``sds`` (shape (G, n)), weights ``w`` (G,)
    summing to 1: safeguarded Newton on the exact mixture cdf (:func:`models.bayes.normal_kernels.mixture_quantiles`;
    the level is met to about 1e-15). ``stride > 1``: the search starts from the quantile of the mixture thinned to
    every ``stride``-th component, for weights of a smooth density on an equally spaced grid."""
    return normal_kernels.mixture_quantiles(
        float(q), float(special.ndtri(q)), np.ascontiguousarray(w, dtype=float),
        np.ascontiguousarray(means, dtype=float), np.ascontiguousarray(sds, dtype=float), int(stride),
    )  # fmt: skip


def mixture_pdf(x: float, w: np.ndarray, means: np.ndarray, sds: np.ndarray) -> float:
    """Density at ``x`` of the normal mixture with weights ``w`` (summing to 1), means and SDs."""
    z = (x - means) / sds
    return float(np.sum(w * np.exp(-0.5 * z * z) / sds) / math.sqrt(2.0 * math.pi))


class ExactPosterior(Posterior):
    """The normal-normal posterior on a quadrature grid over tau, with the query methods of :class:`Posterior`.

    Distribution functions of mu, of a new study's effect and of the shrunken study effects are exact normal
    mixtures over the tau grid (quantiles by root finding); tau's cdf and quantiles come from Gauss-Legendre cell
    integrals. The absolute-effect methods are exact when ``baseline_risk`` is a number (ARR is monotone in mu);
    only :meth:`arr` itself returns draws, ``n_draws`` of them simulated from the exact posterior with a Generator
    seeded by ``seed``.

    ``log_evidence`` is the log marginal likelihood ``log p(y)`` under the two priors (for Bayes factors between
    prior settings). Build with :func:`exact_normal_normal` or :func:`exact_from_effects`.
    """

    def __init__(
        self,
        yi: np.ndarray,
        vi: np.ndarray,
        study: tuple[str, ...],
        tau_prior: TauPrior,
        effect_prior: EffectPrior,
        measure: str,
        grid_size: int,
        n_draws: int,
        seed: int,
    ) -> None:
        self.yi, self.vi, self.study = yi, vi, study
        self.tau_prior, self.effect_prior = tau_prior, effect_prior
        self.measure = check_measure(measure)
        self.n_draws, self.seed = n_draws, seed
        s = self._grid(grid_size)
        lf, m, sd = self._log_density_s(s)
        top = float(np.max(lf))
        h = s[1] - s[0]
        trap = np.full(s.size, h)
        trap[[0, -1]] = h / 2.0
        w = np.exp(lf - top) * trap
        z = float(np.sum(w))
        self._s = s
        self._w = w / z
        self._m = m
        self._sd = sd
        self._lf_top = top
        self.log_evidence: float = top + math.log(z)

    # -- the integrand -------------------------------------------------------------------------------------------

    def _log_density_s(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log of p(y | tau) p(tau) tau at tau = exp(s) (the joint density of y and s), with the conditional
        posterior mean and SD of mu given tau."""
        tau = np.exp(s)
        m0, s0sq = float(self.effect_prior.mean), float(self.effect_prior.sd**2)
        ll, mean, sd = normal_given_tau(tau, self.yi, self.vi, m0, s0sq)
        loglik = -0.5 * self.yi.size * math.log(2.0 * math.pi) + ll
        with np.errstate(invalid="ignore"):
            lf = self.tau_prior.logpdf(tau) + s + loglik
        lf = np.where(np.isnan(lf), -np.inf, lf)
        return lf, mean, sd

    def _grid(self, grid_size: int) -> np.ndarray:
        """Equally spaced points in s = log(tau) covering all but ~exp(-40) of the posterior (module docstring)."""
        prior_mid = self.tau_prior.median()
        se = np.sqrt(self.vi)
        ref_lo = min(float(np.min(se)), prior_mid)
        ref_hi = max(float(np.max(se)), float(np.std(self.yi)), prior_mid)
        lo, hi = math.log(ref_lo) - 14.0, math.log(ref_hi) + 9.0
        while True:
            s = np.linspace(lo, hi, int(math.ceil((hi - lo) / _COARSE_STEP)) + 1)
            lf = self._log_density_s(s)[0]
            top = float(np.max(lf))
            if not math.isfinite(top):
                raise ValueError("the posterior density of tau is zero or infinite everywhere on the grid")
            grow_lo = lf[0] > top - _DROP and lo > _S_MIN
            grow_hi = lf[-1] > top - _DROP
            if grow_hi and hi >= _S_MAX:
                raise ValueError(
                    f"the tau posterior does not decay before tau = {math.exp(_S_MAX):.3g}; check the priors and vi"
                )
            if not (grow_lo or grow_hi):
                break
            lo = max(lo - 15.0, _S_MIN) if grow_lo else lo
            hi = hi + 15.0 if grow_hi else hi
        keep = np.flatnonzero(lf > top - _DROP)
        i0, i1 = max(keep[0] - 1, 0), min(keep[-1] + 1, s.size - 1)
        return np.linspace(s[i0], s[i1], grid_size)

    # -- mu and the new-study effect: normal mixtures over the grid ----------------------------------------------

    @cached_property
    def _stride(self) -> int:
        """Thinning of the mixtures over the grid that starts their quantile searches (every ``stride``-th node,
        a trapezoid rule of step about ``_THIN_STEP`` in s)."""
        return max(1, int(_THIN_STEP / (self._s[1] - self._s[0])))

    @cached_property
    def _mu_mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The posterior of mu as a normal mixture, equal components merged (weights, means, SDs)."""
        return normal_kernels.merged(self._w, self._m, self._sd)

    def _mu_cdf(self, x: float) -> float:
        return float(normal_kernels.mixture_cdf(float(x), *self._mu_mixture))

    def _mu_ppf(self, q: float) -> float:
        return float(mixture_ppf(q, self._w, self._m[:, None], self._sd[:, None], self._stride)[0])

    def _mu_pdf(self, x: float) -> float:
        return mixture_pdf(float(x), *self._mu_mixture)

    def _mu_hdi(self, prob: float) -> tuple[float, float]:
        return hdi_from_ppf(self._mu_ppf, prob)

    @cached_property
    def _pred_sd(self) -> np.ndarray:
        return np.sqrt(self._sd**2 + self.tau_grid**2)

    @cached_property
    def _pred_mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The new study's effect as a normal mixture, equal components merged (weights, means, SDs)."""
        return normal_kernels.merged(self._w, self._m, self._pred_sd)

    def _pred_cdf(self, x: float) -> float:
        return float(normal_kernels.mixture_cdf(float(x), *self._pred_mixture))

    def _pred_ppf(self, q: float) -> float:
        return float(mixture_ppf(q, self._w, self._m[:, None], self._pred_sd[:, None], self._stride)[0])

    def _pred_pdf(self, x: float) -> float:
        return mixture_pdf(float(x), *self._pred_mixture)

    def _pred_hdi(self, prob: float) -> tuple[float, float]:
        return hdi_from_ppf(self._pred_ppf, prob)

    def log_mean(self) -> float:
        """Posterior mean of mu on the analysis scale."""
        return float(np.sum(self._w * self._m))

    def log_sd(self) -> float:
        """Posterior SD of mu on the analysis scale."""
        mean = self.log_mean()
        return float(math.sqrt(np.sum(self._w * (self._sd**2 + (self._m - mean) ** 2))))

    def _ratio_mean(self) -> float:
        return float(np.sum(self._w * np.exp(self._m + 0.5 * self._sd**2)))

    # -- shrunken study effects ----------------------------------------------------------------------------------

    @cached_property
    def _theta_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Per grid point and study: mean and SD of theta_i given tau and y (mu integrated out)."""
        b = self.vi[None, :] / (self.vi[None, :] + self.tau_grid[:, None] ** 2)  # weight on mu
        mean = (1.0 - b) * self.yi[None, :] + b * self._m[:, None]
        sd = np.sqrt(self.vi[None, :] * (1.0 - b) + b**2 * self._sd[:, None] ** 2)
        return mean, sd

    def _theta_ppf(self, q: float) -> np.ndarray:
        mean, sd = self._theta_moments
        return mixture_ppf(q, self._w, mean, sd, self._stride)

    def _theta_cdf(self, i: int, x: float) -> float:
        mean, sd = self._theta_moments
        return float(normal_kernels.mixture_cdf(float(x), self._w, np.ascontiguousarray(mean[:, i]),
                                                np.ascontiguousarray(sd[:, i])))  # fmt: skip

    def _theta_pdf(self, i: int, x: float) -> float:
        mean, sd = self._theta_moments
        return mixture_pdf(float(x), self._w, mean[:, i], sd[:, i])

    def _study_labels(self) -> tuple[str, ...]:
        return self.study

    # -- tau -----------------------------------------------------------------------------------------------------

    @property
    def tau_grid(self) -> np.ndarray:
        """The quadrature nodes in tau (equally spaced in log tau)."""
        return np.exp(self._s)

    @property
    def tau_weights(self) -> np.ndarray:
        """Normalised quadrature weights of the nodes (sum to 1): the discretised posterior of tau."""
        return self._w.copy()

    def tau_mean(self) -> float:
        """Posterior mean of tau."""
        return float(np.sum(self._w * self.tau_grid))

    def _cell_values(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The (unnormalised) density of s at the Gauss-Legendre nodes of each interval [a, b], shape (n, nodes)."""
        mid, half = (a + b) / 2.0, (b - a) / 2.0
        nodes = (mid[:, None] + half[:, None] * _GL_X[None, :]).ravel()
        return np.exp(self._log_density_s(nodes)[0] - self._lf_top).reshape(mid.size, _GL_X.size)

    @cached_property
    def _tau_edges(self) -> np.ndarray:
        """Cell edges of the tau distribution function: every ``_CELL_STEPS``-th grid point and the last one."""
        idx = np.arange(0, self._s.size, _CELL_STEPS)
        return self._s[idx] if idx[-1] == self._s.size - 1 else np.append(self._s[idx], self._s[-1])

    @cached_property
    def _tau_cells(self) -> np.ndarray:
        """The density of s at the Gauss-Legendre nodes of every cell (kept for the quantiles)."""
        return self._cell_values(self._tau_edges[:-1], self._tau_edges[1:])

    @cached_property
    def _tau_cum(self) -> np.ndarray:
        edges = self._tau_edges
        cells = (edges[1:] - edges[:-1]) / 2.0 * (self._tau_cells @ _GL_W)
        return np.concatenate([[0.0], np.cumsum(cells)])

    def _tau_cdf_s(self, s: float) -> float:
        edges = self._tau_edges
        if s <= edges[0]:
            return 0.0
        if s >= edges[-1]:
            return 1.0
        return self._tau_cdf_pdf_s(s)[0]

    def _tau_cdf_pdf_s(self, s: float) -> tuple[float, float]:
        """The cdf and density of s = log tau at a point inside the grid (one density evaluation of 9 points)."""
        cum, edges = self._tau_cum, self._tau_edges
        j = int(np.clip(np.searchsorted(edges, s, side="right") - 1, 0, edges.size - 2))
        half = (s - edges[j]) / 2.0
        nodes = np.append(edges[j] + half * (_GL_X + 1.0), s)
        f = np.exp(self._log_density_s(nodes)[0] - self._lf_top)
        return float((cum[j] + half * (f[:-1] @ _GL_W)) / cum[-1]), float(f[-1] / cum[-1])

    def _tau_cdf(self, t: float) -> float:
        return 0.0 if t <= 0 else self._tau_cdf_s(math.log(t))

    def _tau_pdf(self, t: float) -> float:
        """Density of tau: the density of s = log tau over tau (0 outside the grid, where the mass is below
        exp(-40) of the maximum)."""
        if t <= 0:
            return 0.0
        s = math.log(t)
        if not self._tau_edges[0] < s < self._tau_edges[-1]:
            return 0.0
        return self._tau_cdf_pdf_s(s)[1] / t

    def _tau_ppf(self, q: float) -> float:
        """Quantile of tau: the cell holding level q, then inside it the mass of the polynomial through the density
        at the cell's Gauss-Legendre nodes (the values behind the cell integrals: its integral over the whole cell
        is the Gauss-Legendre rule itself), inverted by safeguarded Newton steps (within about 1e-10 of the
        level), then one Newton step on the exact cdf. One density evaluation instead of a root search over a
        dozen; it inverts :meth:`_tau_cdf` to rounding."""
        cum, edges = self._tau_cum, self._tau_edges
        j = int(np.clip(np.searchsorted(cum / cum[-1], q) - 1, 0, edges.size - 2))
        mass = _GL_PARTIAL @ self._tau_cells[j]  # mass over [edge_j, x] in units of half the cell, x in [-1, 1]
        half = float(edges[j + 1] - edges[j]) / 2.0
        x = normal_kernels.cell_quantile(mass, float((q * cum[-1] - cum[j]) / half))
        s = float(edges[j]) + (x + 1.0) * half
        cdf, pdf = self._tau_cdf_pdf_s(s)  # one Newton step on the exact cdf removes the interpolation error
        if pdf > 0:
            s = min(max(s - (cdf - q) / pdf, float(edges[j])), float(edges[j + 1]))
        return math.exp(s)

    def _tau_hdi(self, prob: float) -> tuple[float, float]:
        return hdi_from_ppf(self._tau_ppf, prob)

    # -- draws for absolute effects ------------------------------------------------------------------------------

    @cached_property
    def _draws(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        idx = rng.choice(self._s.size, size=self.n_draws, p=self._w)
        mu = self._m[idx] + self._sd[idx] * rng.standard_normal(self.n_draws)
        return mu, self.tau_grid[idx]

    def _mu_draws(self) -> np.ndarray:
        return self._draws[0]

    def draws(self) -> dict[str, np.ndarray]:
        """``n_draws`` joint draws of ``mu`` (analysis scale) and ``tau`` from the exact posterior (seeded)."""
        mu, tau = self._draws
        return {"mu": mu.copy(), "tau": tau.copy()}

    def __repr__(self) -> str:
        return (
            f"ExactPosterior(k={self.yi.size}, measure={self.measure!r}, tau_prior={self.tau_prior.key!r}, "
            f"effect_prior={self.effect_prior.key!r}, grid_size={self._s.size})"
        )


def _validated(
    yi: Sequence[float] | np.ndarray, vi: Sequence[float] | np.ndarray, study: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.size == 0:
        raise ValueError("yi is empty: the normal-normal model needs at least one study")
    if v.size != y.size:
        raise ValueError(f"yi has {y.size} values but vi has {v.size}")
    labels = tuple(f"study {i + 1}" for i in range(y.size)) if study is None else tuple(str(s) for s in study)
    if len(labels) != y.size:
        raise ValueError(f"study has {len(labels)} labels for {y.size} effects")
    if len(set(labels)) != len(labels):
        raise ValueError("study labels must be unique")
    for name, arr in (("yi", y), ("vi", v)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(f"{name} is not finite for study {labels[int(np.argmax(bad))]!r}")
    if (v <= 0).any():
        i = int(np.argmax(v <= 0))
        raise ValueError(f"vi must be positive; study {labels[i]!r} has vi = {v[i]:g}")
    return y, v, labels


def exact_normal_normal(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    *,
    study: Sequence[str] | None = None,
    measure: str = "OR",
    grid_size: int = 2000,
    n_draws: int = 200_000,
    seed: int = 0,
) -> ExactPosterior:
    """Exact posterior of the normal-normal random-effects model.

    Parameters
    ----------
    yi, vi : array-like
        Study effect estimates and their within-study variances, on the analysis scale (log-OR/log-RR for OR/RR).
    tau_prior, effect_prior : TauPrior, EffectPrior
        Priors on tau and on mu (same scale as ``yi``).
    study : sequence of str, optional
        Study labels (default ``"study 1"``, ...); used by :meth:`ExactPosterior.shrunken`.
    measure : str
        ``OR``, ``RR``, ``RD``, ``MD`` or ``SMD``; decides the reported scale of thresholds and intervals.
    grid_size : int
        Number of quadrature nodes in log tau (at least 200; see the module docstring).
    n_draws, seed : int
        Size and seed of the simulated draws behind :meth:`ExactPosterior.arr`.
    """
    y, v, labels = _validated(yi, vi, study)
    if not isinstance(tau_prior, TauPrior):
        raise TypeError(f"tau_prior must be a TauPrior, got {type(tau_prior).__name__}")
    if not isinstance(effect_prior, EffectPrior):
        raise TypeError(f"effect_prior must be an EffectPrior, got {type(effect_prior).__name__}")
    if int(grid_size) < 200:
        raise ValueError(f"grid_size must be at least 200, got {grid_size!r}")
    if int(n_draws) < 1:
        raise ValueError(f"n_draws must be positive, got {n_draws!r}")
    return ExactPosterior(y, v, labels, tau_prior, effect_prior, measure, int(grid_size), int(n_draws), int(seed))


def exact_from_effects(effects: Any, tau_prior: TauPrior, effect_prior: EffectPrior, **kwargs: Any) -> ExactPosterior:
    """:func:`exact_normal_normal` on an effect table (any object with ``study``, ``yi``, ``vi``, ``measure``)."""
    missing = [a for a in ("study", "yi", "vi", "measure") if not hasattr(effects, a)]
    if missing:
        raise TypeError(f"effects lacks attribute(s) {', '.join(missing)}; expected an effect table")
    return exact_normal_normal(
        effects.yi, effects.vi, tau_prior, effect_prior, study=effects.study, measure=effects.measure, **kwargs
    )
