"""Single-trial reanalysis of the Shi 2021 3-year follow-up (Stem Cell Res Ther 2025): one summary row per outcome.

2x2 outcomes (normal chest CT, reinfection, hospitalisation among the reinfected) get independent Beta(1, 1) priors
per arm (:func:`models.single_trial.two_arm_posterior`); the SF-36 general-health differences, reported only with a
p-value, get a normal likelihood with the SE recovered from that p-value and a Normal(0, 20^2) prior in points
(:func:`models.single_trial.difference_posterior`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from models.analyses.rows import COLUMNS
from models.analyses.specs import HIGHER_IS_BENEFIT
from models.datasets import Dataset
from models.single_trial import difference_posterior, se_from_p_value, two_arm_posterior

DOCUMENT = "shi_followup_3y"
SF36_PRIOR_SD = 20.0
"""Prior SD (points) of the SF-36 general-health difference: about one population SD of the scale."""


def followup_rows(dataset: Dataset, seed_for: Callable[[str], int]) -> list[dict[str, Any]]:
    """Summary rows (columns of :data:`models.analyses.rows.COLUMNS`) for every published follow-up outcome."""
    rows = []
    published = dataset.published[dataset.published["document"] == DOCUMENT]
    for _, pub in published.iterrows():
        analysis = str(pub["analysis"])
        outcome = dataset.analysis_set(DOCUMENT, analysis).outcome
        row: dict[str, Any] = {c: math.nan for c in COLUMNS}
        row.update(
            analysis_id=f"{DOCUMENT}/{analysis}", document=DOCUMENT, analysis=analysis, title=str(pub["outcome"]),
            k=1, studies="shi2021", missing="", gate="no MCMC", fit_file="", published_estimate=pub["estimate"],
            tau_prior="none",
        )  # fmt: skip
        higher = outcome in HIGHER_IS_BENEFIT
        if pub["measure"] == "difference":
            se = se_from_p_value(float(pub["estimate"]), float(pub["p_value"]))
            post = difference_posterior(float(pub["estimate"]), se, prior_sd=SF36_PRIOR_SD)
            ci = post.interval(0.95)
            row.update(
                model="normal_difference", method="closed form (conjugate normal)", measure="difference (points)",
                effect_prior=f"Normal(0, {SF36_PRIOR_SD:g}^2)", median=post.mean, low=ci.low, high=ci.high,
                p_benefit=post.prob_above(0.0),
            )  # fmt: skip
        else:
            table, _ = dataset.binary_table(outcome, ["shi2021"])
            post = two_arm_posterior(int(table.e_t[0]), int(table.n_t[0]), int(table.e_c[0]), int(table.n_c[0]),
                                     seed=seed_for(analysis))  # fmt: skip
            s = post.summary()
            row.update(
                model="beta_binomial", method="conjugate Monte Carlo", measure="OR",
                effect_prior="Beta(1,1) per arm", median=s["or_median"], low=s["or_low"], high=s["or_high"],
                p_benefit=s["p_or_above_1"] if higher else s["p_or_below_1"], p_below_1=s["p_or_below_1"],
            )  # fmt: skip
        rows.append(row)
    return rows
