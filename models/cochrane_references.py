"""Published distributions from meta-research on the Cochrane Database of Systematic Reviews, with their sources:
what a corpus reanalysis is compared with.

* :data:`TURNER2015` -- Turner et al. 2015 (Stat Med 34:984), Table IV: predictive distributions of the between-study
  variance of log odds ratios in a new meta-analysis, ``log(tau^2) ~ Normal(m, s^2)``, for 16 outcome types x 5 types
  of intervention comparison (from 14,886 meta-analyses of binary outcomes in the CDSR, issue 1 of 2008; the
  "general setting" of p. 993, any outcome and comparison, is ``Normal(-2.56, 1.74^2)``). Numbers as transcribed in
  R package bayesmeta 3.4 (``TurnerEtAlParameters``); the all-cause mortality entries equal the presets of
  :mod:`models.priors` taken from the paper.
* :data:`RHODES2016_I2` -- Rhodes, Turner & Higgins 2016 (Res Synth Methods 7:346), abstract: predictive
  distributions of I^2 (percent) in a new meta-analysis in a general research setting: binary outcomes on the log
  odds ratio scale median 22% (95% interval 12% to 39%); continuous outcomes as SMD median 40% (15% to 73%).
* :data:`BARTOS2023_HEADLINE` -- Bartoš et al. 2023 (arXiv 2306.11468), abstract: the direction of the evidence in
  Cochrane meta-analyses of binary outcomes under their empirical priors (:mod:`models.priors`, ``bartos2023_*``).

Loads neither numpy nor scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.priors import TauPrior

TURNER2015_SOURCE = "Turner et al. 2015, Stat Med 34:984, Table IV"

OUTCOME_TYPES: dict[str, str] = {
    "all_cause_mortality": "all-cause mortality",
    "obstetric": "obstetric outcomes",
    "cause_specific_mortality_morbidity": "cause-specific mortality / major morbidity event / composite",
    "resource_use": "resource use / hospital stay / process",
    "surgical_device": "surgical / device related success / failure",
    "withdrawals": "withdrawals / drop-outs",
    "internal_structure": "internal / structure-related outcomes",
    "general_physical_health": "general physical health indicators",
    "adverse_events": "adverse events",
    "infection_onset": "infection / onset of new disease",
    "signs_symptoms": "signs / symptoms reflecting continuation / end of condition",
    "pain": "pain",
    "quality_of_life": "quality of life / functioning (dichotomised)",
    "mental_health": "mental health indicators",
    "biological_markers": "biological markers (dichotomised)",
    "subjective": "subjective outcomes (various)",
}
"""Turner et al. 2015's 16 outcome types (Table IV's rows), by key, in the paper's order."""

COMPARISON_TYPES: dict[str, str] = {
    "pharma_vs_placebo": "pharmacological vs placebo / control",
    "pharma_vs_pharma": "pharmacological vs pharmacological",
    "nonpharma_vs_placebo": "non-pharmacological vs placebo / control",
    "nonpharma_vs_pharma": "non-pharmacological vs pharmacological",
    "nonpharma_vs_nonpharma": "non-pharmacological vs non-pharmacological",
}
"""Turner et al. 2015's 5 types of intervention comparison (Table IV's columns), by key."""

