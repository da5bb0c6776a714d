"""The report's section on the published meta-analyses: each paper's pooled number beside our recomputation, the
Bayesian reanalysis of the published number, and its studies with known counts, read as the pre-specified hierarchy
reads them (non-randomised studies through the bias model first, pooled as if randomised second); and the
single-trial reanalysis of the Shi 2021 trial's 3-year follow-up.

Every number is a typed field of a result in the run's store or of a reproduction record
(:class:`models.msc.reproduction.Reproduction`); study and document ids are shown as names
(:mod:`models.msc.wording`).
"""

from __future__ import annotations

import pandas as pd

from models.msc.findings import fmt_ci, fmt_or, fmt_p
from models.msc.followup import DOCUMENT as FOLLOWUP
from models.msc.report_evidence import fmt3, p_important
from models.msc.reproduction import Reproduction
from models.msc.state import RunResult
from models.msc.wording import analysis_name, readable, study_names
from models.report.document import Report
from models.results import Kind, Result

HEADLINES = (
    ("scrt2026", "mortality", "Stem Cell Res Ther 2026 meta-analysis (24 studies)"),
    ("yao2022", "mortality", "Yao et al., EClinicalMedicine 2022 (13 studies; our candidate set)"),
    ("tang2024", "mortality", "Tang et al., J Transl Med 2024 (14 RCTs)"),
    ("crosscheck_scrt2023", "mortality", "Cross-check: Stem Cell Res Ther 2023 (7 UC-MSC RCTs)"),
    ("crosscheck_kirkham2022", "mortality", "Cross-check: living review 2022 (11 studies)"),
)
"""The published mortality analyses the section compares, with the paper's own description."""

FOLLOWUP_MODELS = {
    "beta_binomial": "independent Beta(1, 1) priors per arm (exact)",
    "normal_difference": "normal approximation of the reported difference",
}


def _reproduction_of(records: tuple[Reproduction, ...], doc: str, ana: str) -> Reproduction | None:
    return next((r for r in records if (r.document, r.analysis) == (doc, ana)), None)


def non_randomised(result: RunResult, studies: tuple[str, ...]) -> tuple[str, ...]:
    """The non-randomised studies among ``studies`` (by the data's design classification)."""
    design = result.dataset.studies["design"]
    return tuple(s for s in studies if design.get(s) == "NRS")


def _readings(result: RunResult, key: str) -> tuple[Result | None, Result | None]:
    """The set's hierarchy reading (NRS through the bias model; the plain model when it has no NRS) and its
    exchangeable pooling (None when the set has no NRS, since both are then the same)."""
    plain = result.results.get(key, "binomial_normal_exact")
    bias = result.results.get(key, "binomial_normal_exact_nrs_bias")
    return (bias, plain) if bias is not None else (plain, None)


