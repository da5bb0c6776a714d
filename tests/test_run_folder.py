"""A results folder holds one whole run: the old one or the new one, never a mix; options refused before any work.

Fast tests use the staging functions directly, the real ``scripts/reanalyse.py`` for option errors, and
``tests/kill_helper.py`` (the real script with a short fake job) for runs killed with SIGKILL or SIGINT at random
moments. The slow test kills the real ``--quick --only tang2024/mortality`` job at 10 random moments.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scripts_loader import reanalyse_main

from models.atomic import (
    OutputFolderError,
    check_output_folder,
    clean_stale,
    commit_staging,
    open_staging,
    previous_folder,
    staging_folder,
)
from models.msc.datasets import load_dataset

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # the subprocess imports this checkout's models/


def one_run(folder: Path) -> tuple[str, int]:
    """Check that ``folder`` holds exactly one complete run (run_info.json's manifest); return its run id and seed."""
    info = json.loads((folder / "run_info.json").read_text(), parse_constant=lambda c: pytest.fail(f"NaN in JSON: {c}"))
    assert info["complete"] is True and info["run_id"] and info["finished"]
    files = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
    files.pop("run_info.json")
    assert set(files) == set(info["files"]), "files not of this run (or missing)"
    for rel, path in files.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == info["files"][rel], rel
        if rel.startswith("fits/") and rel.endswith(".txt") or rel == "report.md" and info["n_mcmc_fits"] == 0:
            assert path.read_text() == f"seed={info['seed']}\n", rel  # the fake job stamps the seed
    return info["run_id"], info["seed"]


# ---------------------------------------------------------------- staging and swap


def _fake_run(folder: Path, text: str) -> None:
    (folder / "fits").mkdir(parents=True, exist_ok=True)
    (folder / "fits" / "a.nc").write_text(text)
    (folder / "summary.csv").write_text(text)


def test_commit_replaces_the_folder_and_keeps_the_previous_run(tmp_path) -> None:
    target = tmp_path / "results"
    first = open_staging(target)
    _fake_run(first, "one")
    assert commit_staging(first, target) is None
    second = open_staging(target)
    _fake_run(second, "two")
    assert (target / "summary.csv").read_text() == "one"  # untouched while the second run works
    assert commit_staging(second, target) == previous_folder(target)
    assert (target / "summary.csv").read_text() == "two"
    assert (tmp_path / "results.prev" / "summary.csv").read_text() == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "results.prev"]


def test_only_run_leaves_no_stale_fits(tmp_path) -> None:
    """issue: a run into a full folder used to keep fits the new summary does not list."""
    target = tmp_path / "results"
    full = open_staging(target)
    _fake_run(full, "full")
    (full / "fits" / "other.nc").write_text("full")
    commit_staging(full, target)
    only = open_staging(target)
    _fake_run(only, "only")
    commit_staging(only, target)
    assert sorted(p.name for p in (target / "fits").iterdir()) == ["a.nc"]


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_next_run_cleans_dead_staging_and_temp_files(tmp_path) -> None:
    """issue: a killed run left a staging folder and a zero-byte .tmp behind."""
    target = tmp_path / "results"
    target.mkdir()
    (target / "fits").mkdir()
    (target / "fits" / ".x.nc.1234.tmp").write_bytes(b"")
    dead = staging_folder(target, _dead_pid())
    dead.mkdir()
    live = staging_folder(target, os.getppid())  # a live process: its staging folder is kept
    live.mkdir()
    removed = clean_stale(target)
    assert dead in removed and not dead.exists() and live.exists()
    assert not (target / "fits" / ".x.nc.1234.tmp").exists()


