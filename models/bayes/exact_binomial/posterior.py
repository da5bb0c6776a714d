"""The binomial-normal posterior on its quadrature grid, with the query methods of
:class:`models.bayes.posterior.Posterior` (see :mod:`models.bayes.exact_binomial`)."""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
from scipy import optimize, special

from models.bayes.exact_binomial.curves import _N_T
from models.bayes.exact_binomial.grid import _prior_m2, _TauRows, _trap
from models.bayes.exact_binomial.likelihood import TableCurves
from models.bayes.exact_binomial.splines import (
    _GL_W,
    _GL_X,
    _NO_NODES,
    _NO_ROWS,
    _WT,
    _XT,
    _LogSplineRows,
    _mix_cdf_pdf,
    _mix_ppf,
    _row_cdf_pdf,
)
from models.bayes.posterior import Posterior, hdi_from_ppf
from models.priors import EffectPrior, TauPrior


class ExactBinomialPosterior(Posterior):
    """The binomial-normal posterior on a quadrature grid, with the query methods of :class:`Posterior`.

    ``mu`` and the shrunken effects are on the log-OR scale (reported as OR); ``tau`` is the SD of log-ORs.
    ``log_evidence`` is the log marginal likelihood of the counts (for Bayes factors). The predictive distribution
    is that of a new unbiased (randomised) study, ``mu + tau z``: the bias terms do not enter it. No control-arm risk
    is estimated: absolute effects need ``baseline_risk=``. Build with :func:`exact_binomial_normal` or
    :meth:`BinomialLikelihood.posterior`.
    """

    measure = "OR"

    def __init__(
        self,
        lik: TableCurves,
        tau_prior: TauPrior | None,
        effect_prior: EffectPrior,
        model: str,
        n_tau: int,
        n_mu: int,
        n_draws: int,
        seed: int,
    ) -> None:
        if model not in ("random", "fixed"):
            raise ValueError(f"model {model!r} is not one of random, fixed")
        if model == "random" and not isinstance(tau_prior, TauPrior):
            raise TypeError(f"tau_prior must be a TauPrior, got {type(tau_prior).__name__}")
        if not isinstance(effect_prior, EffectPrior):
            raise TypeError(f"effect_prior must be an EffectPrior, got {type(effect_prior).__name__}")
        if int(n_tau) < 16 or int(n_mu) < 16:
            raise ValueError(f"n_tau and n_mu must be at least 16, got {n_tau!r} and {n_mu!r}")
        self.lik, self.model = lik, model
        self.tau_prior = tau_prior if model == "random" else None
        self.effect_prior = effect_prior
        self.study = lik.study
        self.n_draws, self.seed = int(n_draws), int(seed)
        self._g = _TauRows(lik, self.tau_prior, effect_prior, int(n_tau), int(n_mu))
        self.log_evidence: float = self._g.log_evidence
        g = self._g
        self._dmu = g.half * (g.u[1] - g.u[0])
        self._rows = _LogSplineRows(g.mu[:, 0], self._dmu, g.j)
        self._tau = g.tau
        # per-row conditional trapezoid weights of the mu nodes (each row sums to 1)
        top = np.max(g.j, axis=1, keepdims=True)
        cw = np.exp(g.j - top) * _trap(g.u.size)
        self._cw = cw / cw.sum(axis=1, keepdims=True)
        self._tw = g.w[:, None] * self._cw  # joint weights of the nodes

    # -- mu -----------------------------------------------------------------------------------------------------------

    def _mu_cdf(self, x: float) -> float:
        return self._rows.mix_cdf(self._g.w, x)

    def _mu_pdf(self, x: float) -> float:
        r = self._rows
        return float(
            _mix_cdf_pdf(float(x), False, self._g.w, _NO_ROWS, _NO_ROWS, _NO_NODES, _NO_NODES, r.x0, r.dx, r.c, r.cum,
                         r.total, _XT, _WT, _GL_X, _GL_W)[1]
        )  # fmt: skip

    @cached_property
    def _bounds(self) -> tuple[float, float]:
        return float(np.min(self._g.mu)), float(np.max(self._g.mu))

    def _mu_bounds(self) -> tuple[float, float]:
        return self._bounds

    def _mu_ppf(self, q: float) -> float:
        """Quantile of mu: safeguarded Newton (:func:`_mix_ppf`) from the quantile of the normal with mu's mean and
        SD."""
        mean, sd = self._moments
        return self._rows.mix_ppf(self._g.w, q, mean + sd * float(special.ndtri(q)), 0.25 * sd)

    def _mu_hdi(self, prob: float) -> tuple[float, float]:
        return hdi_from_ppf(self._mu_ppf, prob)

    @cached_property
    def _moments(self) -> tuple[float, float]:
        """Posterior mean and SD of mu (log-OR), computed once (every quantile search starts from them)."""
        m = float(np.sum(self._tw * self._g.mu))
        return m, float(math.sqrt(np.sum(self._tw * (self._g.mu - m) ** 2)))

    def log_mean(self) -> float:
        """Posterior mean of mu (log-OR)."""
        return self._moments[0]

    def log_sd(self) -> float:
        """Posterior SD of mu (log-OR)."""
        return self._moments[1]

    def _ratio_mean(self) -> float:
        return float(np.sum(self._tw * np.exp(self._g.mu)))

    # -- a new (randomised) study ----------------------------------------------------------------------------------

    def _pred_cdf_pdf(self, x: float) -> tuple[float, float]:
        """cdf and density of a new study's effect ``mu + tau z`` (per row: the normal cdf averaged over the mu
        nodes when tau is wide against their spacing, else Gauss-Hermite in z on the row's cdf)."""
        if self.model == "fixed":
            return self._mu_cdf(x), self._mu_pdf(x)
        r = self._rows
        f, d = _mix_cdf_pdf(float(x), True, self._g.w, self._tau, self._dmu, self._cw, self._g.mu, r.x0, r.dx, r.c,
                            r.cum, r.total, _XT, _WT, _GL_X, _GL_W)  # fmt: skip
        return float(f), float(d)

    def _pred_cdf(self, x: float) -> float:
        return self._pred_cdf_pdf(x)[0]

    def _pred_pdf(self, x: float) -> float:
        return self._pred_cdf_pdf(x)[1]

    @cached_property
    def _pred_sd(self) -> float:
        """SD of a new study's effect: ``sqrt(var mu + E tau^2)``."""
        return math.sqrt(self._moments[1] ** 2 + float(np.sum(self._g.w * self._tau**2)))

    def _pred_ppf(self, q: float) -> float:
        """Quantile of a new study's effect: safeguarded Newton (:func:`_mix_ppf`) from the quantile of the normal
        with the predictive mean and variance (``E mu``, ``var mu + E tau^2``)."""
        if self.model == "fixed":
            return self._mu_ppf(q)
        sd, r = self._pred_sd, self._rows
        guess = self._moments[0] + sd * float(special.ndtri(q))
        return float(
            _mix_ppf(float(q), guess, 0.25 * sd, -math.inf, math.inf, True, self._g.w, self._tau, self._dmu, self._cw,
                     self._g.mu, r.x0, r.dx, r.c, r.cum, r.total, _XT, _WT, _GL_X, _GL_W)
        )  # fmt: skip

    def _pred_hdi(self, prob: float) -> tuple[float, float]:
        return hdi_from_ppf(self._pred_ppf, prob)

    # -- tau ----------------------------------------------------------------------------------------------------------

    @cached_property
    def _s_rows(self) -> _LogSplineRows:
        """The density of s = log tau above tau_0 (log integrand of the s rows, splined)."""
        g = self._g
        return _LogSplineRows(g.s[:1], np.array([g.s[1] - g.s[0]]), g.lg[None, :])

    @cached_property
    def _tau_parts(self) -> tuple[float, float, float, float]:
        """(lump mass, mass above tau_0, and the lump's tau = 0 / tau_0 row factors), unnormalised alike."""
        g = self._g
        top = float(max(np.max(g.lg), g.row[0], g.row[1]))
        r0, r1 = math.exp(g.row[0] - top), math.exp(g.row[1] - top)
        w0, w1 = g._lump()
        above = float(self._s_rows.total[0]) * math.exp(self._s_rows.top[0] - top)
        return r0 * w0 + r1 * w1, above, r0, r1

    def _tau_cdf(self, t: float) -> float:
        if self.model == "fixed":
            return 1.0 if t >= 0 else 0.0
        if t <= 0:
            return 0.0
        g = self._g
        lump, above, r0, r1 = self._tau_parts
        t0 = math.exp(g.s[0])
        if t < t0:  # joint linear in tau^2 between the rows tau = 0 and tau_0, integrated against the prior
            m2 = _prior_m2(self.tau_prior, t0, t) / t0**2
            return float(r0 * (float(self.tau_prior.cdf(t)) - m2) + r1 * m2) / (lump + above)
        f = float(self._s_rows.cdf(np.array([[math.log(t)]]))[0, 0])
        return (lump + above * f) / (lump + above)

    def _tau_pdf(self, t: float) -> float:
        """Density of tau: below tau_0 the lump's joint, linear in tau^2 between the rows tau = 0 and tau_0, times
        the prior density; above, the spline density of s = log tau over tau."""
        if self.model == "fixed":
            return math.inf if t == 0 else 0.0
        g = self._g
        lump, above, r0, r1 = self._tau_parts
        t0 = math.exp(g.s[0])
        if t < t0:
            u = (t / t0) ** 2
            return float(math.exp(float(self.tau_prior.logpdf(t))) * (r0 * (1.0 - u) + r1 * u)) / (lump + above)
        r = self._s_rows
        dens = _row_cdf_pdf(r.x0, r.dx, r.c, r.cum, r.total, 0, math.log(t), _GL_X, _GL_W)[1]
        return above * float(dens) / (lump + above) / t

    def _tau_ppf(self, q: float) -> float:
        if self.model == "fixed":
            return 0.0
        g = self._g
        t0, t_end = math.exp(g.s[0]), math.exp(g.s[-1])
        if q <= self._tau_cdf(t0):
            return float(optimize.brentq(lambda t: self._tau_cdf(t) - q, 0.0, t0, xtol=1e-14, rtol=1e-12))
        if q >= 1.0:
            return t_end
        # above tau_0 the cdf is (lump + above F(s)) / (lump + above), F the cdf of s = log tau: invert F
        lump, above, _, _ = self._tau_parts
        return math.exp(self._s_rows.mix_ppf(np.ones(1), (q * (lump + above) - lump) / above))

    def _tau_hdi(self, prob: float) -> tuple[float, float]:
        if self.model == "fixed":
            return 0.0, 0.0
        return hdi_from_ppf(self._tau_ppf, prob)

    def tau_mean(self) -> float:
        """Posterior mean of tau (SD of log-ORs)."""
        return float(np.sum(self._g.w * self._tau))

    # -- shrunken study effects ---------------------------------------------------------------------------------------

    def _theta_density(self, i: int, t: np.ndarray) -> np.ndarray:
        """Unnormalised log posterior density of study i's log-OR t_i (bias included) at the points t.

        ``p(t_i | y) = L_i(t) sum_n w_n int p(mu | tau_n, y) N(t; mu + b_i, sigma_n^2) / L_i(mu, sigma_n) dmu`` with
        ``sigma_n^2 = tau_n^2 + s_bi^2``. Rows whose kernel is wide against the mu spacing use the trapezoid rule
        over the mu nodes; narrow rows use Gauss-Hermite in mu on the spline of the row's log density.
        """
        g, lik = self._g, self.lik
        b = lik.bias_mean[i]
        sd = np.sqrt(self._tau**2 + lik._bvar[i])
        ell = lik._ell_i(i, t)
        q = np.zeros(t.size)
        wide = sd >= 2.0 * self._dmu
        if wide.any():
            logw = np.log(np.maximum(self._tw[wide], 1e-300)) - g.ll[wide][..., i]  # (W, M)
            z = (t[None, :, None] - g.mu[wide][:, None, :] - b) / sd[wide][:, None, None]  # (W, T, M)
            dens = np.exp(logw[:, None, :] - 0.5 * z**2).sum(axis=2) / (sd[wide][:, None] * math.sqrt(2 * math.pi))
            q += dens.sum(axis=0)
        narrow = np.flatnonzero(~wide)
        if narrow.size:
            mus = t[None, :, None] - b - math.sqrt(2.0) * sd[narrow][:, None, None] * _XT[None, None, :]  # (N, T, Q)
            lp = self._rows.logpdf(mus.reshape(narrow.size, -1), narrow).reshape(mus.shape)
            li = lik._conv_i(i, mus, np.broadcast_to(self._tau[narrow][:, None, None], mus.shape))
            terms = np.exp(np.where(np.isfinite(lp), lp - li, -np.inf))
            q += (g.w[narrow][:, None] * (terms @ _WT)).sum(axis=0) / math.sqrt(math.pi)
        return ell + np.log(np.maximum(q, 1e-300))

    @cached_property
    def _theta_rows(self) -> list[_LogSplineRows]:
        out = []
        lo_mu, hi_mu = self._mu_bounds()
        for i in range(self.lik.k):
            n_t = self.lik._lo[i] + self.lik._h[i] * (_N_T - 1)
            lo, hi = min(self.lik._lo[i], lo_mu), max(n_t, hi_mu)
            for _ in range(2):
                t = np.linspace(lo, hi, 257)
                ld = self._theta_density(i, t)
                keep = np.flatnonzero(ld > np.max(ld) - 40.0)
                lo, hi = t[max(keep[0] - 1, 0)], t[min(keep[-1] + 1, t.size - 1)]
            out.append(_LogSplineRows(t[:1], np.array([t[1] - t[0]]), ld[None, :]))
        return out

    def _theta_ppf(self, q: float) -> np.ndarray:
        return np.array([rows.mix_ppf(np.ones(1), q) for rows in self._theta_rows])

    def _theta_cdf(self, i: int, x: float) -> float:
        return float(self._theta_rows[i].cdf(np.array([[float(x)]]))[0, 0])

    def _theta_pdf(self, i: int, x: float) -> float:
        return float(np.exp(self._theta_rows[i].logpdf(np.array([[float(x)]]))[0, 0]))

    def _study_labels(self) -> tuple[str, ...]:
        return self.study

    # -- draws for absolute effects --------------------------------------------------------------------------------

    @cached_property
    def _draws(self) -> np.ndarray:
        lo, hi = self._mu_bounds()
        x = np.linspace(lo, hi, 4001)
        f = np.sum(self._g.w[:, None] * self._rows.cdf(np.broadcast_to(x, (self._tau.size, x.size))), axis=0)
        f = np.maximum.accumulate(f)
        u = np.random.default_rng(self.seed).uniform(f[0], f[-1], self.n_draws)
        return np.interp(u, f, x)

    def _mu_draws(self) -> np.ndarray:
        return self._draws

    def __repr__(self) -> str:
        tp = self.tau_prior.key if self.tau_prior is not None else None
        return (
            f"ExactBinomialPosterior(k={self.lik.k}, model={self.model!r}, "
            f"parametrisation={self.lik.parametrisation!r}, tau_prior={tp!r}, effect_prior={self.effect_prior.key!r})"
        )
