"""The main job end to end in quick mode on a small study set (the 7 cross-check trials).

Covers the promises of the main job: every output written, fits readable by ArviZ tooling (NetCDF groups), the
same seed gives an identical summary.csv, an interrupted write leaves no partial file, bad input exits with 2.
"""

import json
import shutil
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
from scripts_loader import reanalyse_main

import models.msc.outputs as outputs
from models.msc.state import QUICK_GATES
from models.results import COLUMN_NAMES

ONLY = "crosscheck_scrt2023/mortality"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run1")
    code = reanalyse_main(["--quick", "--only", ONLY, "--results", str(out), "--no-progress", "--seed", "7"])
    return code, out


def test_quick_run_writes_every_output(first_run):
    code, out = first_run
    assert code == 0
    for name in ("summary.csv", "summary.md", "reproduction.csv", "reproduction.md", "report.md", "report.html",
                 "run_info.json"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    assert {p.name.rsplit("__", 1)[-1] for p in (out / "figures").glob("*.png")} == {"forest.png", "density.png"}
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "Quick mode" in html
    info = json.loads((out / "run_info.json").read_text())
    assert info["gates"] == QUICK_GATES  # the gates the quick run applied, not the full ones
    assert info["project_version"] == metadata.version("msc-reanalysis") and "git_commit" in info


def test_fits_are_netcdf_with_the_arviz_groups(first_run):
    _, out = first_run
    files = sorted((out / "fits").glob("*.nc"))
    assert files
    tree = xr.open_datatree(files[0], engine="h5netcdf")
    for group in ("posterior", "prior", "observed_data", "constant_data", "log_likelihood", "sample_stats"):
        assert group in tree.children, group
    assert "data_hash" in tree.attrs and "package_versions" in tree.attrs
    assert list(tree["posterior"]["study"].values)[:2] == ["shu2020", "shi2021"]
    tree.close()


def test_summary_rows_carry_published_figure_and_gates(first_run):
    _, out = first_run
    summary = pd.read_csv(out / "summary.csv")
    bn = summary[(summary["model"] == "binomial_normal") & (summary["analysis"] == ONLY)]
    assert len(bn) == 1
    row = bn.iloc[0]
    assert row["published_estimate"] == 0.58  # Stem Cell Res Ther 2023, RR 0.58 [0.38, 0.87]
    gates = QUICK_GATES
    passed = row["rhat_max"] <= gates["rhat_max"] and min(row["ess_bulk_min"], row["ess_tail_min"]) >= gates[
        "ess_min"] and row["divergences"] <= gates["divergences_max"]  # fmt: skip
    assert row["gate"] == ("pass" if passed else "fail")  # the verdict follows the row's own diagnostics
    exact = summary[
        (summary["model"] == "binomial_normal_exact")
        & (summary["analysis"] == ONLY)
        & (summary["tau_prior"] == row["tau_prior"])
        & (summary["effect_prior"] == row["effect_prior"])
    ]
    # the quick MCMC fit (600 draws) and the exact quadrature of the same model agree within Monte Carlo error
    # (binomial SE of P(OR < 1) at ESS >= 100 is at most 0.05)
    assert abs(row["p_benefit"] - exact["p_benefit"].iloc[0]) < 0.1
    assert abs(row["exact_twin_diff_mcse"]) < 4
    assert set(summary["model"]) >= {"summary_level", "normal_normal_exact", "binomial_normal"}
    assert tuple(summary.columns) == COLUMN_NAMES


def test_same_seed_gives_identical_summary(first_run, tmp_path):
    _, out = first_run
    code = reanalyse_main(["--quick", "--only", ONLY, "--results", str(tmp_path), "--no-progress", "--seed", "7"])
    assert code == 0
    assert (tmp_path / "summary.csv").read_bytes() == (out / "summary.csv").read_bytes()


def test_interrupted_report_leaves_no_partial_files(first_run, tmp_path, monkeypatch):
    _, out = first_run
    shutil.copytree(out, tmp_path / "res")
    before = {p.name: p.read_bytes() for p in (tmp_path / "res").iterdir() if p.is_file()}

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "build_report", crash)
    with pytest.raises(KeyboardInterrupt):
        reanalyse_main(["--quick", "--only", ONLY, "--results", str(tmp_path / "res"), "--no-progress"])
    after = {p.name: p.read_bytes() for p in (tmp_path / "res").iterdir() if p.is_file()}
    assert set(after) == set(before)  # no temporary files left behind
    assert after["report.md"] == before["report.md"]  # the old report is intact
    assert not list(Path(tmp_path / "res").rglob("*.tmp"))


def test_unknown_only_target_exits_2(tmp_path, capsys):
    assert reanalyse_main(["--only", "nosuchpaper", "--results", str(tmp_path)]) == 2
    assert "names no document" in capsys.readouterr().err


def test_bad_data_exits_2_naming_the_file(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(Path(__file__).resolve().parents[2] / "data", data)
    text = (
        (data / "outcomes_binary.csv")
        .read_text()
        .replace("shu2020,mortality,day 28,28,day,P,msc,0,12", "shu2020,mortality,day 28,28,day,P,msc,-1,12", 1)
    )
    (data / "outcomes_binary.csv").write_text(text)
    assert reanalyse_main(["--data", str(data), "--results", str(tmp_path / "r")]) == 2
    assert "outcomes_binary.csv" in capsys.readouterr().err
