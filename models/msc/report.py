"""The reanalysis report, answer first: bottom line and summary of findings, then the published documents
(:mod:`models.msc.report_documents`), the later evidence (:mod:`models.msc.report_update`), the studies
(:mod:`models.msc.report_studies`), the evidence base (:mod:`models.msc.report_evidence`), sensitivity analyses,
methods and an appendix (per-set detail, reproduction, diagnostics).

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
from models.msc.findings import HIERARCHY, Row, StudyFacts, body_of, readable_row, summary_of_findings, summary_rows
from models.msc.grade import RULES, Body
from models.msc.kinds import MISSING_MAP
from models.msc.priors import PRIMARY_BIAS_PRIOR, PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
from models.msc.report_documents import documents
from models.msc.report_evidence import evidence_base, sensitivity
from models.msc.report_figures import add_figures, findings_forests
from models.msc.report_studies import studies_section
from models.msc.report_update import later_evidence
from models.msc.reproduction import Reproduction
from models.msc.specs import EVIDENCE_BASE, PRIMARY_ANALYSIS
from models.msc.state import RunResult
from models.msc.wording import analysis_name, document_name, readable, set_name, study_names
from models.priors import BIAS_PRESETS, effect_prior, tau_prior
from models.report.document import Report
from models.results import Gate, Kind, Result
from models.tables import BinaryTable


def build_report(result: RunResult, reproduction: tuple[Reproduction, ...], out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.md`` and a self-contained ``report.html`` into ``out_dir``: the answer first."""
    report = Report("Bayesian reanalysis of MSC therapy for COVID-19 mortality")
    _warnings(report, result)
    rows = summary_rows(result.results, result.absolute, bodies(result, StudyFacts.of(result.dataset)))
    _answer(report, result, rows)
    documents(report, result, reproduction)
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
    findings_forests(report, result)


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


def _methods(report: Report) -> None:
    report.add_heading("Methods", 2)
    report.add_paragraph(
        "Binomial-normal model (primary): `e_c ~ Bin(n_c, expit(a_i - t_i/2))`, `e_t ~ Bin(n_t, expit(a_i + t_i/2))`, "
        "`a_i ~ Normal(0, 2.5^2)`, `t_i ~ Normal(mu + b_i, tau^2 + s_i^2)`, where `(b_i, s_i)` is the bias model for a "
        "non-randomised study and `(0, 0)` for a trial. Its posterior is computed exactly by quadrature (the "
        "per-study integral over `a_i` on a grid of `t`, then Gaussian smoothing over `t` and a grid over "
        "`(mu, log tau)`); MCMC fits of "
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
        + ". ".join(rule[0].upper() + rule[1:] for rule in RULES)
        + ". The plain-language statement of the bottom line follows GRADE's wording for the certainty reached "
        "(Santesso et al. 2020, J Clin Epidemiol 119:126): 'reduces' (high), 'probably reduces' (moderate), 'may "
        "reduce' (low), 'the evidence is very uncertain' (very low), and 'little to no difference' when the point "
        "estimate is smaller than 20 fewer deaths per 1,000. P(true OR in a new setting < 1) is about the effect in a "
        "new population (mu + tau z), not about what a new trial would observe. Probabilities above 0.999 are "
        "printed as '> 0.999'."
    )


def _appendix_order(result: RunResult) -> list[str]:
    """Study sets with figures, the hierarchy's order first: the primary randomised set, the other evidence-base sets,
    then the published analyses' sets."""
    keys = [k for k in result.study_sets if k in result.figures]
    primary = f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}"
    return sorted(keys, key=lambda k: (k != primary, not k.startswith(f"{EVIDENCE_BASE}/")))


def _counts_key(table: BinaryTable) -> tuple:
    return (table.study, *(tuple(getattr(table, a)) for a in ("e_t", "n_t", "e_c", "n_c")))


