"""Study sets built from the data: known counts in, unknown counts listed (never filled in)."""

import pytest

from models.msc.datasets import load_dataset
from models.msc.specs import study_sets


@pytest.fixture(scope="module")
def data():
    return load_dataset()


@pytest.fixture(scope="module")
def sets(data):
    return {s.key: s for s in study_sets(data)}


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


def test_excluded_studies_enter_no_evidence_base_set(sets):
    evidence = [s for key, s in sets.items() if key.startswith("evidence_base/")]
    for s in evidence:
        assert not {"lightner2023", "matthay2025"} & set(s.table.study + s.missing), s.key


def test_primary_set_lists_the_new_trial_without_counts(sets):
    # Pochon 2023 (WJSC 2025 Table 1, 15 vs 15): deaths not found, so listed as missing, never filled in.
    s = sets["evidence_base/rct"]
    assert "pochon2023" in s.missing and "pochon2023" not in s.table.study


def test_multi_arm_sensitivity_swaps_only_zarrabi(sets):
    # Zarrabi 2023 abstract: MSC alone 3/11, MSC + vesicles 0/8, control 8/24.
    a, b = sets["evidence_base/rct"].table, sets["evidence_base/rct_zarrabi_msc_ev_arm"].table
    i = a.study.index("zarrabi2023")
    assert (a.e_t[i], a.n_t[i], b.e_t[i], b.n_t[i]) == (3, 11, 0, 8)
    assert a.study == b.study and (a.e_c == b.e_c).all()


def test_timepoint_sets_choose_one_count_per_trial(data, sets):
    from models.msc.specs import timepoint_sets

    day28, longest = timepoint_sets(data)
    primary = sets["evidence_base/rct"]
    assert day28.table.study == primary.table.study == longest.table.study
    assert "bowdish2023 day 30 (P)" in day28.notes[0]  # day 30 is nearer to 28 than day 14
    assert day28.published.analysis == "mortality_d28" and longest.published.analysis == "mortality_d90"
