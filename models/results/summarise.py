"""Posteriors to :class:`~models.results.model.Result` objects: the one place every client summarises a posterior.

Every interval is 95% equal-tailed; effects, prediction intervals and thresholds are on the reported scale (ratio
for OR/RR), tau on the analysis scale. P(benefit) and P(important) follow the :class:`Direction`: P(effect below the
null / below the threshold), or its complement when higher is benefit. Absolute effects are computed at the
context's stated control risk (:mod:`models.bayes.absolute`) for OR/RR posteriors of harmful events (an effect below
1 is a benefit), never at a model-internal baseline risk.

A derived quantity that fails (an absolute effect) leaves the posterior's summary in place: the result is
:attr:`~models.results.model.Status.PARTIAL` and its message names the failure.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from models.bayes.absolute import ControlRisk, absolute_effect
from models.bayes.model_averaging import ModelAverage
from models.bayes.posterior import Posterior
from models.effects import EffectTable
from models.frequentist.random_effects import REML_FALLBACK_STEPADJ, ConvergenceError, rma
from models.results.model import (
    Context,
    Direction,
    EffectSummary,
    Evidence,
    Frequentist,
    Kind,
    McmcCheck,
    Method,
    Prediction,
    Result,
    ResultKey,
    TauSummary,
    is_ratio,
    with_failure,
)

if TYPE_CHECKING:  # the single-trial posteriors load scipy.stats (about half a second): only their callers need them
    from models.single_trial import NormalPosterior, TwoArmPosterior

PROB = 0.95


def _important(direction: Direction, measure: str) -> float | None:
    """The important threshold when it is on this posterior's measure, else None."""
    return direction.important if direction.measure == measure else None


def summarise(
    post: Posterior,
    key: ResultKey,
    direction: Direction,
    *,
    method: Method,
    k: int,
    kind: Kind = Kind.POOLED,
    context: Context | None = None,
    primary_priors: bool = False,
    mcmc: McmcCheck | None = None,
    evidence: Evidence | None = None,
    frequentist: Frequentist | None = None,
    keep_posterior: bool = False,
) -> Result:
    """The result of one posterior (exact, MCMC or closed form): effect, tau, prediction and, at the context's
    control risk, absolute effects. ``keep_posterior`` keeps ``post`` on the result (for figures of the same run)."""
    context = context or Context()
    null = post.null_value
    ci = post.interval(PROB)
    p_below = post.prob_below(null)
    threshold = _important(direction, post.measure)
    p_important = None if threshold is None else direction.benefit_side(post.prob_below(threshold))
    effect = EffectSummary(post.median(), ci.low, ci.high, p_below, direction.benefit_side(p_below), threshold,
                           p_important)  # fmt: skip
    tau_ci = post.tau_interval(PROB)
    pred = post.predictive_interval(PROB)
    prediction = Prediction(pred.low, pred.high, direction.benefit_side(post.prob_new_below(null)))
    result = Result(
        key, kind, method, post.measure, k, direction, context, effect, TauSummary(post.tau_median(), tau_ci.low,
        tau_ci.high), prediction, evidence=evidence, frequentist=frequentist, mcmc=mcmc, primary_priors=primary_priors,
        posterior=post if keep_posterior else None,
    )  # fmt: skip
    return with_absolute(result, post, context.control)


def with_absolute(result: Result, post: Posterior, control: ControlRisk | None) -> Result:
    """``result`` with its absolute effects at ``control`` (OR/RR posteriors of harmful events; else unchanged)."""
    if control is None or not is_ratio(post.measure) or result.direction.higher_is_benefit:
        return result
    try:
        return replace(
            result, absolute=absolute_effect(post, control), context=replace(result.context, control=control)
        )
    except (ValueError, ArithmeticError) as err:
        return with_failure(result, f"absolute effects at control risk {control.risk:g}", err)


def at_control_risk(pooled: Result, post: Posterior, control: ControlRisk, *, key: ResultKey, title: str) -> Result:
    """The ``ABSOLUTE`` result of ``pooled`` (the same posterior ``post``) at a stated control risk."""
    context = replace(pooled.context, title=title, parent=pooled.key.analysis, subject=control.key, control=control)
    return replace(pooled, key=key, kind=Kind.ABSOLUTE, context=context, absolute=absolute_effect(post, control))


