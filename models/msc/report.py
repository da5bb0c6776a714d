"""The reanalysis report, answer first: bottom line, summary of findings, then the documents, the evidence base
(:mod:`models.msc.report_evidence`), sensitivity analyses, methods and an appendix (per-set detail, reproduction,
diagnostics).

Every number quoted is a typed field of a result looked up by key (analysis, model, priors) or kind in the run's
store (:class:`models.msc.results.Results`), or of a reproduction record
(:class:`models.msc.reproduction.Reproduction`); the statistics behind the bottom line and the summary of findings
live in :mod:`models.msc.findings`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from models.msc.bottom_line import bottom_line, gather
from models.msc.findings import (
    HIERARCHY,
    Row,
    StudyFacts,
    body_of,
    fmt_ci,
    fmt_or,
    fmt_p,
    readable_row,
    summary_of_findings,
    summary_rows,
)
from models.msc.followup import DOCUMENT as FOLLOWUP
from models.msc.grade import RULES, Body
from models.msc.kinds import MISSING_MAP
from models.msc.priors import PRIMARY_BIAS_PRIOR, PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
from models.msc.report_evidence import evidence_base, fmt3, p_important, sensitivity
from models.msc.report_studies import studies_section
from models.msc.report_update import later_evidence
from models.msc.reproduction import Reproduction
from models.msc.results import Results
from models.msc.state import RunResult
from models.priors import BIAS_PRESETS, effect_prior, tau_prior
from models.report.document import Report
from models.results import Gate, Kind, Result

HEADLINES = (
    ("scrt2026", "mortality", "Stem Cell Res Ther 2026 meta-analysis (24 studies)"),
    ("yao2022", "mortality", "Yao et al., EClinicalMedicine 2022 (13 studies; our candidate set)"),
    ("tang2024", "mortality", "Tang et al., J Transl Med 2024 (14 RCTs)"),
    ("crosscheck_scrt2023", "mortality", "Cross-check: Stem Cell Res Ther 2023 (7 UC-MSC RCTs)"),
    ("crosscheck_kirkham2022", "mortality", "Cross-check: living review 2022 (11 studies)"),
)


_ci = fmt_ci


def _known_missing(r: Result | None) -> str:
    return "–" if r is None else f"{r.k} / {len(r.context.missing)}"


def _reproduction_of(records: tuple[Reproduction, ...], doc: str, ana: str) -> Reproduction | None:
    return next((r for r in records if (r.document, r.analysis) == (doc, ana)), None)


def _paragraph(result: RunResult, rep: Reproduction, label: str) -> str:
    results = result.results
    key = f"{rep.document}/{rep.analysis}"
    sl = results.get(key, "summary_level")
    sl_re = results.get(key, "summary_level_re")
    bn = results.get(key, "binomial_normal_exact")
    s = result.study_sets.get(key)
    m = rep.measure
    text = (
        f"**{label}.** Published pooled {m} "
        f"{_ci(rep.published_estimate, rep.published_ci_low, rep.published_ci_high)}. "
        f"Recomputed with the paper's method: {rep.status} ({rep.reason.split(';')[0]}). "
    )
    if sl is not None:
        text += (
            f"Taken at face value, the published number gives P({m} < 1) {fmt_p(sl.effect.p_benefit)} and "
            f"P({m} < 0.8) {fmt_p(p_important(sl))}"
        )
        if sl_re is not None:
            text += (
                f"; with the between-study variance its fixed-effect CI leaves out added back, "
                f"{fmt_p(sl_re.effect.p_benefit)} and {fmt_p(p_important(sl_re))}"
            )
        text += ". "
    which = "this candidate set" if s is not None and "candidate" in s.set_source else "its set"
    if bn is not None:
        text += (
            f"The {bn.k} studies of {which} "
            f"with known death counts give OR {fmt_or(bn)} (binomial-normal, 95% CrI), "
            f"P(OR < 1) {fmt_p(bn.effect.p_benefit)}"
        )
        n_missing = len(bn.context.missing)
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


def build_report(result: RunResult, reproduction: tuple[Reproduction, ...], out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.md`` and a self-contained ``report.html`` into ``out_dir``: the answer first."""
    report = Report("Bayesian reanalysis of MSC therapy for COVID-19 mortality")
    _warnings(report, result)
    rows = summary_rows(result.results, result.absolute, bodies(result, StudyFacts.of(result.dataset)))
    _answer(report, result, rows)
    _documents(report, result, reproduction)
    later_evidence(report, result)
    studies_section(report, result.dataset)
    evidence_base(report, result)
    sensitivity(report, result)
    _methods(report)
    _appendix(report, result, reproduction)
    md = report.write_markdown(out_dir / "report.md")
    html = report.write_html(out_dir / "report.html")
    return md, html


