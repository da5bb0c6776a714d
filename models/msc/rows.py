"""Summary rows: one row per analysis x model x prior, with the published figure beside the posterior.

:func:`row_of` is the one place where a result of the job (:class:`models.msc.results.AnalysisResult`) becomes a row.

Columns (all intervals 95% equal-tailed; effects on the reported scale, i.e. ratio scale for OR/RR):

``analysis_id, document, analysis, title, model, measure, tau_prior, effect_prior, k, studies, missing,
median, low, high, p_benefit, p_below_1, p_below_0.9, p_below_0.8, baseline_risk, baseline_source,
p_arr_above_2pct, tau_median, p_tau_above_0.5, pred_low, pred_high, p_new_benefit, published_estimate,
published_low, published_high, rhat_max, ess_bulk_min, ess_tail_min, divergences, gate, fit_file``

``method`` says how the posterior was obtained (``mcmc``, ``mcmc, PSIS-reweighted`` with its Pareto ``is_khat`` and
importance-sampling ESS ``is_ess``, ``exact quadrature``, ``closed form``, ``conjugate``).
Absolute-effect rows (``analysis`` ending in ``/absolute_at_<control risk>``) carry the stated control risk and
its source, deaths per 1,000 with treatment and the difference per 1,000 (95% CrI), P(absolute reduction >= 1, 2, 5
percentage points), P(RR < 0.8 at that control risk) and P(NNT <= 50). ``log_evidence``, ``bf10_effect`` (mu free vs
mu = 0), ``bf10_heterogeneity`` (tau free vs tau = 0) and the model-averaged P(benefit) and P(OR < 0.8) (fixed/random x
null/effect, prior model probabilities 1/4 each) fill the rows of the exact binomial-normal primary analyses.
``p_new_benefit`` is P(the true effect in a new setting, ``mu + tau z``, is a benefit), not the probability that a
new *study* would show one (a new study's estimate adds sampling error).

``p_benefit`` is P(effect < 1) for harms such as death and P(effect > 1) for outcomes where higher is better;
``p_new_benefit`` the same for the true effect in a new setting. ``gate`` is ``pass`` / ``FAIL`` for MCMC fits and
``no MCMC`` for exact or closed-form posteriors (no sampling to diagnose; not "n/a", which CSV readers turn into NaN).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from models.bayes.absolute import AbsoluteEffect
from models.bayes.fit import Fit
from models.bayes.posterior import Posterior
from models.msc.results import AnalysisResult, Kind, SubgroupDraws
from models.msc.specs import Published
from models.single_trial import NormalPosterior, TwoArmPosterior

COLUMNS = (
    "analysis_id", "document", "analysis", "title", "model", "measure", "tau_prior", "effect_prior", "k", "studies",
    "missing", "median", "low", "high", "p_benefit", "p_below_1", "p_below_0.9", "p_below_0.8", "baseline_risk",
    "baseline_source", "p_arr_above_2pct", "tau_median", "p_tau_above_0.5", "pred_low", "pred_high",
    "p_new_benefit", "published_estimate", "published_low", "published_high", "rhat_max", "ess_bulk_min",
    "ess_tail_min", "divergences", "gate", "method", "is_khat", "is_ess", "fit_file",
    "control_risk", "control_risk_source", "deaths_per_1000", "deaths_per_1000_low", "deaths_per_1000_high",
    "difference_per_1000", "difference_per_1000_low", "difference_per_1000_high", "p_arr_at_least_1pct",
    "p_arr_at_least_2pct", "p_arr_at_least_5pct", "p_rr_below_0.8_at_control", "p_nnt_at_most_50",
    "exact_twin_diff_mcse", "log_evidence", "bf10_effect", "bf10_heterogeneity", "p_benefit_model_averaged",
    "p_below_0.8_model_averaged",
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


def absolute_row(base: dict[str, Any], effect: AbsoluteEffect) -> dict[str, Any]:
    """A copy of the posterior row ``base`` turned into its absolute-effect row at ``effect.control``."""
    row = dict(base)
    row.update(
        analysis_id=f"{base['analysis_id']}/absolute_at_{effect.control.key}",
        analysis=f"{base['analysis']}/absolute_at_{effect.control.key}",
        title=f"{base['title']}: at a control risk of {effect.control_per_1000:.0f} per 1,000 ({effect.control.label})",
        control_risk=effect.control.risk,
        control_risk_source=effect.control.source,
        deaths_per_1000=effect.deaths_median,
        deaths_per_1000_low=effect.deaths_low,
        deaths_per_1000_high=effect.deaths_high,
        difference_per_1000=effect.difference_median,
        difference_per_1000_low=effect.difference_low,
        difference_per_1000_high=effect.difference_high,
        p_arr_at_least_1pct=effect.p_arr[0.01],
        p_arr_at_least_2pct=effect.p_arr[0.02],
        p_arr_at_least_5pct=effect.p_arr[0.05],
        p_nnt_at_most_50=effect.p_nnt[50],
        baseline_risk=effect.control.risk,
        baseline_source="stated",
        p_arr_above_2pct=effect.p_arr[0.02],
    )
    row["p_rr_below_0.8_at_control"] = effect.p_rr_below_0_8
    return row


def row_of(result: AnalysisResult) -> dict[str, Any]:
    """The summary.csv row of one result (columns: :data:`COLUMNS`)."""
    key, c = result.key, result.context
    if result.kind is Kind.SINGLE_TRIAL:
        return _single_trial_row(result)
    if isinstance(result.posterior, SubgroupDraws):
        row = draws_row(
            result.posterior.log_ratio, result.posterior.tau, analysis_id=key.analysis_id, document=c.document,
            analysis=c.analysis, title=c.title, model=key.model, method=c.method, measure="OR",
            tau_prior=key.tau_prior, effect_prior=key.effect_prior, studies=c.studies, missing=c.missing,
            published=c.published, fit_file=c.fit_file,
        )  # fmt: skip
        if result.fit is not None:
            row.update(diagnostic_columns(result.fit))
        return row
    row = posterior_row(
        result.posterior,
        analysis_id=c.parent if result.kind is Kind.ABSOLUTE else key.analysis_id,
        document=c.document,
        analysis=c.analysis,
        title=c.title,
        model=key.model,
        tau_prior=key.tau_prior,
        effect_prior=key.effect_prior,
        studies=c.studies,
        missing=c.missing,
        higher_is_benefit=c.higher_is_benefit,
        baseline_risk=c.baseline_risk,
        published=c.published,
        fit=result.fit,
        fit_file=c.fit_file,
        method=c.method,
    )
    if c.baseline_source and row["baseline_source"] == "user":
        row["baseline_source"] = c.baseline_source
    if result.log_evidence is not None:
        row["log_evidence"] = result.log_evidence
    if result.twin_mcse is not None:
        row["exact_twin_diff_mcse"] = result.twin_mcse
    if result.averaging is not None:
        avg = result.averaging
        row.update(bf10_effect=avg.bf10_effect, bf10_heterogeneity=avg.bf10_heterogeneity,
                   p_benefit_model_averaged=avg.prob_below_1)  # fmt: skip
        row["p_below_0.8_model_averaged"] = avg.prob_below_0_8
    if result.kind is Kind.ABSOLUTE:
        assert result.absolute is not None
        row = absolute_row(row, result.absolute)
    return row


def _single_trial_row(result: AnalysisResult) -> dict[str, Any]:
    """A single-trial outcome (the 3-year follow-up): conjugate posterior of one trial, no heterogeneity."""
    key, c, post = result.key, result.context, result.posterior
    row: dict[str, Any] = {col: math.nan for col in COLUMNS}
    row.update(
        analysis_id=key.analysis_id, document=c.document, analysis=c.analysis, title=c.title, k=len(c.studies),
        studies=";".join(c.studies), missing="", gate="no MCMC", fit_file="", tau_prior=key.tau_prior,
        model=key.model, method=c.method, effect_prior=key.effect_prior,
        published_estimate=math.nan if c.published is None else c.published.estimate,
    )  # fmt: skip
    if isinstance(post, NormalPosterior):
        ci = post.interval(0.95)
        row.update(measure="difference (points)", median=post.mean, low=ci.low, high=ci.high,
                   p_benefit=post.prob_above(0.0))  # fmt: skip
    elif isinstance(post, TwoArmPosterior):
        s = post.summary()
        row.update(
            measure="OR", median=s["or_median"], low=s["or_low"], high=s["or_high"],
            p_benefit=s["p_or_above_1"] if c.higher_is_benefit else s["p_or_below_1"], p_below_1=s["p_or_below_1"],
        )  # fmt: skip
    else:
        raise TypeError(f"no single-trial row for {type(post).__name__}")
    return row
