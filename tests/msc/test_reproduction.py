"""The reproduction table against the published numbers it must (and must not) reproduce.

References: Stem Cell Res Ther 2023 meta-analysis (doi 10.1186/s13287-023-03286-8) RR 0.58 [0.38, 0.87], I2 0%;
Tang et al. 2024 (J Transl Med 22:550) clinical improvement day 7 RR 1.46 [1.17, 1.83], I2 84% and mortality RR
0.76 [0.60, 0.96]; the 3-year follow-up of Shi 2021 (Stem Cell Res Ther 2025) OR 1.68 for a normal chest CT.
"""

import math

import pytest

from models.msc.datasets import load_dataset
from models.msc.reproduction import classify, reproduction_frame, reproduction_markdown, reproduction_table


@pytest.fixture(scope="module")
def records():
    return reproduction_table(load_dataset())


@pytest.fixture(scope="module")
def table(records):
    return reproduction_frame(records).set_index(["document", "analysis"])


def test_every_published_row_has_a_status_and_reason(table):
    dataset = load_dataset()
    assert len(table) == len(dataset.published)
    assert set(table["status"]) <= {"reproduced", "close", "not reproducible"}
    assert (table.loc[table["status"] != "reproduced", "reason"].str.len() > 0).all()


def test_crosscheck_scrt2023_is_reproduced_to_the_published_digits(table):
    row = table.loc[("crosscheck_scrt2023", "mortality")]
    assert row["status"] == "reproduced"
    assert (round(row["recomputed_estimate"], 2), round(row["recomputed_ci_low"], 2),
            round(row["recomputed_ci_high"], 2)) == (0.58, 0.38, 0.87)  # fmt: skip
    assert round(row["recomputed_i2"]) == 0


def test_tang2024_clinical_improvement_day7_is_reproduced(table):
    row = table.loc[("tang2024", "clinical_improvement_d7")]
    assert row["status"] == "reproduced"
    assert round(row["recomputed_estimate"], 2) == 1.46
    assert round(row["recomputed_i2"]) == 84


def test_tang2024_mortality_is_close_and_names_the_missing_trials(table):
    row = table.loc[("tang2024", "mortality")]
    assert row["status"] == "close"
    assert "2 of 11 studies lack counts" in row["reason"]
    assert "kaffashfarkhad2022" in row["reason"] and "soetjahjo2023" in row["reason"]
    assert row["k_used"] == 9


def test_unpublished_study_lists_are_never_counted_as_reproduced(table):
    for key in [("scrt2026", "mortality"), ("yao2022", "mortality"), ("yao2022", "mortality_critical")]:
        row = table.loc[key]
        assert row["status"] == "not reproducible"
        assert "study list not published" in row["reason"]


def test_single_trial_odds_ratio_matches_the_follow_up_paper(table):
    row = table.loc[("shi_followup_3y", "ct_normal_m36")]
    assert round(row["recomputed_estimate"], 2) == 1.68


def test_continuous_outcomes_say_why_they_cannot_be_recomputed(table):
    row = table.loc[("tang2024", "crp")]
    assert math.isnan(row["recomputed_estimate"])
    assert "no study-level data" in row["reason"]


@pytest.mark.parametrize(
    ("published", "ours", "set_known", "complete", "expected"),
    [
        ((0.58, 0.38, 0.87), (0.5763, 0.3819, 0.8697), True, True, "reproduced"),
        ((0.58, 0.38, 0.87), (0.5763, 0.3819, 0.8697), False, True, "not reproducible"),
        ((0.76, 0.60, 0.96), (0.7336, 0.5741, 0.9374), True, False, "close"),
        ((0.76, 0.60, 0.96), (0.7336, 0.5741, 0.9374), True, True, "close"),
        ((0.52, 0.32, 0.84), (0.21, 0.10, 0.43), True, True, "not reproducible"),
        ((1.68, math.nan, math.nan), (1.6808, 0.65, 4.34), True, True, "reproduced"),
    ],
)
def test_status_rule(published, ours, set_known, complete, expected):
    assert classify(published, ours, set_known, complete) == expected


def test_markdown_counts_statuses(table, records):
    md = reproduction_markdown(records)
    counts = table["status"].value_counts()
    assert f"reproduced: {counts.get('reproduced', 0)}" in md
    assert md.count("\n| ") == len(table) + 1


def test_qin2024_is_not_reproducible_and_says_why(table):
    for analysis in ("mortality_d28", "mortality_d60", "mortality_d90"):
        row = table.loc[("qin2024", analysis)]
        assert row["status"] == "not reproducible" and "study list not published" in row["reason"]


def test_later_evidence_leaves_the_reproduced_rows_reproduced(table):
    # The rows reproduced before the later evidence was added (published study lists, which adding trials to the
    # data cannot change): the 7-trial cross-check, Tang 2024 days 7 and 14, and the Shi 3-year single-trial ORs.
    for key in [("crosscheck_scrt2023", "mortality"), ("tang2024", "clinical_improvement_d7"),
                ("tang2024", "clinical_improvement_d14"), ("shi_followup_3y", "ct_normal_m36"),
                ("shi_followup_3y", "reinfection")]:  # fmt: skip
        assert table.loc[key, "status"] == "reproduced", key
    assert table.loc[("tang2024", "mortality"), "status"] == "close"
    assert table.loc[("crosscheck_kirkham2022", "mortality"), "status"] == "close"
