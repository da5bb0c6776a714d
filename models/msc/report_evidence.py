"""The report's evidence-base sections: the hierarchy of analyses and its sensitivity analyses, absolute effects,
Bayes factors, the published-totals scenario, small-study effects, meta-regression, leave-one-out, and the prior
sensitivity of the primary analysis.

Every number is a typed field of a result in the run's store (:class:`models.msc.results.Results`) or of a record of
a special analysis (:mod:`models.msc.records`); nothing is read back from a table row by name.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from models.msc.findings import EXCHANGEABLE, HIERARCHY, Tier, absolute_table, fmt_ci, fmt_or, fmt_p
from models.msc.kinds import MISSING_MAP
from models.msc.priors import PRIMARY_EFFECT_PRIOR
from models.msc.records import SmallStudy
from models.msc.report_figures import add_figures
from models.msc.report_update import by_timepoint
from models.msc.results import Results
from models.msc.specs import EVIDENCE_BASE, PRIMARY_ANALYSIS
from models.msc.state import RunResult
from models.msc.wording import set_name, yes_no
from models.priors import tau_prior
from models.report.document import Report
from models.results import Kind, Result

_ci = fmt_ci

TIER_LABELS = {t.analysis_id: t.label for t in (*HIERARCHY, EXCHANGEABLE)}
"""Analysis -> its label in words, for the tiers of the hierarchy and the exchangeable pooling."""

COVARIATE_NAMES = {
    "critical": "critical illness",
    "includes_moderate": "includes moderate patients",
    "two_infusions": "two infusions",
    "three_infusions": "three infusions",
    "nrs": "non-randomised design",
    "log_cells_per_kg": "cell dose (log cells/kg, per SD)",
}
"""Meta-regression keys and covariates in words."""

TEST_NAMES = {"Egger (lm)": "Egger (weighted regression, t test)"}
"""Small-study test names in words."""

TOTALS_MODELS = ("binomial_normal_exact_nrs_bias", "binomial_normal_exact")
"""The published-totals scenario's models: NRS through the bias model, and all 24 exchangeable as SCRT 2026 pooled."""


