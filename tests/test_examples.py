"""Every command-line example of the help texts and the README, run.

The examples are read from where users read them: the "examples:" lines of ``reanalyse --help`` and of each
command's ``--help``, and every ``reanalyse`` line of the README's shell blocks. Their files are stand-ins:
``trials.csv`` is the bcg reference set (tests/reference/bcg.csv), a folder of CSVs holds bcg and hine1989, and
data/corpus is the shipped corpus. Fast: each example runs up to the point where its analysis starts (the options,
the priors resolved for the measure, the study file read; the commands that need no analysis, such as ``published``
and ``pool``, run whole). Slow: each runs whole.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
from pathlib import Path

import pytest

from models.command import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"
NEEDS_A_CLUSTER = "--scheduler"
"""An example that joins an existing Dask cluster cannot run here; its options are still checked."""
HEAVY_STEP = {
    "fit": "models.toolkit.pipeline.reanalyse",
    "batch": "models.batch.runner.run_batch",
    "run": "models.msc.runner.run_reanalysis",
}
"""Where each command's analysis starts: the fast test stops there."""


def _help(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main(argv)
        except SystemExit:
            pass
    return out.getvalue()


def _example_lines(text: str) -> list[str]:
    """The ``reanalyse ...`` lines of a text's "examples:" section."""
    _, _, tail = text.partition("examples:\n")
    return [line.strip() for line in tail.splitlines() if line.strip().startswith("reanalyse ")]


def _readme_lines() -> list[str]:
    """Every ``reanalyse`` command of the README's shell blocks (comments and the .venv/bin/ prefix dropped)."""
    text = (ROOT / "README.md").read_text()
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            line = line.split("  #")[0].strip().removeprefix(".venv/bin/")
            if line.startswith("reanalyse "):
                lines.append(line)
    return lines


def examples() -> list[str]:
    """Every example, once, in the order: dispatcher help, each command's help, README."""
    lines = _example_lines(_help(["--help"]))
    for name in COMMANDS:
        lines += _example_lines(_help([name, "--help"]))
    return list(dict.fromkeys(lines + _readme_lines()))


EXAMPLES = examples()


def test_the_examples_are_found() -> None:
    found = EXAMPLES
    for command in ("fit", "published", "pool", "batch", "run"):
        assert any(line.startswith(f"reanalyse {command} ") for line in found), command
    assert "reanalyse fit trials.csv --tau-prior 'halfnormal(0.5)' --json" in found


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """A folder with the examples' files: trials.csv, my_folder_of_csvs/, data/corpus/, synthetic/ as the README's
    scripts/synthetic_corpus.py line writes it (5 meta-analyses here, not 10,000), and p70/ as its
    scripts/import_pairwise70.py line writes it (from the tiny sample in tests/reference/pairwise70)."""
    from models.batch.pairwise70 import main as import_pairwise70
    from models.batch.synthetic import write_corpus

    shutil.copy(REFERENCE / "bcg.csv", tmp_path / "trials.csv")
    folder = tmp_path / "my_folder_of_csvs"
    folder.mkdir()
    for name in ("bcg.csv", "hine1989.csv"):
        shutil.copy(REFERENCE / name, folder / name)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "corpus").symlink_to(ROOT / "data" / "corpus")
    write_corpus(tmp_path / "synthetic", 5, seed=1)
    assert import_pairwise70([str(REFERENCE / "pairwise70"), "--out", str(tmp_path / "p70")]) == 0
    monkeypatch.chdir(tmp_path)
    return tmp_path


class _AnalysisStarts(BaseException):
    """Raised where an example's analysis would start (a BaseException: the top level lets it through)."""


def _argv(line: str) -> list[str]:
    argv = shlex.split(line)[1:]
    return [*argv, "--no-progress"] if argv[0] in ("fit", "run") and "--list-priors" not in argv else argv


@pytest.mark.parametrize("line", EXAMPLES)
def test_each_example_runs_up_to_its_analysis(workspace, monkeypatch, capsys, line) -> None:
    argv = _argv(line)

    def reached(*args, **kwargs):
        raise _AnalysisStarts

    target = HEAVY_STEP.get(argv[0])
    if target is not None:
        monkeypatch.setattr(target, reached)
    try:
        code = main(argv)
    except _AnalysisStarts:
        code = 0
    err = capsys.readouterr().err
    assert code == 0, f"{line}: {err}"


@pytest.mark.slow
def test_each_example_runs_whole(workspace, capsys) -> None:
    # `reanalyse run` writes the MSC job into results/ (its default): it runs last
    for line in sorted(EXAMPLES, key=lambda line: line.startswith("reanalyse run")):
        if NEEDS_A_CLUSTER in line:
            continue
        argv = _argv(line)
        if argv[0] == "batch" and "--workers" not in argv:
            argv += ["--workers", "1"]
        assert main(argv) == 0, f"{line}: {capsys.readouterr().err}"
        capsys.readouterr()
