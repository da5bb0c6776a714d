"""The report's section on the studies themselves, as a systematic reviewer tabulates them: characteristics, risk of
bias per domain, and the studies the inclusion rules leave out with their reasons.

Everything comes from the data through the dataset's accessors (:meth:`Dataset.study_characteristics`,
:meth:`Dataset.risk_of_bias_table`, :meth:`Dataset.exclusions`); a value that was not found prints as "not
reported", a risk-of-bias domain no source judged as "not assessed".
"""

from __future__ import annotations

import pandas as pd

from models.msc.appraisal import DOMAINS, ROB2, ROBINS_I
from models.msc.datasets import Dataset
from models.report.document import Report

NOT_REPORTED = "not reported"
POPULATIONS = {"covid-19": "COVID-19", "ards-any-cause": "ARDS of any cause (COVID-19 among others)"}
"""The data's population labels in words."""

SHORT_DOMAINS = {
    "randomisation process": "Randomisation",
    "deviations from intended interventions": "Deviations from intended interventions",
    "missing outcome data": "Missing outcome data",
    "measurement of the outcome": "Measurement of the outcome",
    "selection of the reported result": "Selection of the reported result",
    "overall": "Overall",
    "confounding": "Confounding",
    "selection of participants": "Selection of participants",
    "classification of interventions": "Classification of interventions",
    "missing data": "Missing data",
    "measurement of outcomes": "Measurement of outcomes",
}
"""Column headers of the risk-of-bias tables (the tools' domain names, capitalised)."""


def _text(value: str) -> str:
    return value if value else NOT_REPORTED


def characteristics(dataset: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two tables of study characteristics, one row per study: design and patients, and the intervention."""
    design, intervention = [], []
    for c in dataset.study_characteristics():
        patients = (f"{c.n_msc} / {c.n_control}" if c.n_msc is not None and c.n_control is not None
                    else NOT_REPORTED)  # fmt: skip
        design.append({
            "Study": c.label, "Design": c.design, "Blinding": _text(c.blinding), "Control": _text(c.control),
            "Severity": _text(c.severity), "Country": _text(c.country), "Patients, MSC / control": patients,
            "Deaths counted at": _text(c.mortality_timepoint),
        })  # fmt: skip
        intervention.append({
            "Study": c.label, "Product": c.product, "Cell source": _text(c.cell_source),
            "Dose per infusion": _text(c.dose_per_infusion), "Infusions": _text(c.infusions),
            "Population": POPULATIONS.get(c.population, c.population),
        })  # fmt: skip
    return pd.DataFrame(design), pd.DataFrame(intervention)


def risk_of_bias(dataset: Dataset, tool: str) -> pd.DataFrame:
    """One row per study assessed with ``tool`` (RoB 2: randomised trials; ROBINS-I: non-randomised studies), one
    column per domain; 'not assessed' where no source gives a judgement."""
    rows: dict[str, dict[str, str]] = {}
    for r in dataset.risk_of_bias_table():
        if r.tool == tool:
            rows.setdefault(r.label, {"Study": r.label})[SHORT_DOMAINS[r.domain]] = r.judgement
    return pd.DataFrame(list(rows.values()), columns=["Study", *(SHORT_DOMAINS[d] for d in DOMAINS[tool])])


def _assessors(dataset: Dataset) -> str:
    """Who judged what, from the judgements found ('COVID-NMA living review ...: overall for Shu 2020, ...')."""
    by: dict[str, dict[str, list[str]]] = {}
    for r in dataset.risk_of_bias_table():
        if r.assessed:
            by.setdefault(r.assessor, {}).setdefault(r.domain, []).append(r.label)
    parts = []
    for assessor, domains in by.items():
        what = "; ".join(
            f"{domain} for {', '.join(labels) if len(labels) < 6 else f'all {len(labels)} randomised trials'}"
            for domain, labels in domains.items()
        )
        parts.append(f"{assessor}: {what}")
    return ". ".join(parts)


def studies_section(report: Report, dataset: Dataset) -> None:
    """Characteristics, risk of bias and exclusions of every study in the data."""
    report.add_heading("The studies", 2)
    design, intervention = characteristics(dataset)
    report.add_paragraph(
        f"{len(design)} studies: {int((dataset.studies['design'] == 'RCT').sum())} randomised trials and "
        f"{int((dataset.studies['design'] == 'NRS').sum())} non-randomised studies (NRS), as the sources classify "
        "them. Values are as reported; a value no source gives reads 'not reported'. Every value has a source "
        "locator in the data."
    )
    report.add_table(design, caption="Study characteristics: design and patients (patients per arm of the death "
                     "count; the time point of that count)", index=False)  # fmt: skip
    report.add_table(intervention, caption="Study characteristics: the intervention (doses as reported)",
                     index=False)  # fmt: skip
    report.add_heading("Risk of bias", 3)
    report.add_paragraph(
        "Cochrane RoB 2 domains for the randomised trials and ROBINS-I domains for the non-randomised studies; a "
        "domain no source judged is 'not assessed' (the certainty rules then read the trial's blinding instead). "
        "Judgements found: " + _assessors(dataset) + "."
    )
    report.add_table(risk_of_bias(dataset, ROB2), caption="Risk of bias of the randomised trials (RoB 2)",
                     index=False)  # fmt: skip
    report.add_table(risk_of_bias(dataset, ROBINS_I), caption="Risk of bias of the non-randomised studies "
                     "(ROBINS-I)", index=False)  # fmt: skip
    excluded = dataset.exclusions()
    if excluded:
        report.add_heading("Studies left out", 3)
        report.add_paragraph(
            "The inclusion rules (cell products only; COVID-19 patients only, or the COVID-19 subgroup of a wider "
            "trial; for multi-arm trials the arm given MSC cells alone) leave out:"
        )
        report.add_table(pd.DataFrame([{"Study": e.label, "Rule": e.rule, "Reason": e.reason[0].upper() + e.reason[1:]}
                                       for e in excluded]), caption="Studies excluded, with the rule and the reason",
                         index=False)  # fmt: skip