def fmt3(x: float) -> str:
    """Three significant digits for effects and probabilities, whole numbers for large counts such as ESS."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def p_important(r: Result) -> float:
    """P(beyond the important threshold on the benefit side): P(OR < 0.8) for a harm such as death; NaN if none."""
    return math.nan if r.effect.p_important is None else r.effect.p_important


def _prediction(r: Result) -> str:
    pred = r.prediction
    return "–" if pred is None or math.isnan(pred.low) else f"[{pred.low:.2f}, {pred.high:.2f}]"


def _bf(bf: float) -> str:
    """A Bayes factor with its natural log: '1.1 (0.09)'."""
    if bf is None or not math.isfinite(bf) or bf <= 0:
        return "–"
    return f"{bf:.3g} ({math.log(bf):.2f})"


def hierarchy_table(results: Results) -> pd.DataFrame:
    extra = (
        EXCHANGEABLE,
        Tier(f"{EVIDENCE_BASE}/nrs_bias_optimistic", "binomial_normal_exact", "RCT + NRS, NRS assumed to exaggerate "
             "benefit (bias mean ROR 0.8)", "", False),
        Tier(f"{EVIDENCE_BASE}/nrs_half_weight", "normal_normal_exact", "All, NRS at half weight (normal-normal, "
             "variance x2)", "", False),
        Tier(f"{EVIDENCE_BASE}/rct_uncontested", "binomial_normal_exact", "RCTs whose design no review contests", "",
             True),
        Tier(f"{EVIDENCE_BASE}/no_zero_event", "binomial_normal_exact", "Studies with deaths in both arms", "", False),
        Tier(f"{EVIDENCE_BASE}/lanzoni_1of12", "binomial_normal_exact", "All, Lanzoni 2021 MSC deaths 1/12", "",
             False),
        Tier(f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", "binomial_normal_exact_control_arm", "RCTs, control-arm "
             "parametrisation (the control arm's log-odds as each study's baseline)", "", True),
        Tier(f"{EVIDENCE_BASE}/all", "binomial_normal_exact_control_arm", "All, control-arm parametrisation", "",
             False),
    )  # fmt: skip
    rows = []
    for tier in HIERARCHY + extra:
        r = results.get(tier.analysis_id, tier.model)
        if r is None:
            continue
        rows.append({
            "Analysis": tier.label,
            "Studies": r.k,
            "OR (95% CrI)": fmt_or(r),
            "P(OR < 1)": fmt_p(r.effect.p_benefit),
            "P(OR < 0.8)": fmt_p(p_important(r)),
            "tau, median": f"{r.tau.median:.2f}",
            "95% prediction interval, OR in a new setting": _prediction(r),
            "P(true OR in a new setting < 1)": fmt_p(r.prediction.p_new_benefit),
        })  # fmt: skip
    return pd.DataFrame(rows)


def evidence_base(report: Report, result: RunResult) -> None:
    """The evidence base's section: randomised trials first, then each sensitivity analysis."""
    results = result.results
    if not results.has_document(EVIDENCE_BASE):
        return
    report.add_heading("The evidence base: randomised trials first", 2)
    report.add_paragraph(
        "The pre-specified hierarchy: randomised trials are the primary analysis; non-randomised studies (NRS) enter "
        "only through an additive bias model; pooling them as if they were trials is a sensitivity analysis. All "
        "rows: binomial-normal model computed exactly unless stated, primary priors."
    )
    report.add_table(hierarchy_table(results), caption="The hierarchy of analyses and its sensitivity analyses "
                     "(rows after the first two pool non-randomised studies, through a bias model or as if they were "
                     "randomised, as each row says)", index=False)  # fmt: skip
    by_timepoint(report, result)
    if result.absolute:
        report.add_heading("Absolute effects at stated control risks", 3)
        report.add_paragraph(
            "Deaths per 1,000 patients at three control risks, each with its source: the randomised trials' crude "
            "control risk, and RECOVERY's usual-care 28-day mortality for patients on oxygen (262 per 1,000) and on "
            "invasive ventilation (414 per 1,000; N Engl J Med 2021;384:693). 'RR < 0.8 at this risk' is a relative "
            "reduction of at least 20% at that risk; an OR of 0.8 is a smaller relative reduction whenever deaths "
            "are common. NNT is reported only as P(NNT <= 50) = P(at least 20 fewer deaths per 1,000)."
        )
        caption = ("Absolute effects (95% CrI; the analyses after the randomised ones pool non-randomised studies "
                   "through the bias model)")  # fmt: skip
        report.add_table(absolute_table(result.absolute), caption=caption, index=False)
    if result.averaging:
        rows = []
        for key, avg in result.averaging.items():
            rows.append({
                "Analysis": TIER_LABELS.get(key, key),
                "Inclusion BF, effect (log BF)": _bf(avg.bf10_effect),
                "Conditional BF10, effect, random effects (log BF)": _bf(avg.bf10_effect_random),
                "Inclusion BF, heterogeneity (log BF)": _bf(avg.bf10_heterogeneity),
                "P(no effect), averaged": fmt_p(avg.p_null),
                "P(OR < 1), averaged": fmt_p(avg.prob_below_1),
                "P(OR < 0.8), averaged": fmt_p(avg.prob_below_0_8),
                "Averaged OR (95% CrI)": _ci(avg.median, avg.low, avg.high),
            })  # fmt: skip
        report.add_heading("Bayes factors and model averaging", 3)
        report.add_paragraph(
            "Bayes factors from the exact marginal likelihoods of four models: fixed or random effects, each with an "
            "effect (mu free) or without (mu = 0), with prior probability 1/4 each (as metaBMA and RoBMA do). The "
            "inclusion Bayes factor for an effect is the posterior odds of the two models with an effect over the two "
            "without, divided by the prior odds (1): it averages over fixed and random effects; the conditional BF10 "
            "compares the random-effects model with mu free against mu = 0 only. The inclusion Bayes factor for "
            "heterogeneity compares the models with tau free against tau = 0 in the same way. A Bayes factor between "
            "1/3 and 3 means the data are about as likely under either model. The model-averaged probabilities count "
            "the null models' mass at OR = 1 as 'no benefit'. Log Bayes factors in brackets (natural log)."
        )
        report.add_table(pd.DataFrame(rows), caption="Bayes factors and model-averaged effect (the rows after the "
                         "randomised analyses pool non-randomised studies, as each row says)", index=False)  # fmt: skip
    _published_totals(report, result)
    _small_study(report, result)
    _regressions(report, result)
    add_figures(report, result.figures.get("evidence", []))
    _leave_one_out(report, result)


