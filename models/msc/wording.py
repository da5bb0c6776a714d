"""Words for readers in place of the data's identifiers: study labels ("Shu 2020"), document names ("Tang 2024"),
analysis names ("mortality, severe patients"), and free text from the data with its study ids replaced.

The data key studies by ``study_id`` (``shu2020``) and analyses by ``document``/``analysis`` (``tang2024``,
``clinical_improvement_d7``); the report shows none of these. Study labels come from the data
(:meth:`models.msc.datasets.Dataset.label`); analysis names from ``published.csv``'s ``outcome`` and ``subgroup``
columns; document names from :data:`DOCUMENT_NAMES` (the data hold no short name for a document).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from models.msc.datasets import Dataset

DOCUMENT_NAMES = {
    "scrt2026": "SCRT 2026",
    "yao2022": "Yao 2022",
    "tang2024": "Tang 2024",
    "qin2024": "Qin 2024",
    "crosscheck_scrt2023": "Stem Cell Res Ther 2023 cross-check",
    "crosscheck_kirkham2022": "Kirkham 2022 living review (cross-check)",
    "shi_followup_3y": "Shi 2021 trial, 3-year follow-up",
    "wjsc2025": "World J Stem Cells 2025",
    "evidence_base": "evidence base",
}
"""Short names of the documents of data/README.md (``scrt2026`` is the Stem Cell Res Ther 2026 meta-analysis)."""

_ID = re.compile(r"\b[a-z][a-z_]*\d{4}[a-z0-9_]*\b")


def document_name(document: str) -> str:
    """A document's short name ('tang2024' -> 'Tang 2024'); an unknown id 'name2024' reads 'Name 2024'."""
    if document in DOCUMENT_NAMES:
        return DOCUMENT_NAMES[document]
    found = re.fullmatch(r"([a-z]+)(\d{4})", document)
    return f"{found.group(1).capitalize()} {found.group(2)}" if found else document.replace("_", " ")


def analysis_name(dataset: Dataset, document: str, analysis: str) -> str:
    """An analysis in words from published.csv ('mortality_severe' -> 'in-hospital mortality, severe'); analyses the
    file does not hold read as their id with spaces and days spelled out ('mortality_d28' -> 'mortality day 28')."""
    pub = dataset.published
    hit = pub[(pub["document"] == document) & (pub["analysis"] == analysis)]
    if not hit.empty:
        outcome, subgroup = str(hit["outcome"].iloc[0]), str(hit["subgroup"].iloc[0])
        return outcome if subgroup in ("all", "", "nan") else f"{outcome}, {subgroup}"
    return re.sub(r"\bd(\d+)\b", r"day \1", analysis.replace("_", " "))


def set_name(dataset: Dataset, key: str) -> str:
    """A study set or published analysis ``document/analysis`` in words ('Tang 2024: mortality')."""
    document, _, analysis = key.partition("/")
    return f"{document_name(document)}: {analysis_name(dataset, document, analysis.split('/')[0])}"


def study_names(dataset: Dataset, studies: Iterable[str]) -> str:
    """Study labels joined by commas ('Shu 2020, Shi 2021'); an entry that is not a study id is kept as it is."""
    known = set(dataset.studies.index)
    return ", ".join(dataset.label(s) if s in known else s for s in studies)


def readable(dataset: Dataset, text: str) -> str:
    """Free text from the data or the run with every study id and document id replaced by its name for readers
    ('wei2021 deaths are unknown' -> 'Wei 2021 deaths are unknown'); other words are left as they are."""
    studies = set(dataset.studies.index)

    def name(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in studies:
            return dataset.label(token)
        if token in DOCUMENT_NAMES:
            return DOCUMENT_NAMES[token]
        return token

    return _ID.sub(name, text)


def yes_no(value: bool | None) -> str:
    """'yes' / 'no' for a flag ('–' when unknown)."""
    return "–" if value is None else ("yes" if value else "no")
