"""The model space of a robust Bayesian meta-analysis (RoBMA): bias components, their priors and prior weights.

A model is one choice per component: effect (``mu = 0`` or ``mu ~`` an :class:`~models.priors.EffectPrior`),
heterogeneity (``tau = 0`` or ``tau ~`` a :class:`~models.priors.TauPrior`) and publication bias (none, a step
weight function on one-sided p-values, PET or PEESE). The prior probability of a model is the product of its
components' prior weights, each component's weights summing to 1 (Bartoš et al. 2023, Res Synth Methods 14:99,
section 2 and appendix B; RoBMA R package, ``R/RoBMA.R`` in versions 2-3 and the "publication-bias prior
specification" help page of version 4.0).

Default (:func:`psma_components`): RoBMA-PSMA. Effect and heterogeneity 1/2 : 1/2; publication bias: none 1/2, and
the other 1/2 split as half to the six weight functions together (1/24 each) and a quarter each to PET and PEESE
(1/8 each). Weight-function priors: cumulative Dirichlet with all alpha = 1. PET ~ Cauchy(0, 1) truncated to
[0, inf) (invariant to the effect-size measure); PEESE ~ Cauchy(0, 5 UISD_SMD / UISD_measure) truncated to [0, inf),
UISD the unit-information SD (SMD sqrt 2, Fisher z 1, log OR / log RR / log HR 2: RoBMA 4.0 ``input-priors.R`` after
Pawel & Held 2025, Am Stat 79:330, Table 2), so Cauchy(0, 5) for SMD and Cauchy(0, 3.54) for log OR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ROBMA_SOURCE = (
    "Bartoš, Maier, Wagenmakers, Doucouliagos & Stanley 2023, Res Synth Methods 14:99 (RoBMA-PSMA); "
    "RoBMA R package 4.0 defaults"
)
UNIT_INFORMATION_SD = {"SMD": math.sqrt(2.0), "ZCOR": 1.0, "OR": 2.0, "RR": 2.0, "HR": 2.0}
"""Unit-information SD by measure (RoBMA 4.0, after Pawel & Held 2025, Table 2); scales the default PEESE prior."""
SIDES = ("one-sided", "two-sided")


@dataclass(frozen=True)
class NoBias:
    """No publication bias: the plain (random- or fixed-effect) model."""

    prior_weight: float = 0.5
    key: str = "none"

    @property
    def label(self) -> str:
        return "No bias"


@dataclass(frozen=True)
class WeightFunction:
    """Step selection model: the relative probability that a study is published is 1 for one-sided p-values below
    the smallest step (in the expected direction of the effect) and ``omega_j <= 1`` in the other intervals.

    ``steps`` are p-value cut points: one-sided p-values for ``side="one-sided"``, two-sided p-values for
    ``"two-sided"`` (selection symmetric in the direction of the effect). Weights: cumulative Dirichlet
    (RoBMA/BayesTools ``wf_cumulative``): ``eta ~ Dirichlet(alpha)``, ``alpha`` ordered from the least to the most
    significant interval, and ``omega`` of interval j (counted from the least significant) is
    ``eta_1 + ... + eta_j``, so the most significant interval has omega 1 and omega never increases with p.
    """

    steps: tuple[float, ...]
    side: str = "one-sided"
    alpha: tuple[float, ...] | None = None
    prior_weight: float = 1.0 / 24.0

    def __post_init__(self) -> None:
        steps = tuple(float(s) for s in self.steps)
        if not steps or any(not 0.0 < s < 1.0 for s in steps) or list(steps) != sorted(set(steps)):
            raise ValueError(f"steps must be increasing p-values strictly between 0 and 1, got {self.steps!r}")
        if self.side not in SIDES:
            raise ValueError(f"side {self.side!r} is not one of {', '.join(SIDES)}")
        alpha = tuple(float(a) for a in (self.alpha or (1.0,) * (len(steps) + 1)))
        if len(alpha) != len(steps) + 1 or any(not (math.isfinite(a) and a > 0) for a in alpha):
            raise ValueError(f"alpha must be {len(steps) + 1} positive numbers, got {self.alpha!r}")
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "alpha", alpha)

    @property
    def key(self) -> str:
        return f"omega_{'1s' if self.side == 'one-sided' else '2s'}_" + "_".join(f"{s:g}" for s in self.steps)

    @property
    def label(self) -> str:
        return f"Weight function ({self.side}: " + ", ".join(f"{s:g}" for s in self.steps) + ")"

    @property
    def n_free(self) -> int:
        """Number of free weights (the dimension of the Dirichlet)."""
        return len(self.steps)


@dataclass(frozen=True)
class Regression:
    """PET (``power=1``: the effect regressed on the study SE) or PEESE (``power=2``: on the sampling variance):
    a study's expected effect is ``mu + direction * beta * se_i**power`` with ``beta ~ Cauchy(0, scale)`` truncated
    to ``[0, inf)``, so that smaller studies show larger effects in the expected direction."""

    power: int
    scale: float
    prior_weight: float = 0.125

    def __post_init__(self) -> None:
        if self.power not in (1, 2):
            raise ValueError(f"power must be 1 (PET) or 2 (PEESE), got {self.power!r}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale must be positive and finite, got {self.scale!r}")

    @property
    def key(self) -> str:
        return "PET" if self.power == 1 else "PEESE"

    @property
    def label(self) -> str:
        return f"{self.key} (slope ~ Cauchy(0, {self.scale:.3g}) on [0, inf))"


BiasComponent = NoBias | WeightFunction | Regression
"""One publication-bias component of the ensemble."""


def pet(scale: float = 1.0, prior_weight: float = 0.125) -> Regression:
    """PET with a Cauchy(0, scale) prior truncated to [0, inf) on the slope (RoBMA default scale 1)."""
    return Regression(1, scale, prior_weight)


def peese(scale: float, prior_weight: float = 0.125) -> Regression:
    """PEESE with a Cauchy(0, scale) prior truncated to [0, inf) on the slope (per unit sampling variance)."""
    return Regression(2, scale, prior_weight)


def peese_default_scale(measure: str) -> float:
    """RoBMA 4.0's default PEESE prior scale for ``measure``: ``5 * UISD_SMD / UISD_measure``."""
    if measure not in UNIT_INFORMATION_SD:
        raise ValueError(f"no default PEESE scale for measure {measure!r}; known: {', '.join(UNIT_INFORMATION_SD)}")
    return 5.0 * UNIT_INFORMATION_SD["SMD"] / UNIT_INFORMATION_SD[measure]


