"""Tests of the data layer: the real data/ files and the loader's validation rules.

Reference values and where they come from:

* study counts: the team's study-level extraction (its mortality.csv and outcomes_binary.csv, each row with its own
  source; bowdish2023 from PMC9896641 Table 2; shi2021 3-year counts from the percentages printed in the follow-up
  paper: 46.94% of 49 = 23, 34.48% of 29 = 10);
* arm totals of published sets: crosscheck_scrt2023 (doi 10.1186/s13287-023-03286-8) n 169 vs 159;
  Kirkham 2022 living review (PMC9299509) 207 vs 196; Tang 2024 (J Transl Med 22:550) 284 vs 286;
* pooled values: the same papers' printed results, recomputed with a closed-form Mantel-Haenszel risk ratio written
  in this test file (RevMan convention), independent of the code under test.

Malformed inputs are made by copying the real data/ into tmp_path and corrupting one cell (or line, or file).
"""

from __future__ import annotations

import csv
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from models.msc.datasets import (
    COVARIATE_COLUMNS,
    DEFAULT_DATA_DIR,
    AnalysisSet,
    Dataset,
    DatasetLookupError,
    DataValidationError,
    load_dataset,
)
from models.tables import BinaryTable

CROSSCHECK_7 = ("shu2020", "shi2021", "monsel2022", "lanzoni2021", "dilogo2021", "adas2021", "zhu2021")


@pytest.fixture(scope="module")
def data() -> Dataset:
    return load_dataset()


def _arm(data: Dataset, study: str, outcome: str, arm: str, variant: str = "primary") -> tuple[float, float]:
    rows = data.outcomes
    hit = rows[(rows.study_id == study) & (rows.outcome == outcome) & (rows.arm == arm) & (rows.variant == variant)]
    assert len(hit) == 1
    return hit.events.iloc[0], hit.total.iloc[0]


def _mh_rr_revman(t: BinaryTable) -> tuple[float, float, float]:
    """Mantel-Haenszel RR with Greenland-Robins 95% CI, RevMan style (0.5 added to every cell of a study with a
    zero cell, double-zero studies dropped)."""
    e1, n1, e2, n2 = (np.asarray(x, dtype=float) for x in (t.e_t, t.n_t, t.e_c, t.n_c))
    keep = ~((e1 == 0) & (e2 == 0))
    e1, n1, e2, n2 = e1[keep], n1[keep], e2[keep], n2[keep]
    zero = (e1 == 0) | (e2 == 0) | (e1 == n1) | (e2 == n2)
    e1, e2, n1, n2 = e1 + 0.5 * zero, e2 + 0.5 * zero, n1 + zero, n2 + zero
    big_n = n1 + n2
    r, s = np.sum(e1 * n2 / big_n), np.sum(e2 * n1 / big_n)
    var = np.sum((n1 * n2 * (e1 + e2) - e1 * e2 * big_n) / big_n**2) / (r * s)
    rr, half = r / s, 1.959964 * math.sqrt(var)
    return rr, rr * math.exp(-half), rr * math.exp(half)


# ---------------------------------------------------------------- the real data


def test_real_data_loads(data: Dataset) -> None:
    # Extraction: 24 candidate studies and 32 published results; since added: pochon2023, matthay2025 (STAT) and
    # lightner2023 (World J Stem Cells 2025 Table 1, registry NCT03818854) and Qin 2024's 3 pooled results.
    assert len(data.studies) == 27
    assert data.studies.index.name == "study_id"
    assert len(data.published) == 35
    assert len(data.analysis_sets) == 35
    assert len(data.data_hash) == 64


def test_default_location_does_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: Dataset
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_dataset().data_hash == data.data_hash


def test_unknown_counts_are_nan_not_zero(data: Dataset) -> None:
    # gorman2023: deaths only in the full text (NF); arm sizes 30 vs 29 from the abstract (PubMed 37154608).
    events, total = _arm(data, "gorman2023", "mortality", "msc")
    assert math.isnan(events) and total == 30
    events, total = _arm(data, "gorman2023", "mortality", "control")
    assert math.isnan(events) and total == 29
    unknown = data.outcomes[data.outcomes.events.isna()]
    assert set(unknown.grade_events) == {"NF"}
    # 9 of the 24 candidates had no death counts (extraction README); gregoire2022's day-28 deaths have since been
    # read off its abstract's survival percentages (PubMed 35860245), which leaves 8; the 3 later studies have none.
    no_counts = set(unknown.loc[unknown.outcome == "mortality", "study_id"])
    candidates = data.analysis_set("scrt2026", "mortality").candidate_studies
    assert len(no_counts & set(candidates)) == 8 and "gregoire2022" not in no_counts
    assert no_counts - set(candidates) == {"pochon2023", "matthay2025", "lightner2023"}


