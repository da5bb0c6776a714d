"""The reanalysis report: a headline table, a plain-language paragraph per document, details and diagnostics.

Headline per document: the published pooled result, our frequentist recomputation (reproduction table), the
summary-level Bayesian reanalysis of the published number, and the study-level binomial-normal posterior on the
studies with known counts, each with its probability of mortality benefit under the primary priors
(tau: Turner 2015 all-cause mortality, pharmacological vs control; effect: Normal(0, 1) on the log scale).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from models.analyses.runner import RunResult
from models.analyses.specs import EVIDENCE_BASE
from models.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR, effect_prior, tau_prior
from models.report.document import Report

HEADLINES = (
    ("scrt2026", "mortality", "Stem Cell Res Ther 2026 meta-analysis (24 studies)"),
    ("yao2022", "mortality", "Yao et al., EClinicalMedicine 2022 (13 studies)"),
    ("tang2024", "mortality", "Tang et al., J Transl Med 2024 (14 RCTs)"),
    ("crosscheck_scrt2023", "mortality", "Cross-check: Stem Cell Res Ther 2023 (7 UC-MSC RCTs)"),
    ("crosscheck_kirkham2022", "mortality", "Cross-check: living review 2022 (11 studies)"),
)


def _fmt3(x: float) -> str:
    """Three significant digits for effects and probabilities, whole numbers for large counts such as ESS."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _ci(est: float, low: float, high: float) -> str:
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "–"
    if low is None or (isinstance(low, float) and math.isnan(low)):
        return f"{est:.2f}"
    return f"{est:.2f} [{low:.2f}, {high:.2f}]"


def _primary(summary: pd.DataFrame, analysis_id: str, model: str) -> pd.Series | None:
    hit = summary[
        (summary["analysis_id"] == analysis_id)
        & (summary["model"] == model)
        & (summary["tau_prior"] == PRIMARY_TAU_PRIOR)
        & (summary["effect_prior"] == PRIMARY_EFFECT_PRIOR)
    ]
    return None if hit.empty else hit.iloc[0]


def _n_missing(row: pd.Series) -> int:
    missing = row["missing"]
    return len(missing.split(";")) if isinstance(missing, str) and missing else 0


def _known_missing(row: pd.Series | None) -> str:
    return "–" if row is None else f"{int(row['k'])} / {_n_missing(row)}"


def headline_table(result: RunResult, reproduction: pd.DataFrame) -> pd.DataFrame:
    """One row per document headline: published vs recomputed vs Bayesian, with P(benefit).

    The binomial-normal model (primary) is on the OR scale; the normal-normal model beside it uses the paper's own
    measure (log RR for the RR analyses), so that a published RR is compared with a posterior RR.
    """
    summary = result.summary
    rows = []
    for doc, ana, label in HEADLINES:
        key = f"{doc}/{ana}"
        rep = reproduction[(reproduction["document"] == doc) & (reproduction["analysis"] == ana)]
        if rep.empty:
            continue
        r = rep.iloc[0]
        sl = _primary(summary, key, "summary_level")
        bn = _primary(summary, key, "binomial_normal")
        nn = _primary(summary, key, "normal_normal_exact")
        m = r["measure"]
        rows.append(
            {
                "document": label,
                "published": f"{m} " + _ci(r["published_estimate"], r["published_ci_low"], r["published_ci_high"]),
                "recomputed (frequentist)": _ci(
                    r["recomputed_estimate"], r["recomputed_ci_low"], r["recomputed_ci_high"]
                )
                + f" ({r['status']})",  # fmt: skip
                "P(benefit) from the published number": _p(sl, "p_benefit"),
                "binomial-normal OR": _ci(bn["median"], bn["low"], bn["high"]) if bn is not None else "–",
                "P(OR < 1)": _p(bn, "p_benefit"),
                "P(OR < 0.8)": _p(bn, "p_below_0.8"),
                "normal-normal, paper's measure": f"{m} " + _ci(nn["median"], nn["low"], nn["high"])
                if nn is not None
                else "–",
                "P(ratio < 1)": _p(nn, "p_benefit"),
                "studies known / unknown": _known_missing(bn),
            }
        )
    return pd.DataFrame(rows)


def _p(row: pd.Series | None, column: str) -> str:
    return "–" if row is None else f"{row[column]:.3f}"