_M = (
    (-3.95, -3.52, -3.71, -2.34, -2.14, -2.99, -2.71, -2.29, -1.87, -2.49, -2.06, -1.83, -2.54, -2.12, -1.77, -2.70),
    (-4.18, -3.75, -3.95, -2.58, -2.37, -3.23, -2.94, -2.53, -2.10, -2.73, -2.29, -2.06, -2.78, -2.35, -2.00, -2.93),
    (-4.17, -3.74, -3.93, -2.56, -2.36, -3.21, -2.93, -2.51, -2.10, -2.71, -2.28, -2.05, -2.77, -2.34, -1.99, -2.92),
    (-2.92, -2.49, -2.68, -1.31, -1.11, -1.96, -1.67, -1.26, -0.84, -1.46, -1.03, -0.80, -1.51, -1.09, -0.74, -1.67),
    (-3.50, -3.08, -3.27, -1.90, -1.69, -2.55, -2.26, -1.85, -1.43, -2.05, -1.61, -1.38, -2.10, -1.67, -1.33, -2.26),
)
_S = (
    (1.34, 1.74, 1.74, 1.74, 1.74, 1.74, 1.74, 1.53, 1.52, 1.52, 1.51, 1.52, 1.54, 1.53, 1.52, 1.52),
    (1.41, 1.79, 1.79, 1.79, 1.79, 1.79, 1.79, 1.58, 1.58, 1.58, 1.58, 1.58, 1.60, 1.60, 1.58, 1.58),
    (1.55, 1.91, 1.91, 1.91, 1.91, 1.91, 1.92, 1.72, 1.71, 1.71, 1.71, 1.71, 1.73, 1.72, 1.71, 1.71),
    (1.02, 1.50, 1.51, 1.50, 1.50, 1.51, 1.51, 1.25, 1.24, 1.24, 1.24, 1.25, 1.27, 1.27, 1.24, 1.25),
    (1.26, 1.68, 1.68, 1.68, 1.68, 1.68, 1.68, 1.46, 1.45, 1.45, 1.45, 1.45, 1.47, 1.47, 1.45, 1.45),
)
TURNER2015: dict[tuple[str, str], tuple[float, float]] = {
    (outcome, comparison): (_M[j][i], _S[j][i])
    for j, comparison in enumerate(COMPARISON_TYPES)
    for i, outcome in enumerate(OUTCOME_TYPES)
}
"""``(outcome type, comparison type) -> (m, s)`` of ``log(tau^2) ~ Normal(m, s^2)``, Turner et al. 2015 Table IV."""
TURNER2015_GENERAL = (-2.56, 1.74)
"""The general setting (any outcome type and comparison; Turner et al. 2015, p. 993)."""


def turner2015_prior(outcome: str, comparison: str) -> TauPrior:
    """Turner et al. 2015's predictive distribution of tau for ``outcome`` and ``comparison`` (keys of
    :data:`OUTCOME_TYPES` and :data:`COMPARISON_TYPES`), as a :class:`~models.priors.TauPrior` (log OR scale)."""
    try:
        m, s = TURNER2015[(outcome, comparison)]
    except KeyError:
        raise KeyError(
            f"no Turner 2015 entry for outcome {outcome!r} and comparison {comparison!r}; outcomes: "
            f"{', '.join(OUTCOME_TYPES)}; comparisons: {', '.join(COMPARISON_TYPES)}"
        ) from None
    label = f"Turner 2015 {OUTCOME_TYPES[outcome]}, {COMPARISON_TYPES[comparison]}"
    return TauPrior(f"turner2015_{outcome}_{comparison}", label, "lognormal_tau2", (("m", m), ("s", s)),
                    TURNER2015_SOURCE)  # fmt: skip


@dataclass(frozen=True)
class PublishedI2:
    """A published predictive distribution of I^2 (percent): median and 95% interval, what it is about, source."""

    setting: str
    median: float
    low: float
    high: float
    source: str


RHODES2016_I2: dict[str, PublishedI2] = {
    "OR": PublishedI2(
        "binary outcomes, log odds ratio, general research setting", 22.0, 12.0, 39.0,
        "Rhodes, Turner & Higgins 2016, Res Synth Methods 7:346 (abstract; 3,873 binary-outcome meta-analyses of "
        "the CDSR)",
    ),
    "SMD": PublishedI2(
        "continuous outcomes, standardised mean difference, general research setting", 40.0, 15.0, 73.0,
        "Rhodes, Turner & Higgins 2016, Res Synth Methods 7:346 (abstract; 5,132 continuous-outcome meta-analyses "
        "of the CDSR)",
    ),
}  # fmt: skip
"""Rhodes, Turner & Higgins 2016's predictive I^2 by measure (they found log RR similar to log OR)."""

BARTOS2023_HEADLINE = (
    "most meta-analyses of binary outcomes are more consistent with the absence of the meta-analytic effect or "
    "heterogeneity"
)
"""Bartoš et al. 2023's finding on the Cochrane database (abstract), under their empirical priors and model
averaging over effect x heterogeneity (prior probability 1/2 each)."""
BARTOS2023_SOURCE = "Bartoš, Otte, Gronau, Timmers, Ly & Wagenmakers 2023, arXiv 2306.11468 (abstract)"


def lognormal_tau_quantile(m: float, s: float, q: float) -> float:
    """Quantile ``q`` of tau when ``log(tau^2) ~ Normal(m, s^2)`` (the standard library's normal quantile)."""
    from statistics import NormalDist

    return math.exp((m + s * NormalDist().inv_cdf(q)) / 2.0)
