"""Certainty of the evidence (GRADE), judged by stated rules on the numbers the run computed, and the plain-language
statement that goes with the certainty reached.

Each rule follows the GRADE handbook (Schünemann et al., eds., GRADE Handbook 2013, section 5) and the GRADE
guidelines series in J Clin Epidemiol; the report's Methods cite each one (:data:`RULES`):

* **Starting level**: a body of randomised trials starts at high; a body that includes non-randomised studies starts
  at low (handbook 5.1; Guyatt et al. 2011, 64:401), unless every non-randomised study has a ROBINS-I overall
  judgement, in which case it starts at high and ROBINS-I rates its risk of bias (Schünemann et al. 2019, 111:105).
* **Risk of bias** (Guyatt et al. 2011, 64:407): a study is at high risk when its overall RoB 2 judgement is high
  (ROBINS-I: serious or critical), or, without an overall judgement, when it was open-label or its blinding is not
  reported. -1 when such studies hold >= 25% of the randomised participants; with ROBINS-I, -1 for a moderate, -2 for
  a serious and -3 for a critical overall judgement of non-randomised studies holding >= 25% of their participants.
* **Inconsistency** (Guyatt et al. 2011, 64:1294; GRADE guidance 36, Guyatt et al. 2023, 158:70): -1 when the
  posterior median of tau exceeds 0.5 on the log-OR scale, or when the 95% prediction interval for a new setting
  includes both an important benefit (OR < 0.8) and an important harm (OR > 1.25).
* **Imprecision** (Guyatt et al. 2011, 64:1283): -1 when the 95% CrI includes OR = 1 or when the body has fewer
  participants than the optimal information size (one trial powered for a 20% relative risk reduction at the body's
  control risk, two-sided alpha 0.05, power 0.8: :func:`models.frequentist.sample_size.optimal_information_size`);
  -2 when the CrI includes both an important benefit and an important harm.
* **Publication and reporting bias** (Guyatt et al. 2011, 64:1277): -1 when studies whose death counts were never
  published hold >= 10% of the intended participants; deaths imputed from published totals are not published
  deaths, so a body that imputes them keeps the concern.
* **Indirectness** is not downgraded by rule: the studies' patients, products and outcome are the question's.

The plain-language statement follows Santesso et al. 2020 (GRADE guidelines 26, J Clin Epidemiol 119:126): "reduces"
(high), "probably reduces" (moderate), "may reduce" (low), "the evidence is very uncertain about the effect"
(very low), and "little to no difference" when the point estimate is smaller than the important difference.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.frequentist.sample_size import optimal_information_size

LEVELS = ("very low", "low", "moderate", "high")
"""GRADE's levels of certainty, lowest first (the index is the number of levels above very low)."""

IMPORTANT_BENEFIT, IMPORTANT_HARM = 0.8, 1.25
"""The important difference on the OR scale: a 20% relative reduction, and its mirror image."""

TAU_SUBSTANTIAL = 0.5
"""Posterior median of tau (log-OR) above which heterogeneity is substantial."""

SHARE_AT_RISK = 0.25
"""Share of participants in studies at high risk of bias from which the body is rated down."""

SHARE_UNPUBLISHED = 0.10
"""Share of the intended participants in studies without published deaths from which the body is rated down."""

RELATIVE_REDUCTION_OIS, ALPHA_OIS, POWER_OIS = 0.2, 0.05, 0.8
"""The trial the optimal information size describes: 20% relative risk reduction, two-sided alpha 0.05, power 0.8."""

ROBINS_DOWNGRADE = {"moderate": 1, "serious": 2, "critical": 3}
"""Levels taken off a body of non-randomised studies started at high, by their ROBINS-I overall judgement."""

