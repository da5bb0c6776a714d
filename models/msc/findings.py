"""The answer first: the pre-specified hierarchy of analyses, the summary of findings and the bottom line.

Hierarchy (stated before any result is looked at, and defended in the README's methods):

1. **Primary**: randomised trials only (binomial-normal model, exact, primary priors).
2. Double-blind or placebo/sham-controlled randomised trials (a risk-of-bias restriction of 1).
3. Randomised and non-randomised studies, the non-randomised ones only through an additive bias model.
4. All 24 studies under the deaths implied by SCRT 2026's published crude totals (bias model), the best available
   answer to "what about the studies whose death counts were never published?".

Pooling non-randomised studies as if exchangeable with trials is reported only as a sensitivity analysis.

Certainty of the evidence follows GRADE's domains, each judged by a stated rule on numbers the toolkit computed
(:func:`certainty`); a panel may judge otherwise, and the footnotes give it what it needs to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from models.bayes.absolute import IMPORTANT_ARR, AbsoluteEffect
from models.msc.results import Results
from models.msc.specs import EVIDENCE_BASE, PRIMARY_ANALYSIS
from models.results import Kind, Result


@dataclass(frozen=True)
class Tier:
    """One analysis of the hierarchy: where its row lives in the summary and how the report names it."""

    analysis_id: str
    model: str
    label: str
    short: str
    randomised_only: bool


HIERARCHY = (
    Tier(f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", "binomial_normal_exact", "Randomised trials (primary analysis)",
         "Randomised trials (primary)", True),
    Tier(f"{EVIDENCE_BASE}/rct_blinded", "binomial_normal_exact",
         "Double-blind or placebo/sham-controlled randomised trials", "Blinded or placebo/sham-controlled RCTs", True),
    Tier(f"{EVIDENCE_BASE}/nrs_bias", "binomial_normal_exact",
         "Randomised + non-randomised studies, NRS through a bias model", "RCT + NRS, NRS through a bias model",
         False),
    Tier(f"{EVIDENCE_BASE}/published_totals/proportional", "binomial_normal_exact_nrs_bias",
         "All 24 studies, deaths of those without counts implied by SCRT 2026's published totals (bias model)",
         "All 24, unpublished deaths from SCRT 2026's totals", False),
)  # fmt: skip
"""The pre-specified hierarchy, primary first."""

EXCHANGEABLE = Tier(f"{EVIDENCE_BASE}/all", "binomial_normal_exact",
                    "All studies with known counts pooled as exchangeable (sensitivity only)", "all, exchangeable",
                    False)  # fmt: skip


MODEL_LABELS = {
    "binomial_normal_pet": "binomial-normal, PET small-study adjustment (MCMC)",
    "binomial_normal_peese": "binomial-normal, PEESE small-study adjustment (MCMC)",
    "binomial_normal_regression": "binomial-normal meta-regression subgroup (MCMC)",
    "binomial_normal": "binomial-normal (MCMC)",
    "binomial_normal_exact": "binomial-normal (exact)",
    "binomial_normal_exact_control_arm": "binomial-normal, control-arm form (exact)",
    "binomial_normal_exact_nrs_bias": "binomial-normal, NRS bias model (exact)",
    "normal_normal_exact": "normal-normal, paper's measure (exact)",
    "summary_level": "published number at face value",
    "summary_level_re": "published number, between-study variance added",
}


def fmt_p(p: float) -> str:
    """A probability with the precision it has: '> 0.999' and '< 0.001' at the ends, else 3 decimals."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    if p > 0.999:
        return "> 0.999"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}"


def fmt_ci(est: float, low: float, high: float, digits: int = 2) -> str:
    """``est [low, high]`` with ``digits`` decimals."""
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "–"
    if low is None or (isinstance(low, float) and math.isnan(low)):
        return f"{est:.{digits}f}"
    return f"{est:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def fmt_or(result: Result) -> str:
    """A result's pooled effect with its 95% interval: ``0.75 [0.52, 1.06]``."""
    return fmt_ci(result.effect.median, result.effect.low, result.effect.high)


def participants(result: Result, sizes: dict[str, int]) -> int:
    """Patients in the studies of a result (arm sizes from ``sizes``)."""
    return int(sum(sizes.get(s, 0) for s in result.context.studies))


@dataclass(frozen=True)
class Certainty:
    """A GRADE certainty rating with the reason for every level taken off (rule and numbers)."""

    level: str
    downgrades: tuple[str, ...]


LEVELS = ("very low", "low", "moderate", "high")


