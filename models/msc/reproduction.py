"""The reproduction table: every published pooled number beside our recomputation from the study-level data.

For each row of ``published.csv`` the study set comes from ``analysis_sets.csv`` (the paper's list where it is
known, else the best candidate set, restricted to a subgroup where the analysis is one), the method from the
paper's stated model, and the status from a fixed rule:

* ``reproduced`` -- the paper's study set is known and the recomputed estimate and both 95% limits round to the
  published digits (two decimals);
* ``close`` -- the set is known but incomplete or the numbers differ slightly: every one of estimate, lower and
  upper limit within 10% of the published value (``|log(ours / published)| <= 0.1`` for ratio measures);
* ``not reproducible`` -- everything else, including every analysis whose study list was not published (numbers
  computed on a candidate set are shown for information, never counted as a reproduction).

The reason is given in words ("2 of 11 studies lack death counts", "study list not published"). Nothing here
adjusts data to meet a published number.

Method mapping (the papers' methods sections, as extracted in ``published.csv``):
``fixed`` for OR/RR -> Mantel-Haenszel in RevMan's convention (RevMan's default for dichotomous data; Tang 2024
states RevMan 5.4); ``random`` -> DerSimonian-Laird (RevMan's random-effects estimator); ``unknown`` (Yao 2022) ->
RevMan-style Mantel-Haenszel, because the reported heterogeneity P = 0.998 is of a fixed-effect analysis and the
full text was not reachable (an assumption, stated in the row); ``single trial`` -> the trial's own odds ratio.
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from models.effects import escalc
from models.frequentist.pooling import pool
from models.frequentist.result import PooledResult
from models.msc.datasets import AnalysisSet, Dataset

CLOSE_LOG_TOLERANCE = 0.1
"""Largest |log(ours / published)| of estimate and both limits for a ``close`` status (about 10%)."""

SUBGROUP_FILTERS: dict[tuple[str, str], tuple[str, str, object]] = {
    ("yao2022", "mortality_severe"): ("mortality", "severity_class", ("severe", "severe-critical")),
    ("yao2022", "mortality_critical"): ("mortality", "severity_class", ("critical",)),
    ("yao2022", "mortality_1_dose"): ("mortality", "n_infusions", (1,)),
    ("yao2022", "mortality_2_doses"): ("mortality", "n_infusions", (2,)),
    ("yao2022", "mortality_3_doses"): ("mortality", "n_infusions", (3,)),
    ("scrt2026", "mortality_severe_critical"): ("mortality", "includes_moderate", (False,)),
    ("scrt2026", "mortality_moderate_included"): ("mortality", "includes_moderate", (True,)),
}
"""Subgroup analyses whose candidate set is the parent analysis's, restricted by one study covariate.

The papers' own subgroup lists are unknown; these filters are our reading of the subgroup labels (Yao 2022
"severe"/"critical" by the studies' severity class, with severe-critical studies counted as severe; dose by number
of infusions; SCRT 2026 "studies including moderate cases" by the includes_moderate flag).
"""

METHOD_BY_MODEL = {"fixed": "MH-RevMan", "random": "DL", "unknown": "MH-RevMan"}

STATUSES = ("reproduced", "close", "not reproducible")


@dataclass(frozen=True)
class Recomputation:
    """Our recomputation of one published analysis (None fields: nothing could be recomputed)."""

    studies_requested: tuple[str, ...]
    studies_missing: tuple[str, ...]
    method: str | None
    result: PooledResult | None
    set_known: bool


def method_for(model: str, measure: str) -> str | None:
    """The pooling method that matches a paper's stated model, or None when we cannot recompute that kind."""
    if measure not in ("OR", "RR"):
        return None
    if model.startswith("fixed"):
        return "MH-RevMan"
    if model.startswith("single trial"):
        return "single"
    return METHOD_BY_MODEL.get(model)


