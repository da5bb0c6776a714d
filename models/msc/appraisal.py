"""Study characteristics and risk of bias, per study, as a systematic reviewer tabulates them.

:func:`study_characteristics` assembles the characteristics table from ``studies.csv`` and each study's primary
mortality rows (design, blinding, control, cell source, dose and infusions, severity, the time point of the death
count, country, patients per arm), each with its source locator; a value that was not found is an empty string
(the report prints "not reported"), never a guess.

``risk_of_bias.csv`` holds the judgements a source gives (RoB 2 domains for randomised trials, ROBINS-I domains for
non-randomised studies), each graded: ``S`` for a review's judgement, ``INF`` for a judgement this project derived
from stated facts (its reasoning in ``note``). :func:`risk_of_bias_table` returns every domain of every study's tool,
``not assessed`` where no source gives a judgement. Loading validates the file (:func:`load_risk_of_bias`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.validation import (
    check_grades,
    check_labels,
    check_present,
    check_references,
    check_unique,
    fail_where,
    grade_is_not_found,
    read_table,
)

RISK_OF_BIAS = "risk_of_bias.csv"
ROB_COLUMNS = ("study_id", "tool", "domain", "judgement", "grade", "assessor", "source", "note")
ROB2, ROBINS_I = "RoB 2", "ROBINS-I"
TOOL_OF_DESIGN = {"RCT": ROB2, "NRS": ROBINS_I}
DOMAINS = {
    ROB2: (
        "randomisation process",
        "deviations from intended interventions",
        "missing outcome data",
        "measurement of the outcome",
        "selection of the reported result",
        "overall",
    ),
    ROBINS_I: (
        "confounding",
        "selection of participants",
        "classification of interventions",
        "deviations from intended interventions",
        "missing data",
        "measurement of outcomes",
        "selection of the reported result",
        "overall",
    ),
}
"""The domains of each tool, in the tool's order (Sterne et al. BMJ 2019;366:l4898; BMJ 2016;355:i4919)."""
JUDGEMENTS = {
    ROB2: ("low", "some concerns", "high"),
    ROBINS_I: ("low", "moderate", "serious", "critical", "no information"),
}
NOT_ASSESSED = "not assessed"
NOT_FOUND = "NF"


@dataclass(frozen=True)
class RiskOfBias:
    """One domain of one study: the judgement, who made it, its grade and locator ('not assessed': none found)."""

    study_id: str
    label: str
    tool: str
    domain: str
    judgement: str
    grade: str
    assessor: str
    source: str
    note: str

    @property
    def assessed(self) -> bool:
        """True when a source (or this project, graded INF) gives a judgement for the domain."""
        return self.judgement != NOT_ASSESSED


@dataclass(frozen=True)
class StudyCharacteristics:
    """The characteristics a reviewer tabulates for one study; '' = not reported (never a guess).

    ``mortality_timepoint`` is the structured time point of the primary death count (e.g. ``day 28``,
    ``in hospital``); ``n_msc``/``n_control`` the patients per arm of that count (None when unknown).
    ``source`` locates the study row of ``studies.csv``; ``mortality_source`` the death count's row.
    """

    study_id: str
    label: str
    design: str
    blinding: str
    control: str
    cell_source: str
    dose_per_infusion: str
    infusions: str
    severity: str
    product: str
    population: str
    mortality_timepoint: str
    country: str
    n_msc: int | None
    n_control: int | None
    source: str
    mortality_source: str


def study_label(first_author: str, year: int) -> str:
    """'Author Year' for a reader: the surname without initials or a bracketed remark ('Shu L' -> 'Shu 2020')."""
    name = re.sub(r"\s*\(.*\)\s*$", "", first_author).strip()
    parts = name.split()
    if len(parts) > 1 and re.fullmatch(r"[A-Z][A-Z-]*", parts[-1]):
        parts = parts[:-1]
    return f"{' '.join(parts)} {year}"


def timepoint_text(days: float, klass: str) -> str:
    """A structured time point in words: 'day 28', 'in hospital', 'end of follow-up (day 120)', 'not stated'."""
    known = not (isinstance(days, float) and math.isnan(days))
    if klass == "day":
        return f"day {int(days)}"
    words = {"in-hospital": "in hospital", "icu": "in the ICU"}.get(klass, klass)
    return f"{words} (day {int(days)})" if known else words


def _reported(value: object) -> str:
    """The text of a study field, '' when it was not found (``NF``)."""
    text = "" if value is None else str(value).strip()
    return "" if text == NOT_FOUND or text.startswith(NOT_FOUND + " ") else text


