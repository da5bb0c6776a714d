"""The ``reanalyse`` dispatcher (models/command.py): help and bad options answer before the numerical stack loads,
no client imports another, and an unexpected error is one line (``--debug``: the traceback).

The import checks run the commands in one child interpreter and ask ``sys.modules`` after each (what was imported,
not how long it took: timings depend on the machine's load; ``benchmarks/cli.py`` times them)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from models.cli import run_command, stage, without_debug
from models.command import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
BCG = ROOT / "tests" / "reference" / "bcg.csv"
HEAVY = ("numpy", "pandas", "scipy", "matplotlib", "pymc", "pytensor", "xarray", "numba")

QUICK_ANSWERS = [
    ([], 2),
    (["--help"], 0),
    (["--version"], 0),
    (["nosuch"], 2),
    *[([name, "--help"], 0) for name in COMMANDS],
    (["fit", "x.csv", "--seed", "-1"], 2),
    (["fit", "x.csv", "--published", "OR 0.74 [0.99, 0.55]"], 2),
    (["fit", "x.csv", "--published", "OR 0.74 (90% CI 0.6 to 0.9)"], 2),
    (["fit", "x.csv", "--published", "HR 0.74 (0.55-0.99)"], 2),
    (["fit", "x.csv", "--tau-prior", "halfnormal(-1)"], 2),
    (["fit", "x.csv", "--tau-prior", "nosuch"], 2),
    (["fit", "x.csv", "--effect-prior", "normal(0)"], 2),
    (["fit", "x.csv", "--measure", "MD"], 2),
    (["fit", "x.csv", "--measure", "MD", "--tau-prior", "halfnormal(5)", "--effect-prior", "vague"], 2),
    (["fit", "x.csv", "--favours", "one"], 2),
    (["fit", "x.csv", "--results", ""], 2),
    (["published", "OR 0.74 [0.55]"], 2),
    (["published", "0.74 (0.55-0.99)"], 2),
    (["published", "OR 0.74 (0.55-0.99)", "--tau-prior", "halfnormal(x)"], 2),
    (["pool", "x.csv", "--measure", "XX", "--method", "REML"], 2),
    (["batch", "in/", "--priors", "wide"], 2),
    (["batch", "in/", "--seed", "x"], 2),
    (["batch", "in/", "--tau-prior", "nosuch"], 2),
    (["run", "--seed", "-3"], 2),
    (["run", "--results", ""], 2),
]


def test_help_and_bad_options_load_no_numerical_stack(tmp_path) -> None:
    """Each command line of QUICK_ANSWERS in one child interpreter: its exit code, and no numpy, pandas, scipy,
    matplotlib, PyMC, PyTensor, xarray or numba in ``sys.modules`` afterwards (nor, for the dispatcher's own answers,
    which come first, any client module)."""
    script = (
        "import contextlib, io, json, sys\n"
        "from models.command import main\n"
        f"heavy = {HEAVY!r}\n"
        "out = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "        try:\n"
        "            code = main(argv)\n"
        "        except SystemExit as exit_:\n"
        "            code = exit_.code\n"
        "    loaded = [m for m in heavy if m in sys.modules]\n"
        "    clients = [m for m in sys.modules if m.startswith(('models.toolkit', 'models.batch', 'models.msc'))]\n"
        "    out.append([argv, code, loaded, clients])\n"
        "print(json.dumps(out))\n"
    )
    argvs = [argv for argv, _ in QUICK_ANSWERS]
    done = subprocess.run([sys.executable, "-c", script, json.dumps(argvs)], capture_output=True, text=True,
                          cwd=tmp_path, check=True)  # fmt: skip
    results = json.loads(done.stdout)
    for (argv, expected), (_, code, loaded, clients) in zip(QUICK_ANSWERS, results, strict=True):
        assert code == expected, argv
        assert loaded == [], f"{argv} loaded {loaded}"
        if argv[:1] in ([], ["--help"], ["--version"], ["nosuch"]):
            assert clients == [], f"{argv} imported clients {clients}"


@pytest.mark.parametrize(("argv", "expected"), [(argv, code) for argv, code in QUICK_ANSWERS if code == 2])
def test_bad_options_are_one_line_on_stderr(tmp_path, monkeypatch, capsys, argv, expected) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code == expected
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []


def _help(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    try:
        assert main([name, "--help"]) == 0
    except SystemExit as exit_:
        assert exit_.code == 0
    return capsys.readouterr().out


def test_every_command_has_the_same_results_and_seed_options(capsys) -> None:
    for name in ("fit", "batch", "run"):
        text = _help(name, capsys)
        assert "--results" in text and "--seed" in text and "--out " not in text, name
    for name in ("fit", "published", "batch"):
        text = _help(name, capsys)
        assert "--tau-prior" in text and "--effect-prior" in text, name


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:  # "from models.toolkit import kinds": the module
            names |= {f"{node.module}.{a.name}" if node.module.count(".") < 2 else node.module for a in node.names}
    return names


MSC_TO_TOOLKIT = {"models.toolkit.kinds"}
"""The MSC job's one remaining import of the toolkit (the analysis kinds, which belong below the clients)."""