def _study_set(dataset: Dataset, aset: AnalysisSet) -> tuple[tuple[str, ...], bool]:
    """The studies to recompute on, and whether they are the paper's own list."""
    key = (aset.document, aset.analysis)
    if key in SUBGROUP_FILTERS:
        parent_analysis, column, values = SUBGROUP_FILTERS[key]
        parent = dataset.analysis_set(aset.document, parent_analysis)
        covariates = dataset.covariates(parent.best_studies)
        keep = covariates[column].isin(list(values))
        return tuple(covariates.index[keep]), False
    return aset.best_studies, bool(aset.studies)


def recompute(dataset: Dataset, document: str, analysis: str) -> Recomputation:
    """Recompute one published analysis on its (reconstructed) study set with the paper's method."""
    aset = dataset.analysis_set(document, analysis)
    published = dataset.published_result(document, analysis)
    method = method_for(str(published["model"]), str(published["measure"]))
    studies, set_known = _study_set(dataset, aset)
    if method is None or not studies:
        return Recomputation(studies, (), method, None, set_known)
    outcome = aset.outcome
    timepoint = None
    if method == "single":
        rows = dataset.outcomes[(dataset.outcomes["outcome"] == outcome) & dataset.outcomes["study_id"].isin(studies)]
        if rows.empty:
            return Recomputation(studies, (), None, None, set_known)
        timepoint = str(rows["timepoint"].iloc[0])
    elif outcome == "clinical_improvement":
        timepoint = aset.timepoint_rule
    try:
        table, missing = dataset.binary_table(outcome, studies, timepoint=timepoint)
    except (KeyError, ValueError):
        return Recomputation(studies, studies, method, None, set_known)
    measure = str(published["measure"])
    if method == "single":
        effects = escalc(table, "OR", correction="only0")
        result = pool(table, "OR", "IV") if effects.k == 1 else None
        return Recomputation(studies, missing, "study OR (Wald)", result, set_known)
    return Recomputation(studies, missing, method, pool(table, measure, method), set_known)


def _reported(result: PooledResult) -> tuple[float, float, float]:
    f = math.exp if result.is_ratio else float
    return f(result.estimate), f(result.ci_low), f(result.ci_high)


def classify(
    published: tuple[float, float, float], ours: tuple[float, float, float], set_known: bool, complete: bool
) -> str:
    """Status of a recomputation (see the module docstring); NaN published limits are not compared."""
    pairs = [(p, o) for p, o in zip(published, ours, strict=True) if not math.isnan(p)]
    if not set_known or not pairs:
        return "not reproducible"
    if complete and all(round(o, 2) == round(p, 2) for p, o in pairs):
        return "reproduced"
    if all(p > 0 and o > 0 and abs(math.log(o / p)) <= CLOSE_LOG_TOLERANCE for p, o in pairs):
        return "close"
    return "not reproducible"


def _reason(aset: AnalysisSet, rec: Recomputation, status: str) -> str:
    parts: list[str] = []
    if rec.result is None and rec.method is None:
        parts.append("no study-level data of this kind (continuous outcome, or summary figures only)")
    if not rec.set_known:
        parts.append("study list not published" + ("; candidate set used" if rec.studies_requested else ""))
    if rec.studies_missing:
        n_set = len(rec.studies_requested)
        parts.append(f"{len(rec.studies_missing)} of {n_set} studies lack counts ({', '.join(rec.studies_missing)})")
    if rec.set_known and not rec.studies_missing and status != "reproduced" and rec.result is not None:
        parts.append("numbers differ with the paper's study list and method")
    if aset.note:
        parts.append(aset.note)
    return "; ".join(parts)


@dataclass(frozen=True)
class Reproduction:
    """One published pooled result beside our recomputation (a row of ``reproduction.csv``; reported scale).

    ``published_i2`` (percent) and ``published_k`` are NaN where the paper gave none; the ``recomputed_*`` fields
    and ``difference`` (recomputed minus published estimate) are NaN where nothing could be recomputed.
    """

    document: str
    analysis: str
    measure: str
    published_model: str
    published_estimate: float
    published_ci_low: float
    published_ci_high: float
    published_i2: float
    published_k: float
    method: str
    k_used: int
    studies_used: str
    studies_missing: str
    recomputed_estimate: float
    recomputed_ci_low: float
    recomputed_ci_high: float
    recomputed_i2: float
    recomputed_q_p: float
    difference: float
    status: str
    reason: str