def psma_components(measure: str = "OR", peese_scale: float | None = None) -> tuple[BiasComponent, ...]:
    """The RoBMA-PSMA publication-bias components with their prior weights (module docstring): no bias (1/2), six
    weight functions (1/24 each), PET (1/8), PEESE (1/8). ``peese_scale`` overrides the measure's default."""
    wf = 1.0 / 24.0
    scale = peese_default_scale(measure) if peese_scale is None else float(peese_scale)
    return (
        NoBias(0.5),
        WeightFunction((0.05,), "two-sided", prior_weight=wf),
        WeightFunction((0.05, 0.10), "two-sided", prior_weight=wf),
        WeightFunction((0.05,), "one-sided", prior_weight=wf),
        WeightFunction((0.025, 0.05), "one-sided", prior_weight=wf),
        WeightFunction((0.05, 0.5), "one-sided", prior_weight=wf),
        WeightFunction((0.025, 0.05, 0.5), "one-sided", prior_weight=wf),
        pet(1.0, 0.125),
        peese(scale, 0.125),
    )


@dataclass(frozen=True)
class ModelSpec:
    """One model of the ensemble: effect present (mu ~ prior) or not (mu = 0), heterogeneity present or not, and
    its publication-bias component; ``prior_prob`` is its prior model probability."""

    effect: bool
    heterogeneity: bool
    bias: BiasComponent
    prior_prob: float

    @property
    def key(self) -> str:
        return f"{'effect' if self.effect else 'null'}/{'random' if self.heterogeneity else 'fixed'}/{self.bias.key}"


def ensemble(
    components: tuple[BiasComponent, ...],
    effect_prob: float = 0.5,
    heterogeneity_prob: float = 0.5,
) -> tuple[ModelSpec, ...]:
    """Every combination of effect x heterogeneity x bias component, with prior probability the product of the
    component weights (bias weights normalised to sum to 1; a component with weight 0 is left out)."""
    if not components:
        raise ValueError("components must name at least one bias component")
    for name, p in (("effect_prob", effect_prob), ("heterogeneity_prob", heterogeneity_prob)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {p!r}")
    weights = [float(c.prior_weight) for c in components]
    if any(w < 0 or not math.isfinite(w) for w in weights) or sum(weights) <= 0:
        raise ValueError(f"bias prior weights must be non-negative with a positive sum, got {weights}")
    keys = [c.key for c in components]
    if len(set(keys)) != len(keys):
        raise ValueError(f"bias components must differ; got {keys}")
    total = sum(weights)
    out = []
    for effect in (False, True):
        pe = effect_prob if effect else 1.0 - effect_prob
        for het in (False, True):
            ph = heterogeneity_prob if het else 1.0 - heterogeneity_prob
            for comp, w in zip(components, weights, strict=True):
                p = pe * ph * w / total
                if p > 0:
                    out.append(ModelSpec(effect, het, comp, p))
    return tuple(out)