def _published_totals(report: Report, result: RunResult) -> None:
    if result.totals is None:
        return
    implied = result.totals.implied
    n_missing = len(result.study_sets["scrt2026/mortality"].missing)
    report.add_heading(f"What the published totals say about the {n_missing} studies without death counts", 3)
    report.add_paragraph(implied.arithmetic() + " Only the totals are known, so the table shows the answer under "
                         f"several spreads of those deaths over the {n_missing} studies; the spreads that pile deaths "
                         "into the largest or smallest studies are bounding choices by rule, not a search over every "
                         "allocation.")  # fmt: skip
    rows = []
    for spread in result.totals.spreads:
        hits = [result.results.get(f"{EVIDENCE_BASE}/published_totals/{spread}", model) for model in TOTALS_MODELS]
        for r in (h for h in hits if h is not None):
            rows.append({
                "Spread of the implied deaths": r.context.title.split(": ", 1)[-1],
                "OR (95% CrI)": fmt_or(r),
                "P(OR < 1)": fmt_p(r.effect.p_benefit),
                "P(OR < 0.8)": fmt_p(p_important(r)),
                "tau, median": f"{r.tau.median:.2f}",
            })  # fmt: skip
    caption = (
        f"All {result.totals.proportional.k} SCRT 2026 candidate studies under the published-totals scenario "
        "(non-randomised studies through the bias model, or pooled as if randomised, as each row says)"
    )
    report.add_table(pd.DataFrame(rows), caption=caption, index=False)
    add_figures(report, [f for f in result.figures.get("scrt2026/mortality", []) if f.kind == MISSING_MAP])


def _small_study(report: Report, result: RunResult) -> None:
    if not result.small_study:
        return
    report.add_heading("Small-study effects and publication bias", 3)
    report.add_paragraph(
        "Egger (t form), Peters and Harbord tests (zero cells: 0.5 added for the log OR; double-zero studies left "
        "out), each flagged underpowered below 10 studies; and the binomial-normal model with a PET (study SE) or "
        "PEESE (SE squared) term, uncentred, so that the adjusted OR is that of an infinitely large study (slope prior "
        "Normal(0, 1) per unit SE; the adjusted result depends on it). SCRT 2026's 'no publication bias' for 24 "
        f"studies cannot be recomputed: {len(result.study_sets['scrt2026/mortality'].missing)} of them lack death "
        "counts."
    )
    for analysis, small in result.small_study.items():
        label = ("randomised trials" if analysis == PRIMARY_ANALYSIS
                 else "all studies with known counts, non-randomised studies pooled as if randomised")  # fmt: skip
        report.add_table(_tests_table(small), caption=f"Small-study tests, {label}", index=False)
        report.add_table(_adjustments_table(small), caption=f"With and without the small-study adjustment, {label} "
                         "(MCMC, primary priors)", index=False)  # fmt: skip
    add_figures(report, result.figures.get("small_study", []))


def _tests_table(small: SmallStudy) -> pd.DataFrame:
    return pd.DataFrame([{
        "Test": TEST_NAMES.get(t.test, t.test),
        "Statistic": "–" if math.isnan(t.statistic) else f"{t.statistic:.2f}",
        "p": fmt_p(t.p),
        "Studies": "–" if t.k is None else t.k,
        "Underpowered (fewer than 10 studies)": yes_no(t.underpowered),
    } for t in small.tests])  # fmt: skip


def _adjustments_table(small: SmallStudy) -> pd.DataFrame:
    return pd.DataFrame([{
        "Model": a.model,
        "OR (95% CrI)": _ci(a.median, a.low, a.high),
        "P(OR < 1)": fmt_p(a.p_below_1),
        "P(OR < 0.8)": fmt_p(a.p_below_0_8),
        "Slope per unit SE (95% CrI)": "–" if math.isnan(a.slope_median)
        else _ci(a.slope_median, a.slope_low, a.slope_high),
        "P(slope < 0)": fmt_p(a.p_slope_below_0),
    } for a in small.adjustments])  # fmt: skip


