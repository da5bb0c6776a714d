"""The report's sections on the evidence published after the extraction: what it adds and whether it moves the answer
(before/after, :mod:`models.msc.update`), and mortality by time point with Qin 2024's risk ratios beside it.

Every sentence is made from the data and the run's results: which studies are new, which were excluded and why,
which counts are new, and the numbers before and after.
"""

from __future__ import annotations

import pandas as pd

from models.msc.findings import fmt_ci, fmt_or, fmt_p
from models.msc.specs import EVIDENCE_BASE, MULTI_ARM_SENSITIVITY, PRIMARY_ANALYSIS
from models.msc.state import RunResult
from models.msc.timepoints import TimepointCount, longest_follow_up, nearest_day
from models.msc.update import BEFORE, LATER_COUNTS
from models.report.document import Report
from models.results import Result

COMPARED = (
    ("Randomised trials (primary)", f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", "binomial_normal_exact",
     f"{BEFORE}/{PRIMARY_ANALYSIS}"),
    ("All studies with counts, NRS through a bias model", f"{EVIDENCE_BASE}/nrs_bias", "binomial_normal_exact",
     f"{BEFORE}/nrs_bias"),
    ("All studies with counts pooled as if randomised (sensitivity)", f"{EVIDENCE_BASE}/all", "binomial_normal_exact",
     f"{BEFORE}/all"),
    ("All SCRT 2026 candidates, unpublished deaths from its totals (NRS through a bias model)",
     f"{EVIDENCE_BASE}/published_totals/proportional", "binomial_normal_exact_nrs_bias",
     f"{BEFORE}/published_totals"),
)  # fmt: skip
"""(row label, analysis now, model, the same analysis before the later evidence) of the before/after table."""

QIN = ("mortality_d28", "mortality_d60", "mortality_d90")


def _moved(before: Result, now: Result) -> bool:
    """True when the printed numbers differ (OR to 2 decimals, P(OR < 1) as printed)."""
    return (round(before.effect.median, 2), fmt_p(before.effect.p_benefit)) != (
        round(now.effect.median, 2), fmt_p(now.effect.p_benefit))  # fmt: skip


def _qin(result: RunResult) -> list[tuple[str, Result]]:
    found = [(a, result.results.get(f"qin2024/{a}", "summary_level")) for a in QIN]
    return [(a, r) for a, r in found if r is not None]


def later_evidence(report: Report, result: RunResult) -> None:
    """What the evidence published since the extraction adds, and the hierarchy's rows before and after it."""
    results = result.results
    pairs = [(label, results.get(now, model), results.get(before, model)) for label, now, model, before in COMPARED]
    pairs = [(label, now, before) for label, now, before in pairs if now is not None and before is not None]
    if not pairs:
        return
    report.add_heading("What the evidence published since adds", 2)
    report.add_paragraph(
        "The source reviews' extraction held SCRT 2026's candidate studies. What the evidence published since adds, "
        "and what each addition does to the analyses:"
    )
    report.add_table(pd.DataFrame(_additions(result)), caption="The later evidence", index=False)
    rows, moved, kept = [], [], []
    for label, now, before in pairs:
        rows.append({
            "Analysis": label,
            "Before: studies": before.k, "Before: OR (95% CrI)": fmt_or(before),
            "Before: P(OR < 1)": fmt_p(before.effect.p_benefit),
            "Now: studies": now.k, "Now: OR (95% CrI)": fmt_or(now), "Now: P(OR < 1)": fmt_p(now.effect.p_benefit),
        })  # fmt: skip
        (moved if _moved(before, now) else kept).append(label)
    report.add_table(pd.DataFrame(rows), caption="Before and after the later evidence (binomial-normal, exact, "
                     "primary priors). Rows 2 to 4 pool non-randomised studies", index=False)  # fmt: skip
    summary = []
    if kept:
        summary.append("Unchanged by the later evidence: " + "; ".join(kept) + ".")
    if moved:
        summary.append("Changed: " + "; ".join(moved) + ".")
    report.add_paragraph(" ".join(summary))


