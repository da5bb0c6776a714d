"""The reanalysis report, answer first: bottom line, summary of findings, then the documents, the evidence base,
sensitivity analyses, methods and an appendix (per-set detail, reproduction, diagnostics).

Every number quoted is looked up by key (analysis, model, priors) or kind in the run's typed results
(:class:`models.msc.results.Results`); the statistics behind the bottom line and the summary of findings live in
:mod:`models.msc.findings`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from models.msc.findings import (
    EXCHANGEABLE,
    HIERARCHY,
    Tier,
    absolute_table,
    bottom_line,
    fmt_ci,
    fmt_p,
    primary_row,
    readable_row,
    summary_of_findings,
)
from models.msc.followup import DOCUMENT as FOLLOWUP
from models.msc.kinds import MISSING_MAP
from models.msc.missing import missing_arm_sizes
from models.msc.results import AnalysisResult, Kind, Results
from models.msc.runner import RunResult
from models.msc.specs import EVIDENCE_BASE, PRIMARY_ANALYSIS, is_blinded_or_placebo
from models.priors import (
    BIAS_PRESETS,
    PRIMARY_BIAS_PRIOR,
    PRIMARY_EFFECT_PRIOR,
    PRIMARY_TAU_PRIOR,
    effect_prior,
    tau_prior,
)
from models.report.document import Report

HEADLINES = (
    ("scrt2026", "mortality", "Stem Cell Res Ther 2026 meta-analysis (24 studies)"),
    ("yao2022", "mortality", "Yao et al., EClinicalMedicine 2022 (13 studies; our candidate set)"),
    ("tang2024", "mortality", "Tang et al., J Transl Med 2024 (14 RCTs)"),
    ("crosscheck_scrt2023", "mortality", "Cross-check: Stem Cell Res Ther 2023 (7 UC-MSC RCTs)"),
    ("crosscheck_kirkham2022", "mortality", "Cross-check: living review 2022 (11 studies)"),
)


def _fmt3(x: float) -> str:
    """Three significant digits for effects and probabilities, whole numbers for large counts such as ESS."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


_ci = fmt_ci
_primary = primary_row

TOTALS_MODELS = ("binomial_normal_exact_nrs_bias", "binomial_normal_exact")
"""The published-totals scenario's models: NRS through the bias model, and all 24 exchangeable as SCRT 2026 pooled."""


def _n_missing(row: Mapping[str, Any]) -> int:
    missing = row["missing"]
    return len(missing.split(";")) if isinstance(missing, str) and missing else 0


def _known_missing(row: Mapping[str, Any] | None) -> str:
    return "–" if row is None else f"{int(row['k'])} / {_n_missing(row)}"


def _paragraph(result: RunResult, reproduction: pd.DataFrame, doc: str, ana: str, label: str) -> str:
    results = result.results
    key = f"{doc}/{ana}"
    rep = reproduction[(reproduction["document"] == doc) & (reproduction["analysis"] == ana)].iloc[0]
    sl = _primary(results, key, "summary_level")
    sl_re = _primary(results, key, "summary_level_re")
    bn = _primary(results, key, "binomial_normal_exact")
    s = result.study_sets.get(key)
    m = rep["measure"]
    text = (
        f"**{label}.** Published pooled {m} "
        f"{_ci(rep['published_estimate'], rep['published_ci_low'], rep['published_ci_high'])}. "
        f"Recomputed with the paper's method: {rep['status']} ({str(rep['reason']).split(';')[0]}). "
    )
    if sl is not None:
        text += (
            f"Taken at face value, the published number gives P({m} < 1) {fmt_p(sl['p_benefit'])} and "
            f"P({m} < 0.8) {fmt_p(sl['p_below_0.8'])}"
        )
        if sl_re is not None:
            text += (
                f"; with the between-study variance its fixed-effect CI leaves out added back, "
                f"{fmt_p(sl_re['p_benefit'])} and {fmt_p(sl_re['p_below_0.8'])}"
            )
        text += ". "
    which = "this candidate set" if s is not None and "candidate" in s.set_source else "its set"
    if bn is not None:
        text += (
            f"The {int(bn['k'])} studies of {which} "
            f"with known death counts give OR {_ci(bn['median'], bn['low'], bn['high'])} (binomial-normal, 95% CrI), "
            f"P(OR < 1) {fmt_p(bn['p_benefit'])}"
        )
        n_missing = _n_missing(bn)
        if n_missing:
            text += f"; {n_missing} {'study' if n_missing == 1 else 'studies'} without counts "
            text += "is" if n_missing == 1 else "are"
            text += " not filled in"
        text += ". "
    if s is not None and s.notes:
        nrs_note = [n for n in s.notes if n.startswith("contains")]
        if nrs_note:
            text += f"The set {nrs_note[0]}. "
    if key in result.tipping:
        text += "Studies with unknown counts: " + result.tipping[key] + "."
    return text