def certainty(result: Result, *, share_unblinded: float, share_unknown: float, has_nrs: bool) -> Certainty:
    """GRADE certainty by stated rules (each rule names the number it looks at).

    * Risk of bias: -1 when open-label or blinding-not-reported trials hold >= 25% of the participants, or when
      non-randomised studies are included (even through the bias model, which widens but cannot remove their bias).
    * Inconsistency: -1 when the posterior median of tau exceeds 0.5 (substantial heterogeneity on log-OR).
    * Imprecision: -1 when the 95% CrI of the OR includes 1; -2 when it also reaches both an important benefit
      (OR < 0.8) and an important harm (OR > 1.25).
    * Publication and reporting bias: -1 when studies whose death counts were never published hold >= 10% of the
      participants of the intended set (selective outcome reporting cannot be excluded).
    * Indirectness is not downgraded by rule: the studies' patients, products and outcome are the question's.
    """
    reasons: list[str] = []
    score = 3
    if has_nrs or share_unblinded >= 0.25:
        score -= 1
        reasons.append(
            "risk of bias: non-randomised studies included (bias model widens, cannot remove their bias)"
            if has_nrs else f"risk of bias: {share_unblinded:.0%} of participants in open-label or unblinded trials"
        )  # fmt: skip
    tau, low, high = result.tau.median, result.effect.low, result.effect.high
    if tau > 0.5:
        score -= 1
        reasons.append(f"inconsistency: posterior median tau {tau:.2f} > 0.5")
    if low < 1 < high:
        both = low < 0.8 and high > 1.25
        score -= 2 if both else 1
        reasons.append(
            f"imprecision: 95% CrI {low:.2f}-{high:.2f} includes no effect"
            + (" and both an important benefit and an important harm (-2)" if both else "")
        )
    if share_unknown >= 0.10:
        score -= 1
        reasons.append(f"reporting bias: {share_unknown:.0%} of the intended participants in studies whose death "
                       "counts were never published")  # fmt: skip
    return Certainty(LEVELS[max(score, 0)], tuple(reasons))


def summary_of_findings(
    results: Results,
    absolute: dict[str, list[AbsoluteEffect]],
    sizes: dict[str, int],
    unblinded: set[str],
    missing_sizes: dict[str, int],
    nrs: set[str],
) -> tuple[pd.DataFrame, list[str]]:
    """The GRADE-layout table (one row per analysis of the hierarchy) and its footnotes.

    Absolute columns are at the first stated control risk (the randomised trials' crude control risk); the report
    gives the other control risks in a table of their own.
    """
    rows, notes = [], []
    for tier in HIERARCHY:
        result = results.get(tier.analysis_id, tier.model)
        effects = absolute.get(tier.analysis_id)
        if result is None or not effects:
            continue
        eff = effects[0]
        studies = result.context.studies
        n = participants(result, sizes)
        n_missing = sum(missing_sizes.get(s, 0) for s in result.context.missing)
        share_unblinded = sum(sizes.get(s, 0) for s in studies if s in unblinded) / max(n, 1)
        cert = certainty(result, share_unblinded=share_unblinded, share_unknown=n_missing / max(n + n_missing, 1),
                         has_nrs=any(s in nrs for s in studies) or not tier.randomised_only)  # fmt: skip
        marks = []
        for reason in cert.downgrades:
            notes.append(reason)
            marks.append(str(len(notes)))
        rows.append(
            {
                "Analysis": tier.short,
                "Studies (participants)": f"{len(studies)} ({n})",
                "Odds ratio (95% CrI)": fmt_or(result),
                "Control risk per 1,000": f"{eff.control_per_1000:.0f}",
                "Risk with MSC per 1,000 (95% CrI)": fmt_ci(eff.deaths_median, eff.deaths_low, eff.deaths_high, 0),
                "Difference per 1,000 (95% CrI)": fmt_ci(
                    eff.difference_median, eff.difference_low, eff.difference_high, 0
                ),
                "P(any benefit)": fmt_p(result.effect.p_benefit),
                f"P(≥ {1000 * IMPORTANT_ARR:.0f} fewer deaths per 1,000)": fmt_p(eff.p_important),
                "Certainty (GRADE, by rule)": cert.level + (f" ({', '.join(marks)})" if marks else ""),
            }
        )
    return pd.DataFrame(rows), notes