def _regressions(report: Report, result: RunResult) -> None:
    if not result.subgroups:
        return
    report.add_heading("Severity, dose and design (meta-regression)", 3)
    report.add_paragraph(
        "Binomial-normal meta-regressions (MCMC, primary priors), on the randomised trials first (dose alone, as the "
        "trials have no design contrast), then on all studies with known counts, non-randomised studies pooled as if "
        "randomised (the design-and-dose model gives them their own level). A ratio of odds "
        "ratios below 1 means a larger benefit in studies with that feature. Caution: these compare studies, not "
        "patients (ecological bias), with few studies per group, and severity, dose and design travel together; "
        "they generate hypotheses, not subgroup effects. Published subgroup ORs are named by their source."
    )
    for key, groups in result.subgroups.items():
        rows = []
        for g in groups:
            pub = g.result.context.published
            rows.append({
                "Subgroup": g.result.context.subject, "Studies": g.k_in_group, "OR (95% CrI)": fmt_or(g.result),
                "P(OR < 1)": fmt_p(g.result.effect.p_benefit),
                "Published OR (source)": _ci(pub.estimate, pub.low, pub.high)
                + f" ({set_name(result.dataset, g.published_source.replace(' ', '/', 1))})"
                if pub is not None and g.published_source else "–",
            })  # fmt: skip
        report.add_table(pd.DataFrame(rows), caption=f"{key}: subgroup odds ratios",
                         index=False)  # fmt: skip
        slopes = result.slopes.get(key)
        if slopes is not None:
            report.add_table(pd.DataFrame([{
                "Covariate": COVARIATE_NAMES.get(s.covariate, s.covariate),
                "Ratio of ORs (95% CrI)": _ci(s.ratio_of_ors, s.low, s.high),
                "P(ratio < 1)": fmt_p(s.p_below_1), "Studies with the feature": s.k_with,
            } for s in slopes]), caption=f"{key}: ratios of odds ratios",
                index=False)  # fmt: skip
    add_figures(report, result.figures.get("regression", []))


LOO_ORDER = (f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", f"{EVIDENCE_BASE}/all")
"""Leave-one-out sets shown first, in the hierarchy's order (the randomised trials first)."""


def _leave_one_out(report: Report, result: RunResult) -> None:
    loo = result.results.select(kinds=(Kind.LEAVE_ONE_OUT,))
    if not loo:
        return
    ds = result.dataset
    order = {key: i for i, key in enumerate(LOO_ORDER)}
    loo.sort(key=lambda r: order.get(r.context.parent, len(order)))
    report.add_heading("Leave one study out", 3)
    rows = []
    for r in loo:
        parent = r.context.parent
        rows.append({
            "Study set": TIER_LABELS.get(parent) or set_name(ds, parent),
            "Study left out": ds.label(r.context.subject),
            "OR (95% CrI)": fmt_or(r),
            "P(OR < 1)": fmt_p(r.effect.p_benefit),
            "P(OR < 0.8)": fmt_p(p_important(r)),
        })  # fmt: skip
    report.add_table(pd.DataFrame(rows), caption="Leave one study out: exact binomial-normal, primary priors (the "
                     "randomised trials first; the other sets pool non-randomised studies as if randomised)",
                     index=False)  # fmt: skip


def sensitivity(report: Report, result: RunResult) -> None:
    """The primary and bias-model analyses under every heterogeneity prior, and the range over the whole grid."""
    results = result.results
    report.add_heading("Sensitivity to the priors", 2)
    report.add_paragraph(
        "Every analysis is recomputed exactly under 8 heterogeneity priors x 4 effect priors. Below, the primary "
        "analysis under each heterogeneity prior (effect prior Normal(0, 1)): how far tau's posterior moved from its "
        "prior, and what that does to the prediction for a new setting."
    )
    for key, model in ((f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", "binomial_normal_exact"),
                       (f"{EVIDENCE_BASE}/nrs_bias", "binomial_normal_exact")):  # fmt: skip
        grid = results.select(kinds=(Kind.POOLED,), analysis=key, model=model)
        sub = [r for r in grid if r.key.effect_prior == PRIMARY_EFFECT_PRIOR]
        if not sub:
            continue
        rows = []
        for r in sub:
            tp = tau_prior(r.key.tau_prior)
            rows.append({
                "Heterogeneity prior": tp.label,
                "tau: prior median -> posterior median": f"{tp.median():.2f} -> {r.tau.median:.2f}",
                "OR (95% CrI)": fmt_or(r),
                "P(OR < 1)": fmt_p(r.effect.p_benefit),
                "P(OR < 0.8)": fmt_p(p_important(r)),
                "95% prediction interval": _prediction(r),
            })  # fmt: skip
        report.add_table(pd.DataFrame(rows), caption=f"{TIER_LABELS.get(key, key)}: by heterogeneity prior",
                         index=False)  # fmt: skip
        benefit, important = [r.effect.p_benefit for r in grid], [p_important(r) for r in grid]
        report.add_paragraph(
            f"Over all {len(grid)} prior combinations P(OR < 1) ranges from {fmt_p(np.nanmin(benefit))} to "
            f"{fmt_p(np.nanmax(benefit))} and P(OR < 0.8) from {fmt_p(np.nanmin(important))} to "
            f"{fmt_p(np.nanmax(important))}."
        )
    add_figures(report, result.figures.get("priors", []))