def build_report(result: RunResult, reproduction: pd.DataFrame, out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.md`` and a self-contained ``report.html`` into ``out_dir``: the answer first."""
    results = result.results
    report = Report("Bayesian reanalysis of MSC therapy for COVID-19 mortality")
    _warnings(report, result)
    sizes, missing_sizes = _arm_sizes(result)
    studies = result.dataset.studies
    unblinded = {s for s in studies.index if s in sizes and not is_blinded_or_placebo(studies.loc[s])}
    nrs = {s for s in studies.index if studies.loc[s, "design"] == "NRS"}
    sof, notes = summary_of_findings(results, result.absolute, {**missing_sizes, **sizes}, unblinded, missing_sizes,
                                     nrs)  # fmt: skip
    if not sof.empty:
        level = sof["Certainty (GRADE, by rule)"].iloc[0].split(" (")[0]
        report.add_heading("Bottom line", 2)
        report.add_paragraph(bottom_line(results, result.absolute, level), anchor="bottom-line")
        report.add_table(sof, caption="Summary of findings, all-cause mortality (binomial-normal, exact, primary "
                         "priors; 95% CrI; absolute effects at the trials' control risk)", index=False,
                         anchor="summary-of-findings")  # fmt: skip
        report.add_paragraph(
            "Certainty footnotes (GRADE domains judged by the rules in Methods): "
            + "; ".join(f"({i}) {n}" for i, n in enumerate(notes, 1)) + "."
        )
    _documents(report, result, reproduction)
    _evidence_base(report, result)
    _sensitivity(report, result)
    _methods(report)
    _appendix(report, result, reproduction)
    md = report.write_markdown(out_dir / "report.md")
    html = report.write_html(out_dir / "report.html")
    return md, html


def _warnings(report: Report, result: RunResult) -> None:
    gates = result.settings.sampler["gates"]
    stated = (f"R-hat <= {gates['rhat_max']}, bulk and tail ESS >= {gates['ess_min']}, "
              f"{gates['divergences_max']} divergences")  # fmt: skip
    failed = result.failed_fits
    if failed:
        report.add_callout(
            f"{len(failed)} MCMC fit(s) FAILED their convergence gates ({stated}) and must not be used; their numbers "
            "are marked FAIL wherever they appear: "
            + "; ".join(f"{label}: {', '.join(fit.diagnostics.failures)}" for label, fit in failed),
            kind="error",
        )
    if result.settings.quick:
        report.add_callout(f"Quick mode: few draws and relaxed gates ({stated}). These numbers are a smoke test, not "
                           "results.")  # fmt: skip


def _arm_sizes(result: RunResult) -> tuple[dict[str, int], dict[str, int]]:
    """Patients per study with known counts, and per study without counts (mortality)."""
    base = result.study_sets.get(f"{EVIDENCE_BASE}/all")
    if base is None:
        return {}, {}
    sizes = {s: int(t + c) for s, t, c in zip(base.table.study, base.table.n_t, base.table.n_c, strict=True)}
    missing = missing_arm_sizes(result.dataset, "mortality", base.missing)
    if missing is None:
        return sizes, {}
    return sizes, {s: int(t + c) for s, t, c in zip(base.missing, *missing, strict=True)}


def _documents(report: Report, result: RunResult, reproduction: pd.DataFrame) -> None:
    report.add_heading("What each published meta-analysis claimed, and what the data say", 2)
    report.add_paragraph(
        "Each paper's pooled number beside our recomputation with the paper's own method, the Bayesian reanalysis of "
        "the published number, and the binomial-normal model on the studies of its set whose death counts are known. "
        "'Taken at face value' treats the published CI as the whole evidence; SCRT 2026 and Tang 2024 pooled with a "
        "fixed-effect model, whose CI ignores between-study variation, so their published numbers are also shown "
        "with that variation added back ('between-study variance added')."
    )
    results = result.results
    rows = []
    seen: dict[str, str] = {}
    for doc, ana, label in HEADLINES:
        rep = reproduction[(reproduction["document"] == doc) & (reproduction["analysis"] == ana)]
        if rep.empty:
            continue
        r, key = rep.iloc[0], f"{doc}/{ana}"
        sl, sl_re = _primary(results, key, "summary_level"), _primary(results, key, "summary_level_re")
        bn = _primary(results, key, "binomial_normal_exact")
        same = None if bn is None else seen.get(str(bn["studies"]))
        if bn is not None and same is None:
            seen[str(bn["studies"])] = label.split(" (")[0]
        rows.append({
            "Document": label,
            "Published (95% CI)": f"{r['measure']} " + _ci(r["published_estimate"], r["published_ci_low"],
                                                          r["published_ci_high"]),
            "Recomputed with the paper's method": _ci(r["recomputed_estimate"], r["recomputed_ci_low"],
                                                      r["recomputed_ci_high"]) + f" ({r['status']})",
            "P(benefit), published number at face value": fmt_p(sl["p_benefit"]) if sl is not None else "–",
            "P(benefit), between-study variance added": fmt_p(sl_re["p_benefit"]) if sl_re is not None else "–",
            "Studies with known counts: OR (95% CrI)": "–" if bn is None else f"same study set as {same}"
            if same else _ci(bn["median"], bn["low"], bn["high"]),
            "P(OR < 1)": "–" if bn is None or same else fmt_p(bn["p_benefit"]),
            "Studies known / without counts": _known_missing(bn),
        })  # fmt: skip
    report.add_table(pd.DataFrame(rows), caption="Published vs recomputed vs Bayesian (primary priors)", index=False)
    for doc, ana, label in HEADLINES:
        if ((reproduction["document"] == doc) & (reproduction["analysis"] == ana)).any():
            report.add_paragraph(_paragraph(result, reproduction, doc, ana, label))
    _followup(report, result.results)


def _hierarchy_table(results: Results) -> pd.DataFrame:
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
             "parametrisation (logit p_c = a)", "", True),
        Tier(f"{EVIDENCE_BASE}/all", "binomial_normal_exact_control_arm", "All, control-arm parametrisation", "",
             False),
    )  # fmt: skip
    rows = []
    for tier in HIERARCHY + extra:
        row = _primary(results, tier.analysis_id, tier.model)
        if row is None:
            continue
        rows.append({
            "Analysis": tier.label,
            "Studies": int(row["k"]),
            "OR (95% CrI)": _ci(row["median"], row["low"], row["high"]),
            "P(OR < 1)": fmt_p(row["p_benefit"]),
            "P(OR < 0.8)": fmt_p(row["p_below_0.8"]),
            "tau, median": f"{row['tau_median']:.2f}",
            "95% prediction interval, OR in a new setting": _ci(math.nan if math.isnan(row["pred_low"]) else 1.0,
                                                                row["pred_low"], row["pred_high"]).split(" ", 1)[-1],
            "P(true OR in a new setting < 1)": fmt_p(row["p_new_benefit"]),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _evidence_base(report: Report, result: RunResult) -> None:
    results = result.results
    if not results.has_document(EVIDENCE_BASE):
        return
    report.add_heading("The evidence base: randomised trials first", 2)
    report.add_paragraph(
        "The pre-specified hierarchy: randomised trials are the primary analysis; non-randomised studies (NRS) enter "
        "only through an additive bias model; pooling them as if they were trials is a sensitivity analysis. All "
        "rows: binomial-normal model computed exactly unless stated, primary priors."
    )
    report.add_table(_hierarchy_table(results), caption="The hierarchy of analyses and its sensitivity analyses",
                     index=False)  # fmt: skip
    if result.absolute:
        report.add_heading("Absolute effects at stated control risks", 3)
        report.add_paragraph(
            "Deaths per 1,000 patients at three control risks, each with its source: the randomised trials' crude "
            "control risk, and RECOVERY's usual-care 28-day mortality for patients on oxygen (262 per 1,000) and on "
            "invasive ventilation (414 per 1,000; N Engl J Med 2021;384:693). 'RR < 0.8 at this risk' is a relative "
            "reduction of at least 20% at that risk; an OR of 0.8 is a smaller relative reduction whenever deaths "
            "are common. NNT is reported only as P(NNT <= 50) = P(at least 20 fewer deaths per 1,000)."
        )
        report.add_table(absolute_table(result.absolute), caption="Absolute effects (95% CrI)", index=False)
    if result.averaging:
        rows = []
        for key, avg in result.averaging.items():
            rows.append({
                "Analysis": key.split("/", 1)[1].replace("_", " "),
                "BF10, effect": avg.bf10_effect,
                "BF10, heterogeneity": avg.bf10_heterogeneity,
                "P(no effect), averaged": fmt_p(avg.p_null),
                "P(OR < 1), averaged": fmt_p(avg.prob_below_1),
                "P(OR < 0.8), averaged": fmt_p(avg.prob_below_0_8),
                "Averaged OR (95% CrI)": _ci(avg.median, avg.low, avg.high),
            })  # fmt: skip
        report.add_heading("Bayes factors and model averaging", 3)
        report.add_paragraph(
            "Bayes factors from the exact marginal likelihoods: BF10 for an effect (mu free vs mu = 0) and for "
            "heterogeneity (tau free vs tau = 0). The model-averaged probabilities average fixed/random x null/effect "
            "models with prior probability 1/4 each (as metaBMA and RoBMA do); the null models put their mass on "
            "OR = 1, so they count as 'no benefit'."
        )
        report.add_table(pd.DataFrame(rows), caption="Bayes factors and model-averaged effect", index=False,
                         float_format=_fmt3)  # fmt: skip
    _published_totals(report, result)
    _small_study(report, result)
    _regressions(report, result)
    for f in result.figures.get("evidence", []):
        report.add_figure(f.path, f.caption)
    _leave_one_out(report, results)


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
        for row in (h.row for h in hits if h is not None):
            rows.append({
                "Spread of the implied deaths": row["title"].split(": ", 1)[-1],
                "OR (95% CrI)": _ci(row["median"], row["low"], row["high"]),
                "P(OR < 1)": fmt_p(row["p_benefit"]),
                "P(OR < 0.8)": fmt_p(row["p_below_0.8"]),
                "tau, median": f"{row['tau_median']:.2f}",
            })  # fmt: skip
    report.add_table(pd.DataFrame(rows), caption="All 24 studies under the published-totals scenario", index=False)
    for f in result.figures.get("scrt2026/mortality", []):
        if f.kind == MISSING_MAP:
            report.add_figure(f.path, f.caption)


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
    for analysis, (tests, adjusted) in result.small_study.items():
        label = "randomised trials" if analysis == PRIMARY_ANALYSIS else "all studies with known counts"
        shown = tests.assign(**{
            "Test": tests["test"],
            "Statistic": [f"{x:.2f}" if not pd.isna(x) else "–" for x in tests.get("statistic", [])],
            "p": [fmt_p(x) for x in tests.get("p", [])],
            "Studies": tests.get("k", "–"),
            "Underpowered (k < 10)": tests.get("underpowered", "–"),
        })[["Test", "Statistic", "p", "Studies", "Underpowered (k < 10)"]]  # fmt: skip
        report.add_table(shown, caption=f"Small-study tests, {label}", index=False)
        rows = []
        for name, r in adjusted.iterrows():
            rows.append({
                "Model": str(name),
                "OR (95% CrI)": _ci(r["median"], r["low"], r["high"]),
                "P(OR < 1)": fmt_p(r["p_below_1"]),
                "P(OR < 0.8)": fmt_p(r["p_below_0.8"]),
                "Slope per unit SE (95% CrI)": "–" if pd.isna(r["slope_median"])
                else _ci(r["slope_median"], r["slope_low"], r["slope_high"]),
                "P(slope < 0)": fmt_p(r["p_slope_below_0"]),
            })  # fmt: skip
        report.add_table(pd.DataFrame(rows), caption=f"With and without the small-study adjustment, {label} (MCMC, "
                         "primary priors)", index=False)  # fmt: skip
    for f in result.figures.get("small_study", []):
        report.add_figure(f.path, f.caption)


def _regressions(report: Report, result: RunResult) -> None:
    if not result.regressions:
        return
    report.add_heading("Severity, dose and design (meta-regression)", 3)
    report.add_paragraph(
        "Binomial-normal meta-regressions on all studies with known counts (MCMC, primary priors). A ratio of odds "
        "ratios below 1 means a larger benefit in studies with that feature. Caution: these compare studies, not "
        "patients (ecological bias), with few studies per group, and severity, dose and design travel together; "
        "they generate hypotheses, not subgroup effects. Published subgroup ORs are named by their source."
    )
    for key, frame in result.regressions.items():
        table = frame.assign(**{
            "Subgroup": frame["group"], "Studies": frame["k"],
            "OR (95% CrI)": [_ci(m, lo, hi) for m, lo, hi in zip(frame["median"], frame["low"], frame["high"],
                                                                  strict=True)],
            "P(OR < 1)": [fmt_p(p) for p in frame["p_benefit"]],
            "Published OR (source)": [
                _ci(e, lo, hi) + f" ({src})" if isinstance(src, str) and src else "–"
                for e, lo, hi, src in zip(frame["published"], frame["published_low"], frame["published_high"],
                                          frame["published_source"], strict=True)],
        })[["Subgroup", "Studies", "OR (95% CrI)", "P(OR < 1)", "Published OR (source)"]]  # fmt: skip
        report.add_table(table, caption=f"Meta-regression: {key}", index=False)
        slopes = result.regression_slopes.get(key)
        if slopes is not None:
            report.add_table(slopes.assign(**{
                "Covariate": slopes["covariate"].str.replace("_", " "),
                "Ratio of ORs (95% CrI)": [_ci(m, lo, hi) for m, lo, hi in zip(slopes["ratio_of_ors"], slopes["low"],
                                                                                slopes["high"], strict=True)],
                "P(ratio < 1)": [fmt_p(p) for p in slopes["p_below_1"]],
                "Studies with the feature": slopes["k_with"],
            })[["Covariate", "Ratio of ORs (95% CrI)", "P(ratio < 1)", "Studies with the feature"]],
                caption=f"Meta-regression {key}: ratios of odds ratios", index=False)  # fmt: skip
    for f in result.figures.get("regression", []):
        report.add_figure(f.path, f.caption)


def _leave_one_out(report: Report, results: Results) -> None:
    loo = results.select(kind=Kind.LEAVE_ONE_OUT)
    if not loo:
        return
    report.add_heading("Leave one study out", 3)
    rows = []
    for result in loo:
        row = result.row
        rows.append({
            "Study set": result.context.parent.replace("_", " "),
            "Study left out": result.context.variant,
            "OR (95% CrI)": _ci(row["median"], row["low"], row["high"]),
            "P(OR < 1)": fmt_p(row["p_benefit"]),
            "P(OR < 0.8)": fmt_p(row["p_below_0.8"]),
        })  # fmt: skip
    report.add_table(pd.DataFrame(rows), caption="Exact binomial-normal, primary priors", index=False)


def _sensitivity(report: Report, result: RunResult) -> None:
    results = result.results
    report.add_heading("Sensitivity to the priors", 2)
    report.add_paragraph(
        "Every analysis is recomputed exactly under 8 heterogeneity priors x 4 effect priors. Below, the primary "
        "analysis under each heterogeneity prior (effect prior Normal(0, 1)): how far tau's posterior moved from its "
        "prior, and what that does to the prediction for a new setting."
    )
    for key, model in ((f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", "binomial_normal_exact"),
                       (f"{EVIDENCE_BASE}/nrs_bias", "binomial_normal_exact")):  # fmt: skip
        grid = results.select(kind=Kind.POOLED, analysis_id=key, model=model)
        sub = [r.row for r in grid if r.key.effect_prior == PRIMARY_EFFECT_PRIOR]
        if not sub:
            continue
        rows = []
        for row in sub:
            tp = tau_prior(row["tau_prior"])
            rows.append({
                "Heterogeneity prior": tp.label,
                "tau: prior median -> posterior median": f"{tp.median():.2f} -> {row['tau_median']:.2f}",
                "OR (95% CrI)": _ci(row["median"], row["low"], row["high"]),
                "P(OR < 1)": fmt_p(row["p_benefit"]),
                "P(OR < 0.8)": fmt_p(row["p_below_0.8"]),
                "95% prediction interval": f"[{row['pred_low']:.2f}, {row['pred_high']:.2f}]",
            })  # fmt: skip
        report.add_table(pd.DataFrame(rows), caption=f"{key.split('/', 1)[1]}: by heterogeneity prior", index=False)
        grid = pd.DataFrame([r.row for r in grid])
        report.add_paragraph(
            f"Over all {len(grid)} prior combinations P(OR < 1) ranges from {fmt_p(grid['p_benefit'].min())} to "
            f"{fmt_p(grid['p_benefit'].max())} and P(OR < 0.8) from {fmt_p(grid['p_below_0.8'].min())} to "
            f"{fmt_p(grid['p_below_0.8'].max())}."
        )
    for f in result.figures.get("priors", []):
        report.add_figure(f.path, f.caption)


def _methods(report: Report) -> None:
    report.add_heading("Methods", 2)
    report.add_paragraph(
        "Binomial-normal model (primary): e_c ~ Bin(n_c, expit(a_i - t_i/2)), e_t ~ Bin(n_t, expit(a_i + t_i/2)), "
        "a_i ~ Normal(0, 2.5^2), t_i ~ Normal(mu + b_i, tau^2 + s_i^2), where (b_i, s_i) is the bias model for a "
        "non-randomised study and (0, 0) for a trial. Its posterior is computed exactly by quadrature (the per-study "
        "integral over a_i on a grid of t, then Gaussian smoothing over t and a grid over (mu, log tau)); MCMC fits of "
        "the same model are kept as ArviZ files and agree with it within Monte Carlo error (Appendix). Zero-event "
        "studies keep their exact likelihood. Normal-normal models use 0.5-corrected study effects."
    )
    report.add_paragraph(
        "Priors: tau ~ " + str(tau_prior(PRIMARY_TAU_PRIOR)) + "; chosen over Turner 2015's pharmacological "
        "mortality prior (median 0.14) because the studies mix cell products, doses, severities and designs, so more "
        "heterogeneity is expected than among trials of one drug. Effect: "
        + str(effect_prior(PRIMARY_EFFECT_PRIOR)) + ". Bias model for NRS: " + str(BIAS_PRESETS[PRIMARY_BIAS_PRIOR])
        + "; sensitivity: " + str(BIAS_PRESETS["nrs_bias_optimistic"]) + "."
    )
    report.add_paragraph(
        "Certainty (GRADE), by rule: start high (randomised evidence); risk of bias -1 when open-label trials hold "
        ">= 25% of participants or NRS are included; inconsistency -1 when the posterior median tau > 0.5; "
        "imprecision -1 when the 95% CrI includes OR = 1, -2 when it also reaches both OR < 0.8 and OR > 1.25; "
        "reporting bias -1 when studies whose deaths were never published hold >= 10% of the intended participants; "
        "indirectness not downgraded by rule. P(true OR in a new setting < 1) is about the effect in a new "
        "population (mu + tau z), not about what a new trial would observe. Probabilities above 0.999 are printed as "
        "'> 0.999'."
    )


def _appendix(report: Report, result: RunResult, reproduction: pd.DataFrame) -> None:
    report.add_heading("Appendix", 2)
    report.add_heading("Details by study set", 3)
    for key, s in result.study_sets.items():
        if key not in result.figures:
            continue
        report.add_heading(s.title, 4)
        report.add_paragraph(
            f"Studies with known counts ({s.table.k}): {', '.join(s.table.study)}. Source: {s.set_source}."
            + (f" Unknown counts (not filled in): {', '.join(s.missing)}." if s.missing else "")
            + ("" if not s.notes else " Notes: " + "; ".join(s.notes) + ".")
        )
        rows = result.results.select(kind=Kind.POOLED, analysis_id=key, primary_priors=True)
        report.add_table(_compact(rows), caption="Primary priors, by model", index=False)
        for f in result.figures[key]:
            if f.kind != MISSING_MAP or key != "scrt2026/mortality":
                report.add_figure(f.path, f.caption)
    report.add_heading("Reproduction of every published number", 3)
    counts = reproduction["status"].value_counts()
    report.add_paragraph(", ".join(f"{s}: {int(n)}" for s, n in counts.items()) + ". Reasons in full in "
                         "reproduction.md.")  # fmt: skip
    table = reproduction.assign(**{
        "Document": reproduction["document"], "Analysis": reproduction["analysis"].str.replace("_", " "),
        "Published": [f"{m} {e:.2f}" if not pd.isna(e) else "–" for m, e in
                      zip(reproduction["measure"], reproduction["published_estimate"], strict=True)],
        "Recomputed": [f"{e:.2f}" if not pd.isna(e) else "–" for e in reproduction["recomputed_estimate"]],
        "Status": reproduction["status"],
        "Reason (first clause)": reproduction["reason"].astype(str).str.split(";").str[0].str.slice(0, 90),
    })[["Document", "Analysis", "Published", "Recomputed", "Status", "Reason (first clause)"]]  # fmt: skip
    report.add_table(table, caption="Reproduction table", index=False)
    report.add_heading("Diagnostics of every MCMC fit", 3)
    if result.retried:
        lines = "; ".join(
            f"{label} ({', '.join(first)}; retry {'passed' if ok else 'FAILED'})" for label, first, ok in result.retried
        )
        report.add_paragraph(
            f"{len(result.retried)} fit(s) failed their gates at the first attempt and were run again with a new "
            "seed, twice the draws and target_accept 0.99; only the retry is used: " + lines + "."
        )
    report.add_table(_diagnostics(result), caption="Rank-normalised R-hat, bulk and tail ESS, divergences; the last "
                     "column compares each plain binomial-normal fit with its exact twin", index=False,
                     float_format=_fmt3)  # fmt: skip
    report.add_heading("Run", 3)
    report.add_paragraph(
        f"Seed {result.settings.seed}; data sha256 {result.dataset.data_hash[:16]}...; "
        f"{len(result.fits)} MCMC fits; wall time {result.wall_seconds:.0f} s. Package versions and settings are "
        "in run_info.json and in the attributes of every NetCDF file."
    )


def _followup(report: Report, results: Results) -> None:
    found = results.select(kind=Kind.SINGLE_TRIAL, document=FOLLOWUP)
    if not found:
        return
    rows = pd.DataFrame([r.row for r in found])
    report.add_heading("Shi 2021 trial, 3-year follow-up (single-trial reanalysis)", 3)
    report.add_paragraph(
        "2x2 outcomes: independent Beta(1, 1) priors on each arm's risk (exact conjugate posterior). SF-36 general "
        "health: the standard error recovered from the reported difference and two-sided p-value (a normal "
        "approximation; the paper compared medians), prior Normal(0, 20^2) points. P(benefit) = P(OR > 1) for a "
        "normal chest CT and for SF-36, P(OR < 1) for reinfection and hospitalisation."
    )
    table = rows[["analysis", "model", "measure", "median", "low", "high", "p_benefit", "published_estimate"]]
    report.add_table(table, caption="Posterior median and 95% CrI", index=False, float_format=_fmt3)


def _compact(results: list[AnalysisResult]) -> pd.DataFrame:
    """The primary-prior results of one set with readable headers (95% CrI; ratio scale)."""
    return pd.DataFrame([readable_row(r.row) for r in results])


def _diagnostics(result: RunResult) -> pd.DataFrame:
    rows = []
    for label, fit, file in result.fits:
        t = fit.diagnostics.table
        twin = result.twins.get(label)
        rows.append(
            {
                "Fit": label,
                "File": file,
                "Max R-hat": t["rhat"].max(),
                "Min bulk ESS": t["ess_bulk"].min(),
                "Min tail ESS": t["ess_tail"].min(),
                "Divergences": fit.diagnostics.divergences,
                "Gate": "pass" if fit.diagnostics.passed else "FAIL",
                "Mean log-OR, MCMC - exact (in MCSE)": "–" if twin is None else f"{twin:+.1f}",
            }
        )
    return pd.DataFrame(rows)