def bodies(result: RunResult, facts: StudyFacts) -> dict[str, Body]:
    """The body of evidence of every tier of the hierarchy that has a result: its study set's counts, or the
    published-totals table with its imputed studies."""
    out = {}
    for tier in HIERARCHY:
        r = result.results.get(tier.analysis_id, tier.model)
        if r is None:
            continue
        if tier.study_set:
            out[tier.analysis_id] = body_of(r, result.study_sets[tier.study_set].table, facts)
        elif result.totals is not None:
            out[tier.analysis_id] = body_of(r, result.totals.proportional, facts, result.totals.imputed)
    return out


def _answer(report: Report, result: RunResult, rows: list[Row]) -> None:
    """The bottom line, the summary of findings at one control risk and its certainty footnotes."""
    line = gather(rows, result.results, 0 if result.totals is None else len(result.totals.imputed))
    if line is None:
        return
    report.add_heading("Bottom line", 2)
    report.add_paragraph(bottom_line(line), anchor="bottom-line")
    sof, notes = summary_of_findings(rows)
    control = line.absolute.control
    report.add_table(sof, caption="Summary of findings, all-cause mortality (binomial-normal, exact, primary priors; "
                     f"95% CrI; absolute effects at one control risk, {1000 * control.risk:.0f} per 1,000: the "
                     f"{control.label}). Rows 3 and 4 pool non-randomised studies through a bias model",
                     index=False, anchor="summary-of-findings")  # fmt: skip
    report.add_paragraph(
        "Certainty footnotes (GRADE domains judged by the rules in Methods): "
        + "; ".join(f"({i}) {n}" for i, n in enumerate(notes, 1))
        + ". Absolute effects at other control risks (patients on oxygen, or ventilated) assume that the odds ratio "
        "of these trials holds there too; the trials cannot check that (Table of absolute effects, below)."
    )


def _warnings(report: Report, result: RunResult) -> None:
    gates = result.settings.gates
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


def _documents(report: Report, result: RunResult, reproduction: tuple[Reproduction, ...]) -> None:
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
    seen: dict[tuple[str, ...], str] = {}
    for doc, ana, label in HEADLINES:
        r = _reproduction_of(reproduction, doc, ana)
        if r is None:
            continue
        key = f"{doc}/{ana}"
        sl, sl_re = results.get(key, "summary_level"), results.get(key, "summary_level_re")
        bn = results.get(key, "binomial_normal_exact")
        same = None if bn is None else seen.get(bn.context.studies)
        if bn is not None and same is None:
            seen[bn.context.studies] = label.split(" (")[0]
        rows.append({
            "Document": label,
            "Published (95% CI)": f"{r.measure} " + _ci(r.published_estimate, r.published_ci_low,
                                                       r.published_ci_high),
            "Recomputed with the paper's method": _ci(r.recomputed_estimate, r.recomputed_ci_low,
                                                      r.recomputed_ci_high) + f" ({r.status})",
            "P(benefit), published number at face value": fmt_p(sl.effect.p_benefit) if sl is not None else "–",
            "P(benefit), between-study variance added": fmt_p(sl_re.effect.p_benefit) if sl_re is not None else "–",
            "Studies with known counts: OR (95% CrI)": "–" if bn is None else f"same study set as {same}"
            if same else fmt_or(bn),
            "P(OR < 1)": "–" if bn is None or same else fmt_p(bn.effect.p_benefit),
            "Studies known / without counts": _known_missing(bn),
        })  # fmt: skip
    report.add_table(pd.DataFrame(rows), caption="Published vs recomputed vs Bayesian (primary priors)", index=False)
    for doc, ana, label in HEADLINES:
        rep = _reproduction_of(reproduction, doc, ana)
        if rep is not None:
            report.add_paragraph(_paragraph(result, rep, label))
    _followup(report, result.results)


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
        + str(effect_prior(PRIMARY_EFFECT_PRIOR))
        + ". Bias model for NRS: "
        + str(BIAS_PRESETS[PRIMARY_BIAS_PRIOR])
        + "; sensitivity: "
        + str(BIAS_PRESETS["nrs_bias_optimistic"])
        + "."
    )
    report.add_paragraph(
        "Certainty of the evidence (GRADE), by stated rules on the numbers above; a panel may judge otherwise, and the "
        "footnotes of the summary of findings give it what it needs to. "
        + "; ".join(rule[0].upper() + rule[1:] for rule in RULES)
        + ". The plain-language statement of the bottom line follows GRADE's wording for the certainty reached "
        "(Santesso et al. 2020, J Clin Epidemiol 119:126): 'reduces' (high), 'probably reduces' (moderate), 'may "
        "reduce' (low), 'the evidence is very uncertain' (very low), and 'little to no difference' when the point "
        "estimate is smaller than 20 fewer deaths per 1,000. P(true OR in a new setting < 1) is about the effect in a "
        "new population (mu + tau z), not about what a new trial would observe. Probabilities above 0.999 are "
        "printed as '> 0.999'."
    )


