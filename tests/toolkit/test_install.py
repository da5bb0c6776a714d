"""Slow: the package as users install it, and one sampled fit.

``test_wheel_installs_and_runs_from_another_folder`` builds a wheel, installs it (non-editable, no dependencies)
into a fresh virtualenv that sees this interpreter's dependencies through a .pth file, and runs the installed
``reanalyse`` script from an empty folder on the shipped bcg reference set (package data) and ``run --help``.
``test_pip_install_resolves_beside_other_packages_and_the_batch_extra_adds_batch`` lets pip resolve the version
ranges of pyproject.toml in a fresh virtualenv that already holds an unrelated package set, then adds ``.[batch]``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from models.command import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_installs_and_runs_from_another_folder(tmp_path) -> None:
    wheels = tmp_path / "wheels"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing of the checkout on the path
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, cwd=tmp_path)  # fmt: skip
    (wheel,) = wheels.glob("*.whl")
    venv = tmp_path / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, env=env, cwd=tmp_path)
    # then the dependencies, from this interpreter (after the install, so pip does not see the checkout's own copy)
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shipped = subprocess.run([python, "-c", "from models.toolkit.resources import reference_file; "
                              "print(reference_file('bcg.csv'))"], check=True, capture_output=True, text=True,
                             cwd=elsewhere, env=env).stdout.strip()  # fmt: skip
    assert shipped.startswith(purelib)
    done = subprocess.run([venv / "bin" / "reanalyse", "fit", shipped, "--no-progress", "--json",
                           "--results", "out"], capture_output=True, text=True, cwd=elsewhere, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["primary"]["k"] == 13
    assert (elsewhere / "out" / "report.html").is_file()
    helped = subprocess.run([venv / "bin" / "reanalyse", "run", "--help"], capture_output=True, text=True, env=env,
                            cwd=elsewhere)  # fmt: skip
    assert helped.returncode == 0 and "--only" in helped.stdout
    count = "from models.msc.datasets import load_dataset; print(len(load_dataset().studies))"
    data = subprocess.run([python, "-c", count],
                          capture_output=True, text=True, env=env, cwd=elsewhere)  # fmt: skip
    assert data.returncode == 0 and int(data.stdout) > 0, data.stderr


@pytest.mark.slow
def test_quick_mcmc_fits_write_netcdf_with_gate(tmp_path, capsys) -> None:
    rows = (ROOT / "tests" / "reference" / "bcg.csv").read_text().splitlines()
    data = tmp_path / "bcg_year.csv"  # bcg's labels end in the publication year: a covariate for the regression
    data.write_text("\n".join([rows[0] + ',"start"'] + [f"{r},{r.split(',')[0][-5:-1]}" for r in rows[1:]]) + "\n")
    code = main(["fit", str(data), "--mcmc", "--quick", "--no-progress", "--json", "--covariate", "start",
                 "--results", str(tmp_path / "out")])  # fmt: skip
    payload = json.loads(capsys.readouterr().out)
    (row,) = [r for r in payload["results"] if r["model"] == "binomial_normal"]
    sampled = [r for r in payload["results"] if r["gate"] != "not sampled"]
    assert {r["model"] for r in sampled} == {"binomial_normal", "binomial_normal_regression"}
    assert code == (0 if all(r["gate"] == "pass" for r in sampled) else 1)
    assert all((tmp_path / "out" / r["fit_file"]).is_file() for r in sampled)
    assert any(r["analysis"] == "slope per SD of start" for r in sampled)
    exact = payload["primary"]
    # a 600-draw smoke test of the sampled twin (log scale)
    assert abs(math.log(row["effect_median"]) - math.log(exact["effect_median"])) < 0.1
    twin = {
        r["model"]: r["exact_twin_diff_mcse"] for r in sampled if r["analysis"] in ("all_studies", "at covariate means")
    }
    assert abs(twin["binomial_normal"]) < 5 and twin["binomial_normal_regression"] is None
    assert payload["exact_file"] == "fits/binomial_normal_exact__primary.nc"


def _not_source(folder: str, names: list[str]) -> set[str]:
    """What a copy of the checkout leaves out: environments, caches, build output, and results folders at the top."""
    skipped = {".venv", ".git", "build", "__pycache__", ".ruff_cache", ".pytest_cache"}
    top = Path(folder) == ROOT
    return {n for n in names if n in skipped or n.endswith(".egg-info") or (top and n.startswith("results"))}


UNRELATED = ("requests", "rich", "PyYAML")
"""A package set a user might already have, unrelated to the toolkit (from the configured package index)."""


@pytest.mark.slow
def test_pip_install_resolves_beside_other_packages_and_the_batch_extra_adds_batch(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    venv = tmp_path / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *UNRELATED], check=True, env=env, cwd=tmp_path)
    source = tmp_path / "source"  # a copy: pip builds in the source tree, and the checkout must stay as it is
    shutil.copytree(ROOT, source, symlinks=True, ignore=_not_source)
    subprocess.run([*pip, str(source)], check=True, env=env, cwd=tmp_path)
    checked = subprocess.run([venv / "bin" / "python", "-m", "pip", "check"], capture_output=True, text=True, env=env)
    assert checked.returncode == 0, checked.stdout
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "in").mkdir(parents=True)
    (elsewhere / "in" / "bcg.csv").write_bytes((ROOT / "tests" / "reference" / "bcg.csv").read_bytes())
    script = venv / "bin" / "reanalyse"
    helped = subprocess.run([script, "--help"], capture_output=True, text=True, env=env, cwd=elsewhere)
    assert helped.returncode == 0 and "reanalyse fit" in helped.stdout
    batch = [script, "batch", "in", "--workers", "0", "--quiet", "--results", "out"]
    refused = subprocess.run(batch, capture_output=True, text=True, env=env, cwd=elsewhere)
    assert refused.returncode == 2 and "pip install '.[batch]'" in refused.stderr
    subprocess.run([*pip, f"{source}[batch]"], check=True, env=env, cwd=tmp_path)
    done = subprocess.run(batch, capture_output=True, text=True, env=env, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "out" / "results.parquet").is_file()