def summarise_draws(
    draws: np.ndarray,
    tau: np.ndarray,
    key: ResultKey,
    direction: Direction,
    *,
    measure: str,
    method: Method,
    k: int,
    kind: Kind,
    context: Context | None = None,
    primary_priors: bool = False,
    mcmc: McmcCheck | None = None,
) -> Result:
    """The result of draws of an effect on the analysis scale (log OR for ratios) that is not a model's ``mu`` (a
    meta-regression subgroup or slope), with tau's draws; no prediction interval or absolute effects."""
    to_reported = np.exp if is_ratio(measure) else (lambda x: x)
    to_analysis = math.log if is_ratio(measure) else float
    low, high = np.quantile(draws, [(1 - PROB) / 2, (1 + PROB) / 2])
    p_below = float(np.mean(draws < to_analysis(1.0 if is_ratio(measure) else 0.0)))
    threshold = _important(direction, measure)
    p_important = None
    if threshold is not None:
        p_important = direction.benefit_side(float(np.mean(draws < to_analysis(threshold))))
    effect = EffectSummary(float(to_reported(np.median(draws))), float(to_reported(low)), float(to_reported(high)),
                           p_below, direction.benefit_side(p_below), threshold, p_important)  # fmt: skip
    tau_low, tau_high = np.quantile(tau, [(1 - PROB) / 2, (1 + PROB) / 2])
    return Result(key, kind, method, measure, k, direction, context or Context(), effect,
                  TauSummary(float(np.median(tau)), float(tau_low), float(tau_high)), mcmc=mcmc,
                  primary_priors=primary_priors)  # fmt: skip


def summarise_difference(
    post: NormalPosterior, key: ResultKey, direction: Direction, *, context: Context, k: int = 1
) -> Result:
    """A single trial's difference (conjugate normal posterior, closed form): no heterogeneity."""
    ci = post.interval(PROB)
    p_above = post.prob_above(0.0)
    p_benefit = p_above if direction.higher_is_benefit else 1.0 - p_above
    effect = EffectSummary(post.mean, ci.low, ci.high, 1.0 - p_above, p_benefit)
    return Result(key, Kind.SINGLE_TRIAL, Method.CLOSED_FORM, direction.measure, k, direction, context, effect)


def summarise_two_arm(post: TwoArmPosterior, key: ResultKey, direction: Direction, *, context: Context) -> Result:
    """A single trial's 2x2 outcome (independent conjugate Beta posteriors per arm, seeded draws): the odds ratio."""
    s = post.summary()
    p_benefit = s["p_or_above_1"] if direction.higher_is_benefit else s["p_or_below_1"]
    effect = EffectSummary(s["or_median"], s["or_low"], s["or_high"], s["p_or_below_1"], p_benefit)
    return Result(key, Kind.SINGLE_TRIAL, Method.CONJUGATE_MONTE_CARLO, "OR", 1, direction, context, effect)


def evidence_of(averaging: ModelAverage | None, log_evidence: float | None, direction: Direction) -> Evidence:
    """The evidence group: the random-effects model's log evidence and, from a model average, the log inclusion
    Bayes factors and the model-averaged P(benefit) and P(OR < 0.8) (the average computes those two for a benefit
    below the null only; otherwise they are left empty)."""
    if averaging is None:
        return Evidence(log_evidence=log_evidence)
    below = not direction.higher_is_benefit
    important = below and _important(direction, averaging.measure) == 0.8
    return Evidence(
        log_evidence=log_evidence,
        log_bf10_effect=averaging.log_bf10_effect,
        log_bf10_heterogeneity=averaging.log_bf10_heterogeneity,
        p_benefit_model_averaged=averaging.prob_below_1 if below else None,
        p_important_model_averaged=averaging.prob_below_0_8 if important else None,
    )


MIN_STUDIES_FREQUENTIST = 2


def random_effects(effects: EffectTable, method: str = "REML") -> tuple[Frequentist | None, str]:
    """The frequentist random-effects result of an effect table (metafor's ``rma``, REML and a Wald interval by
    default), and a note: why there is none (fewer than 2 studies, an estimator that failed), how it was obtained when
    REML needed metafor's shorter Fisher step (:data:`~models.frequentist.random_effects.REML_FALLBACK_STEPADJ`), else
    empty."""
    if effects.k < MIN_STUDIES_FREQUENTIST:
        return None, f"no frequentist {method} result: {effects.k} estimable effect(s)"
    try:
        return Frequentist.of(rma(effects, method)), ""
    except ConvergenceError as err:
        if method != "REML":
            return None, _failed(method, err)
        try:
            pooled = rma(effects, method, stepadj=REML_FALLBACK_STEPADJ)
        except (ValueError, RuntimeError) as again:
            return None, _failed(method, again)
        return Frequentist.of(pooled), (
            f"REML by Fisher scoring with step length {REML_FALLBACK_STEPADJ:g} (metafor's remedy, "
            f"control=list(stepadj={REML_FALLBACK_STEPADJ:g}): the full step did not converge)"
        )
    except (ValueError, RuntimeError) as err:
        return None, _failed(method, err)


def _failed(method: str, err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{method} failed: {type(err).__name__}" + (f": {text}" if text else "")