RULES = (
    "starting level: randomised trials start at high; a body with non-randomised studies starts at low unless every "
    "one has a ROBINS-I overall judgement, which then rates its risk of bias from high (GRADE Handbook 2013, "
    "section 5.1; Schünemann et al. 2019, J Clin Epidemiol 111:105)",
    f"risk of bias: -1 when trials at high risk of bias (overall RoB 2 judgement high; without one, open-label or "
    f"blinding not reported) hold >= {SHARE_AT_RISK:.0%} of the randomised participants (Guyatt et al. 2011, "
    "J Clin Epidemiol 64:407)",
    f"inconsistency: -1 when the posterior median of tau exceeds {TAU_SUBSTANTIAL} or the 95% prediction interval "
    f"for a new setting includes both OR < {IMPORTANT_BENEFIT} and OR > {IMPORTANT_HARM} (Guyatt et al. 2011, J Clin "
    "Epidemiol 64:1294; GRADE guidance 36, Guyatt et al. 2023, J Clin Epidemiol 158:70)",
    f"imprecision: -1 when the 95% CrI includes OR = 1 or the body has fewer participants than the optimal "
    f"information size (one trial powered for a {RELATIVE_REDUCTION_OIS:.0%} relative risk reduction at the body's "
    f"control risk, two-sided alpha {ALPHA_OIS}, power {POWER_OIS}); -2 when the CrI includes both "
    f"OR < {IMPORTANT_BENEFIT} and OR > {IMPORTANT_HARM} (Guyatt et al. 2011, J Clin Epidemiol 64:1283)",
    f"publication and reporting bias: -1 when studies whose death counts were never published (including deaths "
    f"imputed from published totals) hold >= {SHARE_UNPUBLISHED:.0%} of the intended participants (Guyatt et al. "
    "2011, J Clin Epidemiol 64:1277)",
    "indirectness: not rated down by rule (the studies' patients, products and outcome are the question's)",
)
"""The rules in words, with their sources, for the report's Methods."""


@dataclass(frozen=True)
class Body:
    """What the rules read about one body of evidence (one row of the summary of findings).

    Effects on the OR scale: ``low``/``high`` the 95% CrI, ``pred_low``/``pred_high`` the 95% prediction interval
    for a new setting, ``tau`` the posterior median of tau (log-OR). Counts are patients unless named deaths.
    ``unpublished`` counts the intended participants whose deaths were never published (studies left out, or whose
    deaths were imputed from totals); ``randomised_at_risk`` the randomised participants in trials at high risk of
    bias. ``robins_i`` maps each non-randomised study's participants to its ROBINS-I overall judgement; it is None
    when any non-randomised study lacks one (the body then starts at low).
    """

    low: float
    high: float
    pred_low: float
    pred_high: float
    tau: float
    participants: int
    deaths: int
    control_risk: float
    intended: int
    unpublished: int
    imputed: bool
    randomised: int
    randomised_at_risk: int
    non_randomised: int
    robins_i: tuple[tuple[int, str], ...] | None = None


@dataclass(frozen=True)
class Certainty:
    """A GRADE certainty rating: where it started and the reason for every level taken off (rule and numbers)."""

    level: str
    start: str
    downgrades: tuple[str, ...]


def _risk_of_bias(body: Body) -> tuple[int, list[str]]:
    steps, reasons = 0, []
    if body.randomised and body.randomised_at_risk / body.randomised >= SHARE_AT_RISK:
        steps += 1
        reasons.append(
            f"risk of bias: {body.randomised_at_risk / body.randomised:.0%} of the randomised participants are in "
            "trials at high risk of bias (overall RoB 2 judgement high, or open-label or blinding not reported "
            "where no judgement was found)"
        )
    if body.non_randomised and body.robins_i is not None:
        worst = 0
        for level, cut in sorted(ROBINS_DOWNGRADE.items(), key=lambda kv: kv[1]):
            share = sum(n for n, j in body.robins_i if ROBINS_DOWNGRADE.get(j, 0) >= cut) / body.non_randomised
            if share >= SHARE_AT_RISK:
                worst = cut
                reason = f"{share:.0%} of the non-randomised participants are in studies at {level} or worse risk"
        if worst:
            steps += worst
            reasons.append(f"risk of bias (ROBINS-I): {reason} (-{worst})")
    return steps, reasons


