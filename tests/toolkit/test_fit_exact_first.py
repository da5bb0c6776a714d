"""``reanalyse fit`` exact first, through the installed entry point in a child process (one run, several checks):
the README's prior example that used to crash, an ArviZ file of exact draws that opens as the README shows, and no
PyMC imported when nothing is sampled.

References: the exact engine called directly (the bottom line's numbers), the policy's grid (32 pairs, the written
prior being the preset ``halfnormal_0.5``), ArviZ's own reader and summary."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import arviz as az
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
HINE = ROOT / "tests" / "reference" / "hine1989.csv"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[dict, Path, list[str]]:
    folder = tmp_path_factory.mktemp("fit")
    script = (
        "import json, sys\n"
        "from models.command import main\n"
        "code = main(sys.argv[1:])\n"
        "print(json.dumps({'code': code, 'loaded': [m for m in ('pymc', 'pytensor', 'nutpie') if m in sys.modules]}))\n"
    )
    argv = ["fit", str(HINE), "--tau-prior", "halfnormal(0.5)", "--no-progress", "--json", "--results", "out"]
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, cwd=folder)
    assert done.returncode == 0, done.stderr
    payload_line, status_line = done.stdout.strip().splitlines()[-2:]
    status = json.loads(status_line)
    assert status["code"] == 0, done.stderr
    return json.loads(payload_line), folder / "out", status["loaded"]


def test_the_readme_prior_example_runs_and_is_the_preset(run) -> None:
    payload, _, _ = run
    primary = payload["primary"]
    assert (primary["tau_prior"], primary["effect_prior"]) == ("halfnormal_0.5", "weakly_informative")
    grid = [(r["tau_prior"], r["effect_prior"]) for r in payload["results"] if r["model"] == primary["model"]
            and r["analysis"] == "all_studies" and r["kind"] == "pooled"]  # fmt: skip
    assert len(grid) == len(set(grid)) == 32
    assert payload["priors"]["tau_prior"] == "halfnormal_0.5"
    assert "given with --tau-prior/--effect-prior" in payload["priors"]["statement"]


def test_nothing_is_sampled_and_pymc_is_not_imported(run) -> None:
    payload, out, loaded = run
    assert loaded == [] and payload["failed_fits"] == []
    assert {r["gate"] for r in payload["results"]} == {"not sampled"}
    assert sorted(p.name for p in (out / "fits").iterdir()) == ["binomial_normal_exact__primary.nc"]


def test_the_arviz_file_opens_and_summarises_as_the_readme_shows(run) -> None:
    payload, out, _ = run
    assert payload["exact_file"] == "fits/binomial_normal_exact__primary.nc"
    tree = az.from_netcdf(out / payload["exact_file"])
    summary = az.summary(tree, var_names=["mu", "tau"], ci_prob=0.95, ci_kind="eti")
    assert list(summary.index) == ["mu", "tau"]
    post = tree["posterior"].to_dataset()
    assert dict(post.sizes) == {"chain": 4, "draw": 5000, "study": 6}
    assert set(post.data_vars) == {"mu", "tau", "theta", "theta_new"}
    primary = payload["primary"]  # exact; the draws' median within Monte Carlo error (SE ~ 1.25 sd / sqrt(20000))
    mu = post["mu"].to_numpy().ravel()
    assert abs(np.median(mu) - np.log(primary["effect_median"])) < 4 * 1.25 * np.std(mu) / np.sqrt(mu.size)
    assert tree.attrs["tau_prior_key"] == "halfnormal_0.5" and tree.attrs["model"] == "binomial_normal_exact"
    assert "no MCMC" in tree.attrs["draws"] and tree.attrs["rhat"].startswith("not needed")
    assert "independently of one another" in tree.attrs["joint"]


def test_the_readme_snippet_for_the_fit_file_runs(run, capsys) -> None:
    """The README's Python block that opens ``fit``'s ArviZ file, run as written on this run's file."""
    _, out, _ = run
    readme = (ROOT / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL) if "_exact__primary.nc" in b]
    name = "binomial_normal_exact__primary.nc"
    exec(block.replace(f"trials_reanalysis/fits/{name}", str(out / "fits" / name)))
    printed = capsys.readouterr().out
    assert "theta_new" in printed and "halfnormal_0.5" in printed


def test_summary_csv_marks_the_primary_pair(run) -> None:
    import pandas as pd

    _, out, _ = run
    table = pd.read_csv(out / "summary.csv")
    marked = table[table["primary_priors"] & (table["kind"] == "pooled")]
    assert set(zip(marked["tau_prior"], marked["effect_prior"], strict=True)) == {
        ("halfnormal_0.5", "weakly_informative")
    }
    info = json.loads((out / "run_info.json").read_text())
    assert info["priors"]["tau_prior"] == "halfnormal_0.5" and info["mcmc"] is False
