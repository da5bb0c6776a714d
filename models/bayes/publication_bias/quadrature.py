"""One model of the ensemble by quadrature: its log marginal likelihood and the posterior of mu on rows of nodes.

The integral over (tau, bias parameter, mu) is a product rule, each axis with its own error control:

* tau (random-effects models): a lump ``[0, tau_0]`` where every study's likelihood is flat in tau (its joint
  density interpolated linearly in tau^2 between a node at 0 and one at tau_0, integrated against the prior's own
  mass: any prior density at 0, also the spike of log-t priors on tau^2, is exact), then ``n_tau`` nodes equally
  spaced in ``s = log tau`` with the trapezoid rule and the Gregory end correction at ``s_0`` (the construction of
  the exact binomial-normal engine, :mod:`models.bayes.exact_binomial`, step 3). ``tau_0`` starts where the normal
  approximation moves the log likelihood by 0.01 and is lowered until the lump's two nodes agree to 0.01; the top
  of the s range grows until the log integrand there is 30 below its maximum; a range much wider than the posterior
  (a quarter of its nodes below that level at either end, the lump negligible) is cut back. Fixed-effect models: one
  node, tau = 0.
* PET/PEESE slope ``beta >= 0`` and the selection weights: coordinates in [0, 1], ``u = F(beta)`` (F the
  half-Cauchy prior cdf, so that the integrand in u is the likelihood alone, bounded even where the data do not
  identify beta) or the stick-breaking coordinates of
  :func:`models.bayes.publication_bias.selection.weight_nodes`, each integrated by Gauss-Legendre (``n_beta``
  nodes; ``omega_nodes[m - 1]`` per coordinate for m free weights, tensor product) after the change of variable
  ``u = B^-1(v; a, b)`` with a Beta cdf B fitted to the coordinate's posterior mean and doubled variance under the
  previous rule (up to 8 refits, starting from the plain rule or, for beta, the normal approximation), so that the
  nodes follow the mass also when it piles against 0 or 1.
* mu (effect models): per tau node (and per beta node for PET/PEESE, whose conditional mean of mu moves with beta)
  ``n_mu`` equally spaced nodes, trapezoid rule, centred and scaled by the normal approximation (inverse-variance
  pooling of the estimates, shifted by the regression for PET/PEESE), then widened (x1.6) and recentred until the
  log density at both ends of every row carrying mass is 30 below the row's maximum. Selection models share the mu
  nodes of a tau node across all weight nodes (``n_mu_shared`` nodes), since the probabilities of publication are
  then computed once per (tau, mu) node.

Accuracy: against brute-force integration (scipy adaptive quadrature),
``tests/bayes/test_publication_bias.py`` with stored references from
``tests/reference/publication_bias/make_brute_force.py``; grids of 64 tau x 40 mu x 48 beta nodes and (40, 20, 12)
weight nodes move the log evidence of every one of the 36 models by at most 2.3e-3 (Lui 2015: 2.3e-3; MSC randomised
trials: 1.9e-3; 15 synthetic 2x2 studies: 1.6e-3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy import special

from models.bayes.exact import normal_given_tau
from models.bayes.publication_bias.data import Studies
from models.bayes.publication_bias.selection import intervals, weight_nodes
from models.bayes.publication_bias.specs import ModelSpec, NoBias, Regression, WeightFunction
from models.priors import EffectPrior, TauPrior

_EDGE = 30.0  # required drop of the log integrand at every end
_LIVE = 45.0  # rows whose mass is within this of the largest are checked
_PLACE = 50.0  # initial coverage of the normal approximation (log-density drop)
_FLAT = 0.01  # allowed difference of the lump's two nodes
_MAX_ITER = 14
_WEIGHT_FITS = 8  # refits of the change of variable of the selection weights
_MAX_TAU = 160  # most rows in log tau
_XM, _WM = leggauss(24)


@dataclass(frozen=True)
class Grid:
    """Quadrature sizes (see the module docstring)."""

    n_tau: int = 32
    n_mu: int = 24
    n_mu_shared: int = 32
    n_beta: int = 20
    omega_nodes: tuple[int, ...] = (20, 12, 8)

    def __post_init__(self) -> None:
        if min(self.n_tau, self.n_mu, self.n_mu_shared, self.n_beta) < 8:
            raise ValueError(f"grid sizes too small: {self}")
        if not self.omega_nodes or min(self.omega_nodes) < 2:
            raise ValueError(f"omega_nodes must be at least 2 per dimension, got {self.omega_nodes!r}")

    def omega_per_dim(self, n_free: int) -> int:
        return self.omega_nodes[min(n_free, len(self.omega_nodes)) - 1]


@dataclass(frozen=True)
class MuRows:
    """The posterior density of mu (analysis scale) as rows of equally spaced nodes ``centre + half * u``,
    ``u = linspace(-1, 1, M)``; ``log_density`` (rows, M) sums over rows to the normalised marginal density."""

    centre: np.ndarray
    half: np.ndarray
    log_density: np.ndarray


@dataclass(frozen=True)
class ModelFit:
    """One model: its log marginal likelihood, the posterior of mu (None for mu = 0), the posterior mean of tau and
    of its bias parameters (PET/PEESE slope; the weights omega of groups 1.. of a weight function), and whether
    every end check passed within the iteration limit."""

    spec: ModelSpec
    log_evidence: float
    mu: MuRows | None
    tau_mean: float
    bias_mean: tuple[float, ...]
    settled: bool
    iterations: int


def _beta_moments(mean: np.ndarray | float, var: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Beta parameters with the given mean and variance, at least 1 (the integrands, likelihood times a Dirichlet(1)
    or half-Cauchy prior, are finite at 0 and 1; a Beta density that is infinite there would make the transformed
    integrand non-smooth and slow Gauss-Legendre down)."""
    mean = np.clip(np.asarray(mean, float), 1e-6, 1.0 - 1e-6)
    var = np.maximum(np.asarray(var, float), 1e-14)
    common = mean * (1.0 - mean) / var - 1.0
    wide = common < 2.0  # no more concentrated than Beta(1, 1): keep the plain rule
    a = np.where(wide, 1.0, np.clip(mean * common, 1.0, 1e6))
    b = np.where(wide, 1.0, np.clip((1.0 - mean) * common, 1.0, 1e6))
    return a, b