def study_characteristics(
    studies: pd.DataFrame, outcomes: pd.DataFrame, labels: dict[str, str]
) -> tuple[StudyCharacteristics, ...]:
    """One record per study of ``studies`` (indexed by study_id), in file order, from its primary mortality rows."""
    mortality = outcomes[(outcomes["outcome"] == "mortality") & (outcomes["variant"] == "primary")]
    out = []
    for sid, s in studies.iterrows():
        rows = mortality[mortality["study_id"] == sid]
        msc, ctl = rows[rows["arm"] == "msc"], rows[rows["arm"] == "control"]
        n_msc = None if msc.empty or pd.isna(msc["total"].iloc[0]) else int(msc["total"].iloc[0])
        n_ctl = None if ctl.empty or pd.isna(ctl["total"].iloc[0]) else int(ctl["total"].iloc[0])
        when = "" if rows.empty else timepoint_text(rows["timepoint_days"].iloc[0], rows["timepoint_class"].iloc[0])
        out.append(
            StudyCharacteristics(
                study_id=sid,
                label=labels[sid],
                design=str(s["design"]) + (" (design contested)" if bool(s["design_contested"]) else ""),
                blinding=_reported(s["blinding"]),
                control=_reported(s["control"]),
                cell_source=_reported(s["msc_source"]),
                dose_per_infusion=_reported(s["cells_per_infusion"]),
                infusions=_reported(s["n_infusions_reported"]),
                severity=_reported(s["severity_reported"]),
                product=str(s["product"]),
                population=str(s["population"]),
                mortality_timepoint="" if when == "not stated" else when,
                country=_reported(s["country"]),
                n_msc=n_msc,
                n_control=n_ctl,
                source=str(s["source"]),
                mortality_source="" if rows.empty else str(rows["source"].iloc[0]),
            )
        )
    return tuple(out)


def load_risk_of_bias(directory: Path, studies: pd.DataFrame) -> pd.DataFrame:
    """Read and validate ``risk_of_bias.csv`` against ``studies`` (indexed by study_id, with ``design``).

    Rules: the study exists; the tool is the one of its design (RoB 2 for RCT, ROBINS-I for NRS); the domain and
    judgement belong to that tool; one row per (study, domain); a row is a judgement found, so its grade is never NF;
    a judgement derived here (grade with INF) says its reasoning in ``note``; assessor and source are given.
    """
    f = RISK_OF_BIAS
    raw = read_table(directory / f, ROB_COLUMNS)
    check_references(raw, f, "study_id", studies.index, "studies.csv")
    check_labels(raw, f, "tool", tuple(DOMAINS))
    expected = raw["study_id"].map(studies["design"]).map(TOOL_OF_DESIGN)
    fail_where(
        raw["tool"] != expected,
        f,
        "tool",
        lambda i: (
            f"{raw['study_id'].iloc[i]!r} is {studies.loc[raw['study_id'].iloc[i], 'design']} in studies.csv, "
            f"so its tool is {expected.iloc[i]}, not {raw['tool'].iloc[i]}"
        ),
    )
    for column, allowed in (("domain", DOMAINS), ("judgement", JUDGEMENTS)):
        check_present(raw, f, column)
        fail_where(
            ~pd.Series([v in allowed[t] for v, t in zip(raw[column], raw["tool"], strict=True)]),
            f,
            column,
            lambda i, c=column, a=allowed: (
                f"{raw[c].iloc[i]!r} is not a {c} of {raw['tool'].iloc[i]} "
                f"(allowed: {', '.join(a[raw['tool'].iloc[i]])})"
            ),
        )
    check_unique(raw, f, ("study_id", "domain"))
    check_grades(raw, f, "grade")
    fail_where(
        grade_is_not_found(raw["grade"]),
        f,
        "grade",
        lambda _: "a row is a judgement that was found: leave the domain out instead of grading it NF",
    )
    fail_where(
        raw["grade"].str.contains("INF") & raw["note"].isna(),
        f,
        "note",
        lambda _: "a judgement derived here (grade INF) needs its reasoning in note",
    )
    for column in ("assessor", "source"):
        check_present(raw, f, column)
    return raw.fillna("")


def risk_of_bias_table(
    studies: pd.DataFrame, judgements: pd.DataFrame, labels: dict[str, str]
) -> tuple[RiskOfBias, ...]:
    """Every domain of every study's tool (studies in file order, domains in the tool's order); 'not assessed' where
    ``judgements`` has no row."""
    found = {(r["study_id"], r["domain"]): r for _, r in judgements.iterrows()}
    out = []
    for sid, s in studies.iterrows():
        tool = TOOL_OF_DESIGN[str(s["design"])]
        for domain in DOMAINS[tool]:
            r = found.get((sid, domain))
            if r is None:
                out.append(RiskOfBias(sid, labels[sid], tool, domain, NOT_ASSESSED, "", "", "", ""))
            else:
                out.append(RiskOfBias(sid, labels[sid], tool, domain, str(r["judgement"]), str(r["grade"]),
                                      str(r["assessor"]), str(r["source"]), str(r["note"])))  # fmt: skip
    return tuple(out)
