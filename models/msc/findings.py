"""The answer first: the pre-specified hierarchy of analyses, the summary of findings and the bottom line.

Hierarchy (stated before any result is looked at, and defended in the README's methods):

1. **Primary**: randomised trials only (binomial-normal model, exact, primary priors).
2. Double-blind or placebo/sham-controlled randomised trials (a risk-of-bias restriction of 1).
3. Randomised and non-randomised studies, the non-randomised ones only through an additive bias model.
4. All 24 studies under the deaths implied by SCRT 2026's published crude totals (bias model), the best available
   answer to "what about the studies whose death counts were never published?".

Pooling non-randomised studies as if exchangeable with trials is reported only as a sensitivity analysis.

Certainty of the evidence follows GRADE's domains, each judged by a stated rule on numbers the toolkit computed
(:mod:`models.msc.grade`); a panel may judge otherwise, and the footnotes give it what it needs to.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from models.bayes.absolute import IMPORTANT_ARR, AbsoluteEffect
from models.msc.datasets import Dataset
from models.msc.grade import Body, Certainty, certainty
from models.msc.results import Results
from models.msc.specs import EVIDENCE_BASE, PRIMARY_ANALYSIS, is_blinded_or_placebo
from models.results import Kind, Result
from models.tables import BinaryTable


@dataclass(frozen=True)
class Tier:
    """One analysis of the hierarchy: where its row lives in the summary and how the report names it."""

    analysis_id: str
    model: str
    label: str
    short: str
    randomised_only: bool
    study_set: str = ""
    """The study set whose counts the analysis pools ('': the published-totals table of the run)."""


HIERARCHY = (
    Tier(f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", "binomial_normal_exact", "Randomised trials (primary analysis)",
         "Randomised trials (primary)", True, f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}"),
    Tier(f"{EVIDENCE_BASE}/rct_blinded", "binomial_normal_exact",
         "Double-blind or placebo/sham-controlled randomised trials", "Blinded or placebo/sham-controlled RCTs", True,
         f"{EVIDENCE_BASE}/rct_blinded"),
    Tier(f"{EVIDENCE_BASE}/nrs_bias", "binomial_normal_exact",
         "Randomised + non-randomised studies, NRS through a bias model", "RCT + NRS, NRS through a bias model",
         False, f"{EVIDENCE_BASE}/all"),
    Tier(f"{EVIDENCE_BASE}/published_totals/proportional", "binomial_normal_exact_nrs_bias",
         "All SCRT 2026 candidate studies, deaths of those without counts implied by its published totals (NRS "
         "through a bias model)", "All SCRT 2026 candidates, unpublished deaths from its totals", False),
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


@dataclass(frozen=True)
class StudyFacts:
    """What the GRADE rules read about each study: its design, its intended patients (both arms of its primary death
    count, known or not), whether it is a trial at high risk of bias, and its ROBINS-I overall judgement if one was
    found.

    A trial is at high risk of bias when its overall RoB 2 judgement is ``high``, or, where no overall judgement was
    found, when it was neither double-blind nor placebo- or sham-controlled (open-label or blinding not reported).
    """

    design: Mapping[str, str]
    patients: Mapping[str, int]
    at_high_risk: frozenset[str]
    robins_i: Mapping[str, str]

    @classmethod
    def of(cls, dataset: Dataset) -> StudyFacts:
        """The facts of every study of ``dataset`` (risk of bias from its ``risk_of_bias.csv``)."""
        rob = dataset.risk_of_bias_table()
        overall = {r.study_id: r.judgement for r in rob if r.domain == "overall" and r.assessed}
        studies = dataset.studies
        at_risk = frozenset(
            s for s in studies.index if studies.loc[s, "design"] == "RCT"
            and (overall[s] == "high" if s in overall else not is_blinded_or_placebo(studies.loc[s]))
        )  # fmt: skip
        patients = {c.study_id: c.n_msc + c.n_control for c in dataset.study_characteristics()
                    if c.n_msc is not None and c.n_control is not None}  # fmt: skip
        robins = {s: j for s, j in overall.items() if studies.loc[s, "design"] == "NRS"}
        return cls(dict(studies["design"]), patients, at_risk, robins)


def body_of(result: Result, table: BinaryTable, facts: StudyFacts, imputed: tuple[str, ...] = ()) -> Body:
    """The body of evidence behind ``result``: its table of counts (published, or imputed for the studies named in
    ``imputed``), the intended studies whose counts are unknown (``result.context.missing``) and the studies' facts.
    A row that is not a study (a pooled row of studies without counts) counts as non-randomised, as in the bias
    model."""
    size = {s: int(nt + nc) for s, nt, nc in zip(table.study, table.n_t, table.n_c, strict=True)}
    missing = [s for s in result.context.missing if s not in size]
    nrs = [s for s in table.study if facts.design.get(s, "NRS") == "NRS"]
    rct = [s for s in table.study if s not in nrs]
    robins = tuple((size[s], facts.robins_i[s]) for s in nrs) if all(s in facts.robins_i for s in nrs) else None
    participants = sum(size.values())
    unknown = sum(facts.patients.get(s, 0) for s in missing)
    pred = result.prediction
    return Body(
        low=result.effect.low, high=result.effect.high, pred_low=pred.low, pred_high=pred.high,
        tau=result.tau.median, participants=participants, deaths=int(table.e_t.sum() + table.e_c.sum()),
        control_risk=float(table.e_c.sum() / table.n_c.sum()), intended=participants + unknown,
        unpublished=unknown + sum(size.get(s, 0) for s in imputed), imputed=any(s in size for s in imputed),
        randomised=sum(size[s] for s in rct), randomised_at_risk=sum(size[s] for s in rct if s in facts.at_high_risk),
        non_randomised=sum(size[s] for s in nrs), robins_i=robins,
    )  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One row of the summary of findings: its tier, pooled result, body of evidence, the absolute effect at the
    randomised trials' control risk, and the certainty the rules give."""

    tier: Tier
    result: Result
    body: Body
    absolute: AbsoluteEffect
    certainty: Certainty