def reproduce(dataset: Dataset, document: str, analysis: str) -> Reproduction:
    """The reproduction record of one published analysis."""
    aset = dataset.analysis_set(document, analysis)
    pub = dataset.published_result(document, analysis)
    rec = recompute(dataset, document, analysis)
    published = (float(pub["estimate"]), float(pub["ci_low"]), float(pub["ci_high"]))
    ours = _reported(rec.result) if rec.result is not None else (np.nan, np.nan, np.nan)
    if rec.result is not None:
        status = classify(published, ours, rec.set_known, not rec.studies_missing)
        difference = ours[0] - published[0] if not math.isnan(published[0]) else np.nan
    else:
        status, difference = "not reproducible", np.nan
    return Reproduction(
        document=document, analysis=analysis, measure=pub["measure"], published_model=pub["model"],
        published_estimate=published[0], published_ci_low=published[1], published_ci_high=published[2],
        published_i2=pub["i2_percent"], published_k=pub["k_studies"], method=rec.method or "",
        k_used=rec.result.k if rec.result is not None else 0,
        studies_used=";".join(s for s in rec.studies_requested if s not in rec.studies_missing),
        studies_missing=";".join(rec.studies_missing), recomputed_estimate=ours[0], recomputed_ci_low=ours[1],
        recomputed_ci_high=ours[2], recomputed_i2=rec.result.i2 if rec.result is not None else np.nan,
        recomputed_q_p=rec.result.q_p if rec.result is not None else np.nan, difference=difference, status=status,
        reason=_reason(aset, rec, status),
    )  # fmt: skip


def reproduction_table(dataset: Dataset) -> tuple[Reproduction, ...]:
    """One record per published result: published vs recomputed, difference, status and reason."""
    return tuple(
        reproduce(dataset, str(d), str(a))
        for d, a in zip(dataset.published["document"], dataset.published["analysis"], strict=True)
    )


def reproduction_frame(records: tuple[Reproduction, ...]) -> pd.DataFrame:
    """The records as ``reproduction.csv``'s table (one column per field, in field order)."""
    return pd.DataFrame([asdict(r) for r in records])


def _fmt_ci(est: float, low: float, high: float) -> str:
    if math.isnan(est):
        return "–"
    if math.isnan(low):
        return f"{est:.2f}"
    return f"{est:.2f} [{low:.2f}, {high:.2f}]"


def _cell(value: object) -> str:
    """A Markdown table cell: HTML special characters of the data's notes escaped (no markup passes through),
    pipes escaped, line breaks folded."""
    return html.escape(" ".join(str(value).split()), quote=False).replace("|", "\\|")


def reproduction_markdown(records: tuple[Reproduction, ...]) -> str:
    """The records as Markdown for ``results/reproduction.md`` (counts by status first)."""
    counts = {s: sum(r.status == s for r in records) for s in STATUSES}
    lines = [
        "# Reproduction of the published pooled results",
        "",
        "Status counts: " + ", ".join(f"{s}: {counts[s]}" for s in STATUSES) + ".",
        "",
        "Recomputed values use the paper's study list where it is known, else the best candidate set (shown for",
        "information only), and the paper's method (see `models/reproduction.py` for the mapping).",
        "",
        "| document | analysis | measure | published | recomputed | method | k used | status | reason |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        pub = _fmt_ci(r.published_estimate, r.published_ci_low, r.published_ci_high)
        ours = _fmt_ci(r.recomputed_estimate, r.recomputed_ci_low, r.recomputed_ci_high)
        if not math.isnan(r.recomputed_i2):
            ours += f", I² {r.recomputed_i2:.0f}%"
        if not pd.isna(r.published_i2):
            pub += f", I² {r.published_i2:.0f}%"
        cells = [r.document, r.analysis, r.measure, pub, ours, r.method, r.k_used, r.status, r.reason]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
