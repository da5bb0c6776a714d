"""The ``batch`` command's input checks: bad options or manifests stop it with exit code 2 and one line naming the
file, row and column, before any work (the project's rule for bad input, as in scripts/pool.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from batch_support import read_results

from models.batch.cli import main
from models.batch.corpus import ManifestError, read_manifest
from models.results import COLUMN_NAMES, arrow_schema

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus"


def _manifest(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "manifest.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id,path\na,a.csv\na,b.csv\n", "row 3, column 'id'"),
        ("id,path,measure\na,a.csv,HR\n", "row 2, column 'measure': unknown label 'HR'"),
        ("id,path,higher_is_benefit\na,a.csv,yes\n", "row 2, column 'higher_is_benefit': 'yes' is not 'true'"),
        (
            "id,path,measure,published_estimate\na,a.csv,OR,-0.5\n",
            "row 2, column 'published_estimate': a ratio estimate (OR, RR) must be positive",
        ),
        ("id,path\na,\n", "row 2, column 'path': value is required but empty"),
        ("id,file\na,a.csv\n", "column 'path'"),
    ],
)
def test_bad_manifest_exits_2_naming_row_and_column(tmp_path, capsys, text, expected):
    manifest = _manifest(tmp_path, text)
    assert main([str(manifest), "--results", str(tmp_path / "out"), "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"reanalyse batch: error: {manifest}, ") and expected in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--threshold", "1.2"], "--threshold must be a ratio between 0 and 1"),
        (["--chunk-size", "0"], "argument --chunk-size: must be at least 1"),
        (["--priors", "wide"], "argument --priors: invalid choice: 'wide'"),
        (["--measure", "OR"], "--measure and --higher-is-benefit are for folder input"),
    ],
)
def test_bad_options_exit_2(tmp_path, capsys, argv, expected):
    manifest = _manifest(tmp_path, "id,path\na,a.csv\n")
    assert main([str(manifest), "--results", str(tmp_path / "out"), *argv]) == 2
    assert expected in capsys.readouterr().err


def test_json_manifest_reads_as_the_csv_one(tmp_path):
    csv_entries = read_manifest(_manifest(tmp_path, "id,path,measure,higher_is_benefit\na,a.csv,RR,TRUE\nb,b.csv,,\n"))
    path = tmp_path / "manifest.json"
    path.write_text(
        json.dumps(
            {
                "meta_analyses": [
                    {"id": "a", "path": "a.csv", "measure": "RR", "higher_is_benefit": True},
                    {"id": "b", "path": "b.csv"},
                ]
            }
        )
    )
    assert read_manifest(path) == csv_entries
    path.write_text(json.dumps([{"id": "a", "path": "a.csv", "measure": "HR"}]))
    with pytest.raises(ManifestError, match=r"manifest.json, row 2, column 'measure': unknown label 'HR'"):
        read_manifest(path)


def test_folder_input_and_bcg_against_metafor(tmp_path):
    """The REML columns of dat.bcg reproduce metafor 3.8.1 (tests/reference/bcg.metafor.json, REML_OR)."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bcg.csv").write_bytes((CORPUS / "bcg.csv").read_bytes())
    out = tmp_path / "out"
    assert main([str(folder), "--results", str(out), "--workers", "0", "--quiet"]) == 0
    table = read_results(out)
    assert list(table["model"]) == ["binomial_normal_exact", "normal_normal_exact"]
    ref = json.loads((Path(__file__).resolve().parents[1] / "reference" / "bcg.metafor.json").read_text())
    reml = ref["results"]["REML_OR"]
    row = table.iloc[1]
    assert row["freq_estimate"] == pytest.approx(2.718281828459045 ** reml["estimate"], rel=1e-6)
    assert row["freq_tau2"] == pytest.approx(reml["tau2"], rel=1e-5)
    assert row["freq_i2"] == pytest.approx(reml["I2"], rel=1e-5)
    assert (row["freq_method"], row["freq_k"]) == ("REML", reml["k"])
    # the one column vocabulary (docs/results-columns.md) in results.parquet and results.csv
    assert pq.read_schema(out / "results.parquet").equals(arrow_schema())
    assert (out / "results.csv").read_text().splitlines()[0] == ",".join(f'"{c}"' for c in COLUMN_NAMES)
    assert (out / "tau_calibration.png").is_file() and (out / "bayes_factors.png").is_file()
    report = (out / "report.md").read_text()
    assert "## Published meta-research, side by side" in report and "Turner et al. 2015" in report


def test_synthetic_corpus_command_is_seeded_and_refuses_a_full_folder(tmp_path, capsys):
    from models.batch.synthetic import main as synthetic

    assert synthetic(["4", str(tmp_path / "a"), "--seed", "3"]) == 0
    assert synthetic(["4", str(tmp_path / "b"), "--seed", "3"]) == 0
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == ["ma00001.csv", "ma00002.csv", "ma00003.csv", "ma00004.csv", "manifest.csv"]
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    capsys.readouterr()
    assert synthetic(["4", str(tmp_path / "a")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