def summary_rows(
    results: Results, absolute: Mapping[str, list[AbsoluteEffect]], bodies: Mapping[str, Body]
) -> list[Row]:
    """The rows of the summary of findings: each tier of the hierarchy with a result, a body and absolute effects
    (the first control risk of each: the randomised trials' crude control risk)."""
    rows = []
    for tier in HIERARCHY:
        result = results.get(tier.analysis_id, tier.model)
        effects, body = absolute.get(tier.analysis_id), bodies.get(tier.analysis_id)
        if result is not None and effects and body is not None:
            rows.append(Row(tier, result, body, effects[0], certainty(body)))
    return rows


def summary_of_findings(rows: list[Row]) -> tuple[pd.DataFrame, list[str]]:
    """The GRADE-layout table (one row per analysis of the hierarchy) and its certainty footnotes (numbered in
    order; each row's certainty cell names its footnotes)."""
    table, notes = [], []
    for row in rows:
        eff, cert = row.absolute, row.certainty
        marks = []
        for reason in cert.downgrades:
            notes.append(reason)
            marks.append(str(len(notes)))
        table.append(
            {
                "Analysis": row.tier.short,
                "Studies (participants)": f"{row.result.k} ({row.body.participants:,})",
                "Odds ratio (95% CrI)": fmt_or(row.result),
                "Control risk per 1,000": f"{eff.control_per_1000:.0f}",
                "Risk with MSC per 1,000 (95% CrI)": fmt_ci(eff.deaths_median, eff.deaths_low, eff.deaths_high, 0),
                "Difference per 1,000 (95% CrI)": fmt_ci(
                    eff.difference_median, eff.difference_low, eff.difference_high, 0
                ),
                "P(any benefit)": fmt_p(row.result.effect.p_benefit),
                f"P(≥ {1000 * IMPORTANT_ARR:.0f} fewer deaths per 1,000)": fmt_p(eff.p_important),
                "Certainty (GRADE, by rule)": cert.level + (f" ({', '.join(marks)})" if marks else ""),
            }
        )
    return pd.DataFrame(table), notes


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
