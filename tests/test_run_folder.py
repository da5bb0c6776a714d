"""A results folder holds one whole run (the old or the new one, never a mix); a command writes only into a folder it
owns; options are refused before any work.

Fast tests run the real commands in-process (``scripts/reanalyse.py`` with its fits and report replaced by small fake
ones, ``reanalyse fit``, ``reanalyse batch``, ``scripts/reproduce.py``) on a fake home folder (tests/fake_home.py)
whose files are compared byte for byte, and ``tests/kill_helper.py`` in its light modes (the run-folder machinery
only: a fraction of a second to start) for runs killed or signalled at chosen moments. The slow tests kill the real
script (with fake fits) and the real ``--quick --only tang2024/mortality`` job at random moments.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_home import make_home, snapshot
from kill_helper import fake_job as fake_job_functions
from kill_helper import write_fake_run
from scripts_loader import _load, reanalyse_main

from models.atomic import (
    MARKER,
    OutputFolderError,
    check_output_folder,
    commit_staging,
    lock_file,
    open_staging,
    previous_folder,
    release_output_folder,
)
from models.msc.datasets import load_dataset

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # the subprocess imports this checkout's models/
KILL_HELPER = str(ROOT / "tests" / "kill_helper.py")
NOT_OURS = "is an existing folder that this project did not write"


def one_run(folder: Path) -> tuple[str, int]:
    """Check that ``folder`` holds exactly one complete run (run_info.json's manifest); return its run id and seed."""
    info = json.loads((folder / "run_info.json").read_text(), parse_constant=lambda c: pytest.fail(f"NaN in JSON: {c}"))
    assert info["complete"] is True and info["run_id"] and info["finished"]
    files = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
    files.pop("run_info.json")
    assert set(files) == set(info["files"]), "files not of this run (or missing)"
    assert MARKER in files, "the project's marker"
    for rel, path in files.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == info["files"][rel], rel
        if rel.startswith("fits/") and rel.endswith(".txt") or rel == "report.md" and info["n_mcmc_fits"] == 0:
            assert path.read_text() == f"seed={info['seed']}\n", rel  # the fake job stamps the seed
    return info["run_id"], info["seed"]


@pytest.fixture
def fake_job(monkeypatch):
    """The main job with its fits and report replaced by small files stamped with the seed (kill_helper.fake_job)."""
    import models.msc.outputs as outputs
    import models.msc.runner as runner

    fakes = fake_job_functions(fits=1, delay=0.0)
    monkeypatch.setattr(runner, "run_reanalysis", fakes["run_reanalysis"])
    monkeypatch.setattr(outputs, "build_report", fakes["build_report"])


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
    assert re.search(message, err), err
    assert list(tmp_path.iterdir()) == []


def test_results_pointing_at_a_file_exits_2(tmp_path, capsys) -> None:
    (tmp_path / "results").write_text("mine")
    assert reanalyse_main(["--results", str(tmp_path / "results"), "--no-progress"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "results").read_text() == "mine"


def _only_targets() -> list[str]:
    from models.msc.specs import EVIDENCE_BASE, evidence_base_sets

    data = load_dataset()
    targets = [EVIDENCE_BASE] + [f"{EVIDENCE_BASE}/{s.analysis}" for s in evidence_base_sets(data)]
    for doc, ana in zip(data.published["document"], data.published["analysis"], strict=True):
        targets += [doc, f"{doc}/{ana}"]
    return list(dict.fromkeys(targets))


def _check_only_targets(targets: list[str], folder: Path) -> None:
    from models.bayes.sampling import fit_binomial_normal
    from models.msc.options import only_problem
    from models.msc.runner import jobs
    from models.msc.state import Run, RunSettings

    data = load_dataset()
    for only in targets:
        todo = jobs(Run(data, RunSettings(only=only), folder, fit_binomial_normal))
        has_work = any(job.label != "figures" for job in todo)
        assert (only_problem(data, only) is None) == has_work, only


def test_accepted_only_targets_are_exactly_those_with_work_sample(tmp_path) -> None:
    """models.msc.options.only_problem agrees with the runner's job list (a job other than the figures): every
    fifteenth target and the one known to have no work (all of them: the slow test below)."""
    targets = _only_targets()
    _check_only_targets([*targets[::15], "shi_followup_3y/ct_normal_m36"], tmp_path)


@pytest.mark.slow
def test_accepted_only_targets_are_exactly_those_with_work(tmp_path) -> None:
    """As above, for every document and analysis of the data (about 12 s)."""
    _check_only_targets(_only_targets(), tmp_path)


# ---------------------------------------------------------------- a folder the command owns, on a fake home folder


def _batch(argv: list[str]) -> int:
    from models.batch.cli import main

    return main(argv)


def _fit(argv: list[str]) -> int:
    from models.command import main

    return main(["fit", str(ROOT / "tests" / "reference" / "bcg.csv"), "--no-progress", *argv])


def _manifest(tmp_path: Path) -> Path:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"id,path,higher_is_benefit\nbcg,{ROOT / 'data' / 'corpus' / 'bcg.csv'},false\n")
    return manifest


COMMANDS = {
    "run": lambda folder, tmp: reanalyse_main(["--results", str(folder), "--no-progress"]),
    "fit": lambda folder, tmp: _fit(["--results", str(folder)]),
    "batch": lambda folder, tmp: _batch([str(_manifest(tmp)), "--results", str(folder), "--workers", "0", "--quiet"]),
    "reproduce": lambda folder, tmp: _load("reproduce").main(["--results", str(folder)]),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("pick", ["home", "home/project", "home/data", "cwd"])
def test_a_command_refuses_a_folder_it_did_not_write(tmp_path, capsys, monkeypatch, command, pick) -> None:
    """issue 22: --results ~ (or the current folder, a repository, data/) moved the folder to .prev, then deleted it."""
    home = make_home(tmp_path)
    monkeypatch.chdir(home)
    folder = Path(os.getcwd()) if pick == "cwd" else tmp_path / pick
    _manifest(tmp_path)
    before = snapshot(tmp_path)
    for _ in range(2):
        assert COMMANDS[command](folder, tmp_path) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and NOT_OURS in err and "name a new folder" in err, err
    assert snapshot(tmp_path) == before  # byte for byte, and nothing created beside


def test_the_main_job_twice_into_a_home_subfolder_leaves_every_other_file(tmp_path, capsys, fake_job) -> None:
    home = make_home(tmp_path)
    before = snapshot(home)
    for seed in (1, 2):
        assert reanalyse_main(["--results", str(home / "results"), "--no-progress", "--seed", str(seed)]) == 0
    assert snapshot(home, skip=("results", "results.prev")) == before
    assert one_run(home / "results")[1] == 2 and one_run(home / "results.prev")[1] == 1
    assert "the previous run is in" in capsys.readouterr().out


def test_a_linked_results_folder_gets_every_run(tmp_path, capsys, fake_job) -> None:
    """issue 22: a symbolic link as --results worked once, then every run failed at the swap after all its work."""
    real = tmp_path / "disk" / "results"
    real.parent.mkdir()
    link = tmp_path / "results"
    link.symlink_to(real)
    for seed in (1, 2, 3):
        assert reanalyse_main(["--results", str(link), "--no-progress", "--seed", str(seed)]) == 0, capsys.readouterr()
    assert link.is_symlink() and one_run(link)[1] == 3 and one_run(previous_folder(real))[1] == 2
    assert sorted(p.name for p in real.parent.iterdir()) == ["results", "results.prev"]


def test_a_results_folder_of_an_earlier_version_rotates(tmp_path, fake_job) -> None:
    """Folders written before the marker: a ``reanalyse run`` folder whose manifest lists every file is the
    project's (see models/atomic.py); it becomes .prev, unchanged."""
    target = tmp_path / "results"
    target.mkdir()
    write_fake_run(target, seed=1, fits=2)
    before = snapshot(target)
    assert reanalyse_main(["--results", str(target), "--no-progress", "--seed", "2"]) == 0
    assert snapshot(previous_folder(target)) == before and one_run(target)[1] == 2


def test_batch_marks_its_folder_and_resumes_in_it(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    argv = [str(_manifest(tmp_path)), "--results", str(out), "--workers", "0", "--quiet", "--no-report"]
    assert _batch(argv) == 0
    assert (out / MARKER).is_file() and (out / "results.csv").is_file()
    assert lock_file(out).exists()  # held until the command's process ends (atexit)
    assert _batch(argv) == 0  # the folder is the project's now: a rerun uses it
    release_output_folder(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.csv", "out"]


# ---------------------------------------------------------------- one run at a time


def _first_run(target: Path, seed: int = 1) -> None:
    """A first run of the light helper's kind, in this process: two fake fits and the manifest."""
    staging = open_staging(target)
    write_fake_run(staging, seed, fits=2)
    commit_staging(staging, target)


def _light(target: Path, seed: int, *extra: str, env: dict | None = None) -> subprocess.Popen:
    cmd = [sys.executable, KILL_HELPER, "light", "--results", str(target), "--seed", str(seed), *extra]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env or ENV, cwd=target.parent)  # fmt: skip


def test_a_second_run_while_one_is_running_is_refused(tmp_path, capsys, fake_job) -> None:
    """issue 22: two runs into one folder at once lost the older .prev."""
    target = tmp_path / "results"
    for seed in (1, 2):
        assert reanalyse_main(["--results", str(target), "--no-progress", "--seed", str(seed)]) == 0
    holder = _light(target, 3, "--hold", env={**ENV, "FAKE_FITS": "2", "FAKE_DELAY": "0"})
    try:
        assert holder.stdout.readline() == "ready\n" and holder.stdout.readline() == "finished\n"
        capsys.readouterr()
        assert reanalyse_main(["--results", str(target), "--no-progress", "--seed", "4"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"is in use by another run (process {holder.pid})" in err, err
        assert one_run(target)[1] == 2 and one_run(previous_folder(target))[1] == 1
    finally:
        holder.communicate("go\n", timeout=30)
    assert holder.returncode == 0
    assert one_run(target)[1] == 3 and one_run(previous_folder(target))[1] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "results.prev"]


def test_two_runs_started_together_one_refused(tmp_path) -> None:
    target = tmp_path / "results"
    env = {**ENV, "FAKE_FITS": "4", "FAKE_DELAY": "0.05"}
    _first_run(target)
    runs = [_light(target, seed, env=env) for seed in (2, 3)]
    outcomes = sorted((proc.communicate(timeout=30)[1], proc.returncode) for proc in runs)
    codes = sorted(code for _, code in outcomes)
    assert codes == [0, 2], outcomes
    (err, _), *_ = [o for o in outcomes if o[1] == 2]
    assert err.count("\n") == 1 and "is in use by another run" in err
    assert one_run(target)[1] in (2, 3) and one_run(previous_folder(target))[1] == 1  # the older run kept


# ---------------------------------------------------------------- killed and signalled runs (fast: light helper)


def test_killed_runs_leave_the_old_run_and_the_next_run_cleans_up(tmp_path) -> None:
    """SIGKILL and SIGINT at random moments while the run writes: the old run stays whole; SIGINT is one line, exit
    130, naming where the partial output is; the next run removes it and swaps in."""
    rng = random.Random(20260)
    env = {**ENV, "FAKE_FITS": "20", "FAKE_DELAY": "0.05"}
    procs = []
    for sig in (signal.SIGKILL, signal.SIGINT):
        target = tmp_path / sig.name / "results"
        target.parent.mkdir()
        _first_run(target)
        procs.append((target, sig, _light(target, 2, env=env)))
    for _, sig, proc in procs:
        assert proc.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0, 0.8))
        proc.send_signal(sig)
    for target, sig, proc in procs:
        _, err = proc.communicate(timeout=30)
        assert one_run(target)[1] == 1, sig
        if sig == signal.SIGINT:
            assert proc.returncode == 130 and err.count("\n") == 1 and "Traceback" not in err, err
            assert err.startswith("interrupted: ") and f"{target}/ left unchanged" in err
            assert list(target.parent.glob("results.staging-*")), "the partial output named on stderr is kept"
        assert list(target.parent.glob("results.staging-*"))
        again = _light(target, 3, env={**ENV, "FAKE_FITS": "1", "FAKE_DELAY": "0"})
        assert again.communicate(timeout=30) and again.returncode == 0
        assert one_run(target)[1] == 3 and one_run(previous_folder(target))[1] == 1
        assert sorted(p.name for p in target.parent.iterdir()) == ["results", "results.prev"]


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143,
                                                                                        "terminated")])  # fmt: skip