def absolute_table(absolute: dict[str, list[AbsoluteEffect]], tiers: tuple[Tier, ...] = HIERARCHY) -> pd.DataFrame:
    """Absolute effects of each analysis at every stated control risk (per 1,000; 95% CrI)."""
    rows = []
    for tier in tiers:
        for eff in absolute.get(tier.analysis_id, []):
            rows.append(
                {
                    "Analysis": tier.short,
                    "Control risk per 1,000 (source)": f"{eff.control_per_1000:.0f} ({eff.control.label})",
                    "Deaths with MSC per 1,000": fmt_ci(eff.deaths_median, eff.deaths_low, eff.deaths_high, 0),
                    "Difference per 1,000": fmt_ci(eff.difference_median, eff.difference_low, eff.difference_high, 0),
                    "P(≥ 10 fewer)": fmt_p(eff.p_arr[0.01]),
                    "P(≥ 20 fewer)": fmt_p(eff.p_arr[0.02]),
                    "P(≥ 50 fewer)": fmt_p(eff.p_arr[0.05]),
                    "P(RR < 0.8) at this risk": fmt_p(eff.p_rr_below_0_8),
                    "P(NNT ≤ 50)": fmt_p(eff.p_nnt[50]),
                }
            )
    return pd.DataFrame(rows)


def bottom_line(results: Results, absolute: dict[str, list[AbsoluteEffect]], certainty_level: str) -> str:
    """At most 150 words: the primary probability of benefit, the absolute effect, the published-totals scenario,
    what drives the uncertainty, and the certainty of the evidence."""
    prim = results.get(HIERARCHY[0].analysis_id, HIERARCHY[0].model)
    totals = results.get(HIERARCHY[3].analysis_id, HIERARCHY[3].model)
    effects = absolute.get(HIERARCHY[0].analysis_id, [])
    if prim is None or not effects:
        return ""
    vent = effects[-1]
    text = (
        f"In the {prim.k} randomised trials with published death counts, the posterior probability that MSCs "
        f"reduce mortality at all is {fmt_p(prim.effect.p_benefit)} (odds ratio {fmt_or(prim)}"
        f"). For ventilated patients (control risk {vent.control_per_1000:.0f} per 1,000) the estimate is "
        f"{-vent.difference_median:.0f} fewer deaths per 1,000 (95% CrI {-vent.difference_low:.0f} fewer to "
        f"{abs(vent.difference_high):.0f} {'more' if vent.difference_high > 0 else 'fewer'}); the probability of at "
        f"least {1000 * IMPORTANT_ARR:.0f} fewer is {fmt_p(vent.p_important)}. "
    )
    if totals is not None:
        text += (
            f"If the studies without published counts had the deaths that SCRT 2026's own totals imply, the "
            f"probability of any benefit is {fmt_p(totals.effect.p_benefit)} (odds ratio {fmt_or(totals)}). "
        )
    text += (
        "The uncertainty comes from few, small trials, the largest of which found little effect, and from the "
        f"unpublished deaths. Certainty of the evidence: {certainty_level}. Non-randomised studies enter only through "
        "a bias model (below)."
    )
    return text


def readable_row(r: Result) -> dict[str, object]:
    """One result with readable headers: model, studies, pooled ratio with 95% interval, P(benefit), P(important
    benefit) (ratio < 0.8, or > 1.25 where a ratio above 1 is a benefit), tau, 95% prediction interval and the
    convergence gate."""
    e, pred = r.effect, r.prediction
    return {
        "Model": MODEL_LABELS.get(r.key.model, r.key.model),
        "Studies": r.k,
        "Pooled ratio (95% interval)": f"{r.measure} {fmt_or(r)}",
        "P(benefit)": fmt_p(e.p_benefit),
        "P(important benefit)": fmt_p(math.nan if e.p_important is None else e.p_important),
        "tau, median": "–" if r.tau is None or math.isnan(r.tau.median) else f"{r.tau.median:.2f}",
        "95% prediction interval": "–" if pred is None else f"[{pred.low:.2f}, {pred.high:.2f}]",
        "Convergence gate": str(r.gate),
    }


DIGEST_KINDS = (Kind.POOLED, Kind.PUBLISHED, Kind.SMALL_STUDY, Kind.SUBGROUP)


def summary_digest(results: Results) -> pd.DataFrame:
    """A readable digest of summary.csv: every pooled analysis under the primary priors, one row each, the hierarchy
    first (summary.csv keeps every prior, model, variant and column)."""
    shown = [r for r in results if r.primary_priors and r.kind in DIGEST_KINDS]
    order = {t.analysis_id: i for i, t in enumerate(HIERARCHY)}
    shown.sort(key=lambda r: (order.get(r.key.analysis, len(order)), r.context.source, r.key.analysis))
    return pd.DataFrame([{"Analysis": r.key.analysis, **readable_row(r)} for r in shown])
