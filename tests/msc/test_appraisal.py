"""Study characteristics and risk-of-bias tables from data/.

References for the judgements: COVID-NMA living review pages (covid-nma.com/living_data, RoB 2 per trial:
shu2020 overall some concerns, i=100; lanzoni2021 randomisation low, i=227; monsel2022 overall low, i=648).
"""

import pytest

from models.msc.appraisal import DOMAINS, NOT_ASSESSED, ROB2, ROBINS_I, study_label, timepoint_text
from models.msc.datasets import load_dataset


@pytest.fixture(scope="module")
def data():
    return load_dataset()


def test_characteristics_one_per_study_with_arm_sizes_and_time_point(data):
    rows = {c.study_id: c for c in data.study_characteristics()}
    assert list(rows) == list(data.studies.index)
    bowdish = rows["bowdish2023"]  # PMC9896641 Table 2: 112 vs 110, deaths by day 30
    assert (bowdish.n_msc, bowdish.n_control, bowdish.mortality_timepoint) == (112, 110, "day 30")
    assert bowdish.label == "Bowdish 2023" and bowdish.country == "USA"
    assert rows["martinezmunoz2024"].dose_per_infusion == ""  # NF in studies.csv: printed 'not reported'
    assert rows["wei2021"].mortality_timepoint == ""  # not stated
    assert rows["shu2020"].design == "RCT (design contested)"


def test_risk_of_bias_grid_has_every_domain_of_the_study_tool(data):
    table = data.risk_of_bias_table()
    n_rct = int((data.studies.design == "RCT").sum())
    n_nrs = len(data.studies) - n_rct
    assert len(table) == n_rct * len(DOMAINS[ROB2]) + n_nrs * len(DOMAINS[ROBINS_I])
    by = {(r.study_id, r.domain): r for r in table}
    assert by[("monsel2022", "overall")].judgement == "low" and by[("monsel2022", "overall")].grade == "S"
    assert by[("lanzoni2021", "randomisation process")].judgement == "low"
    assert by[("shu2020", "overall")].judgement == "some concerns"
    assert by[("adas2021", "confounding")].judgement == NOT_ASSESSED  # NRS: no ROBINS-I judgement found
    derived = by[("zhu2021", "measurement of the outcome")]
    assert derived.grade == "INF" and "all-cause death" in derived.note


def test_every_assessed_cell_has_a_locator(data):
    assessed = [r for r in data.risk_of_bias_table() if r.assessed]
    assert assessed and all(r.source and r.assessor and r.grade for r in assessed)


@pytest.mark.parametrize(
    ("author", "year", "label"),
    [("Shu L", 2020, "Shu 2020"), ("Martínez-Muñoz ME", 2024, "Martínez-Muñoz 2024"),
     ("Kaffash Farkhad N", 2022, "Kaffash Farkhad 2022"),
     ("Matthay MA (principal investigator)", 2025, "Matthay 2025")],
)  # fmt: skip
def test_study_label(author, year, label):
    assert study_label(author, year) == label


def test_timepoint_text():
    assert timepoint_text(28.0, "day") == "day 28"
    assert timepoint_text(float("nan"), "in-hospital") == "in hospital"
    assert timepoint_text(120.0, "end of follow-up") == "end of follow-up (day 120)"
