"""Typed, frozen results of a robust Bayesian meta-analysis (see :mod:`models.bayes.publication_bias`).

Scales: for ratio measures (OR, RR, HR) ``median``, ``low``, ``high`` and ``threshold`` are ratios and ``mean`` is
the posterior mean of the log ratio; for other measures (SMD, Fisher z, ...) all are on the analysis scale and the
null value is 0. Bayes factors are kept on the log scale (``log_bf``); ``bf`` is ``exp(log_bf)``, ``inf`` or ``0.0``
where that is not representable as a double.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def plain(log_value: float) -> float:
    """``exp(log_value)``, inf above the largest double and 0.0 below the smallest."""
    if log_value > 709.0:
        return math.inf
    return math.exp(log_value) if log_value > -745.0 else 0.0


@dataclass(frozen=True)
class EffectSummary:
    """The posterior of the pooled effect under a set of models (a mixture, with a point mass at the null value
    from the models with ``mu = 0``): median and equal-tailed ``prob`` interval (the generalised inverse of the
    mixture cdf: a level inside the point mass is exactly the null value), posterior mean on the analysis scale,
    the point mass ``p_null``, ``P(effect < null)`` and ``P(effect < threshold)`` (strict: the point mass is not
    below)."""

    measure: str
    ratio: bool
    median: float
    low: float
    high: float
    prob: float
    mean: float
    p_null: float
    prob_below_null: float
    threshold: float
    prob_below_threshold: float


@dataclass(frozen=True)
class Inclusion:
    """Inclusion Bayes factor of one component (effect, heterogeneity or publication bias): posterior over prior
    inclusion odds, summing the models with and without it."""

    component: str
    prior_prob: float
    posterior_prob: float
    log_bf: float

    @property
    def bf(self) -> float:
        return plain(self.log_bf)


@dataclass(frozen=True)
class ModelRow:
    """One model of the ensemble: its components, prior probability, log marginal likelihood (the data's density
    on the analysis scale: the estimates' for normal data, the counts' for 2x2 data), posterior probability,
    posterior mean of tau and of its bias parameters (PET/PEESE slope; omega of each weight group after the first),
    and whether its quadrature passed every end check."""

    key: str
    effect: bool
    heterogeneity: bool
    bias: str
    bias_label: str
    prior_prob: float
    log_evidence: float
    posterior_prob: float
    tau_mean: float
    bias_mean: tuple[float, ...]
    settled: bool


@dataclass(frozen=True)
class BiasModelResult:
    """One publication-bias component (no bias, a weight function, PET, PEESE): its prior and posterior probability,
    its own inclusion Bayes factor (against all other components), and the effect under it conditional on an effect
    being present (mixing its fixed- and random-effects models by their posterior probabilities), so that the
    unadjusted, selection-model and PET/PEESE answers can be shown side by side."""

    key: str
    label: str
    prior_prob: float
    posterior_prob: float
    log_bf: float
    effect: EffectSummary

    @property
    def bf(self) -> float:
        return plain(self.log_bf)


@dataclass(frozen=True)
class PublicationBiasAverage:
    """A robust Bayesian meta-analysis: model-averaged effect (``averaged``; with the point mass of the models with
    no effect) and the effect averaged over the models with an effect (``conditional``), inclusion Bayes factors,
    every model, and each bias component's conditional answer.

    ``direction`` is the expected sign of the effect (+1/-1) that selection and PET/PEESE act in; ``data`` says
    whether the likelihood was the normal one of effect estimates or the binomial one of 2x2 counts, and
    ``approximation`` how the probability of publication was computed.
    """

    measure: str
    k: int
    study: tuple[str, ...]
    excluded: tuple[str, ...]
    data: str
    direction: int
    averaged: EffectSummary
    conditional: EffectSummary
    effect: Inclusion
    heterogeneity: Inclusion
    bias: Inclusion
    models: tuple[ModelRow, ...]
    bias_models: tuple[BiasModelResult, ...]
    tau_mean: float
    tau_prior: str
    effect_prior: str
    approximation: str
    settled: bool

    def bias_model(self, key: str) -> BiasModelResult:
        """The component ``key`` (``"none"``, ``"PET"``, ``"PEESE"``, ``"omega_1s_0.025"``, ...)."""
        for b in self.bias_models:
            if b.key == key:
                return b
        raise KeyError(f"no bias component {key!r}; have {', '.join(b.key for b in self.bias_models)}")