def test_bowdish2023_mortality(data: Dataset) -> None:
    # PMC9896641 Table 2: died by day 30, 42/112 remestemcel-L vs 47/110 control.
    assert _arm(data, "bowdish2023", "mortality", "msc") == (42, 112)
    assert _arm(data, "bowdish2023", "mortality", "control") == (47, 110)


def test_shi2021_three_year_ct_counts(data: Dataset) -> None:
    # Shi 3-year follow-up: 46.94% of 49 = 23 and 34.48% of 29 = 10; published OR 1.68 = (23*19)/(26*10).
    assert _arm(data, "shi2021", "ct_normal", "msc") == (23, 49)
    assert _arm(data, "shi2021", "ct_normal", "control") == (10, 29)
    table, _ = data.binary_table("ct_normal", ["shi2021"])
    odds_ratio = (table.e_t[0] * (table.n_c[0] - table.e_c[0])) / ((table.n_t[0] - table.e_t[0]) * table.e_c[0])
    assert round(odds_ratio, 2) == 1.68


def test_grades_like_p_planned_are_kept(data: Dataset) -> None:
    # mortality.csv of the extraction: soetjahjo2023 arm sizes graded "P (planned)", leng2020 "P/S".
    rows = data.outcomes.set_index(["study_id", "outcome", "arm", "variant"])
    assert rows.loc[("soetjahjo2023", "mortality", "msc", "primary"), "grade_total"] == "P (planned)"
    assert rows.loc[("leng2020", "mortality", "control", "primary"), "grade_total"] == "P/S"


def test_known_conflicts_are_named_variants(data: Dataset) -> None:
    # Extraction README, "Known conflicts".
    assert _arm(data, "lanzoni2021", "mortality", "msc", "lanzoni_1of12") == (1, 12)
    assert _arm(data, "lanzoni2021", "mortality", "msc") == (2, 12)
    assert _arm(data, "adas2021", "mortality", "control", "adas_moderate_control") == (0, 10)
    assert _arm(data, "zarrabi2023", "mortality", "msc", "zarrabi_msc_ev_arm") == (0, 8)


def test_crosscheck_scrt2023_arm_totals(data: Dataset) -> None:
    # doi 10.1186/s13287-023-03286-8: n 328 = 169 MSC vs 159 control over 7 UC-MSC trials.
    aset = data.analysis_set("crosscheck_scrt2023", "mortality")
    assert aset.studies == CROSSCHECK_7
    table, left_out = data.binary_table("mortality", aset.studies)
    assert left_out == ()
    assert (table.n_t.sum(), table.n_c.sum()) == (169, 159)
    published = data.published_result("crosscheck_scrt2023", "mortality")
    assert (published.n_msc, published.n_control) == (169, 159)


def test_crosscheck_scrt2023_pooled_rr(data: Dataset) -> None:
    # Published RR 0.58 [0.38, 0.87]; to three decimals 0.576 [0.382, 0.870] (extraction README, RevMan-style MH).
    table, _ = data.binary_table("mortality", CROSSCHECK_7)
    rr, low, high = _mh_rr_revman(table)
    assert (round(rr, 3), round(low, 3), round(high, 3)) == (0.576, 0.382, 0.870)


def test_tang2024_clinical_improvement_day7(data: Dataset) -> None:
    # Tang 2024 (J Transl Med 22:550): day-7 subgroup RR 1.46 [1.17, 1.83] from zhu2021 + shu2020.
    table, left_out = data.binary_table("clinical_improvement", ["zhu2021", "shu2020"], timepoint="day 7")
    assert left_out == ()
    rr, low, high = _mh_rr_revman(table)
    assert (round(rr, 2), round(low, 2), round(high, 2)) == (1.46, 1.17, 1.83)


def test_kirkham2022_arm_totals(data: Dataset) -> None:
    # PMC9299509: 11 controlled studies, 403 patients, 207 vs 196 (wei2021 deaths unknown, its arm sizes counted).
    aset = data.analysis_set("crosscheck_kirkham2022", "mortality")
    rows = data.outcomes[
        (data.outcomes.outcome == "mortality")
        & (data.outcomes.variant == "primary")
        & data.outcomes.study_id.isin(aset.studies)
    ]
    assert rows.groupby("arm").total.sum().to_dict() == {"control": 196, "msc": 207}