def _appendix(report: Report, result: RunResult, reproduction: tuple[Reproduction, ...]) -> None:
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
        rows = result.results.select(kinds=(Kind.POOLED, Kind.PUBLISHED), analysis=key, primary_priors=True)
        report.add_table(_compact(rows), caption="Primary priors, by model", index=False)
        for f in result.figures[key]:
            if f.kind != MISSING_MAP or key != "scrt2026/mortality":
                report.add_figure(f.path, f.caption)
    report.add_heading("Reproduction of every published number", 3)
    counts = Counter(r.status for r in reproduction).most_common()
    report.add_paragraph(", ".join(f"{s}: {n}" for s, n in counts) + ". Reasons in full in reproduction.md.")
    table = pd.DataFrame([{
        "Document": r.document, "Analysis": r.analysis.replace("_", " "),
        "Published": f"{r.measure} {r.published_estimate:.2f}" if not pd.isna(r.published_estimate) else "–",
        "Recomputed": f"{r.recomputed_estimate:.2f}" if not pd.isna(r.recomputed_estimate) else "–",
        "Status": r.status, "Reason (first clause)": r.reason.split(";")[0][:90],
    } for r in reproduction])  # fmt: skip
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
                     float_format=fmt3)  # fmt: skip
    report.add_heading("Run", 3)
    report.add_paragraph(
        f"Seed {result.settings.seed}; data sha256 {result.dataset.data_hash[:16]}...; "
        f"{len(result.fits)} MCMC fits; wall time {result.wall_seconds:.0f} s. Package versions and settings are "
        "in run_info.json and in the attributes of every NetCDF file."
    )


def _followup(report: Report, results: Results) -> None:
    found = results.select(kinds=(Kind.SINGLE_TRIAL,), document=FOLLOWUP)
    if not found:
        return
    report.add_heading("Shi 2021 trial, 3-year follow-up (single-trial reanalysis)", 3)
    report.add_paragraph(
        "2x2 outcomes: independent Beta(1, 1) priors on each arm's risk (exact conjugate posterior). SF-36 general "
        "health: the standard error recovered from the reported difference and two-sided p-value (a normal "
        "approximation; the paper compared medians), prior Normal(0, 20^2) points. P(benefit) = P(OR > 1) for a "
        "normal chest CT and for SF-36, P(OR < 1) for reinfection and hospitalisation."
    )
    table = pd.DataFrame([{
        "analysis": r.key.analysis.split("/", 1)[1], "model": r.key.model, "measure": r.measure,
        "median": r.effect.median, "low": r.effect.low, "high": r.effect.high, "p_benefit": r.effect.p_benefit,
        "published_estimate": r.context.published.estimate if r.context.published is not None else float("nan"),
    } for r in found])  # fmt: skip
    report.add_table(table, caption="Posterior median and 95% CrI", index=False, float_format=fmt3)


def _compact(results: list[Result]) -> pd.DataFrame:
    """The primary-prior results of one set with readable headers (95% CrI; ratio scale)."""
    return pd.DataFrame([readable_row(r) for r in results])


def _diagnostics(result: RunResult) -> pd.DataFrame:
    rows = []
    for label, fit, file in result.fits:
        t = fit.diagnostics.table
        twin = result.twins.get(f"fits/{file}")
        rows.append(
            {
                "Fit": label,
                "File": file,
                "Max R-hat": t["rhat"].max(),
                "Min bulk ESS": t["ess_bulk"].min(),
                "Min tail ESS": t["ess_tail"].min(),
                "Divergences": fit.diagnostics.divergences,
                "Gate": str(Gate.PASS if fit.diagnostics.passed else Gate.FAIL),
                "Mean log-OR, MCMC - exact (in MCSE)": "–" if twin is None else f"{twin:+.1f}",
            }
        )
    return pd.DataFrame(rows)