def test_a_signal_on_another_thread_during_the_swap_waits_for_it(tmp_path, sig, code, word) -> None:
    """issue 22: signals were blocked only in the main thread, so one delivered to a worker thread ended the run
    mid-swap. Here it hits a worker thread as the swap begins: the swap completes, then the run ends with the code."""
    target = tmp_path / "results"
    _first_run(target)
    cmd = [sys.executable, KILL_HELPER, "swap-signal", "--results", str(target), "--seed", "2", "--signal",
           sig.name[3:]]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env={**ENV, "FAKE_FITS": "1", "FAKE_DELAY": "0"},
                          timeout=30)  # fmt: skip
    assert done.returncode == code and done.stderr == f"{word} after the run finished: {target}/ holds the complete " \
        "new run\n", done.stderr  # fmt: skip
    assert one_run(target)[1] == 2 and one_run(previous_folder(target))[1] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "results.prev"]


def test_ctrl_c_at_shutdown_is_one_line_and_exit_130(tmp_path) -> None:
    """issue 22: a Ctrl-C while the interpreter waits for threads at exit was lost (exit 0) or a traceback."""
    proc = subprocess.Popen([sys.executable, KILL_HELPER, "shutdown"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)  # fmt: skip
    assert proc.stdout.readline() == "ready\n"
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and err == "interrupted while shutting down, after the command had finished\n", err


# ---------------------------------------------------------------- killed runs (slow: the real script)


def _helper(target: Path, seed: int) -> subprocess.Popen:
    cmd = [sys.executable, KILL_HELPER, "script", "--results", str(target), "--seed", str(seed), "--no-progress",
           "--quick"]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=target.parent)


@pytest.mark.slow
def test_killed_script_runs_leave_the_old_or_the_new_run(tmp_path) -> None:
    """The real script (fake fits, real outputs and commit), SIGKILL and SIGINT at random moments: never a mix."""
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
    again = [(target, _helper(target, 3)) for target, *_ in procs]
    for target, proc in again:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert one_run(target)[1] == 3
        assert sorted(p.name for p in target.parent.iterdir()) == ["results", "results.prev"]
        assert not list(target.parent.rglob("*.tmp"))


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