def test_tang2024_mortality_totals_need_the_soetjahjo_variant(data: Dataset) -> None:
    # Tang 2024 Fig. (mortality): 284 vs 286 patients over 11 RCTs; soetjahjo2023 at 21 vs 18 (extraction note).
    aset = data.analysis_set("tang2024", "mortality")
    rows = data.outcomes[(data.outcomes.outcome == "mortality") & data.outcomes.study_id.isin(aset.studies)]
    chosen = rows[
        (rows.variant == "primary") & (rows.study_id != "soetjahjo2023") | (rows.variant == "soetjahjo_tang_totals")
    ]
    assert chosen.groupby("arm").total.sum().to_dict() == {"control": 286, "msc": 284}


# ---------------------------------------------------------------- accessors


def test_binary_table_leaves_out_unknown_counts(data: Dataset) -> None:
    # Extraction README: kaffashfarkhad2022 and soetjahjo2023 have no death counts in any reachable source.
    aset = data.analysis_set("tang2024", "mortality")
    table, left_out = data.binary_table("mortality", aset.studies)
    assert left_out == ("kaffashfarkhad2022", "soetjahjo2023")
    assert table.study == tuple(s for s in aset.studies if s not in left_out)


def test_binary_table_without_studies_takes_every_study_with_the_outcome(data: Dataset) -> None:
    table, left_out = data.binary_table("mortality")
    assert table.k + len(left_out) == 27
    assert table.k == 16  # extraction README: 15 candidates with known counts, and gregoire2022 since


def test_binary_table_study_without_the_outcome_is_left_out(data: Dataset) -> None:
    # bowdish2023 has no adverse-event counts in the extraction.
    table, left_out = data.binary_table("adverse_events", ["zhu2021", "bowdish2023"])
    assert table.study == ("zhu2021",) and left_out == ("bowdish2023",)


def test_binary_table_variant_swaps_in_the_alternative(data: Dataset) -> None:
    table, _ = data.binary_table("mortality", ["lanzoni2021", "zhu2021"], variants={"lanzoni2021": "lanzoni_1of12"})
    assert (table.e_t[0], table.n_t[0], table.e_c[0], table.n_c[0]) == (1, 12, 7, 12)
    assert (table.e_t[1], table.e_c[1]) == (0, 2)  # zhu2021 stays primary (Cell Res Table 4: 0/29 vs 2/29)


def test_binary_table_ignores_variants_of_unselected_studies(data: Dataset) -> None:
    table, _ = data.binary_table("mortality", ["zhu2021"], variants={"lanzoni2021": "lanzoni_1of12"})
    assert table.study == ("zhu2021",)


def test_binary_table_rejects_a_bare_string(data: Dataset) -> None:
    with pytest.raises(TypeError, match="not the string 'zhu2021'"):
        data.binary_table("mortality", "zhu2021")


def test_binary_table_several_timepoints_need_a_choice(data: Dataset) -> None:
    with pytest.raises(DatasetLookupError, match=r"'zhu2021' reports 'clinical_improvement' at several timepoints"):
        data.binary_table("clinical_improvement", ["zhu2021"])


def test_binary_table_unknown_study(data: Dataset) -> None:
    with pytest.raises(KeyError, match=r"binary_table: unknown study_id\(s\) 'nobody2020'"):
        data.binary_table("mortality", ["zhu2021", "nobody2020"])


def test_binary_table_unknown_variant(data: Dataset) -> None:
    with pytest.raises(KeyError, match=r"'zhu2021' has no variant 'zhu_other' for outcome 'mortality'"):
        data.binary_table("mortality", ["zhu2021"], variants={"zhu2021": "zhu_other"})


def test_binary_table_unknown_outcome(data: Dataset) -> None:
    with pytest.raises(KeyError, match=r"unknown outcome 'death'"):
        data.binary_table("death")


def test_binary_table_no_known_counts(data: Dataset) -> None:
    with pytest.raises(ValueError, match=r"no requested study has known counts for outcome 'mortality'"):
        data.binary_table("mortality", ["gorman2023", "wei2021"])


def test_binary_table_repeated_study(data: Dataset) -> None:
    with pytest.raises(ValueError, match=r"studies: a study_id is listed twice"):
        data.binary_table("mortality", ["zhu2021", "zhu2021"])


