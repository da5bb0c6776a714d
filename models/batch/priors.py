"""The stated prior sets of a batch (``--priors primary|grid``), by measure family.

Every prior is a preset of :mod:`models.priors` with its citation. Ratio measures (OR, RR; tau on the log scale) use
the project's primary priors (:data:`models.priors.PRIMARY_TAU_PRIOR`, :data:`models.priors.PRIMARY_EFFECT_PRIOR`)
and, for the grid, two more heterogeneity priors and the sceptical effect prior. SMD uses Rhodes et al. 2015's
general SMD heterogeneity prior with the Normal(0, 1) effect prior (an SMD of 1 is a large effect), and for the grid
HalfNormal(0.5) as the alternative. Applying Turner's log-OR priors to log-RR is an approximation (Rhodes, Turner &
Higgins 2016), as stated in :mod:`models.priors`.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR, EffectPrior, TauPrior, effect_prior, tau_prior

PRIOR_SETS = ("primary", "grid")

_KEYS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("ratio", "primary"): ((PRIMARY_TAU_PRIOR, PRIMARY_EFFECT_PRIOR),),
    ("ratio", "grid"): tuple(
        (t, e)
        for t in tuple(dict.fromkeys((PRIMARY_TAU_PRIOR, "turner2015_mortality_pharma", "turner2015_general",
                                      "halfnormal_0.5")))[:3]  # fmt: skip
        for e in (PRIMARY_EFFECT_PRIOR, "sceptical")
    ),
    ("smd", "primary"): (("rhodes2015_smd_general", "weakly_informative"),),
    ("smd", "grid"): tuple(
        (t, e) for t in ("rhodes2015_smd_general", "halfnormal_0.5") for e in ("weakly_informative", "vague")
    ),
}


@dataclass(frozen=True)
class PriorPair:
    """A heterogeneity prior and an effect prior, analysed together; ``primary`` marks the primary pair."""

    tau: TauPrior
    effect: EffectPrior
    primary: bool


def prior_pairs(prior_set: str, measure: str) -> tuple[PriorPair, ...]:
    """The pairs of ``prior_set`` (``primary`` or ``grid``) for ``measure``; the primary pair comes first."""
    if prior_set not in PRIOR_SETS:
        raise ValueError(f"prior set {prior_set!r} is not one of {', '.join(PRIOR_SETS)}")
    family = "smd" if measure == "SMD" else "ratio"
    keys = _KEYS[(family, prior_set)]
    first = _KEYS[(family, "primary")][0]
    return tuple(PriorPair(tau_prior(t), effect_prior(e), (t, e) == first) for t, e in keys)
