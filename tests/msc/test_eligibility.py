"""The inclusion rules applied to the data: cell products only, COVID-19 patients only, no hand-made list.

References: Lightner 2023 (Chest; ExoFlo extracellular vesicles, abstract at digitalcommons.providence.org/7701);
the STAT trial (NCT03818854, ARDS of any cause, registry results posted 2025-12-04); World J Stem Cells 2025 Table 1
(its list of included trials).
"""

import pandas as pd
import pytest

from models.msc.datasets import load_dataset
from models.msc.eligibility import RULE_CELL_PRODUCT, RULE_COVID_POPULATION, exclusions


@pytest.fixture(scope="module")
def data():
    return load_dataset()


def test_real_exclusions_name_rule_and_reason(data):
    found = {e.study_id: e for e in data.exclusions()}
    assert set(found) == {"lightner2023", "matthay2025"}
    assert found["lightner2023"].rule == RULE_CELL_PRODUCT and "extracellular vesicles" in found["lightner2023"].reason
    assert found["matthay2025"].rule == RULE_COVID_POPULATION and "ARDS of any cause" in found["matthay2025"].reason
    assert found["lightner2023"].label == "Lightner 2023"


def test_eligible_studies_are_the_rest_in_file_order(data):
    eligible = data.eligible_studies()
    assert len(eligible) == len(data.studies) - 2
    assert list(eligible) == [s for s in data.studies.index if s not in ("lightner2023", "matthay2025")]


def test_every_entry_of_a_source_list_is_in_the_data_or_excluded(data):
    # WJSC 2025 Table 1: 11 readable rows; 3 are follow-up reports of trials already in the data.
    entries = data.source_list("wjsc2025")
    assert len(entries) == 11
    excluded = {e.study_id for e in data.exclusions()}
    eligible = set(data.eligible_studies())
    assert all(e.study_id in eligible | excluded for e in entries)
    follow_ups = {e.report_id: e.study_id for e in entries if e.is_follow_up}
    assert follow_ups == {"shi2022": "shi2021", "li2023": "shi2021", "sitbon2024": "monsel2022"}
    with pytest.raises(KeyError, match="no list of 'nobody2025'"):
        data.source_list("nobody2025")


def test_follow_up_reports_are_not_studies(data):
    assert {r.report_id for r in data.reports_list("shi2021")} == {"shi2022", "li2023", "shi2025"}
    assert not {r.report_id for r in data.reports_list()} & set(data.studies.index)


def _frames(product: str, population: str, row_population: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    studies = pd.DataFrame({"product": [product], "population": [population]}, index=pd.Index(["x2020"]))
    outcomes = pd.DataFrame({"study_id": ["x2020"] * 2, "outcome": ["mortality"] * 2, "variant": ["primary"] * 2,
                             "population": [row_population] * 2})  # fmt: skip
    return studies, outcomes


@pytest.mark.parametrize(
    ("product", "population", "row_population", "rule"),
    [
        ("cells", "covid-19", "covid-19", None),
        ("secretome", "covid-19", "covid-19", RULE_CELL_PRODUCT),
        ("cells", "ards-any-cause", "ards-any-cause", RULE_COVID_POPULATION),
        ("cells", "ards-any-cause", "covid-19", None),  # the COVID-19 subgroup's counts: the trial enters
        ("exosomes", "ards-any-cause", "covid-19", RULE_CELL_PRODUCT),  # the first rule that excludes it
    ],
)
def test_rules_read_the_columns(product, population, row_population, rule):
    studies, outcomes = _frames(product, population, row_population)
    found = exclusions(studies, outcomes, {"x2020": "X 2020"})
    assert [e.rule for e in found] == ([] if rule is None else [rule])
