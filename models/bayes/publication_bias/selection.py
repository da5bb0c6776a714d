"""Step weight functions on one-sided p-values: intervals, the probability of each interval, and quadrature nodes
over the weights.

A study's one-sided p-value is ``1 - Phi(z)`` with ``z = direction * y / se`` (``direction`` +1 when the expected
effect is positive, -1 when it is negative, e.g. a log OR below 0 for a harmful outcome). A weight function cuts
the z axis at sorted points ``c_1 < ... < c_K`` into K + 1 intervals and gives each interval a weight group:
group 0 (the most significant p-values) has weight 1, group j > 0 the free weight ``omega_j``. One-sided steps
``s_1 < ... < s_m`` cut at ``Phi^-1(1 - s)``; two-sided steps (two-sided p-values) cut symmetrically at
``+/- Phi^-1(1 - s / 2)``, so that very significant results in either direction share group 0 (RoBMA's
``two-sided`` weight functions).

Selection likelihood of study i (Vevea & Hedges 1995, Psychometrika 60:419; as RoBMA): the density of its estimate
times ``omega`` of its observed interval, over the probability that a study with its SE is published,
``A_i = sum_j omega_j P_ij``; ``P_ij`` is the probability that the estimate falls in group j when
``y_i ~ Normal(m_i, sigma_i^2)``, ``sigma_i^2 = tau^2 + se_i^2`` (random effects integrated out, as RoBMA does).
For 2x2 studies the same normal sampling distribution with the study's observed SE gives ``P_ij`` (see
:mod:`models.bayes.publication_bias.data`).

Weights (cumulative Dirichlet): ``eta ~ Dirichlet(alpha)`` over the groups from the least to the most significant,
``omega`` of the least significant group ``eta_1``, of the next ``eta_1 + eta_2``, ... , of group 0 exactly 1. The
integral over ``eta`` uses the stick-breaking map ``eta_1 = u_1, eta_2 = (1 - u_1) u_2, ...`` from the unit cube
(Jacobian ``prod_k (1 - u_k)^(m - k)``) with a tensor Gauss-Legendre rule in ``u``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy import special

from models.bayes.publication_bias.specs import WeightFunction


@dataclass(frozen=True)
class Intervals:
    """Cut points on the directed z scale and the weight group of each of the ``len(cuts) + 1`` intervals (group 0:
    weight 1; group j: free weight j)."""

    cuts: np.ndarray
    group: np.ndarray
    n_groups: int

    def observed_group(self, z: np.ndarray) -> np.ndarray:
        """Group of each directed z statistic (a z exactly on a cut point belongs to the more significant side, as
        ``p <= step``)."""
        return self.group[np.searchsorted(self.cuts, np.asarray(z, float), side="left")]


def intervals(wf: WeightFunction) -> Intervals:
    """The intervals of ``wf`` on the directed z scale (module docstring)."""
    q = special.ndtri(1.0 - np.asarray(wf.steps))  # decreasing in the step
    m = len(wf.steps)
    if wf.side == "one-sided":
        cuts = q[::-1]  # increasing
        group = np.arange(m, -1, -1)  # below the lowest cut: least significant (group m); above the top: group 0
        return Intervals(cuts, group, m + 1)
    q2 = special.ndtri(1.0 - np.asarray(wf.steps) / 2.0)  # |z| cut points, decreasing in the step
    cuts = np.concatenate([-q2, q2[::-1]])
    group = np.concatenate([np.arange(0, m + 1), np.arange(m - 1, -1, -1)])
    return Intervals(cuts, group, m + 1)


def group_probabilities(iv: Intervals, mean: np.ndarray, sd: np.ndarray, se: np.ndarray) -> np.ndarray:
    """``P_ij``: probability that ``z = y / se`` (directed) falls in each weight group when the directed estimate
    ``y ~ Normal(mean, sd^2)``; ``mean``, ``sd`` broadcast to S + (k,), ``se`` (k,); returns S + (k, n_groups).
    An interval above the mean is computed from upper tails, ``Phi(-a) - Phi(-b)``, so that small probabilities
    keep their digits."""
    mean, sd = np.broadcast_arrays(np.asarray(mean, float), np.asarray(sd, float))
    z = (iv.cuts * se[:, None] - mean[..., None]) / sd[..., None]  # S + (k, K)
    inf = np.full(z.shape[:-1] + (1,), np.inf)
    za, zb = np.concatenate([-inf, z], axis=-1), np.concatenate([z, inf], axis=-1)
    p = np.where(za > 0, special.ndtr(-za) - special.ndtr(-zb), special.ndtr(zb) - special.ndtr(za))
    out = np.zeros(p.shape[:-1] + (iv.n_groups,))
    for j in range(iv.n_groups):
        out[..., j] = p[..., iv.group == j].sum(axis=-1)
    return out


@dataclass(frozen=True)
class WeightNodes:
    """Quadrature nodes over the free weights: ``omega`` (F, n_groups) with column 0 equal to 1, and the log
    quadrature weights times the prior density (summing in exp to 1 up to the rule's error)."""

    omega: np.ndarray
    log_weight: np.ndarray
    u: np.ndarray


def weight_nodes(wf: WeightFunction, n_per_dim: int, a: np.ndarray | None = None, b: np.ndarray | None = None
                 ) -> WeightNodes:  # fmt: skip
    """Tensor Gauss-Legendre rule of ``n_per_dim`` nodes per stick-breaking coordinate (module docstring), after the
    change of variable ``u_k = B^-1(v_k; a_k, b_k)`` (B the Beta(a_k, b_k) cdf, ``v_k`` the Gauss-Legendre nodes on
    [0, 1], weights divided by the Beta density); with ``a = b = 1`` (default, before any fit) ``u_k = v_k^3``
    instead, which crowds the nodes towards 0, where a strong selection puts a peak of width about the studies'
    probability of significance. The quadrature fits ``a``, ``b`` to the posterior of each coordinate so that the
    nodes follow its mass (a posterior piled against 0 or 1 is then resolved). Nodes are ordered with the last
    coordinate fastest."""
    m = wf.n_free
    a = np.ones(m) if a is None else np.asarray(a, float)
    b = np.ones(m) if b is None else np.asarray(b, float)
    x, w = leggauss(int(n_per_dim))
    v = (x + 1.0) / 2.0
    axes, log_axes = [], []
    for k in range(m):
        if a[k] == 1.0 and b[k] == 1.0:  # no fit yet: u = v^3, nodes crowded towards 0 (strong selection)
            uk, log_pdf = v**3, -np.log(3.0 * v**2)
        else:
            uk = np.clip(special.betaincinv(a[k], b[k], v), 1e-300, 1.0 - 1e-16)
            log_pdf = (a[k] - 1.0) * np.log(uk) + (b[k] - 1.0) * np.log1p(-uk) - special.betaln(a[k], b[k])
        axes.append(uk)
        log_axes.append(np.log(w / 2.0) - log_pdf)
    u = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)  # (F, m)
    lw = sum(g.ravel() for g in np.meshgrid(*log_axes, indexing="ij"))
    eta = np.empty((u.shape[0], m + 1))
    rest = np.ones(u.shape[0])
    log_jac = np.zeros(u.shape[0])
    for k in range(m):
        eta[:, k] = rest * u[:, k]
        if k < m - 1:
            log_jac += (m - 1 - k) * np.log1p(-u[:, k])
        rest = rest * (1.0 - u[:, k])
    eta[:, m] = rest
    alpha = np.asarray(wf.alpha)
    with np.errstate(divide="ignore"):
        log_eta = np.log(eta)
    log_dir = special.gammaln(alpha.sum()) - special.gammaln(alpha).sum() + ((alpha - 1.0) * log_eta).sum(axis=1)
    # omega of group j (0 = most significant) is eta_1 + ... + eta_{m + 1 - j}
    cum = np.cumsum(eta, axis=1)  # cum[:, q] = eta_1 + ... + eta_{q+1}
    omega = np.empty((u.shape[0], m + 1))
    for j in range(m + 1):
        omega[:, j] = cum[:, m - j]
    omega[:, 0] = 1.0
    return WeightNodes(omega, lw + log_jac + log_dir, u)