def _inconsistency(body: Body) -> list[str]:
    if body.tau > TAU_SUBSTANTIAL:
        return [f"inconsistency: posterior median tau {body.tau:.2f} > {TAU_SUBSTANTIAL}"]
    if body.pred_low < IMPORTANT_BENEFIT and body.pred_high > IMPORTANT_HARM:
        return [
            f"inconsistency: the 95% prediction interval for a new setting, {body.pred_low:.2f} to "
            f"{body.pred_high:.2f}, includes both an important benefit (OR < {IMPORTANT_BENEFIT}) and an important "
            f"harm (OR > {IMPORTANT_HARM})"
        ]
    return []


def information_size(body: Body) -> int:
    """The optimal information size of the body (patients, both arms) at its control risk."""
    return optimal_information_size(body.control_risk, RELATIVE_REDUCTION_OIS, alpha=ALPHA_OIS, power=POWER_OIS)


def _imprecision(body: Body) -> tuple[int, list[str]]:
    ois = information_size(body)
    short = body.participants < ois
    size = (
        f"{body.deaths} deaths in {body.participants:,} participants, "
        + ("fewer than" if short else "at least")
        + f" the optimal information size of {ois:,} (one trial powered for a {RELATIVE_REDUCTION_OIS:.0%} relative "
        f"reduction at a control risk of {1000 * body.control_risk:.0f} per 1,000)"
    )
    crosses = body.low < 1 < body.high
    both = body.low < IMPORTANT_BENEFIT and body.high > IMPORTANT_HARM
    if not crosses and not short:
        return 0, []
    ci = f"95% CrI {body.low:.2f} to {body.high:.2f}"
    if both:
        text = f"{ci} includes OR = 1 and both an important benefit and an important harm; {size} (-2)"
        return 2, [f"imprecision: {text}"]
    return 1, [f"imprecision: {ci + ' includes OR = 1; ' if crosses else ''}{size}"]


def _reporting_bias(body: Body) -> list[str]:
    share = body.unpublished / max(body.intended, 1)
    if share < SHARE_UNPUBLISHED:
        return []
    how = " (their deaths are imputed here from published totals, not published)" if body.imputed else ""
    return [f"reporting bias: deaths of {share:.0%} of the intended participants were never published{how}"]


def certainty(body: Body) -> Certainty:
    """The GRADE certainty of ``body`` by the rules of this module (see the module docstring)."""
    with_robins = body.non_randomised > 0 and body.robins_i is not None
    start = 3 if body.non_randomised == 0 or with_robins else 1
    reasons: list[str] = []
    if body.non_randomised and not with_robins:
        reasons.append("non-randomised studies included, without ROBINS-I judgements: the body starts at low")
    rob_steps, rob = _risk_of_bias(body)
    imp_steps, imp = _imprecision(body)
    inconsistency, reporting = _inconsistency(body), _reporting_bias(body)
    score = start - rob_steps - len(inconsistency) - imp_steps - len(reporting)
    reasons += rob + inconsistency + imp + reporting
    return Certainty(LEVELS[max(score, 0)], LEVELS[start], tuple(reasons))


STATEMENT_VERBS = {"high": "{verb}", "moderate": "probably {verb}", "low": "may {verb}"}


def plain_language(level: str, difference_per_1000: float, important_per_1000: float, *,
                   intervention: str = "MSCs", outcome: str = "mortality") -> str:  # fmt: skip
    """GRADE's informative statement for a certainty ``level`` and a point estimate of the absolute difference
    (events per 1,000; negative = fewer), with effects smaller than ``important_per_1000`` as 'little to no
    difference' (Santesso et al. 2020, J Clin Epidemiol 119:126, Table 2)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if level == "very low":
        return f"The evidence is very uncertain about the effect of {intervention} on {outcome}."
    if abs(difference_per_1000) < important_per_1000:
        verb = {"high": "result", "moderate": "probably result", "low": "may result"}[level]
        return f"{intervention} {verb} in little to no difference in {outcome}."
    verb = "reduce" if difference_per_1000 < 0 else "increase"
    return f"{intervention} {STATEMENT_VERBS[level].format(verb=verb)} {outcome}."
