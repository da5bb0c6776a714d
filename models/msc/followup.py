"""Single-trial reanalysis of the Shi 2021 3-year follow-up (Stem Cell Res Ther 2025): one summary row per outcome.

2x2 outcomes (normal chest CT, reinfection, hospitalisation among the reinfected) get independent Beta(1, 1) priors
per arm (:func:`models.single_trial.two_arm_posterior`); the SF-36 general-health differences, reported only with a
p-value, get a normal likelihood with the SE recovered from that p-value and a Normal(0, 20^2) prior in points
(:func:`models.single_trial.difference_posterior`).
"""

from __future__ import annotations

from collections.abc import Callable

from models.msc.datasets import Dataset
from models.msc.specs import HIGHER_IS_BENEFIT, published_of
from models.msc.state import published_figure
from models.results import Context, Direction, Result, ResultKey
from models.results.summarise import summarise_difference, summarise_two_arm
from models.single_trial import difference_posterior, se_from_p_value, two_arm_posterior

DOCUMENT = "shi_followup_3y"
SF36_PRIOR_SD = 20.0
"""Prior SD (points) of the SF-36 general-health difference: about one population SD of the scale."""


def followup_results(dataset: Dataset, seed_for: Callable[[str], int]) -> list[Result]:
    """One single-trial result per published follow-up outcome: the SF-36 differences as MD (points), the 2x2
    outcomes as the OR of the two arms' conjugate posteriors."""
    results = []
    published = dataset.published[dataset.published["document"] == DOCUMENT]
    for _, pub in published.iterrows():
        analysis = str(pub["analysis"])
        outcome = dataset.analysis_set(DOCUMENT, analysis).outcome
        higher = outcome in HIGHER_IS_BENEFIT
        context = Context(source=DOCUMENT, title=str(pub["outcome"]), studies=("shi2021",),
                          published=published_figure(published_of(dataset, DOCUMENT, analysis)))  # fmt: skip
        if pub["measure"] == "difference":
            se = se_from_p_value(float(pub["estimate"]), float(pub["p_value"]))
            post = difference_posterior(float(pub["estimate"]), se, prior_sd=SF36_PRIOR_SD)
            key = ResultKey(f"{DOCUMENT}/{analysis}", "normal_difference", "none", f"Normal(0, {SF36_PRIOR_SD:g}^2)")
            results.append(summarise_difference(post, key, Direction("MD", higher), context=context))
        else:
            table, _ = dataset.binary_table(outcome, ["shi2021"])
            post = two_arm_posterior(int(table.e_t[0]), int(table.n_t[0]), int(table.e_c[0]), int(table.n_c[0]),
                                     seed=seed_for(analysis))  # fmt: skip
            key = ResultKey(f"{DOCUMENT}/{analysis}", "beta_binomial", "none", "Beta(1,1) per arm")
            results.append(summarise_two_arm(post, key, Direction("OR", higher), context=context))
    return results
