"""The manifest's optional title and outcome_type columns (models/batch/corpus.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.batch.corpus import ManifestError, read_manifest


def _manifest(tmp_path: Path, rows: str) -> Path:
    (tmp_path / "a.csv").write_text("study,e_t,n_t,e_c,n_c\ns1,1,10,2,10\ns2,3,10,4,10\n")
    path = tmp_path / "manifest.csv"
    path.write_text("id,path,title,outcome_type,review_doi\n" + rows)
    return path


def test_title_and_outcome_type_are_read_and_other_columns_ignored(tmp_path: Path) -> None:
    (entry, bare) = read_manifest(_manifest(tmp_path, "x,a.csv,  Death  at 30 days ,all_cause_mortality,10.1/x\n"
                                                      "y,a.csv,,,\n"))  # fmt: skip
    assert (entry.title, entry.outcome_type) == ("Death at 30 days", "all_cause_mortality")
    assert (bare.title, bare.outcome_type) == ("", "")


def test_an_unknown_outcome_type_names_row_and_column(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"row 3.*outcome_type.*'deaths'.*all_cause_mortality"):
        read_manifest(_manifest(tmp_path, "x,a.csv,t,all_cause_mortality,\ny,a.csv,t,deaths,\n"))
