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

Approximation for 2x2 studies (stated): the probability that a study is published is computed from the normal
sampling distribution of its log OR with its observed SE, ``y_i ~ Normal(theta_i, se_i^2)`` (RoBMA's model for
every effect size), not from the discrete distribution of the tables its arms could have produced. Its error is
measured against exact enumeration of the tables in ``scripts/pubbias_selection_error.py`` (README of the package).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from models.bayes.exact_binomial import BinomialLikelihood
from models.effects import escalc
from models.priors import BASELINE_SD_DEFAULT
from models.tables import BinaryTable

DOUBLE_ZERO = ("drop", "corrected")
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


def _engine_log_lik(studies: BinomialStudies, shift: np.ndarray | None, mu: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """The one access to the exact binomial-normal engine: ``log L_i(mu + shift_i, tau)`` of every study, the
    baseline log-odds and the true log OR integrated out, shape ``broadcast(mu, tau).shape + (k,)``.

    Uses the engine's public ``BinomialLikelihood(..., bias_mean=, bias_sd=).log_lik(mu, tau)``: a study-specific
    shift of the mean (PET/PEESE) is an additive bias mean. The per-study curves are cached by the engine, so one
    likelihood object per shift costs little."""
    mean = studies.bias_mean if shift is None else studies.bias_mean + shift
    lik = BinomialLikelihood(
        studies.table,
        parametrisation=studies.parametrisation,
        baseline_sd=studies.baseline_sd,
        bias_mean=mean,
        bias_sd=np.sqrt(studies.bias_var),
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

    def log_lik(self, mu: np.ndarray, tau: np.ndarray, shift: np.ndarray | None = None) -> np.ndarray:
        """``log L_i(mu + shift_i, tau)`` from the exact engine, shape ``broadcast(mu, tau).shape + (k,)``."""
        mu, tau = np.broadcast_arrays(np.asarray(mu, float), np.asarray(tau, float))
        # writable C-ordered copies: the engine's compiled kernels then see one array type (no recompilation)
        return _engine_log_lik(self, shift, np.array(mu, order="C"), np.array(tau, order="C"))


def binomial_studies(
    table: BinaryTable,
    *,
    bias_mean: np.ndarray | list[float] | None = None,
    bias_sd: np.ndarray | list[float] | None = None,
    double_zero: str = "drop",
    parametrisation: str = "symmetric",
    baseline_sd: float = BASELINE_SD_DEFAULT,
) -> BinomialStudies:
    """:class:`BinomialStudies` of ``table``; ``bias_mean``/``bias_sd`` per study of ``table`` (the NRS bias model,
    log-OR scale), subset with the studies kept."""
    if not isinstance(table, BinaryTable):
        raise TypeError(f"table must be a BinaryTable, got {type(table).__name__}")
    if double_zero not in DOUBLE_ZERO:
        raise ValueError(f"double_zero must be one of {', '.join(DOUBLE_ZERO)}; got {double_zero!r}")
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
        parametrisation, float(baseline_sd), tuple(effects.dropped),
    )  # fmt: skip


Studies = NormalStudies | BinomialStudies
"""Either kind of study data."""