def _set_details(report: Report, result: RunResult) -> None:
    """One section per study set with figures; a set with the same studies and counts as one shown before says so
    instead of repeating its table and figures."""
    ds = result.dataset
    shown: dict[tuple, str] = {}
    for key in _appendix_order(result):
        s = result.study_sets[key]
        report.add_heading(s.title, 4)
        rows = result.results.select(kinds=(Kind.POOLED, Kind.PUBLISHED), analysis=key, primary_priors=True)
        nrs = [x for x in s.table.study if ds.studies.loc[x, "design"] == "NRS"]
        pooled_nrs = "" if not nrs else (
            f" ({len(nrs)} non-randomised {'study' if len(nrs) == 1 else 'studies'} pooled as if randomised, except "
            "in a bias-model row)")  # fmt: skip
        twin = shown.get(_counts_key(s.table))
        if twin is not None:
            own = [r for r in rows if not r.key.model.startswith("binomial_normal")]
            report.add_paragraph(f"Same studies and death counts as {twin}: its binomial-normal results and figures "
                                 "hold for this set too" + ("; below, this analysis's own rows (the published number "
                                 "and the paper's measure)." if own else "."))  # fmt: skip
            if own:
                report.add_table(_compact(own), caption="Primary priors, the rows of this analysis only" + pooled_nrs,
                                 index=False)  # fmt: skip
            add_figures(report, _set_figures(result, key))  # figures on the paper's measure; the rest by reference
            continue
        shown[_counts_key(s.table)] = s.title
        notes = [readable(ds, n) for n in s.notes if not n.startswith(("contains", "time point of each"))]
        report.add_paragraph(
            f"Studies with known counts ({s.table.k}): {study_names(ds, s.table.study)}. Source: {s.set_source}."
            + (f" Of them non-randomised: {study_names(ds, nrs)}." if nrs else "")
            + (f" Unknown counts (not filled in): {study_names(ds, s.missing)}." if s.missing else "")
            + ("" if not notes else " Notes: " + "; ".join(notes) + ".")
        )
        report.add_table(_compact(rows), caption="Primary priors, by model" + pooled_nrs, index=False)
        add_figures(report, _set_figures(result, key))


def _set_figures(result: RunResult, key: str) -> list:
    """A set's figures for the appendix (SCRT 2026's missing-study map is shown with the published totals)."""
    return [f for f in result.figures[key] if f.kind != MISSING_MAP or key != "scrt2026/mortality"]


def _appendix(report: Report, result: RunResult, reproduction: tuple[Reproduction, ...]) -> None:
    report.add_heading("Appendix", 2)
    report.add_heading("Details by study set", 3)
    _set_details(report, result)
    ds = result.dataset
    report.add_heading("Reproduction of every published number", 3)
    counts = Counter(r.status for r in reproduction).most_common()
    report.add_paragraph(", ".join(f"{s}: {n}" for s, n in counts) + ". Reasons in full in reproduction.md.")
    table = pd.DataFrame([{
        "Document": document_name(r.document), "Analysis": analysis_name(ds, r.document, r.analysis),
        "Published": f"{r.measure} {r.published_estimate:.2f}" if not pd.isna(r.published_estimate) else "–",
        "Recomputed": f"{r.recomputed_estimate:.2f}" if not pd.isna(r.recomputed_estimate) else "–",
        "Status": r.status, "Reason (first clause)": readable(ds, r.reason.split(";")[0])[:90],
    } for r in reproduction])  # fmt: skip
    report.add_table(table, caption="Reproduction table", index=False)
    report.add_heading("Diagnostics of every MCMC fit", 3)
    if result.retried:
        lines = "; ".join(
            f"{fit_name(result, label)} ({', '.join(first)}; retry {'passed' if ok else 'FAILED'})"
            for label, first, ok in result.retried
        )
        report.add_paragraph(
            f"{len(result.retried)} fit(s) failed their gates at the first attempt and were run again with a new "
            "seed, twice the draws and a target acceptance rate of 0.99; only the retry is used: " + lines + "."
        )
    report.add_table(_diagnostics(result), caption="Rank-normalised R-hat, bulk and tail ESS, divergences; the last "
                     "column compares each plain binomial-normal fit with its exact twin", index=False)  # fmt: skip
    report.add_heading("Run", 3)
    report.add_paragraph(
        f"Seed {result.settings.seed}; data sha256 {result.dataset.data_hash[:16]}...; "
        f"{len(result.fits)} MCMC fits; wall time {result.wall_seconds:.0f} s. Package versions and settings are "
        "in run_info.json and in the attributes of every NetCDF file."
    )


def fit_name(result: RunResult, label: str) -> str:
    """A fit's label in words: its study set's title, then what was fitted ('Randomised trials (primary analysis),
    small-study PET')."""
    key, _, what = label.partition(" ")
    s = result.study_sets.get(key)
    name = s.title if s is not None else set_name(result.dataset, key)
    what = what.replace("_", " ").replace("log cells per kg", "cell dose").replace("nrs", "design")
    return f"{name}: {what}"


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
                "Fit": fit_name(result, label),
                "File": file,
                "Max R-hat": f"{t['rhat'].max():.3f}",
                "Min bulk ESS": f"{t['ess_bulk'].min():.0f}",
                "Min tail ESS": f"{t['ess_tail'].min():.0f}",
                "Divergences": fit.diagnostics.divergences,
                "Gate": str(Gate.PASS if fit.diagnostics.passed else Gate.FAIL),
                "Mean log-OR, MCMC - exact (in MCSE)": "–" if twin is None else f"{twin:+.1f}",
            }
        )
    return pd.DataFrame(rows)