def _trap(n: int) -> np.ndarray:
    w = np.ones(n)
    w[[0, -1]] = 0.5
    return w


def _logsumexp(x: np.ndarray, axis=None) -> np.ndarray:
    return special.logsumexp(x, axis=axis)


def _prior_m2(prior: TauPrior, t: float) -> float:
    """``int_0^t u^2 p(u) du`` by 24-node Gauss-Legendre."""
    u = (_XM + 1.0) * (t / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.nan_to_num(u * u * np.exp(prior.logpdf(u)))
    return float(f @ _WM * (t / 2.0))


class _Model:
    """The product grid of one model and its settling loop (module docstring)."""

    def __init__(
        self,
        studies: Studies,
        spec: ModelSpec,
        tau_prior: TauPrior,
        effect_prior: EffectPrior,
        direction: int,
        grid: Grid,
    ) -> None:
        self.d, self.spec, self.grid = direction, spec, grid
        self.studies, self.tau_prior, self.effect_prior = studies, tau_prior, effect_prior
        self.y = studies.y - studies.bias_mean  # normal approximation of the unbiased effects
        self.v = studies.v + studies.bias_var
        self.se = studies.se
        bias = spec.bias
        self.kind = "none" if isinstance(bias, NoBias) else "regression" if isinstance(bias, Regression) else "wf"
        if self.kind == "regression":
            self.x = self.se**bias.power
            self.beta_a, self.beta_b = self._initial_beta_transform()
            self.weight_fits = 0
        elif self.kind == "wf":
            assert isinstance(bias, WeightFunction)
            self.iv = intervals(bias)
            self.counts = np.bincount(self.iv.observed_group(self.d * studies.y / self.se), minlength=self.iv.n_groups)
            self.n_omega = grid.omega_per_dim(bias.n_free)
            self.weight_fits = 0
            self._set_weights(np.ones(bias.n_free), np.ones(bias.n_free))
        self.n_tau = grid.n_tau
        if spec.heterogeneity:
            self.s, self.s_flat = self._s_range()
        else:
            self.s, self.s_flat = np.empty(0), -math.inf
        self.n_mu = 1 if not spec.effect else grid.n_mu_shared if self.kind == "wf" else grid.n_mu
        self.u = np.linspace(-1.0, 1.0, self.n_mu) if spec.effect else np.zeros(1)
        self.centre, self.half = self._placement()

    # -- the bias parameter's nodes ----------------------------------------------------------------------------

    def _set_weights(self, a: np.ndarray, b: np.ndarray) -> None:
        self.beta_a, self.beta_b = a, b
        nodes = weight_nodes(self.spec.bias, self.n_omega, a, b)
        self.omega, self.lw_phi, self.u_nodes = nodes.omega, nodes.log_weight, nodes.u
        with np.errstate(divide="ignore"):
            self.num_omega = np.log(self.omega) @ self.counts

    def _refit(self, marg: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """New Beta change-of-variable parameters for the coordinates in [0, 1] of the bias parameter (the
        stick-breaking coordinates of the weights, or ``u = F(beta)``), fitted to their posterior mean and doubled
        variance under the current rule (``marg`` (F,): the log integrand summed over tau and mu); None when no
        parameter moves by more than 10%, or after _WEIGHT_FITS refits."""
        if self.weight_fits >= _WEIGHT_FITS:
            return None
        p = np.exp(marg - _logsumexp(marg))
        mean = p @ self.u_nodes
        var = p @ (self.u_nodes - mean) ** 2
        a, b = _beta_moments(mean, 2.0 * var)
        moved = np.max(np.abs(np.log(a / self.beta_a)) + np.abs(np.log(b / self.beta_b)))
        if moved < 0.1:
            return None
        self.weight_fits += 1
        return a, b

    def _settle_weights(self, marg: np.ndarray) -> bool:
        fit = self._refit(marg)
        if fit is None:
            return True
        self._set_weights(*fit)
        return False

    def _beta_prior_cdf(self, beta: np.ndarray) -> np.ndarray:
        return 2.0 / math.pi * np.arctan(np.asarray(beta) / self.spec.bias.scale)

    def _beta_of_u(self, u: np.ndarray) -> np.ndarray:
        return self.spec.bias.scale * np.tan(math.pi * np.asarray(u) / 2.0)

    def _initial_beta_transform(self) -> tuple[float, float]:
        """Beta(a, b) change of variable in ``u = F(beta)`` from the normal approximation: the directed weighted
        regression of the estimates on the covariate (largest upper end over a few tau), mean ``F(beta_hat)``, SD
        ``f(beta_hat) * 4 se``."""
        best = None
        for tau2 in (0.0, float(np.var(self.y)), 4.0 * float(np.var(self.y))):
            w = 1.0 / (self.v + tau2)
            xb, yb = np.sum(w * self.x) / w.sum(), np.sum(w * self.y) / w.sum()
            sxx = np.sum(w * (self.x - xb) ** 2)
            if sxx <= 0:
                continue
            slope = self.d * np.sum(w * (self.x - xb) * (self.y - yb)) / sxx
            se = 1.0 / math.sqrt(sxx)
            if best is None or slope + 2 * se > best[0] + 2 * best[1]:
                best = (slope, se)
        if best is None:
            return 1.0, 1.0
        scale = self.spec.bias.scale
        centre = max(best[0], best[1])
        mean = float(self._beta_prior_cdf(centre))
        sd = 2.0 / math.pi * scale / (scale**2 + centre**2) * 4.0 * best[1]
        return _beta_moments(mean, sd**2)

    def _phi(self) -> tuple[np.ndarray, np.ndarray]:
        """The bias parameter's nodes (beta for PET/PEESE, an index for weight nodes) and log prior weights."""
        if self.kind == "none":
            return np.zeros(1), np.zeros(1)
        if self.kind == "wf":
            return np.arange(self.omega.shape[0], dtype=float), self.lw_phi
        x, w = leggauss(self.grid.n_beta)
        u = np.clip(special.betaincinv(self.beta_a, self.beta_b, (x + 1.0) / 2.0), 1e-300, 1.0 - 1e-15)
        log_pdf = (self.beta_a - 1.0) * np.log(u) + (self.beta_b - 1.0) * np.log1p(-u) - special.betaln(
            self.beta_a, self.beta_b)  # fmt: skip
        self.u_nodes = u[:, None]
        return self._beta_of_u(u), np.log(w / 2.0) - log_pdf

    # -- tau ------------------------------------------------------------------------------------------------------

    def _approx_ll(self, tau: np.ndarray) -> np.ndarray:
        """Normal-approximation log likelihood of the no-bias model given tau (mu integrated, or mu = 0)."""
        if self.spec.effect:
            return normal_given_tau(tau, self.y, self.v, self.effect_prior.mean, self.effect_prior.sd**2)[0]
        var = self.v[None, :] + np.asarray(tau)[:, None] ** 2
        return -0.5 * np.sum(np.log(var) + self.y**2 / var, axis=1)

    def _s_range(self) -> tuple[np.ndarray, float]:
        prior, y, v = self.tau_prior, self.y, self.v
        m0 = float(np.sum(y / v) / np.sum(1.0 / v)) if self.spec.effect else 0.0
        sd0 = float(1.0 / math.sqrt(np.sum(1.0 / v))) if self.spec.effect else 0.0
        slope = float(np.sum((1.0 + (np.abs(y - m0) + 4.0 * sd0 + 4.0 * math.sqrt(float(np.max(v)))) ** 2 / v)
                             / (2.0 * v)))  # fmt: skip
        s_flat = 0.5 * math.log(_FLAT / slope)
        lo = min(s_flat, math.log(prior.median())) - 12.0
        hi = math.log(max(float(np.sqrt(v.max())), prior.median(), float(np.ptp(y)), 1.0)) + 6.0
        s = np.arange(lo, hi + 0.05, 0.05)
        with np.errstate(invalid="ignore", divide="ignore"):
            lf = prior.logpdf(np.exp(s)) + s + self._approx_ll(np.exp(s))
        lf = np.where(np.isnan(lf), -np.inf, lf)
        keep = np.flatnonzero(lf > np.max(lf) - _PLACE)
        s0 = max(float(s[max(keep[0] - 1, 0)]), s_flat)
        s1 = float(s[min(keep[-1] + 1, s.size - 1)])
        return np.linspace(s0, max(s1, s0 + 1.0), self.n_tau), s_flat

    def _tau(self) -> np.ndarray:
        return np.concatenate([[0.0], np.exp(self.s)]) if self.spec.heterogeneity else np.zeros(1)

    def _tau_weights(self) -> tuple[np.ndarray, tuple[float, float]]:
        """Log weights of the tau nodes (prior included), and the lump's weights of its two nodes."""
        if not self.spec.heterogeneity:
            return np.zeros(1), (0.0, 0.0)
        s, prior = self.s, self.tau_prior
        h = s[1] - s[0]
        ws = _trap(s.size) * h
        ws[:3] += h / 24.0 * np.array([-3.0, 4.0, -1.0])
        t0 = math.exp(s[0])
        m2 = _prior_m2(prior, t0) / t0**2
        w0, w1 = max(float(prior.cdf(t0)) - m2, 0.0), m2
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = prior.logpdf(np.exp(s)) + s
        w = ws * np.exp(np.where(np.isnan(lp), -np.inf, lp))
        w[0] += w1
        with np.errstate(divide="ignore"):
            return np.log(np.concatenate([[w0], w])), (w0, w1)

    # -- mu -------------------------------------------------------------------------------------------------------

    def _placement(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres and half-widths of the mu rows, shape (tau nodes, beta nodes or 1), from the normal
        approximation; selection models start twice as wide (their selection moves mu)."""
        tau = self._tau()
        if not self.spec.effect:
            width = self._phi()[0].size if self.kind == "regression" else 1
            return np.zeros((tau.size, width)), np.ones((tau.size, width))
        ep = self.effect_prior
        w = 1.0 / (self.v[None, :] + tau[:, None] ** 2)  # (R, k)
        prec = w.sum(axis=1) + 1.0 / ep.sd**2
        sd = 1.0 / np.sqrt(prec)
        if self.kind == "regression":
            beta, _ = self._phi()
            y = self.y[None, :] - self.d * beta[:, None] * self.x[None, :]  # (F, k)
            centre = ((w[:, None, :] * y[None, :, :]).sum(axis=2) + ep.mean / ep.sd**2) / prec[:, None]
            return centre, np.broadcast_to((_PLACE**0.5 * 1.45 * sd)[:, None], centre.shape).copy()
        centre = ((w * self.y[None, :]).sum(axis=1) + ep.mean / ep.sd**2) / prec
        widen = 2.0 if self.kind == "wf" else 1.0
        return centre[:, None], (widen * _PLACE**0.5 * 1.45 * sd)[:, None]

    def _mu(self) -> np.ndarray:
        return self.centre[..., None] + self.half[..., None] * self.u  # (R, Fm, M)

    # -- the log integrand ----------------------------------------------------------------------------------------

    def _evaluate(self) -> None:
        tau = self._tau()
        mu = self._mu()
        R, M = tau.size, self.u.size
        beta, lw_phi = self._phi()
        F = lw_phi.size
        st = self.studies
        if self.kind == "none":
            J = st.log_lik(mu[:, 0, :], tau[:, None]).sum(axis=-1)[:, None, :]
        elif self.kind == "regression":
            J = st.log_lik_shifted(mu, tau, self.d * beta[:, None] * self.x[None, :]).sum(axis=-1)
        else:
            m = mu[:, 0, :]
            num = st.log_lik(m, tau[:, None]).sum(axis=-1)  # (R, M)
            g = st.group_probabilities(self.iv, m, tau[:, None], self.d)  # (R, M, k, J)
            den = np.zeros((R * M, F))
            prod = np.ones((R * M, F))
            for i in range(st.k):  # products of 8 factors (each at least the smallest weight) before one log
                prod *= np.maximum(g[:, :, i, :].reshape(R * M, -1) @ self.omega.T, 1e-300)
                if i % 8 == 7 or i == st.k - 1:
                    den += np.log(prod)
                    prod[:] = 1.0
            J = num[:, None, :] + self.num_omega[None, :, None] - den.reshape(R, M, F).transpose(0, 2, 1)
        if self.spec.effect:
            J = J + self.effect_prior.logpdf(mu)
        lw_tau, self.lump = self._tau_weights()
        du = self.u[1] - self.u[0] if self.u.size > 1 else 1.0
        with np.errstate(divide="ignore"):
            lw_mu = np.log(self.half[..., None] * du * (_trap(M) if M > 1 else np.ones(1)))
        self.J, self.lw_tau, self.lw_phi_now, self.lw_mu, self.beta = J, lw_tau, lw_phi, lw_mu, beta
        self.total = J + lw_tau[:, None, None] + lw_phi[None, :, None] + lw_mu

    # -- the end checks -----------------------------------------------------------------------------------------

    def _settled(self) -> bool:
        ok = True
        total = self.total
        top = float(np.max(total))
        if self.spec.effect:
            if self.kind == "wf":  # rows share their mu nodes across the weights: check the marginal over omega
                rows = _logsumexp(self.J + self.lw_phi_now[None, :, None], axis=1)[:, None, :]
                mass = _logsumexp(total, axis=(1, 2))[:, None]
            else:
                rows = self.J
                mass = _logsumexp(total, axis=2)
            live = mass > np.max(mass) - _LIVE
            rmax = np.max(rows, axis=2)
            bad = live & ((rows[..., 0] > rmax - _EDGE) | (rows[..., -1] > rmax - _EDGE))
            if bad.any():
                ok = False
                best = np.take_along_axis(self._mu(), np.argmax(rows, axis=2)[..., None], axis=2)[..., 0]
                self.centre = np.where(bad, best, self.centre)
                self.half = np.where(bad, self.half * 1.6, self.half)
        if self.kind == "wf" and not self._settle_weights(_logsumexp(total, axis=(0, 2))):
            ok = False
        if self.kind == "regression":
            fit = self._refit(_logsumexp(total, axis=(0, 2)))
            if fit is not None:
                ok = False
                self._regrid_beta(*fit)
        if self.spec.heterogeneity:
            rowmass = _logsumexp(self.J + self.lw_phi_now[None, :, None] + self.lw_mu, axis=(1, 2))
            lg = _logsumexp(total, axis=(1, 2))[1:]
            w0, w1 = self.lump
            lump = math.log(max(w0 + w1, 1e-300)) + max(rowmass[0], rowmass[1])
            lo, hi = self.s[0], self.s[-1]
            if lump > top - _EDGE and abs(rowmass[1] - rowmass[0]) > _FLAT:
                self.s_flat = min(self.s_flat, lo) - 1.5
                lo = self.s_flat
            elif lg[0] > top - _EDGE and lo > self.s_flat:
                lo = max(lo - 2.0, self.s_flat)
            if lg[-1] > top - _EDGE:
                hi = hi + 2.0
            # a range much wider than the posterior of tau: cut it back to the last rows below the required drop, if the
            # lump of the cut range stays 5 below it too (else the lump rule would move the range back)
            deep = np.flatnonzero(lg < top - _EDGE)
            n = lg.size
            below = deep[deep < np.argmax(lg)]
            above = deep[deep > np.argmax(lg)]
            if below.size and below[-1] > n // 4 and lo == self.s[0]:
                cut = below[-1]
                with np.errstate(divide="ignore"):
                    new_lump = math.log(float(self.tau_prior.cdf(math.exp(self.s[cut])))) + max(
                        rowmass[0], rowmass[cut + 1]
                    )
                if new_lump < top - _EDGE - 5.0:  # the lump of the cut range stays negligible
                    lo = float(self.s[cut])
            if above.size and above[0] < n - 1 - n // 4 and hi == self.s[-1]:
                hi = float(self.s[above[0]])
            # resolution: the trapezoid rule's error is of order exp(-2 pi^2 sd^2 / h^2) for a posterior of log tau
            # of SD sd; more rows (up to _MAX_TAU) when the step exceeds sd / 1.2 (a narrow posterior, large k)
            w = np.exp(lg - top)
            mean_s = float(w @ self.s / w.sum())
            sd_s = math.sqrt(max(float(w @ (self.s - mean_s) ** 2 / w.sum()), 1e-12))
            n_new = self.n_tau
            if (self.s[1] - self.s[0]) > sd_s / 1.2 and self.n_tau < _MAX_TAU:
                n_new = min(_MAX_TAU, int(math.ceil((hi - lo) / (sd_s / 1.5))) + 1)
            if (lo, hi) != (self.s[0], self.s[-1]) or n_new != self.n_tau:
                ok = False
                self.n_tau = max(n_new, self.grid.n_tau)
                self._regrid_s(np.linspace(lo, hi, self.n_tau))
        return ok

    def _regrid_s(self, new: np.ndarray) -> None:
        """New s nodes: centres and half-widths carried over by interpolation in s, never narrower than the normal
        approximation's."""
        old, c_old, h_old = self.s, self.centre, self.half
        self.s = new
        c_new, h_new = self._placement()
        for f in range(c_old.shape[1]):
            c_new[1:, f] = np.interp(new, old, c_old[1:, f], left=c_new[1, f], right=c_new[-1, f])
            h_new[1:, f] = np.maximum(np.interp(new, old, h_old[1:, f]), h_new[1:, f])
        c_new[0], h_new[0] = c_old[0], h_old[0]
        self.centre, self.half = c_new, h_new

    def _regrid_beta(self, a: np.ndarray, b: np.ndarray) -> None:
        old_beta, _ = self._phi()
        c_old, h_old = self.centre, self.half
        self.beta_a, self.beta_b = float(np.ravel(a)[0]), float(np.ravel(b)[0])
        beta, _ = self._phi()
        c_new, h_new = self._placement()
        if self.spec.effect:
            for r in range(c_old.shape[0]):
                inside = (beta >= old_beta[0]) & (beta <= old_beta[-1])
                c_new[r, inside] = np.interp(beta[inside], old_beta, c_old[r])
                h_new[r, inside] = np.maximum(np.interp(beta[inside], old_beta, h_old[r]), h_new[r, inside])
        self.centre, self.half = c_new, h_new

    # -- the result -----------------------------------------------------------------------------------------------

    def fit(self) -> ModelFit:
        settled, iterations = False, 0
        while iterations < _MAX_ITER and not settled:
            iterations += 1
            self._evaluate()
            settled = self._settled()
        if not settled:
            self._evaluate()
        total = self.total
        log_z = float(_logsumexp(total))
        post = np.exp(total - log_z)
        tau_mean = float(np.sum(post.sum(axis=(1, 2)) * self._tau()))
        bias_mean: tuple[float, ...] = ()
        marg_phi = post.sum(axis=(0, 2))
        if self.kind == "regression":
            bias_mean = (float(np.sum(marg_phi * self.beta)),)
        elif self.kind == "wf":
            bias_mean = tuple(float(x) for x in marg_phi @ self.omega[:, 1:])
        mu_rows = None
        if self.spec.effect:
            dens = self.J + self.lw_tau[:, None, None] + self.lw_phi_now[None, :, None] - log_z  # density in mu
            if self.kind == "wf":
                dens = _logsumexp(dens, axis=1)[:, None, :]
            keep = np.max(dens, axis=2) > np.max(dens) - 40.0
            mu_rows = MuRows(self.centre[keep], self.half[keep], dens[keep])
        return ModelFit(self.spec, log_z, mu_rows, tau_mean, bias_mean, settled, iterations)


def fit_model(
    studies: Studies,
    spec: ModelSpec,
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    direction: int,
    grid: Grid | None = None,
) -> ModelFit:
    """The log marginal likelihood and posterior of one model (module docstring); ``direction`` +1 or -1."""
    if direction not in (1, -1):
        raise ValueError(f"direction must be 1 or -1, got {direction!r}")
    return _Model(studies, spec, tau_prior, effect_prior, direction, grid or Grid()).fit()
