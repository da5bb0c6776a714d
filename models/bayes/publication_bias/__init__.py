"""Robust Bayesian meta-analysis (RoBMA) by quadrature: model averaging over effect (mu = 0 or not) x heterogeneity
(tau = 0 or not) x publication bias (none, step weight functions on one-sided p-values, PET, PEESE), for effect
estimates with known variances (exactly RoBMA's normal model) and for the binomial likelihood of 2x2 counts.

Public entry points: :func:`robust_bma` (either kind of data), :func:`robust_bma_normal` (``yi``, ``vi``),
:func:`robust_bma_binomial` (a :class:`~models.tables.BinaryTable`, optionally with the additive NRS bias terms).
The model space and its default prior probabilities are :mod:`.specs` (RoBMA-PSMA); the quadrature
:mod:`.quadrature`; the averaging :mod:`.averaging`; the result types :mod:`.results`.

Example (2x2 counts, log-OR scale)::

    from models.bayes.publication_bias import robust_bma_binomial
    from models.priors import effect_prior, tau_prior

    res = robust_bma_binomial(table, tau_prior("halfnormal_0.5"), effect_prior("weakly_informative"),
                              direction="negative")
    res.averaged.prob_below_null          # P(OR < 1), model-averaged (the point mass at OR = 1 not below)
    res.bias.log_bf, res.bias.bf          # inclusion Bayes factor for publication bias
    res.bias_model("PET").effect          # the effect under PET, given an effect (side by side with "none", ...)
    [(m.key, m.posterior_prob) for m in res.models]

Modelling choices that move the answer (stated in the result): the bias components and their priors and prior
weights (default RoBMA-PSMA, Bartoš et al. 2023), the effect and heterogeneity priors (the caller's; RoBMA 4.0's own
defaults for log OR are the project's primary Normal(0, 1) and HalfNormal(0.5)), the expected direction of the
effect (``"detect"``: the sign of the median estimate, RoBMA 4.0's rule; pass ``"negative"`` for a benefit that
lowers a ratio below 1), and for 2x2 data how a study's probability of publication is computed (by default from the
tables its arms can produce, at its observed control risk; :mod:`.data`), with double-zero studies left out by
default.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.bayes.publication_bias.averaging import combine
from models.bayes.publication_bias.data import BinomialStudies, NormalStudies, Studies, binomial_studies, normal_studies
from models.bayes.publication_bias.quadrature import Grid, fit_model
from models.bayes.publication_bias.results import (
    BiasModelResult,
    EffectSummary,
    Inclusion,
    ModelRow,
    PublicationBiasAverage,
)
from models.bayes.publication_bias.specs import (
    BiasComponent,
    NoBias,
    Regression,
    WeightFunction,
    ensemble,
    peese,
    pet,
    psma_components,
)
from models.priors import BASELINE_SD_DEFAULT, EffectPrior, TauPrior
from models.tables import BinaryTable

__all__ = [
    "BiasComponent",
    "BiasModelResult",
    "EffectSummary",
    "Grid",
    "Inclusion",
    "ModelRow",
    "NoBias",
    "NormalStudies",
    "BinomialStudies",
    "binomial_studies",
    "normal_studies",
    "PublicationBiasAverage",
    "Regression",
    "WeightFunction",
    "peese",
    "pet",
    "psma_components",
    "robust_bma",
    "robust_bma_binomial",
    "robust_bma_normal",
]

DIRECTIONS = ("detect", "positive", "negative")
NORMAL_APPROXIMATION = "normal likelihood of the estimates with known variances (as RoBMA)"
BINOMIAL_SELECTION = {
    "exact": "exact binomial likelihood of the counts (baseline log-odds integrated out); probability of publication "
    "from the study's possible tables at its observed control risk",
    "normal": "exact binomial likelihood of the counts (baseline log-odds integrated out); probability of publication "
    "from the normal sampling distribution of each study's log OR with its observed SE (0.5 added to zero cells)",
}


def resolve_direction(direction: str, y: np.ndarray) -> int:
    """+1 or -1: ``"positive"``, ``"negative"``, or ``"detect"`` (the sign of the median estimate, 0 counting as
    positive; RoBMA 4.0)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r} is not one of {', '.join(DIRECTIONS)}")
    if direction == "detect":
        return 1 if float(np.median(y)) >= 0 else -1
    return 1 if direction == "positive" else -1


