"""Outcome labels to Turner et al. 2015's outcome types: labels from Cochrane analyses, classified by hand."""

from __future__ import annotations

import pytest

from models.batch.outcome_types import RULES, outcome_type
from models.cochrane_references import OUTCOME_TYPES

BY_HAND = {
    "All-cause mortality": "all_cause_mortality",
    "Death from any cause by day 90": "all_cause_mortality",
    "Mortality within 90 days": "all_cause_mortality",
    "Cardiovascular death": "cause_specific_mortality_morbidity",
    "Non-vertebral fractures": "cause_specific_mortality_morbidity",
    "Ischemic stroke": "cause_specific_mortality_morbidity",
    "Neonatal death (baby born alive at any gestation and dies within 28 days)": "obstetric",
    "Caesarean section": "obstetric",
    "PPH >= 500 mL": "obstetric",
    "Withdrawal due to adverse events": "withdrawals",
    "Dropouts": "withdrawals",
    "Serious adverse events": "adverse_events",
    "Constipation": "adverse_events",
    "Surgical site infection": "infection_onset",
    "Reoperations": "resource_use",
    "Unplanned hospital admissions": "resource_use",
    "Macular hole closure": "surgical_device",
    "Painful intercourse - de novo dyspareunia": "pain",
    "Functional independence (mRS 0-2) at 90 days": "quality_of_life",
    "Recurrence rate": "signs_symptoms",
    "Liver enzymes elevation": "biological_markers",
    "Patient satisfaction: delayed versus no antibiotics": "subjective",
    "Alendronate vs Other active agent, Secondary": None,
    "Sensitivity analyses": None,
}


@pytest.mark.parametrize(("label", "expected"), BY_HAND.items())
def test_label_gets_the_hand_classified_type(label: str, expected: str | None) -> None:
    assert outcome_type(label) == expected


def test_every_rule_names_a_turner_outcome_type() -> None:
    assert {key for key, _ in RULES} <= set(OUTCOME_TYPES)