def _paragraph(result: RunResult, reproduction: pd.DataFrame, doc: str, ana: str, label: str) -> str:
    summary = result.summary
    key = f"{doc}/{ana}"
    rep = reproduction[(reproduction["document"] == doc) & (reproduction["analysis"] == ana)].iloc[0]
    sl = _primary(summary, key, "summary_level")
    bn = _primary(summary, key, "binomial_normal")
    nn = _primary(summary, key, "normal_normal_exact")
    m = rep["measure"]
    text = (
        f"**{label}.** Published pooled {m} "
        f"{_ci(rep['published_estimate'], rep['published_ci_low'], rep['published_ci_high'])}. "
        f"Reproduction: {rep['status']} ({rep['reason'].split(';')[0]}). "
    )
    if sl is not None:
        text += (
            f"Taking the published number at face value, the probability that MSCs reduce mortality is "
            f"{sl['p_benefit']:.2f} and of a reduction by at least 20% ({m} < 0.8) {sl['p_below_0.8']:.2f}. "
        )
    if bn is not None:
        text += (
            f"From the {int(bn['k'])} studies with known death counts, the binomial-normal model gives OR "
            f"{_ci(bn['median'], bn['low'], bn['high'])} (95% CrI), P(OR < 1) {bn['p_benefit']:.3f} and "
            f"P(OR < 0.8) {bn['p_below_0.8']:.3f}"
        )
        if nn is not None and m == "RR":
            text += f" (normal-normal on log RR: RR {_ci(nn['median'], nn['low'], nn['high'])})"
        n_missing = _n_missing(bn)
        if n_missing:
            text += f"; {n_missing} {'study' if n_missing == 1 else 'studies'} of the set "
            text += "lacks a death count and is" if n_missing == 1 else "lack death counts and are"
            text += " not filled in"
        text += ". "
        grid = summary[(summary["analysis_id"] == key) & (summary["model"] == "binomial_normal")]
        if grid["tau_prior"].nunique() > 1:
            text += (
                f"Across {len(grid)} prior combinations P(benefit) ranges from {grid['p_benefit'].min():.2f} to "
                f"{grid['p_benefit'].max():.2f}. "
            )
    if key in result.tipping:
        text += "Studies with unknown counts: " + result.tipping[key] + "."
    return text