def _paragraph(result: RunResult, rep: Reproduction, label: str) -> str:
    results, ds = result.results, result.dataset
    key = f"{rep.document}/{rep.analysis}"
    sl, sl_re = results.get(key, "summary_level"), results.get(key, "summary_level_re")
    first, pooled = _readings(result, key)
    s = result.study_sets.get(key)
    m = rep.measure
    text = (
        f"**{label}.** Published pooled {m} "
        f"{fmt_ci(rep.published_estimate, rep.published_ci_low, rep.published_ci_high)}. "
        f"Recomputed with the paper's method: {rep.status} ({readable(ds, rep.reason.split(';')[0])}). "
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
    if first is not None:
        nrs = non_randomised(result, first.context.studies)
        text += f"The {first.k} studies of {which} with known death counts"
        if pooled is not None:
            text += (
                f", {len(nrs)} of them non-randomised ({study_names(ds, nrs)}), give OR {fmt_or(first)} with the "
                f"non-randomised studies through the bias model (P(OR < 1) {fmt_p(first.effect.p_benefit)}) and "
                f"{fmt_or(pooled)} pooled as if all were randomised (P(OR < 1) {fmt_p(pooled.effect.p_benefit)})"
            )
        else:
            text += f", all randomised, give OR {fmt_or(first)} (P(OR < 1) {fmt_p(first.effect.p_benefit)})"
        n_missing = len(first.context.missing)
        if n_missing:
            text += f"; {n_missing} {'study' if n_missing == 1 else 'studies'} without counts "
            text += "is" if n_missing == 1 else "are"
            text += " not filled in"
        text += " (binomial-normal, 95% CrI). "
    if key in result.tipping:
        text += "Studies with unknown counts: " + result.tipping[key] + "."
    return text


def documents(report: Report, result: RunResult, reproduction: tuple[Reproduction, ...]) -> None:
    """The published analyses' numbers beside the recomputation and the Bayesian readings, then the 3-year
    follow-up of the Shi 2021 trial."""
    report.add_heading("What each published meta-analysis claimed, and what the data say", 2)
    report.add_paragraph(
        "Each paper's pooled number beside our recomputation with the paper's own method, the Bayesian reanalysis of "
        "the published number, and the binomial-normal model on the studies of its set whose death counts are known: "
        "first with its non-randomised studies through the bias model (the pre-specified hierarchy's reading), then "
        "pooled as if all were randomised, as the papers pooled them. 'Taken at face value' treats the published CI "
        "as the whole evidence; SCRT 2026 and Tang 2024 pooled with a fixed-effect model, whose CI ignores "
        "between-study variation, so their published numbers are also shown with that variation added back "
        "('between-study variance added')."
    )
    rows = []
    seen: dict[tuple[str, ...], str] = {}
    for doc, ana, label in HEADLINES:
        r = _reproduction_of(reproduction, doc, ana)
        if r is None:
            continue
        key = f"{doc}/{ana}"
        sl, sl_re = result.results.get(key, "summary_level"), result.results.get(key, "summary_level_re")
        first, pooled = _readings(result, key)
        same = None if first is None else seen.get(first.context.studies)
        if first is not None and same is None:
            seen[first.context.studies] = label.split(" (")[0]
        nrs = () if first is None else non_randomised(result, first.context.studies)
        rows.append({
            "Document": label,
            "Published (95% CI)": f"{r.measure} " + fmt_ci(r.published_estimate, r.published_ci_low,
                                                           r.published_ci_high),
            "Recomputed with the paper's method": fmt_ci(r.recomputed_estimate, r.recomputed_ci_low,
                                                         r.recomputed_ci_high) + f" ({r.status})",
            "P(benefit), published number at face value": fmt_p(sl.effect.p_benefit) if sl is not None else "–",
            "P(benefit), between-study variance added": fmt_p(sl_re.effect.p_benefit) if sl_re is not None else "–",
            "Its studies with counts, NRS through the bias model: OR (95% CrI)": "–" if first is None
            else f"same study set as {same}" if same else fmt_or(first),
            "P(OR < 1)": "–" if first is None or same else fmt_p(first.effect.p_benefit),
            "Pooled as if all were randomised: OR (95% CrI)": "no non-randomised studies" if pooled is None
            else "–" if same else fmt_or(pooled),
            "Studies with counts (non-randomised) / without counts": "–" if first is None
            else f"{first.k} ({len(nrs)}) / {len(first.context.missing)}",
        })  # fmt: skip
    report.add_table(pd.DataFrame(rows), caption="Published vs recomputed vs Bayesian (primary priors). The "
                     "column 'pooled as if all were randomised' pools non-randomised studies with the trials, as the "
                     "papers did (a sensitivity reading only)", index=False)  # fmt: skip
    for doc, ana, label in HEADLINES:
        rep = _reproduction_of(reproduction, doc, ana)
        if rep is not None:
            report.add_paragraph(_paragraph(result, rep, label))
    _followup(report, result)


def _followup(report: Report, result: RunResult) -> None:
    found = result.results.select(kinds=(Kind.SINGLE_TRIAL,), document=FOLLOWUP)
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
        "Outcome": analysis_name(result.dataset, FOLLOWUP, r.key.analysis.split("/", 1)[1]),
        "Model": FOLLOWUP_MODELS.get(r.key.model, r.key.model), "Measure": r.measure,
        "Median": r.effect.median, "95% CrI, low": r.effect.low, "95% CrI, high": r.effect.high,
        "P(benefit)": fmt_p(r.effect.p_benefit),
        "Published estimate": r.context.published.estimate if r.context.published is not None else float("nan"),
    } for r in found])  # fmt: skip
    report.add_table(table, caption="Posterior median and 95% CrI", index=False, float_format=fmt3)