@pytest.mark.parametrize("client", ["toolkit", "batch", "msc"])
def test_no_client_imports_another_or_the_dispatcher(client) -> None:
    others = {"toolkit", "batch", "msc"} - {client}
    for path in sorted((ROOT / "models" / client).rglob("*.py")):
        for name in _imports(path):
            parts = name.split(".")
            assert name != "models.command", path
            if len(parts) > 1 and parts[0] == "models" and parts[1] in others:
                assert client == "msc" and name in MSC_TO_TOOLKIT, f"{path.relative_to(ROOT)} imports {name}"


def test_generic_layers_import_no_client() -> None:
    clients = ("models.toolkit", "models.batch", "models.msc", "models.command")
    for path in sorted((ROOT / "models").glob("*.py")):
        if path.name == "command.py":
            continue
        assert not any(n.startswith(clients) for n in _imports(path)), path


def test_installed_script_points_at_the_dispatcher() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'reanalyse = "models.command:console"' in text


# -- the top level: one line for an unexpected error ---------------------------------------------------------------


def _boom(argv: list[str]) -> int:
    stage.at("drawing the figures", "trials.csv")
    raise RuntimeError("font cache\nbroken")


def test_unexpected_error_is_one_line_naming_command_step_and_file(capsys) -> None:
    assert run_command(_boom, ["x"], "reanalyse fit") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("reanalyse fit: unexpected error while drawing the figures (trials.csv): RuntimeError: ")
    assert "font cache broken" in err and "Rerun with --debug" in err


def test_debug_shows_the_traceback_instead() -> None:
    with pytest.raises(RuntimeError, match="font cache"):
        run_command(_boom, ["--debug", "x"], "reanalyse fit")


def test_ctrl_c_outside_a_run_is_one_line_and_130(capsys) -> None:
    def interrupted(argv: list[str]) -> int:
        raise KeyboardInterrupt

    assert run_command(interrupted, [], "reanalyse batch") == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("reanalyse batch: interrupted")


def test_debug_is_taken_out_anywhere_before_a_double_dash() -> None:
    assert without_debug(["fit", "--debug", "a.csv"]) == (["fit", "a.csv"], True)
    assert without_debug(["fit", "a.csv"]) == (["fit", "a.csv"], False)
    assert without_debug(["fit", "--", "--debug"]) == (["fit", "--", "--debug"], False)


@pytest.mark.parametrize(
    ("argv", "target", "step"),
    [
        (["fit", str(BCG), "--no-progress"], "models.toolkit.pipeline.reanalyse", "running the analyses"),
        (["published", "OR 0.74 [0.55, 0.99]"], "models.toolkit.analyses.published_results",
         "computing the summary-level posteriors"),
    ],
)  # fmt: skip
def test_commands_turn_an_unexpected_error_into_one_line(tmp_path, monkeypatch, capsys, argv, target, step) -> None:
    """An engine failing mid-run (simulated) ends the command with exit 1 and one line naming it, the step and the
    file; the output folder is not created (the run's partial output stays in its staging folder, named)."""

    def fail(*args, **kwargs):
        raise ZeroDivisionError("simulated engine failure")

    monkeypatch.setattr(target, fail)
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--results", "out"] if argv[0] == "fit" else argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"reanalyse {argv[0]}: unexpected error while {step}" in err
    assert "ZeroDivisionError: simulated engine failure" in err and "--debug" in err
    if argv[0] == "fit":
        assert "(bcg.csv)" in err or str(BCG) in err
        assert "out/ left unchanged; partial output in" in err and not (tmp_path / "out").exists()