def test_analysis_set_best_studies(data: Dataset) -> None:
    known = data.analysis_set("crosscheck_scrt2023", "mortality")
    assert isinstance(known, AnalysisSet) and known.best_studies == known.studies
    # Tang 2024 AEs: set unknown, 9 candidates (extraction analysis_sets.csv).
    unknown = data.analysis_set("tang2024", "adverse_events")
    assert unknown.studies == () and len(unknown.best_studies) == 9
    assert unknown.reproducibility == "not reproducible"
    assert len(data.analysis_sets_list()) == 35


def test_analysis_set_unknown(data: Dataset) -> None:
    with pytest.raises(KeyError, match=r"no row \('tang2024', 'death'\) in analysis_sets.csv"):
        data.analysis_set("tang2024", "death")


def test_published_result(data: Dataset) -> None:
    # Tang 2024: mortality RR 0.76 [0.60, 0.96], I2 10%, 11 studies.
    row = data.published_result("tang2024", "mortality")
    assert (row.measure, row.estimate, row.ci_low, row.ci_high, row.i2_percent, row.k_studies) == (
        "RR",
        0.76,
        0.60,
        0.96,
        10,
        11,
    )
    with pytest.raises(KeyError, match=r"no row \('nobody', 'mortality'\) in published.csv"):
        data.published_result("nobody", "mortality")


def test_covariates(data: Dataset) -> None:
    cov = data.covariates(["shi2021", "haberle2021", "zhu2021"])
    assert tuple(cov.columns) == COVARIATE_COLUMNS
    assert list(cov.index) == ["shi2021", "haberle2021", "zhu2021"]
    # shi2021: 4e7 cells per infusion (medRxiv abstract) / 70 kg, 3 infusions; haberle2021 reported "2-3" infusions.
    assert cov.loc["shi2021", "cells_per_kg"] == pytest.approx(4e7 / 70, abs=1)
    assert cov.loc["shi2021", "cells_per_kg_basis"] == "absolute_70kg"
    assert cov.loc["shi2021", "n_infusions"] == 3
    assert math.isnan(cov.loc["haberle2021", "n_infusions"])
    assert cov.loc["zhu2021", "includes_moderate"] is np.True_ and cov.loc["zhu2021", "design"] == "RCT"
    with pytest.raises(KeyError, match=r"covariates: unknown study_id\(s\) 'nobody2020'"):
        data.covariates(["nobody2020"])


# ---------------------------------------------------------------- malformed inputs


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def edit(file: str, match: dict[str, str], **cells: str) -> Callable[[Path], int]:
    """Set ``cells`` on every row matching ``match``; returns the spreadsheet row of the first."""

    def mutate(directory: Path) -> int:
        fields, rows = _read(directory / file)
        hits = [i for i, r in enumerate(rows) if all(r[k] == v for k, v in match.items())]
        assert hits, f"test setup: no row of {file} matches {match}"
        for i in hits:
            rows[i].update(cells)
        _write(directory / file, fields, rows)
        return hits[0] + 2

    return mutate


def delete(file: str, match: dict[str, str], report: tuple[str, dict[str, str]] | None = None) -> Callable[[Path], int]:
    """Delete the rows matching ``match``; returns the spreadsheet row (after deletion) of ``report``'s match."""

    def mutate(directory: Path) -> int:
        fields, rows = _read(directory / file)
        kept = [r for r in rows if not all(r[k] == v for k, v in match.items())]
        assert len(kept) < len(rows), f"test setup: no row of {file} matches {match}"
        _write(directory / file, fields, kept)
        report_file, report_match = report if report else (file, match)
        _, after = _read(directory / report_file)
        hits = [i for i, r in enumerate(after) if all(r[k] == v for k, v in report_match.items())]
        return hits[0] + 2

    return mutate


def drop_column(file: str, column: str) -> Callable[[Path], None]:
    def mutate(directory: Path) -> None:
        fields, rows = _read(directory / file)
        for r in rows:
            del r[column]
        _write(directory / file, [f for f in fields if f != column], rows)

    return mutate


def replace_file(file: str, content: bytes | None) -> Callable[[Path], None]:
    """Overwrite ``file`` with ``content`` (None: keep only the header line)."""

    def mutate(directory: Path) -> None:
        path = directory / file
        new = path.read_bytes().split(b"\n", 1)[0] + b"\n" if content is None else content
        path.write_bytes(new)

    return mutate


def replace_file_row(file: str, content: bytes, row: int) -> Callable[[Path], int]:
    """Overwrite ``file`` with ``content``; the expected error is on spreadsheet row ``row``."""

    def mutate(directory: Path) -> int:
        replace_file(file, content)(directory)
        return row

    return mutate


