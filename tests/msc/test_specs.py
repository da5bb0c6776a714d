"""Study sets built from the data: known counts in, unknown counts listed (never filled in)."""

import pytest

from models.msc.datasets import load_dataset
from models.msc.specs import study_sets


@pytest.fixture(scope="module")
def sets():
    return {s.key: s for s in study_sets(load_dataset())}


def test_tang2024_mortality_has_nine_known_and_two_missing(sets):
    # extraction README: the 11-study set, kaffashfarkhad2022 and soetjahjo2023 without death counts
    s = sets["tang2024/mortality"]
    assert s.table.k == 9
    assert set(s.missing) == {"kaffashfarkhad2022", "soetjahjo2023"}
    assert s.measure == "RR" and s.published.estimate == 0.76


def test_evidence_base_keeps_zero_event_studies_and_lists_unknown_ones(sets):
    s = sets["evidence_base/all"]
    # 16 eligible studies with counts (extraction's 15 + gregoire2022); 8 extraction candidates + pochon2023 without
    assert s.table.k == 16 and len(s.missing) == 9 and "pochon2023" in s.missing
    assert "shi2021" in s.table.study  # double-zero study kept for the binomial-normal model
    assert "shi2021" not in sets["evidence_base/no_zero_event"].table.study


def test_rct_sets_exclude_nrs(sets):
    assert "adas2021" not in sets["evidence_base/rct"].table.study  # NRS per the extraction
    assert "shu2020" in sets["evidence_base/rct"].table.study
    assert "shu2020" not in sets["evidence_base/rct_uncontested"].table.study  # design contested


def test_conflict_variant_changes_only_lanzoni(sets):
    a, b = sets["evidence_base/all"].table, sets["evidence_base/lanzoni_1of12"].table
    i = a.study.index("lanzoni2021")
    assert (a.e_t[i], b.e_t[i]) == (2, 1)
    assert (a.e_t.sum() - b.e_t.sum()) == 1


def test_clinical_improvement_counts_higher_as_benefit(sets):
    assert sets["tang2024/clinical_improvement_d7"].higher_is_benefit
    assert not sets["tang2024/mortality"].higher_is_benefit


def test_subgroup_analyses_are_not_study_sets(sets):
    assert "scrt2026/mortality_severe_critical" not in sets
