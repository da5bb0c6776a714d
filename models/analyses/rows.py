"""Summary rows: one row per analysis x model x prior, with the published figure beside the posterior.

Columns (all intervals 95% equal-tailed; effects on the reported scale, i.e. ratio scale for OR/RR):

``analysis_id, document, analysis, title, model, measure, tau_prior, effect_prior, k, studies, missing,
median, low, high, p_benefit, p_below_1, p_below_0.9, p_below_0.8, baseline_risk, baseline_source,
p_arr_above_2pct, tau_median, p_tau_above_0.5, pred_low, pred_high, p_new_benefit, published_estimate,
published_low, published_high, rhat_max, ess_bulk_min, ess_tail_min, divergences, gate, fit_file``

``method`` says how the posterior was obtained (``mcmc``, ``mcmc, PSIS-reweighted`` with its Pareto ``is_khat`` and
importance-sampling ESS ``is_ess``, ``exact quadrature``, ``closed form``, ``conjugate``).
``p_benefit`` is P(effect < 1) for harms such as death and P(effect > 1) for outcomes where higher is better;
``p_new_benefit`` the same for the effect in a new study. ``gate`` is ``pass`` / ``FAIL`` for MCMC fits and
``no MCMC`` for exact or closed-form posteriors (no sampling to diagnose; not "n/a", which CSV readers turn into NaN).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from models.analyses.specs import Published
from models.bayes.fit import Fit
from models.bayes.posterior import Posterior

COLUMNS = (
    "analysis_id", "document", "analysis", "title", "model", "measure", "tau_prior", "effect_prior", "k", "studies",
    "missing", "median", "low", "high", "p_benefit", "p_below_1", "p_below_0.9", "p_below_0.8", "baseline_risk",
    "baseline_source", "p_arr_above_2pct", "tau_median", "p_tau_above_0.5", "pred_low", "pred_high",
    "p_new_benefit", "published_estimate", "published_low", "published_high", "rhat_max", "ess_bulk_min",
    "ess_tail_min", "divergences", "gate", "method", "is_khat", "is_ess", "fit_file",
)  # fmt: skip


def posterior_row(
    post: Posterior,
    *,
    analysis_id: str,
    document: str,
    analysis: str,
    title: str,
    model: str,
    tau_prior: str,
    effect_prior: str,
    studies: tuple[str, ...],
    missing: tuple[str, ...] = (),
    higher_is_benefit: bool = False,
    baseline_risk: float | None = None,
    published: Published | None = None,
    fit: Fit | None = None,
    fit_file: str = "",
    method: str = "",
) -> dict[str, Any]:
    """The standard row for one posterior (see the module docstring for the columns)."""
    s = post.summary(baseline_risk=baseline_risk)
    null = post.null_value
    p_below = s["p_below_null"]
    p_new_below = s["p_new_below_null"]
    row: dict[str, Any] = {c: math.nan for c in COLUMNS}
    row.update(
        analysis_id=analysis_id,
        document=document,
        analysis=analysis,
        title=title,
        model=model,
        measure=post.measure,
        tau_prior=tau_prior,
        effect_prior=effect_prior,
        k=len(studies),
        studies=";".join(studies),
        missing=";".join(missing),
        median=s["median"],
        low=s["low"],
        high=s["high"],
        p_benefit=(1 - p_below) if higher_is_benefit else p_below,
        p_below_1=p_below if null == 1.0 else math.nan,
        baseline_risk=s.get("baseline_risk", math.nan),
        baseline_source=s.get("baseline_source", ""),
        tau_median=s["tau_median"],
        pred_low=s["pred_low"],
        pred_high=s["pred_high"],
        p_new_benefit=(1 - p_new_below) if higher_is_benefit else p_new_below,
        fit_file=fit_file,
        gate="no MCMC",
        method=method or ("mcmc" if fit is not None else ""),
    )
    row["p_below_0.9"] = s.get("p_below_0.9", math.nan)
    row["p_below_0.8"] = s.get("p_below_0.8", math.nan)
    row["p_arr_above_2pct"] = math.nan if higher_is_benefit else s.get("p_arr_above_0.02", math.nan)
    row["p_tau_above_0.5"] = s["p_tau_above_0.5"]
    if published is not None:
        row.update(
            published_estimate=published.estimate, published_low=published.ci_low, published_high=published.ci_high
        )
    if fit is not None:
        row.update(diagnostic_columns(fit))
    return row


def draws_row(
    log_ratio: np.ndarray,
    tau: np.ndarray,
    *,
    studies: tuple[str, ...],
    missing: tuple[str, ...] = (),
    published: Published | None = None,
    **meta: Any,
) -> dict[str, Any]:
    """The standard row from draws of a log ratio that is not a model's ``mu`` (e.g. a meta-regression subgroup).

    ``meta`` fills the identifying columns (analysis_id, document, analysis, title, model, method, measure,
    tau_prior, effect_prior, fit_file); predictive and absolute-risk columns stay empty.
    """
    low, high = np.quantile(log_ratio, [0.025, 0.975])
    row: dict[str, Any] = {c: math.nan for c in COLUMNS}
    row.update(meta)
    row.update(
        k=len(studies), studies=";".join(studies), missing=";".join(missing),
        median=float(np.exp(np.median(log_ratio))), low=float(np.exp(low)), high=float(np.exp(high)),
        p_benefit=float(np.mean(log_ratio < 0)), p_below_1=float(np.mean(log_ratio < 0)),
        tau_median=float(np.median(tau)),
    )  # fmt: skip
    row["p_below_0.9"] = float(np.mean(log_ratio < np.log(0.9)))
    row["p_below_0.8"] = float(np.mean(log_ratio < np.log(0.8)))
    row["p_tau_above_0.5"] = float(np.mean(tau > 0.5))
    if published is not None:
        row.update(
            published_estimate=published.estimate, published_low=published.ci_low, published_high=published.ci_high
        )
    return row


def diagnostic_columns(fit: Fit) -> dict[str, Any]:
    """Worst R-hat, smallest bulk/tail ESS, divergences and the gate verdict of a fit."""
    table = fit.diagnostics.table
    return {
        "rhat_max": float(table["rhat"].max()),
        "ess_bulk_min": float(table["ess_bulk"].min()),
        "ess_tail_min": float(table["ess_tail"].min()),
        "divergences": int(fit.diagnostics.divergences),
        "gate": "pass" if fit.diagnostics.passed else "FAIL",
    }
