"""The options every command shares (models/settings.py): one seed policy, one check of each option."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from models.bayes.policy import fit_seed
from models.command import main
from models.settings import DEFAULT_SEED, Settings, add_shared_options, derive_seed, settings_from

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("seed", "label"), [(0, "a"), (2026, "exact draws"), (2**32 - 1, "x" * 300), (7, "")])
def test_one_derivation_of_seeds_the_mcmc_policy_uses_too(seed, label) -> None:
    assert derive_seed(seed, label) == fit_seed(seed, label)
    assert 0 <= derive_seed(seed, label) < 2**31 - 1
    assert Settings(seed=seed).seed_for(label) == derive_seed(seed, label)


def test_settings_from_the_shared_options() -> None:
    parser = argparse.ArgumentParser()
    add_shared_options(parser, results_help="out")
    args = parser.parse_args(["--seed", "5", "--tau-prior", "halfnormal(0.5)", "--no-progress"])
    settings = settings_from(args, Path("r"))
    assert (settings.seed, settings.results, settings.progress) == (5, Path("r"), False)
    assert settings.priors.primary("OR").tau.key == "halfnormal_0.5"
    assert settings_from(parser.parse_args([]), None).seed == DEFAULT_SEED == 2026


@pytest.mark.parametrize("command", [["fit", "x.csv"], ["batch", "in/"], ["run"]])
@pytest.mark.parametrize("seed", ["-1", "4294967296", "1.5", "x"])
def test_every_command_refuses_the_same_bad_seeds(tmp_path, monkeypatch, capsys, command, seed) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        code = main([*command, "--seed", seed])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2 and "--seed" in capsys.readouterr().err


def test_batch_without_its_extra_says_how_to_install_it_as_the_readme_does(tmp_path, monkeypatch, capsys) -> None:
    import models.batch.cli as batch_cli

    monkeypatch.setattr(batch_cli, "missing_extra", lambda: ["dask", "pyarrow"])
    monkeypatch.chdir(tmp_path)
    assert main(["batch", str(tmp_path), "--results", "out"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dask, pyarrow not installed" in err and "pip install '.[batch]'" in err
    assert "pip install '.[batch]'" in (ROOT / "README.md").read_text()
    assert not (tmp_path / "out").exists()