def _additions(result: RunResult) -> list[dict[str, str]]:
    """One row per addition: Qin 2024, each study the extraction did not hold, each study with counts it lacked, and
    the multi-arm rule's sensitivity analysis."""
    ds, results = result.dataset, result.results
    excluded = {e.study_id: e for e in ds.exclusions()}
    held = set(ds.analysis_set("scrt2026", "mortality").best_studies)
    rows = []
    qin = _qin(result)
    if qin:
        rows.append({
            "Addition": "Qin 2024 (meta-analysis of randomised trials)",
            "What it gives": "pooled risk ratios of death: " + ", ".join(
                f"{_published(r)} at day {a.rsplit('d', 1)[1]}" for a, r in qin),
            "Effect on the analyses": "published comparison for mortality by time point; its trials are not named, "
                                      "so it cannot be recomputed",
        })  # fmt: skip
    for s in (s for s in ds.studies.index if s not in held):
        design = "randomised trial" if ds.studies.loc[s, "design"] == "RCT" else "non-randomised study"
        if s in excluded:
            effect = f"excluded ({excluded[s].rule} rule): it {excluded[s].reason}"
        else:
            effect = "included among the studies without death counts"
        counts = [c for c in ds.timepoint_counts() if c.study_id == s and c.variant == "primary"]
        gives = f"{counts[0].n_t:.0f} vs {counts[0].n_c:.0f} patients" if counts else "no counts"
        rows.append({"Addition": f"{ds.label(s)} ({design})", "What it gives": gives + ", no death counts found",
                     "Effect on the analyses": effect})  # fmt: skip
    for s in LATER_COUNTS:
        counts = [c for c in ds.timepoint_counts() if c.study_id == s and c.known]
        design = "randomised trial" if ds.studies.loc[s, "design"] == "RCT" else "non-randomised study"
        rows.append({
            "Addition": f"{ds.label(s)} ({design}): death counts",
            "What it gives": "; ".join(f"{c.when}: {c.e_t:.0f}/{c.n_t:.0f} vs {c.e_c:.0f}/{c.n_c:.0f}" for c in counts),
            "Effect on the analyses": "enters every analysis that includes non-randomised studies (it had no counts)",
        })  # fmt: skip
    for s, variant in MULTI_ARM_SENSITIVITY.items():
        arm = results.get(f"{EVIDENCE_BASE}/rct_{variant}", "binomial_normal_exact")
        counts = {c.variant: c for c in ds.timepoint_counts() if c.study_id == s}
        if arm is None or variant not in counts:
            continue
        alone, other = counts["primary"], counts[variant]
        rows.append({
            "Addition": f"{ds.label(s)}: rule for multi-arm trials",
            "What it gives": f"the arm given MSC cells alone ({alone.e_t:.0f}/{alone.n_t:.0f}) enters the primary, "
                             f"the arm given MSCs and vesicles ({other.e_t:.0f}/{other.n_t:.0f}) a sensitivity "
                             "analysis",
            "Effect on the analyses": f"randomised trials with the other arm: OR {fmt_or(arm)}, P(OR < 1) "
                                      f"{fmt_p(arm.effect.p_benefit)}",
        })  # fmt: skip
    return rows


def _published(r: Result) -> str:
    pub = r.context.published
    return fmt_ci(pub.estimate, pub.low, pub.high)


def _trial_rows(result: RunResult) -> tuple[list[dict[str, str]], bool]:
    """Per trial of the primary set: the time point of the primary count, of the day-28 choice and of the longest
    follow-up, and the other time points it reports; and whether every trial's longest count is its primary one."""
    ds = result.dataset
    counts = ds.timepoint_counts("mortality")
    primary = result.study_sets[f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}"]
    rows, all_primary = [], True
    for sid in primary.table.study + primary.missing:
        mine = [c for c in counts if c.study_id == sid and c.variant_kind in ("primary", "time point")]
        first = next(c for c in mine if c.variant == "primary")
        day28, longest = nearest_day(counts, sid), longest_follow_up(counts, sid)
        if longest is not None and longest.variant != "primary":
            all_primary = False
        others = [c for c in mine if c is not first]
        rows.append({
            "Trial": ds.label(sid),
            "Primary count at": first.when + ("" if first.known else " (no counts)"),
            "Day 28 or nearest": _when(day28),
            "Longest follow-up": _when(longest),
            "Other time points reported": "; ".join(c.when + ("" if c.known else " (no counts)") for c in others)
            or "none",
        })  # fmt: skip
    return rows, all_primary


