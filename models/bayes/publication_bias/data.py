"""The studies of a publication-bias analysis: each study's likelihood of its true effect, integrated over
``theta_i ~ Normal(m_i, tau^2 + s_bi^2)``, and the estimate and SE that its p-value and publication probability use.

Two kinds, one interface (:meth:`log_lik`):

* :class:`NormalStudies`, effect estimates ``y_i`` with known variances ``v_i`` (as RoBMA): the integral is closed
  form, ``log Normal(y_i; m_i + b_i, v_i + tau^2 + s_bi^2)``.
* :class:`BinomialStudies`, the arm counts of 2x2 tables: the exact binomial-normal likelihood of the counts with each
  study's baseline log-odds integrated out, from the exact engine (:mod:`models.bayes.exact_binomial`; the one access
  to it is :func:`_engine_log_lik`). The estimate and SE behind a study's p-value (the selection models) and its
  PET/PEESE covariate are the large-sample log OR and its SE, with 0.5 added to every cell of a study with a zero
  cell (metafor ``escalc(to="only0")``); double-zero studies are left out by default (``double_zero="drop"``), as in
  :mod:`models.bayes.small_study` and Egger's test.

Probability of publication of a 2x2 study (stated; ``selection=``):

* ``"exact"`` (default): the discrete distribution of the tables its arms can produce. Every table
  ``(e_t, e_c)`` with the study's arm sizes gets its p-value the way the observed one does (Wald z of the log OR, 0.5
  added to zero cells; z = 0 for a double-zero table); its probability is
  ``Bin(e_t; n_t, expit(logit(p_c) + theta)) Bin(e_c; n_c, p_c)`` with the control risk ``p_c`` fixed at the
  study's observed one (``(e_c + 0.5) / (n_c + 1)`` when it is 0 or 1). ``P_ij(theta)`` is tabulated on a grid of
  theta (step 0.05 on [-12, 12], cubic spline) and integrated over ``theta ~ Normal(m_i, tau^2 + s_bi^2)`` by 32-node
  Gauss-Hermite. A trial too small to reach significance at any true effect then carries no information about
  selection, as it should.
* ``"normal"``: the normal sampling distribution of the log OR with its observed SE, ``y_i ~ Normal(theta_i,
  se_i^2)`` (RoBMA's model for every effect size). ``scripts/pubbias_selection_error.py`` measures how far it is
  from the exact probabilities: for the randomised MSC trials the probability of p < 0.025 is off by up to 0.98
  within 3 SE of a trial's estimate (a trial with 0/12 vs 3/29 deaths can never be significant, the approximation
  says it mostly would be); only the two trials with about 20 or more events per arm are within 0.04.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import interpolate, special, stats

from models.bayes.exact_binomial import BinomialLikelihood
from models.bayes.publication_bias.selection import Intervals, group_probabilities
from models.effects import escalc
from models.priors import BASELINE_SD_DEFAULT
from models.tables import BinaryTable

DOUBLE_ZERO = ("drop", "corrected")
SELECTION = ("exact", "normal")
_THETA = np.linspace(-12.0, 12.0, 481)  # grid of the true log OR for the exact probabilities of publication
_XH, _WH = np.polynomial.hermite.hermgauss(32)
_LOG_2PI = math.log(2.0 * math.pi)


def _per_study(x: np.ndarray | list[float] | None, k: int, name: str) -> np.ndarray:
    if x is None:
        return np.zeros(k)
    arr = np.asarray(x, dtype=float).ravel()
    if arr.size != k:
        raise ValueError(f"{name} has {arr.size} values for {k} studies")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr


@dataclass(frozen=True)
class NormalStudies:
    """Effect estimates ``y`` (analysis scale: log OR/RR, SMD, Fisher z, ...) with known sampling variances ``v``;
    optional additive bias per study, ``theta_i ~ Normal(mu + bias_mean_i, tau^2 + bias_sd_i^2)``."""

    y: np.ndarray
    v: np.ndarray
    study: tuple[str, ...]
    measure: str
    bias_mean: np.ndarray
    bias_var: np.ndarray

    @property
    def k(self) -> int:
        return self.y.size

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(self.v)

    def log_lik_shifted(self, mu: np.ndarray, tau: np.ndarray, shift: np.ndarray) -> np.ndarray:
        """``log L_i(mu[r, f, m] + shift[f, i], tau[r])``, shape (R, F, M, k) (closed form)."""
        m = np.asarray(mu, float)[..., None] + self.bias_mean + np.asarray(shift, float)[None, :, None, :]
        var = self.v + self.bias_var + np.asarray(tau, float)[:, None, None, None] ** 2
        return -0.5 * (_LOG_2PI + np.log(var) + (self.y - m) ** 2 / var)

    def group_probabilities(self, iv: Intervals, mu: np.ndarray, tau: np.ndarray, direction: int) -> np.ndarray:
        """``P_ij``: probability of each weight group of ``iv`` for a study with effect ``mu`` (mu, tau broadcast;
        returns ``broadcast.shape + (k, n_groups)``), the estimate ``~ Normal(mu + b_i, tau^2 + s_bi^2 + v_i)``."""
        mu, tau = np.broadcast_arrays(np.asarray(mu, float), np.asarray(tau, float))
        mean = direction * (mu[..., None] + self.bias_mean)
        sd = np.sqrt(tau[..., None] ** 2 + self.bias_var + self.v)
        return group_probabilities(iv, mean, sd, self.se)

    def log_lik(self, mu: np.ndarray, tau: np.ndarray, shift: np.ndarray | None = None) -> np.ndarray:
        """``log L_i(mu + shift_i, tau)``, shape ``broadcast(mu, tau).shape + (k,)``; ``shift`` (k,) or None."""
        mu, tau = np.broadcast_arrays(np.asarray(mu, float), np.asarray(tau, float))
        m = mu[..., None] + self.bias_mean + (0.0 if shift is None else shift)
        var = self.v + self.bias_var + tau[..., None] ** 2
        return -0.5 * (_LOG_2PI + np.log(var) + (self.y - m) ** 2 / var)


def normal_studies(
    yi: np.ndarray | list[float],
    vi: np.ndarray | list[float],
    *,
    study: tuple[str, ...] | list[str] | None = None,
    measure: str = "GEN",
    bias_mean: np.ndarray | list[float] | None = None,
    bias_sd: np.ndarray | list[float] | None = None,
) -> NormalStudies:
    """Validated :class:`NormalStudies` (finite estimates, positive variances, one label per study)."""
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.size == 0 or y.size != v.size:
        raise ValueError(f"yi and vi must be non-empty and of one length, got {y.size} and {v.size}")
    if not (np.isfinite(y).all() and np.isfinite(v).all() and (v > 0).all()):
        raise ValueError("yi must be finite and vi finite and positive")
    labels = tuple(str(s) for s in study) if study is not None else tuple(f"study {i + 1}" for i in range(y.size))
    if len(labels) != y.size:
        raise ValueError(f"study has {len(labels)} labels for {y.size} studies")
    sd = _per_study(bias_sd, y.size, "bias_sd")
    if (sd < 0).any():
        raise ValueError("bias_sd must be non-negative")
    return NormalStudies(y, v, labels, measure, _per_study(bias_mean, y.size, "bias_mean"), sd**2)


def _engine_log_lik(
    studies: BinomialStudies, mu: np.ndarray, tau: np.ndarray, shift: np.ndarray | None = None, index: int | None = None
) -> np.ndarray:
    """The one access to the exact binomial-normal engine: ``log L_i(mu + shift_i, tau)`` of every study (or of study
    ``index`` alone), the baseline log-odds and the true log OR integrated out, shape
    ``broadcast(mu, tau).shape + (k,)`` (``+ (1,)`` for one study).

    Uses the engine's public ``BinomialLikelihood(..., bias_mean=, bias_sd=).log_lik(mu, tau)``: a study-specific
    shift of the mean (PET/PEESE) is an additive bias mean. The per-study curves are cached by the engine, so one
    likelihood object per call costs little."""
    mean = studies.bias_mean if shift is None else studies.bias_mean + shift
    sd = np.sqrt(studies.bias_var)
    table = studies.table
    if index is not None:
        table, mean, sd = table.subset([table.study[index]]), mean[index : index + 1], sd[index : index + 1]
    lik = BinomialLikelihood(
        table, parametrisation=studies.parametrisation, baseline_sd=studies.baseline_sd, bias_mean=mean, bias_sd=sd
    )
    return lik.log_lik(mu, tau)


@dataclass(frozen=True)
class BinomialStudies:
    """2x2 tables for the binomial-normal model (log-OR scale), with the large-sample log OR ``y`` and variance ``v``
    of each study (0.5 added to the cells of zero-cell studies) for p-values, PET/PEESE covariates and grid
    placement; ``excluded`` lists double-zero studies left out (``double_zero="drop"``)."""

    table: BinaryTable
    y: np.ndarray
    v: np.ndarray
    bias_mean: np.ndarray
    bias_var: np.ndarray
    parametrisation: str = "symmetric"
    baseline_sd: float = BASELINE_SD_DEFAULT
    excluded: tuple[str, ...] = ()
    selection: str = "exact"
    measure: str = field(default="OR")

    @property
    def k(self) -> int:
        return self.y.size

    @property
    def study(self) -> tuple[str, ...]:
        return self.table.study

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(self.v)

    def group_probabilities(self, iv: Intervals, mu: np.ndarray, tau: np.ndarray, direction: int) -> np.ndarray:
        """``P_ij`` for true effects ``theta_i ~ Normal(mu + b_i, tau^2 + s_bi^2)``, by the tables (``"exact"``) or
        the normal approximation (module docstring); ``broadcast(mu, tau).shape + (k, n_groups)``."""
        mu, tau = np.broadcast_arrays(np.asarray(mu, float), np.asarray(tau, float))
        if self.selection == "normal":
            mean = direction * (mu[..., None] + self.bias_mean)
            return group_probabilities(iv, mean, np.sqrt(tau[..., None] ** 2 + self.bias_var + self.v), self.se)
        out = np.empty(mu.shape + (self.k, iv.n_groups))
        t = self.table
        for i in range(self.k):
            curve = _exact_group_curve(int(t.n_t[i]), int(t.e_c[i]), int(t.n_c[i]), tuple(iv.cuts),
                                       tuple(iv.group), iv.n_groups, direction)  # fmt: skip
            sd = np.sqrt(tau**2 + self.bias_var[i])
            nodes = (mu + self.bias_mean[i])[..., None] + math.sqrt(2.0) * sd[..., None] * _XH  # (..., 32)
            at = curve(np.clip(nodes, _THETA[0], _THETA[-1]))  # (..., 32, n_groups)
            out[..., i, :] = np.einsum("...qj,q->...j", at, _WH) / math.sqrt(math.pi)
        return out

    def log_lik(self, mu: np.ndarray, tau: np.ndarray, shift: np.ndarray | None = None) -> np.ndarray:
        """``log L_i(mu + shift_i, tau)`` from the exact engine, shape ``broadcast(mu, tau).shape + (k,)``."""
        mu, tau = np.broadcast_arrays(np.asarray(mu, float), np.asarray(tau, float))
        # writable C-ordered copies: the engine's compiled kernels then see one array type (no recompilation)
        return _engine_log_lik(self, np.array(mu, order="C"), np.array(tau, order="C"), shift)

    def log_lik_shifted(self, mu: np.ndarray, tau: np.ndarray, shift: np.ndarray) -> np.ndarray:
        """``log L_i(mu[r, f, m] + shift[f, i], tau[r])``, shape (R, F, M, k), for the PET/PEESE nodes: for each tau,
        the engine's values of every study on one equally spaced grid of the mean (step ``min_i sd_ri / 6``,
        ``sd_ri = sqrt(v_i + s_bi^2 + tau_r^2)``, at most 800 nodes) over the means needed, cut to within 40 sd of
        every study's estimate, then each study's not-a-knot cubic spline, continued linearly beyond the cut (where
        the study's log likelihood is hundreds below its maximum). One engine call for all studies: the engine's cost
        is mostly per point. ``tests/bayes/test_publication_bias.py`` checks it against the engine's own values."""
        mu, tau, shift = np.asarray(mu, float), np.asarray(tau, float), np.asarray(shift, float)
        n_r, k = mu.shape[0], self.k
        if mu.shape[1] * mu.shape[2] <= 64:  # few nodes per tau (mu = 0): the engine at each of them
            return np.stack([self.log_lik(mu[:, f, :], tau[:, None], shift[f]) for f in range(mu.shape[1])], axis=1)
        m = mu[..., None] + shift[None, :, None, :]  # (R, F, M, k)
        sd = np.sqrt(self.v + self.bias_var + tau[:, None] ** 2)  # (R, k)
        lo = np.maximum(m.min(axis=(1, 2, 3)), np.min(self.y - 40.0 * sd, axis=1))
        hi = np.minimum(m.max(axis=(1, 2, 3)), np.max(self.y + 40.0 * sd, axis=1))
        hi = np.maximum(hi, lo + 1e-6)
        n = int(np.clip(np.ceil(np.max((hi - lo) / (sd.min(axis=1) / 6.0))) + 1, 16, 800))
        v = np.linspace(0.0, 1.0, n)
        grid = lo[:, None] + (hi - lo)[:, None] * v
        vals = self.log_lik(grid, np.broadcast_to(tau[:, None], grid.shape))  # (R, n, k)
        coef = interpolate.CubicSpline(v, vals.transpose(1, 0, 2).reshape(n, n_r * k)).c  # (4, n - 1, R k)
        x = (m - lo[:, None, None, None]) / (hi - lo)[:, None, None, None]
        inside = np.clip(x, 0.0, 1.0)
        idx = np.clip(np.floor(inside * (n - 1)), 0, n - 2).astype(int)
        t = inside - v[idx]
        col = (np.arange(n_r)[:, None, None, None] * k + np.arange(k)).astype(int) + np.zeros_like(idx)
        c0, c1, c2, c3 = (coef[j, idx, col] for j in range(4))
        val = ((c0 * t + c1) * t + c2) * t + c3
        slope = (3.0 * c0 * t + 2.0 * c1) * t + c2  # derivative in x at the clipped point
        return val + slope * (x - inside)


@functools.lru_cache(maxsize=4096)
def _exact_group_curve(
    nt: int, ec: int, nc: int, cuts: tuple[float, ...], group: tuple[int, ...], n_groups: int, direction: int
) -> interpolate.CubicSpline:
    """``P_j(theta)``: the probability that a study with arms of ``nt`` and ``nc`` patients and control risk fixed at
    its observed one (``ec`` of ``nc``; 0.5-corrected at 0 or 1) lands in each weight group, by enumeration of its
    tables (module docstring); the cubic spline through its values on :data:`_THETA`, so that it is smooth in theta
    and the quadrature over mu keeps its accuracy."""
    pc = (ec + 0.5) / (nc + 1.0) if ec in (0, nc) else ec / nc
    et_, ec_ = np.meshgrid(np.arange(nt + 1.0), np.arange(nc + 1.0), indexing="ij")
    cells = [et_, nt - et_, ec_, nc - ec_]
    zero = np.logical_or.reduce([c == 0 for c in cells])
    a, b, c, d = (np.where(zero, x + 0.5, x) for x in cells)
    z = direction * np.log(a * d / (b * c)) / np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    grp = np.asarray(group)[np.searchsorted(np.asarray(cuts), z, side="left")]  # (nt + 1, nc + 1)
    pmf_c = stats.binom.pmf(np.arange(nc + 1), nc, pc)
    by_group = np.stack([np.where(grp == j, pmf_c[None, :], 0.0).sum(axis=1) for j in range(n_groups)], axis=1)
    pt = special.expit(special.logit(pc) + _THETA)
    pmf_t = stats.binom.pmf(np.arange(nt + 1)[None, :], nt, pt[:, None])  # (481, nt + 1)
    return interpolate.CubicSpline(_THETA, pmf_t @ by_group, axis=0)


def binomial_studies(
    table: BinaryTable,
    *,
    bias_mean: np.ndarray | list[float] | None = None,
    bias_sd: np.ndarray | list[float] | None = None,
    double_zero: str = "drop",
    parametrisation: str = "symmetric",
    baseline_sd: float = BASELINE_SD_DEFAULT,
    selection: str = "exact",
) -> BinomialStudies:
    """:class:`BinomialStudies` of ``table``; ``bias_mean``/``bias_sd`` per study of ``table`` (the NRS bias model,
    log-OR scale), subset with the studies kept."""
    if not isinstance(table, BinaryTable):
        raise TypeError(f"table must be a BinaryTable, got {type(table).__name__}")
    if double_zero not in DOUBLE_ZERO:
        raise ValueError(f"double_zero must be one of {', '.join(DOUBLE_ZERO)}; got {double_zero!r}")
    if selection not in SELECTION:
        raise ValueError(f"selection must be one of {', '.join(SELECTION)}; got {selection!r}")
    mean = _per_study(bias_mean, table.k, "bias_mean")
    sd = _per_study(bias_sd, table.k, "bias_sd")
    if (sd < 0).any():
        raise ValueError("bias_sd must be non-negative")
    effects = escalc(table, "OR", correction="only0", add=0.5, drop00=double_zero == "drop")
    keep = [table.study.index(s) for s in effects.study]
    kept = table.subset(list(effects.study)) if effects.dropped else table
    if kept.k == 0:
        raise ValueError("no study left after dropping double-zero studies")
    return BinomialStudies(
        kept, np.asarray(effects.yi, float), np.asarray(effects.vi, float), mean[keep], sd[keep] ** 2,
        parametrisation, float(baseline_sd), tuple(effects.dropped), selection,
    )  # fmt: skip


Studies = NormalStudies | BinomialStudies
"""Either kind of study data."""
