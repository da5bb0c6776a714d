"""The Pairwise70 importer on a tiny synthetic review in the package's layout, written by R with xz compression as
the package's files are (tests/reference/pairwise70/make_pairwise70_sample.R states each analysis). The expected
corpus below is worked out by hand from that script's rows and the importer's stated rules."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from models.batch.corpus import read_manifest
from models.batch.pairwise70 import main, review_measure
from models.reader import read_study_file

SAMPLE = Path(__file__).parents[1] / "reference" / "pairwise70"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("p70") / "corpus"
    assert main([str(SAMPLE), "--out", str(out), "--min-studies", "5"]) == 0
    return out


def test_one_binary_analysis_is_imported_with_its_labels(corpus: Path) -> None:
    (row,) = _rows(corpus / "manifest.csv")
    assert row["id"] == "CD999999_pub1_1_1"
    assert row["path"] == "studies/CD999999_pub1_1_1.csv"
    assert row["measure"] == "OR"
    assert row["title"] == "CD999999_pub1 1.1: All-cause mortality"
    assert row["outcome"] == "All-cause mortality"
    assert row["outcome_type"] == "all_cause_mortality"
    assert row["review_doi"] == "10.1002/14651858.CD999999.pub1"
    assert row["analysis"] == "1.1"
    assert row["review_measure"] == "RR"  # the script's Mean is each study's risk ratio


def test_a_study_in_two_subgroups_counts_once(corpus: Path) -> None:
    """Alpha 2001 twice with equal counts: one study; Beta 2002 twice with different counts: the first-listed row
    (Adults); Eta 2007 SUBGROUP_ONLY: left out; Theta 2008 (0 control participants): left out."""
    (row,) = _rows(corpus / "manifest.csv")
    studies = _rows(corpus / "studies" / "CD999999_pub1_1_1.csv")
    assert [list(s.values()) for s in studies] == [
        ["Alpha 2001", "10", "100", "20", "100"],
        ["Beta 2002", "5", "50", "9", "50"],
        ["Gamma 2003", "3", "40", "6", "40"],
        ["Delta 2004", "0", "30", "2", "30"],
        ["Eps 2005", "7", "70", "7", "70"],
        ["Zeta 2006", "1", "25", "0", "25"],
    ]
    assert (row["k"], row["subgroups"], row["repeated_studies"], row["dropped_studies"]) == ("6", "2", "1", "1")


def test_every_other_analysis_is_skipped_with_its_reason(corpus: Path) -> None:
    skipped = {r["id"]: r["reason"] for r in _rows(corpus / "skipped.csv")}
    assert skipped == {
        "CD999999_pub1_1_2": "3 studies (fewer than --min-studies 5)",
        "CD999999_pub1_2_1": "continuous (standard deviations)",
        "CD999999_pub1_2_2": "no event in any arm of any study (nothing to estimate)",
        "CD999999_pub1_2_3": "invalid counts in study 'Alpha 2001' (events above participants, negative or fractional)",
        "CD999999_pub1_2_4": "generic inverse variance",
    }
    readme = (corpus / "README.md").read_text()
    assert "imported: 1 binary meta-analyses with at least 5 studies" in readme
    assert "github.com/mahmood789/Pairwise70" in readme


def test_the_batch_reads_the_corpus(corpus: Path) -> None:
    (entry,) = read_manifest(corpus / "manifest.csv")
    data = read_study_file(entry.path, entry.measure)
    assert data.k == 6 and data.measure == "OR"
    assert data.counts.e_t.tolist() == [10, 5, 3, 0, 7, 1]


def test_min_studies_two_imports_the_three_study_analysis(tmp_path: Path) -> None:
    assert main([str(SAMPLE), "--out", str(tmp_path / "c"), "--min-studies", "2"]) == 0
    assert [r["id"] for r in _rows(tmp_path / "c" / "manifest.csv")] == ["CD999999_pub1_1_1", "CD999999_pub1_1_2"]


def test_review_measure_tells_or_rr_rd_and_peto_apart() -> None:
    e_t, n_t, e_c, n_c = (np.array(x, float) for x in ([10, 5, 3], [100, 50, 40], [20, 9, 6], [100, 50, 40]))
    odds = e_t * (n_c - e_c) / ((n_t - e_t) * e_c)
    assert review_measure(odds, e_t, n_t, e_c, n_c) == "OR"
    assert review_measure(e_t / n_t - e_c / n_c, e_t, n_t, e_c, n_c) == "RD"
    assert review_measure(odds * 1.5, e_t, n_t, e_c, n_c) is None
    assert review_measure(np.full(3, np.nan), e_t, n_t, e_c, n_c) is None


def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(empty), "--out", str(tmp_path / "o1")]) == 2
    assert "holds no .rda" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "CD1_data.rda").write_bytes(b"not an R file")
    assert main([str(broken), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "CD1_data.rda" in err and "not a readable R data file" in err and err.count("\n") == 1
    assert main([str(SAMPLE / "lacking_column"), "--out", str(tmp_path / "o3")]) == 2
    assert "column 'Experimental.cases' is missing" in capsys.readouterr().err
    assert not any((tmp_path / name).exists() for name in ("o1", "o2", "o3"))
