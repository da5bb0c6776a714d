"""Single-trial reanalysis of the Shi 2021 3-year follow-up (Stem Cell Res Ther 2025): one summary row per outcome.

2x2 outcomes (normal chest CT, reinfection, hospitalisation among the reinfected) get independent Beta(1, 1) priors
per arm (:func:`models.single_trial.two_arm_posterior`); the SF-36 general-health differences, reported only with a
p-value, get a normal likelihood with the SE recovered from that p-value and a Normal(0, 20^2) prior in points
(:func:`models.single_trial.difference_posterior`).
"""

from __future__ import annotations

from collections.abc import Callable

from models.msc.datasets import Dataset
from models.msc.results import AnalysisResult, Context, Kind, ResultKey
from models.msc.specs import HIGHER_IS_BENEFIT, published_of
from models.single_trial import difference_posterior, se_from_p_value, two_arm_posterior

DOCUMENT = "shi_followup_3y"
SF36_PRIOR_SD = 20.0
"""Prior SD (points) of the SF-36 general-health difference: about one population SD of the scale."""


def followup_results(dataset: Dataset, seed_for: Callable[[str], int]) -> list[AnalysisResult]:
    """One single-trial result per published follow-up outcome (rows: :func:`models.msc.rows.row_of`)."""
    results = []
    published = dataset.published[dataset.published["document"] == DOCUMENT]
    for _, pub in published.iterrows():
        analysis = str(pub["analysis"])
        outcome = dataset.analysis_set(DOCUMENT, analysis).outcome
        if pub["measure"] == "difference":
            se = se_from_p_value(float(pub["estimate"]), float(pub["p_value"]))
            post = difference_posterior(float(pub["estimate"]), se, prior_sd=SF36_PRIOR_SD)
            model, method = "normal_difference", "closed form (conjugate normal)"
            effect = f"Normal(0, {SF36_PRIOR_SD:g}^2)"
        else:
            table, _ = dataset.binary_table(outcome, ["shi2021"])
            post = two_arm_posterior(int(table.e_t[0]), int(table.n_t[0]), int(table.e_c[0]), int(table.n_c[0]),
                                     seed=seed_for(analysis))  # fmt: skip
            model, method, effect = "beta_binomial", "conjugate Monte Carlo", "Beta(1,1) per arm"
        context = Context(
            document=DOCUMENT, analysis=analysis, title=str(pub["outcome"]), studies=("shi2021",),
            higher_is_benefit=outcome in HIGHER_IS_BENEFIT, published=published_of(dataset, DOCUMENT, analysis),
            method=method,
        )  # fmt: skip
        key = ResultKey(f"{DOCUMENT}/{analysis}", model, "none", effect)
        results.append(AnalysisResult(key, Kind.SINGLE_TRIAL, context, post))
    return results