def test_interrupted_two_step_swap_is_undone(tmp_path) -> None:
    target = tmp_path / "results"
    previous_folder(target).mkdir()
    (previous_folder(target) / "summary.csv").write_text("old")
    clean_stale(target)
    assert (target / "summary.csv").read_text() == "old" and not previous_folder(target).exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: "", "--results is empty"),
        (lambda d: "   ", "--results is empty"),
        (lambda d: (d / "file.txt").write_text("x") and str(d / "file.txt"), "is a file, not a folder"),
        (lambda d: (d / "f").write_text("x") and str(d / "f" / "results"), "is a file, not a folder"),
        (lambda d: ".", "must name a folder of its own"),
    ],
    ids=["empty", "blank", "file", "below-a-file", "dot"],
)
def test_bad_results_folder(tmp_path, make, message) -> None:
    with pytest.raises(OutputFolderError, match=message):
        check_output_folder(make(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere; see test_unwritable_results_for_root")
def test_unwritable_results_folder(tmp_path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(OutputFolderError, match="is not writable"):
        check_output_folder(str(locked / "results"))


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_unwritable_results_for_root(tmp_path, capsys) -> None:
    """/proc refuses new folders to every user, root included; the run stops before loading anything."""
    code = reanalyse_main(["--results", "/proc/self/results", "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--results '/proc/self/results'" in err


# ---------------------------------------------------------------- options: exit 2, one line, nothing written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "-1"], r"argument --seed: must be in \[0, 4294967295\]; got -1"),
        (["--seed", "4294967296"], r"argument --seed: must be in \[0, 4294967295\]"),
        (["--seed", "1.5"], "argument --seed: must be a whole number"),
        (["--only", ""], "--only is empty"),
        (["--only", "evidence_base/anything"], "evidence_base has no analysis 'anything'"),
        (["--only", "tang2024/"], "the analysis after '/' is empty"),
        (["--only", "tang2024/nosuch"], "names no document/analysis in the data"),
        (["--only", "shi_followup_3y/ct_normal_m36"], "nothing to reanalyse"),
        (["--results", ""], "--results is empty"),
    ],
    ids=["seed-negative", "seed-2^32", "seed-float", "only-empty", "only-evidence-base", "only-slash",
         "only-unknown", "only-no-work", "results-empty"],
)  # fmt: skip
def test_bad_option_exits_2_and_writes_nothing(tmp_path, capsys, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["--results", str(tmp_path / "res"), "--no-progress", *args]
    try:
        code = reanalyse_main(argv)
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert __import__("re").search(message, err), err
    assert list(tmp_path.iterdir()) == []


def test_results_pointing_at_a_file_exits_2(tmp_path, capsys) -> None:
    (tmp_path / "results").write_text("mine")
    assert reanalyse_main(["--results", str(tmp_path / "results"), "--no-progress"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "results").read_text() == "mine"


def test_accepted_only_targets_are_exactly_those_with_work(tmp_path) -> None:
    """models.msc.options.only_problem agrees with the runner's job list (a job other than the figures)."""
    from models.bayes.sampling import fit_binomial_normal
    from models.msc.options import only_problem
    from models.msc.runner import Run, RunSettings, jobs
    from models.msc.specs import EVIDENCE_BASE, evidence_base_sets

    data = load_dataset()
    targets = [EVIDENCE_BASE] + [f"{EVIDENCE_BASE}/{s.analysis}" for s in evidence_base_sets(data)]
    for doc, ana in zip(data.published["document"], data.published["analysis"], strict=True):
        targets += [doc, f"{doc}/{ana}"]
    for only in dict.fromkeys(targets):
        todo = jobs(Run(data, RunSettings(only=only), tmp_path, fit_binomial_normal))
        has_work = any(label != "figures" for label, _ in todo)
        assert (only_problem(data, only) is None) == has_work, only


# ---------------------------------------------------------------- killed runs (fast: a short fake job)


def _helper(target: Path, seed: int) -> subprocess.Popen:
    cmd = [sys.executable, str(ROOT / "tests" / "kill_helper.py"), "--results", str(target), "--seed", str(seed),
           "--no-progress", "--quick"]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=target.parent)


def test_killed_runs_leave_the_old_or_the_new_run(tmp_path) -> None:
    """SIGKILL and SIGINT at random moments (fake fits, real outputs and commit): never a mixed folder."""
    rng = random.Random(20260)
    base = tmp_path / "base" / "results"
    base.parent.mkdir()
    first = _helper(base, 1)
    assert first.communicate(timeout=60) and first.returncode == 0
    old_id, _ = one_run(base)
    kills = [(signal.SIGKILL, rng.uniform(0, 1.2)), (signal.SIGINT, rng.uniform(0, 1.2)),
             (signal.SIGKILL, rng.uniform(0.7, 1.4))]  # fmt: skip
    procs = []
    for i, (sig, delay) in enumerate(kills):
        target = tmp_path / f"k{i}" / "results"
        target.parent.mkdir()
        subprocess.run(["cp", "-a", str(base), str(target)], check=True)
        procs.append((target, sig, delay, _helper(target, 2)))
    for _, sig, delay, proc in procs:
        assert proc.stdout.readline() == "ready\n"
        time.sleep(delay)
        proc.send_signal(sig)
    for target, sig, delay, proc in procs:
        _, err = proc.communicate(timeout=60)
        code = proc.returncode
        run_id, seed = one_run(target)
        assert (run_id == old_id and seed == 1) or seed == 2, (sig, delay, code)
        if sig == signal.SIGINT and seed == 1:
            assert code == 130 and err.count("\n") == 1 and "Traceback" not in err, err
            assert err.startswith("interrupted: ") and f"{target.name}/ left unchanged" in err
            assert list(target.parent.glob("results.staging-*")), "the partial output named on stderr is kept"
    # the next run cleans what the killed one left and replaces the folder
    again = [(target, _helper(target, 3)) for target, *_ in procs]
    for target, proc in again:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert one_run(target)[1] == 3
        assert sorted(p.name for p in target.parent.iterdir()) == ["results", "results.prev"]
        assert not list(target.parent.rglob("*.tmp"))


# ---------------------------------------------------------------- killed runs (slow: the real job)


@pytest.mark.slow
def test_real_job_killed_at_random_moments(tmp_path) -> None:
    """The real --quick --only tang2024/mortality job killed by SIGINT or SIGKILL at 10 random moments."""
    rng = random.Random(7)
    target = tmp_path / "results"
    cmd = [sys.executable, str(ROOT / "scripts" / "reanalyse.py"), "--quick", "--only", "tang2024/mortality",
           "--no-progress", "--results", str(target)]  # fmt: skip
    done = subprocess.run([*cmd, "--seed", "1"], capture_output=True, text=True, env=ENV, timeout=600)
    assert done.returncode == 0, done.stderr
    ids = {one_run(target)[0]}
    for k in range(10):
        sig = (signal.SIGINT, signal.SIGKILL)[k % 2]
        proc = subprocess.Popen([*cmd, "--seed", str(10 + k)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=ENV)  # fmt: skip
        time.sleep(rng.uniform(1, 40))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=600)
        code = proc.returncode
        run_id, seed = one_run(target)
        assert run_id in ids or (code == 0 and seed == 10 + k), (k, sig, code)
        ids.add(run_id)
        if sig == signal.SIGINT and code != 0:
            assert code == 130 and err.count("\n") == 1, err