def build_report(result: RunResult, reproduction: pd.DataFrame, out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.md`` and a self-contained ``report.html`` into ``out_dir``."""
    summary = result.summary
    report = Report("Bayesian reanalysis of MSC therapy for COVID-19 mortality")
    failed = result.failed_fits
    if failed:
        report.add_callout(
            f"{len(failed)} MCMC fit(s) FAILED their convergence gates (R-hat <= 1.01, bulk and tail ESS >= 1000, "
            "0 divergences) and must not be used: "
            + "; ".join(f"{label}: {', '.join(fit.diagnostics.failures)}" for label, fit in failed),  # fmt: skip
            kind="error",
        )
    if result.settings.quick:
        report.add_callout("Quick mode: few draws and relaxed gates. These numbers are a smoke test, not results.")
    report.add_heading("Headline: published vs recomputed vs Bayesian", 2)
    report.add_paragraph(
        "Primary priors: tau ~ " + str(tau_prior(PRIMARY_TAU_PRIOR)) + "; effect ~ " + str(effect_prior(
            PRIMARY_EFFECT_PRIOR)) + ". P(benefit) is the posterior probability that the pooled ratio is below 1 "
        "(fewer deaths with MSCs). Intervals are 95% (equal-tailed credible intervals for Bayesian results). The "
        "binomial-normal model (primary: exact binomial likelihood, zero-event studies kept) works on the OR scale; "
        "the normal-normal model beside it uses the paper's measure, so a published RR meets a posterior RR. Where "
        "most patients die, OR and RR differ a lot, so compare like with like. Turner's tau priors were derived for "
        "log-OR and are applied to log-RR as an approximation."
    )  # fmt: skip
    report.add_table(
        headline_table(result, reproduction),
        caption="Headline results (primary priors)",
        index=False,
        float_format=_fmt3,
    )
    bottom = _bottom_line(result, reproduction)
    if bottom:
        report.add_heading("Bottom line", 2)
        report.add_paragraph(bottom)
    report.add_heading("What each document's claim amounts to", 2)
    for doc, ana, label in HEADLINES:
        if ((reproduction["document"] == doc) & (reproduction["analysis"] == ana)).any():
            report.add_paragraph(_paragraph(result, reproduction, doc, ana, label))
    _followup(report, summary)
    report.add_heading("Details by study set", 2)
    for key, s in result.study_sets.items():
        if key not in result.figures:
            continue
        report.add_heading(s.title, 3)
        report.add_paragraph(
            f"Studies with known counts ({s.table.k}): {', '.join(s.table.study)}. Source: {s.set_source}."
            + (f" Unknown counts (not filled in): {', '.join(s.missing)}." if s.missing else "")
        )
        primary = (summary["tau_prior"] == PRIMARY_TAU_PRIOR) & (summary["effect_prior"] == PRIMARY_EFFECT_PRIOR)
        rows = summary[(summary["analysis_id"] == key) & primary]
        report.add_table(_compact(rows), caption="Primary priors, by model", index=False, float_format=_fmt3)
        for path, caption in result.figures[key]:
            report.add_figure(path, caption)
    if "regression" in result.figures:
        report.add_heading("Severity, dose and design (meta-regression on all studies with known counts)", 2)
        for path, caption in result.figures["regression"]:
            report.add_figure(path, caption)
    sens = summary[summary["document"] == EVIDENCE_BASE]
    if not sens.empty:
        report.add_heading("Evidence base and sensitivity analyses", 2)
        primary = sens[(sens["tau_prior"] == PRIMARY_TAU_PRIOR) & (sens["effect_prior"] == PRIMARY_EFFECT_PRIOR)]
        caption = (
            "All studies with known counts: design, zero-event, conflict, down-weighting, meta-regression subgroup "
            "and cumulative analyses (primary priors)"
        )
        report.add_table(_compact(primary, with_title=True), caption=caption, index=False, float_format=_fmt3)
        for path, caption in result.figures.get("evidence", []):
            report.add_figure(path, caption)
    loo = summary[summary["analysis_id"].str.contains("/without_")]
    if not loo.empty:
        report.add_heading("Leave one study out", 2)
        report.add_table(
            _compact(loo, with_title=False, with_id=True),
            caption="Binomial-normal, primary priors",
            index=False,
            float_format=_fmt3,
        )
    report.add_heading("Reproduction of every published number", 2)
    counts = reproduction["status"].value_counts()
    report.add_paragraph(", ".join(f"{s}: {int(n)}" for s, n in counts.items()) + ". See reproduction.md.")
    cols = ["document", "analysis", "measure", "published_estimate", "recomputed_estimate", "status", "reason"]
    report.add_table(
        reproduction[cols],
        caption="Reproduction table (reasons in full in reproduction.md)",
        index=False,
        float_format=_fmt3,
    )
    report.add_heading("Diagnostics of every MCMC fit", 2)
    if result.retried:
        lines = "; ".join(
            f"{label} ({', '.join(first)}; retry {'passed' if ok else 'FAILED'})" for label, first, ok in result.retried
        )
        report.add_paragraph(
            f"{len(result.retried)} fit(s) failed their gates at the first attempt and were run again with a new "
            "seed, twice the draws and target_accept 0.99; only the retry is used: " + lines + "."
        )
    report.add_table(
        _diagnostics(result),
        caption="Rank-normalised R-hat, bulk and tail ESS, divergences",
        index=False,
        float_format=_fmt3,
    )
    report.add_heading("Run", 2)
    report.add_paragraph(
        f"Seed {result.settings.seed}; data sha256 {result.dataset.data_hash[:16]}...; "
        f"{len(result.fits)} MCMC fits; wall time {result.wall_seconds:.0f} s. Package versions and settings are "
        "in run_info.json and in the attributes of every NetCDF file."
    )
    md = report.write_markdown(out_dir / "report.md")
    html = report.write_html(out_dir / "report.html")
    return md, html


def _bottom_line(result: RunResult, reproduction: pd.DataFrame) -> str:
    """A plain-language synthesis of the evidence-base analyses (empty when they were not run)."""
    summary = result.summary
    base = _primary(summary, f"{EVIDENCE_BASE}/all", "binomial_normal")
    rct = _primary(summary, f"{EVIDENCE_BASE}/rct", "binomial_normal")
    if base is None or rct is None:
        return ""
    grid = summary[(summary["analysis_id"] == f"{EVIDENCE_BASE}/all") & (summary["model"] == "binomial_normal")]
    text = (
        f"Pooling every study with known death counts ({int(base['k'])} of 24; "
        f"{_n_missing(base)} lack counts), the binomial-normal model gives OR "
        f"{_ci(base['median'], base['low'], base['high'])}: P(any mortality benefit) {base['p_benefit']:.3f}, "
        f"P(OR < 0.8) {base['p_below_0.8']:.2f}, and P(a new study shows benefit) {base['p_new_benefit']:.2f}. "
    )
    if grid["tau_prior"].nunique() > 1:
        text += (
            f"Over {len(grid)} prior combinations P(benefit) stays between {grid['p_benefit'].min():.2f} and "
            f"{grid['p_benefit'].max():.2f} (P(OR < 0.8) between {grid['p_below_0.8'].min():.2f} and "
            f"{grid['p_below_0.8'].max():.2f}). "
        )
    text += (
        f"The benefit rests partly on non-randomised and small studies: randomised trials alone give OR "
        f"{_ci(rct['median'], rct['low'], rct['high'])} with P(benefit) {rct['p_benefit']:.2f} and P(OR < 0.8) "
        f"{rct['p_below_0.8']:.2f}. "
    )
    loo = summary[summary["analysis_id"].str.startswith(f"{EVIDENCE_BASE}/all/without_")]
    if not loo.empty:
        far = loo.loc[(loo["median"] - base["median"]).abs().idxmax()]
        omitted = far["analysis_id"].rsplit("without_", 1)[1]
        text += f"The most influential study is {omitted} (without it OR {far['median']:.2f}). "
    if result.cumulative is not None and len(result.cumulative) > 1:
        first, last = result.cumulative.iloc[1], result.cumulative.iloc[-1]
        text += (
            f"As larger trials arrived the pooled OR moved towards 1 (from {first['median']:.2f} with "
            f"{int(first['k'])} studies by {int(first['year'])} to {last['median']:.2f} with {int(last['k'])} by "
            f"{int(last['year'])}). "
        )
    heads = reproduction[reproduction["analysis"].eq("mortality") & reproduction["document"].isin(
        ["scrt2026", "yao2022", "tang2024"])]  # fmt: skip
    verdicts = "; ".join(f"{r['document']} {r['status']}" for _, r in heads.iterrows())
    text += f"Recomputing the three meta-analyses' headline mortality numbers from the study-level data: {verdicts}."
    return text


def _followup(report: Report, summary: pd.DataFrame) -> None:
    rows = summary[summary["document"] == "shi_followup_3y"]
    if rows.empty:
        return
    report.add_heading("Shi 2021 trial, 3-year follow-up (single-trial reanalysis)", 3)
    report.add_paragraph(
        "2x2 outcomes: independent Beta(1, 1) priors on each arm's risk (exact conjugate posterior). SF-36 general "
        "health: the standard error recovered from the reported difference and two-sided p-value (a normal "
        "approximation; the paper compared medians), prior Normal(0, 20^2) points. P(benefit) = P(OR > 1) for a "
        "normal chest CT and for SF-36, P(OR < 1) for reinfection and hospitalisation."
    )
    table = rows[["analysis", "model", "measure", "median", "low", "high", "p_benefit", "published_estimate"]]
    report.add_table(table, caption="Posterior median and 95% CrI", index=False, float_format=_fmt3)


def _compact(rows: pd.DataFrame, with_title: bool = False, with_id: bool = False) -> pd.DataFrame:
    cols = (["analysis_id"] if with_id else []) + (["title"] if with_title else []) + [
        "model", "k", "median", "low", "high", "p_benefit", "p_below_0.8", "p_arr_above_2pct", "baseline_risk",
        "tau_median", "pred_low", "pred_high", "p_new_benefit", "gate"]  # fmt: skip
    return rows[cols]


def _diagnostics(result: RunResult) -> pd.DataFrame:
    rows = []
    for label, fit, file in result.fits:
        t = fit.diagnostics.table
        rows.append(
            {
                "fit": label,
                "file": file,
                "max R-hat": t["rhat"].max(),
                "min bulk ESS": t["ess_bulk"].min(),
                "min tail ESS": t["ess_tail"].min(),
                "divergences": fit.diagnostics.divergences,
                "gate": "pass" if fit.diagnostics.passed else "FAIL",
            }
        )
    return pd.DataFrame(rows)