def append_line(file: str, line: str) -> Callable[[Path], int]:
    def mutate(directory: Path) -> int:
        path = directory / file
        text = path.read_text(encoding="utf-8")
        path.write_text(text + line + "\n", encoding="utf-8")
        return text.count("\n") + 1

    return mutate


def remove_file(file: str) -> Callable[[Path], None]:
    def mutate(directory: Path) -> None:
        (directory / file).unlink()

    return mutate


@dataclass(frozen=True)
class Case:
    mutate: Callable[[Path], int | None]
    file: str
    column: str | None
    message: str
    row_expected: bool = True


BOWDISH_MSC = {"study_id": "bowdish2023", "outcome": "mortality", "arm": "msc", "variant": "primary"}
BOWDISH_CTL = {**BOWDISH_MSC, "arm": "control"}
TANG_MORTALITY = {"document": "tang2024", "analysis": "mortality"}
OB, ST, PU, AS, CO = (
    "outcomes_binary.csv",
    "studies.csv",
    "published.csv",
    "analysis_sets.csv",
    "outcomes_continuous.csv",
)

CASES = {
    "missing_column": Case(drop_column(ST, "design"), ST, "design", "required column missing", row_expected=False),
    "count_not_whole": Case(edit(OB, BOWDISH_MSC, events="4.5"), OB, "events", r"4\.5 is not a whole number"),
    "count_not_a_number": Case(edit(OB, BOWDISH_MSC, events="abc"), OB, "events", "'abc' is not a finite number"),
    "negative_count": Case(edit(OB, BOWDISH_MSC, total="-3"), OB, "total", "-3 is negative"),
    "events_exceed_total": Case(
        edit(OB, BOWDISH_MSC, events="120"), OB, "events", r"events \(120\) exceed total \(112\)"
    ),
    "events_without_total": Case(
        edit(OB, BOWDISH_MSC, total="", grade_total="NF"), OB, "total", r"arm has events \(42\) but no total"
    ),
    "value_with_nf_grade": Case(
        edit(OB, {"study_id": "gorman2023", "arm": "msc"}, events="3"),
        OB,
        "events",
        "a value is given although grade_events is NF",
    ),
    "empty_value_without_nf_grade": Case(
        edit(OB, BOWDISH_MSC, events=""), OB, "events", "empty \\(unknown\\) value must have grade_events NF"
    ),
    "duplicate_study_id": Case(
        edit(ST, {"study_id": "shi2021"}, study_id="shu2020"), ST, "study_id", "duplicate key .* already on row 2"
    ),
    "bad_study_id": Case(edit(ST, {"study_id": "shi2021"}, study_id="Shi2021"), ST, "study_id", "lower-case letters"),
    "duplicate_outcome_key": Case(
        edit(
            OB,
            {"study_id": "bowdish2023", "variant": "bowdish_day14", "arm": "msc"},
            variant="bowdish_day7",
            timepoint="day 7",
        ),
        OB,
        "variant",
        "duplicate key",
    ),
    "duplicate_published_key": Case(
        edit(PU, {"document": "tang2024", "analysis": "adverse_events"}, analysis="mortality"),
        PU,
        "analysis",
        "duplicate key",
    ),
    "duplicate_analysis_set_key": Case(
        edit(AS, {"document": "tang2024", "analysis": "clinical_improvement_d7"}, analysis="mortality"),
        AS,
        "analysis",
        "duplicate key",
    ),
    "year_not_whole": Case(edit(ST, {"study_id": "shi2021"}, year="2021.5"), ST, "year", "not a whole number"),
    "unknown_design": Case(edit(ST, {"study_id": "shi2021"}, design="RCT?"), ST, "design", "unknown label 'RCT\\?'"),
    "unknown_severity": Case(
        edit(ST, {"study_id": "shi2021"}, severity_class="very severe"), ST, "severity_class", "unknown label"
    ),
    "boolean_not_true_false": Case(
        edit(ST, {"study_id": "shi2021"}, includes_moderate="yes"), ST, "includes_moderate", "not 'true' or 'false'"
    ),
    "dose_without_basis": Case(
        edit(ST, {"study_id": "shi2021"}, cells_per_kg_basis=""), ST, "cells_per_kg_basis", "both be given"
    ),
    "unknown_study_grade": Case(edit(ST, {"study_id": "shi2021"}, grade="Q"), ST, "grade", "'Q': grade must be"),
    "unknown_arm": Case(edit(OB, BOWDISH_MSC, arm="placebo"), OB, "arm", "unknown label 'placebo'"),
    "unknown_outcome_grade": Case(edit(OB, BOWDISH_MSC, grade_events="P/X"), OB, "grade_events", "grade must be"),
    "bad_variant_name": Case(
        edit(OB, {"variant": "lanzoni_1of12"}, variant="Lanzoni 1of12"), OB, "variant", "'primary' or '<author>_"
    ),
    "variant_of_another_author": Case(
        edit(OB, {"variant": "lanzoni_1of12"}, variant="shi_1of12"), OB, "variant", "author prefix 'lanzoni_'"
    ),
    "variant_without_primary": Case(
        edit(OB, {"variant": "shi_36of65"}, outcome="adverse_events_any"), OB, "variant", "has no 'primary' row"
    ),
    "missing_arm": Case(delete(OB, BOWDISH_CTL, report=(OB, BOWDISH_MSC)), OB, "arm", "needs both arms"),
    "outcome_unknown_study": Case(
        edit(OB, {"study_id": "gorman2023"}, study_id="nobody2020"), OB, "study_id", "'nobody2020' is not in studies"
    ),
    "continuous_unknown_study": Case(
        edit(CO, {"study_id": "zhu2021"}, study_id="nobody2020"), CO, "study_id", "not in studies.csv"
    ),
    "quartile_order": Case(edit(CO, {"study_id": "zhu2021"}, msc_q1="12"), CO, "msc_q1", "msc_q1 exceeds msc_center"),
    "analysis_set_unknown_study": Case(
        edit(AS, {"document": "crosscheck_scrt2023"}, studies="shu2020;shu2021"),
        AS,
        "studies",
        "unknown study_id 'shu2021'",
    ),
    "analysis_set_without_published": Case(
        edit(AS, {"document": "tang2024", "analysis": "pct"}, analysis="pct2"), AS, "analysis", "has no row in publ"
    ),
    "published_without_analysis_set": Case(
        delete(
            AS, {"document": "tang2024", "analysis": "pct"}, report=(PU, {"document": "tang2024", "analysis": "pct"})
        ),
        PU,
        "analysis",
        r"\('tang2024', 'pct'\) has no row in analysis_sets.csv",
    ),
    "unknown_reproducibility": Case(
        edit(AS, TANG_MORTALITY, reproducibility="maybe"), AS, "reproducibility", "must be one of exact"
    ),
    "unknown_measure": Case(edit(PU, TANG_MORTALITY, measure="HR"), PU, "measure", "unknown label 'HR'"),
    "estimate_not_a_number": Case(edit(PU, TANG_MORTALITY, estimate="0.7a"), PU, "estimate", "not a finite number"),
    "ci_low_above_estimate": Case(edit(PU, TANG_MORTALITY, ci_low="0.8"), PU, "ci_low", "exceeds the estimate"),
    "ratio_not_positive": Case(
        edit(PU, {"document": "tang2024", "analysis": "hospital_stay"}, measure="OR"), PU, "estimate", "positive"
    ),
    "i2_above_100": Case(edit(PU, TANG_MORTALITY, i2_percent="120"), PU, "i2_percent", "above the allowed maximum 100"),
    "p_value_above_1": Case(edit(PU, TANG_MORTALITY, p_value="1.5"), PU, "p_value", "above the allowed maximum 1"),
    "n_total_not_sum": Case(edit(PU, TANG_MORTALITY, n_total="571"), PU, "n_total", "is not n_msc \\+ n_control"),
    "empty_file": Case(replace_file(OB, b""), OB, None, "the file is empty", row_expected=False),
    "header_only": Case(replace_file(PU, None), PU, None, "header but no data rows", row_expected=False),
    "unreadable_csv": Case(append_line(OB, ",".join("abcdefghijklmnopqrstu")), OB, None, "cannot be read as CSV"),
    "not_utf8": Case(replace_file_row(ST, b"study_id\n\xff\xfe\n", 2), ST, None, "cannot be read as UTF-8"),
    "missing_file": Case(remove_file(CO), CO, None, "file not found", row_expected=False),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_malformed_data_is_rejected(case: Case, data_copy: Path) -> None:
    row = case.mutate(data_copy)
    with pytest.raises(DataValidationError, match=case.message) as info:
        load_dataset(data_copy)
    err = info.value
    assert err.file == case.file
    assert err.column == case.column
    assert err.row == (row if case.row_expected else None)
    where = f"{case.file}, row {err.row}" if case.row_expected else case.file
    assert str(err).startswith(where)


def test_data_hash_follows_the_bytes(data_copy: Path, data: Dataset) -> None:
    assert load_dataset(data_copy).data_hash == data.data_hash
    path = data_copy / "published.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("0.76,0.60,0.96", "0.76,0.60,0.97"), encoding="utf-8")
    assert load_dataset(data_copy).data_hash != data.data_hash


# ---------------------------------------------------------------- rules added with the later evidence

RB, RE, SL = "risk_of_bias.csv", "reports.csv", "source_lists.csv"
GORMAN_D90 = {"study_id": "gorman2023", "variant": "gorman_day90"}
ZARRABI_MSC = {"study_id": "zarrabi2023", "variant": "primary", "arm": "msc"}
SHU_ROB = {"study_id": "shu2020", "domain": "overall"}

LATER_CASES = {
    "mortality_without_time_point": Case(
        edit(OB, BOWDISH_MSC, timepoint_class="", timepoint_days="", timepoint_grade=""),
        OB,
        "timepoint_class",
        "every mortality row needs a structured time point",
    ),
    "day_without_days": Case(edit(OB, BOWDISH_MSC, timepoint_days=""), OB, "timepoint_days", "'day' needs"),
    "not_stated_with_days": Case(
        edit(OB, {"study_id": "wei2021", "arm": "msc"}, timepoint_days="28"), OB, "timepoint_days", "not stated has no"
    ),
    "time_point_grade_nf_but_stated": Case(
        edit(OB, BOWDISH_MSC, timepoint_grade="NF"), OB, "timepoint_grade", "NF exactly when the time point is"
    ),
    "days_without_class": Case(
        edit(OB, {"study_id": "zhu2021", "outcome": "adverse_events", "arm": "msc"}, timepoint_days="28"),
        OB,
        "timepoint_class",
        "timepoint_days is given without a timepoint_class",
    ),
    "unknown_time_point_class": Case(
        edit(OB, BOWDISH_MSC, timepoint_class="week"), OB, "timepoint_class", "unknown label 'week'"
    ),
    "primary_with_another_kind": Case(
        edit(OB, BOWDISH_MSC, variant_kind="time point"), OB, "variant_kind", "exactly for the primary variant"
    ),
    "time_point_variant_at_the_primary_time": Case(
        edit(OB, GORMAN_D90, timepoint="day 28"), OB, "timepoint", "another time point than the primary"
    ),
    "msc_arm_without_product": Case(
        edit(OB, BOWDISH_MSC, msc_arm_product=""), OB, "msc_arm_product", "must say what it received"
    ),
    "control_arm_with_product": Case(
        edit(OB, BOWDISH_CTL, msc_arm_product="cells"), OB, "msc_arm_product", "only the msc arm"
    ),
    "primary_arm_adds_vesicles": Case(
        edit(OB, ZARRABI_MSC, msc_arm_product="cells + vesicles"),
        OB,
        "msc_arm_product",
        "primary msc arm of 'zarrabi2023' .* must be 'cells'",
    ),
    "row_population_not_enrolled": Case(
        edit(OB, BOWDISH_MSC, population="ards-any-cause"), OB, "population", "enrolled covid-19"
    ),
    "unknown_product": Case(edit(ST, {"study_id": "shi2021"}, product="secretions"), ST, "product", "unknown label"),
    "unknown_population": Case(
        edit(ST, {"study_id": "shi2021"}, population="sepsis"), ST, "population", "unknown label 'sepsis'"
    ),
    "report_id_is_a_study": Case(
        edit(RE, {"report_id": "sitbon2024"}, report_id="monsel2022"), RE, "report_id", "needs its own id"
    ),
    "report_of_unknown_study": Case(
        edit(RE, {"report_id": "sitbon2024"}, study_id="nobody2020"), RE, "study_id", "not in studies.csv"
    ),
    "unknown_report_kind": Case(edit(RE, {"report_id": "li2023"}, kind="erratum"), RE, "kind", "unknown label"),
    "source_list_unknown_report": Case(
        edit(SL, {"entry": "Li et al, 2023, China"}, report_id="li2029"), SL, "report_id", "not in reports.csv"
    ),
    "source_list_report_of_another_study": Case(
        edit(SL, {"entry": "Li et al, 2023, China"}, report_id="sitbon2024"),
        SL,
        "report_id",
        "belongs to 'monsel2022', not to 'shi2021'",
    ),
    "source_list_duplicate_position": Case(
        edit(SL, {"entry": "Li et al, 2023, China"}, position="1"), SL, "position", "duplicate key"
    ),
    "rob_tool_of_another_design": Case(
        edit(RB, SHU_ROB, tool="ROBINS-I"), RB, "tool", "'shu2020' is RCT .* so its tool is RoB 2"
    ),
    "rob_domain_of_another_tool": Case(
        edit(RB, SHU_ROB, domain="confounding"), RB, "domain", "'confounding' is not a domain of RoB 2"
    ),
    "rob_judgement_off_scale": Case(
        edit(RB, SHU_ROB, judgement="serious"), RB, "judgement", "'serious' is not a judgement of RoB 2"
    ),
    "rob_not_found_row": Case(edit(RB, SHU_ROB, grade="NF"), RB, "grade", "leave the domain out"),
    "rob_derived_without_reasoning": Case(
        edit(RB, {"study_id": "zhu2021", "domain": "measurement of the outcome"}, note=""),
        RB,
        "note",
        "needs its reasoning",
    ),
    "rob_duplicate_domain": Case(
        edit(
            RB,
            {"study_id": "shi2021", "domain": "deviations from intended interventions"},
            domain="randomisation process",
        ),
        RB,
        "domain",
        "duplicate key",
    ),  # fmt: skip
    "missing_reports_file": Case(remove_file(RE), RE, None, "file not found", row_expected=False),
}


@pytest.mark.parametrize("case", LATER_CASES.values(), ids=LATER_CASES.keys())
def test_malformed_later_data_is_rejected(case: Case, data_copy: Path) -> None:
    test_malformed_data_is_rejected(case, data_copy)


def test_data_hash_covers_the_new_files(data_copy: Path, data: Dataset) -> None:
    path = data_copy / RB
    path.write_text(path.read_text(encoding="utf-8").replace("some concerns", "high", 1), encoding="utf-8")
    assert load_dataset(data_copy).data_hash != data.data_hash


def test_every_death_count_has_a_structured_time_point(data: Dataset) -> None:
    # Before: 'not stated' for 6 studies (rebelatto, zarrabi, soetjahjo, gregoire, bukreieva, wei); after: only the
    # two without any count (bukreieva2023, wei2021) and matthay2025 (registry, counts not found).
    mortality = data.outcomes[data.outcomes.outcome == "mortality"]
    assert mortality.timepoint_class.ne("").all()
    not_stated = set(mortality.loc[mortality.timepoint_class == "not stated", "study_id"])
    assert not_stated == {"bukreieva2023", "wei2021", "matthay2025"}
    assert (mortality.loc[mortality.timepoint_class == "day", "timepoint_days"] > 0).all()


def test_gregoire2022_deaths_from_its_survival_percentages(data: Dataset) -> None:
    # PubMed 35860245: survival 100% vs 79.2% at day 28 and 100% vs 70.8% at day 60, 8 MSC vs 24 matched controls.
    assert _arm(data, "gregoire2022", "mortality", "control") == (round(24 * (1 - 0.792)), 24)
    assert _arm(data, "gregoire2022", "mortality", "control", "gregoire_day60") == (round(24 * (1 - 0.708)), 24)
    assert _arm(data, "gregoire2022", "mortality", "msc", "gregoire_day60") == (0, 8)


def test_qin2024_published_rows(data: Dataset) -> None:
    # Qin, Wang, Han, Stem Cell Rev Rep 2024 abstract: RR 0.76 (0.62-0.93) day 28, 0.87 (0.70-1.09) day 60,
    # 0.91 (0.72-1.15) day 90.
    rows = {a: data.published_result("qin2024", a) for a in ("mortality_d28", "mortality_d60", "mortality_d90")}
    assert [(r.estimate, r.ci_low, r.ci_high) for r in rows.values()] == [
        (0.76, 0.62, 0.93), (0.87, 0.70, 1.09), (0.91, 0.72, 1.15)
    ]  # fmt: skip
    assert data.analysis_set("qin2024", "mortality_d28").best_studies == ()


def test_label_is_author_and_year(data: Dataset) -> None:
    assert data.label("shu2020") == "Shu 2020"
    assert data.label("kaffashfarkhad2022") == "Kaffash Farkhad 2022"
    assert data.label("matthay2025") == "Matthay 2025"
    with pytest.raises(KeyError, match="label: unknown study_id"):
        data.label("nobody2020")
