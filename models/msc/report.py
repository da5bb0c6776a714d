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

from models.msc.findings import bottom_line, fmt_ci, fmt_or, fmt_p, readable_row, summary_of_findings
from models.msc.followup import DOCUMENT as FOLLOWUP
from models.msc.kinds import MISSING_MAP
from models.msc.missing import missing_arm_sizes
from models.msc.priors import PRIMARY_BIAS_PRIOR, PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
from models.msc.report_evidence import evidence_base, fmt3, p_important, sensitivity
from models.msc.reproduction import Reproduction
from models.msc.results import Results
from models.msc.specs import EVIDENCE_BASE, is_blinded_or_placebo
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
            + "; ".join(f"({i}) {n}" for i, n in enumerate(notes, 1))
            + "."
        )
    _documents(report, result, reproduction)
    evidence_base(report, result)
    sensitivity(report, result)
    _methods(report)
    _appendix(report, result, reproduction)
    md = report.write_markdown(out_dir / "report.md")
    html = report.write_html(out_dir / "report.html")
    return md, html


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
        "Certainty (GRADE), by rule: start high (randomised evidence); risk of bias -1 when open-label trials hold "
        ">= 25% of participants or NRS are included; inconsistency -1 when the posterior median tau > 0.5; "
        "imprecision -1 when the 95% CrI includes OR = 1, -2 when it also reaches both OR < 0.8 and OR > 1.25; "
        "reporting bias -1 when studies whose deaths were never published hold >= 10% of the intended participants; "
        "indirectness not downgraded by rule. P(true OR in a new setting < 1) is about the effect in a new "
        "population (mu + tau z), not about what a new trial would observe. Probabilities above 0.999 are printed as "
        "'> 0.999'."
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