def robust_bma(
    studies: Studies,
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    *,
    components: Sequence[BiasComponent] | None = None,
    effect_prob: float = 0.5,
    heterogeneity_prob: float = 0.5,
    direction: str = "detect",
    threshold: float | None = None,
    prob: float = 0.95,
    grid: Grid | None = None,
) -> PublicationBiasAverage:
    """Robust Bayesian model averaging of ``studies`` (module docstring).

    ``components``: the publication-bias components with their prior weights (default
    :func:`~models.bayes.publication_bias.specs.psma_components` for the studies' measure); ``effect_prob`` and
    ``heterogeneity_prob``: prior probabilities that mu and tau are free (RoBMA: 1/2 each). ``threshold``: the
    effect whose posterior probability of being exceeded in the beneficial direction is reported (ratio scale for
    OR/RR, default 0.8; analysis scale otherwise, default none). ``prob``: the interval probability.
    """
    if not isinstance(tau_prior, TauPrior) or not isinstance(effect_prior, EffectPrior):
        raise TypeError("tau_prior must be a TauPrior and effect_prior an EffectPrior")
    if not 0.0 < prob < 1.0:
        raise ValueError(f"prob must be strictly between 0 and 1, got {prob!r}")
    comps = tuple(components) if components is not None else psma_components(studies.measure)
    specs = ensemble(comps, effect_prob, heterogeneity_prob)
    d = resolve_direction(direction, studies.y)
    fits = [fit_model(studies, s, tau_prior, effect_prior, d, grid) for s in specs]
    averaged, conditional, (inc_e, inc_h, inc_b), rows, bias_models, tau_mean = combine(
        fits, studies.measure, threshold, prob
    )
    binomial = isinstance(studies, BinomialStudies)
    return PublicationBiasAverage(
        measure=studies.measure,
        k=studies.k,
        study=tuple(studies.study),
        excluded=studies.excluded if binomial else (),
        data="binomial" if binomial else "normal",
        direction=d,
        averaged=averaged,
        conditional=conditional,
        effect=inc_e,
        heterogeneity=inc_h,
        bias=inc_b,
        models=rows,
        bias_models=bias_models,
        tau_mean=tau_mean,
        tau_prior=str(tau_prior),
        effect_prior=str(effect_prior),
        approximation=BINOMIAL_SELECTION[studies.selection] if binomial else NORMAL_APPROXIMATION,
        settled=all(r.settled for r in rows),
    )


def robust_bma_normal(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    *,
    measure: str = "GEN",
    study: Sequence[str] | None = None,
    **kwargs,
) -> PublicationBiasAverage:
    """:func:`robust_bma` of effect estimates ``yi`` with sampling variances ``vi`` (analysis scale of ``measure``:
    log ratios for OR/RR/HR, SMD, Fisher z ``"ZCOR"``, or ``"GEN"``, which needs explicit ``components``)."""
    studies = normal_studies(yi, vi, study=None if study is None else tuple(study), measure=measure)
    return robust_bma(studies, tau_prior, effect_prior, **kwargs)


def robust_bma_binomial(
    table: BinaryTable,
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    *,
    bias_mean: Sequence[float] | np.ndarray | None = None,
    bias_sd: Sequence[float] | np.ndarray | None = None,
    double_zero: str = "drop",
    parametrisation: str = "symmetric",
    baseline_sd: float = BASELINE_SD_DEFAULT,
    selection: str = "exact",
    **kwargs,
) -> PublicationBiasAverage:
    """:func:`robust_bma` on the binomial likelihood of the arm counts (log-OR scale). ``bias_mean``/``bias_sd``: the
    additive per-study bias of the NRS bias model (0 for randomised trials; Turner et al. 2009). ``selection``: how a
    study's probability of publication is computed, ``"exact"`` (its tables) or ``"normal"`` (RoBMA's normal
    approximation; :mod:`.data`)."""
    studies = binomial_studies(table, bias_mean=bias_mean, bias_sd=bias_sd, double_zero=double_zero,
                               parametrisation=parametrisation, baseline_sd=baseline_sd,
                               selection=selection)  # fmt: skip
    return robust_bma(studies, tau_prior, effect_prior, **kwargs)