def _when(count: TimepointCount | None) -> str:
    return "no counts" if count is None else count.when


def by_timepoint(report: Report, result: RunResult) -> None:
    """The primary randomised analysis at day 28 (or nearest) and at the longest follow-up, with Qin 2024's risk
    ratios as the published comparison, and whether the benefit holds with longer follow-up as far as the data tell."""
    results = result.results
    found = [(s, results.get(key, "binomial_normal_exact")) for key, s in result.timepoints.items()]
    primary = results.get(f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", "binomial_normal_exact")
    if primary is None or not found:
        return
    report.add_heading("Mortality by time point", 3)
    trials, all_primary = _trial_rows(result)
    rows = [_tp_row("Primary (each trial's reported time point)", primary)]
    rows += [_tp_row(s.title.replace("Randomised trials, deaths at ", "Deaths at ").capitalize(), r)
             for s, r in found if r is not None]  # fmt: skip
    same = all(r is not None and not _moved(primary, r) for _, r in found)
    text = []
    if all_primary and same:
        text.append(
            "No randomised trial with death counts reports a count at a later time point than the one the primary "
            "analysis uses, so the analyses at day 28 (or nearest) and at the longest follow-up are the primary "
            "analysis itself: these trials cannot tell whether the benefit holds with longer follow-up."
        )
    else:
        text.append("With each trial's count at its longest follow-up the probability of any benefit is "
                    f"{fmt_p(found[-1][1].effect.p_benefit)}, against {fmt_p(found[0][1].effect.p_benefit)} at day "
                    "28 or nearest.")  # fmt: skip
    counts = result.dataset.timepoint_counts()
    for sid in result.study_sets[f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}"].missing:
        later = [c.when for c in counts if c.study_id == sid and c.variant_kind == "time point"]
        if later:
            when = ", ".join(later[:-1]) + f" and {later[-1]}" if len(later) > 1 else later[0]
            text.append(f"{result.dataset.label(sid)} reports deaths at {when}, without counts.")
    qin = _qin(result)
    if qin:
        ests = [r.context.published.estimate for _, r in qin]
        fades = all(a < b for a, b in zip(ests, ests[1:], strict=False)) and ests[-1] < 1
        crossing = next((i for i in range(len(qin)) if all(r.context.published.high > 1 for _, r in qin[i:])), None)
        text.append(
            "Qin 2024, the published comparison (risk ratios, its trials not named): "
            + ", ".join(
                f"{_published(r)} at day {a.rsplit('d', 1)[1]} (P(RR < 1) {fmt_p(r.effect.p_benefit)} "
                "taken at face value)"
                for a, r in qin
            )  # fmt: skip
            + (
                ": the pooled benefit moves towards no effect as follow-up lengthens"
                + (
                    ""
                    if crossing is None
                    else f", and its 95% CI includes RR = 1 from day {qin[crossing][0].rsplit('d', 1)[1]} on"
                )
                + "."
                if fades
                else "."
            )
        )
    report.add_paragraph(" ".join(text))
    report.add_table(pd.DataFrame(rows), caption="Randomised trials by the time point of the death count "
                     "(binomial-normal, exact, primary priors)", index=False)  # fmt: skip
    report.add_table(pd.DataFrame(trials), caption="The time point of each randomised trial's death count",
                     index=False)  # fmt: skip


def _tp_row(label: str, r: Result) -> dict[str, object]:
    return {
        "Analysis": label,
        "Trials": r.k,
        "OR (95% CrI)": fmt_or(r),
        "P(OR < 1)": fmt_p(r.effect.p_benefit),
        "P(OR < 0.8)": fmt_p(r.effect.p_important if r.effect.p_important is not None else float("nan")),
    }
