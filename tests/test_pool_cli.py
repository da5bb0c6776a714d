"""scripts/pool.py: --json output equals R metafor 3.8-1 for every reference entry; bad input exits 2 cleanly.

The full reference matrix runs the script's ``main()`` in-process (one subprocess per entry would take a minute);
a few representative runs and error cases go through a real subprocess to check the entry point, exit codes and
that no traceback is printed. Reference values and R calls: tests/reference/*.metafor.json, make_reference.R.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "pool.py"
REFERENCE = ROOT / "tests" / "reference"
REL_TOL, ABS_FLOOR = 1e-6, 1e-12  # 1e-6 relative; the floor only matters for reference values that are exactly 0

spec = importlib.util.spec_from_file_location("pool_cli", SCRIPT)
pool_cli = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pool_cli)

# JSON entry prefix -> (--method, --hksj)
METHODS = {"EE": ("IV", False), "DL": ("DL", False), "REML": ("REML", False), "PM": ("PM", False)}
METHODS |= {"REML_HKSJ": ("REML", True), "MH": ("MH", False), "Peto": ("Peto", False)}
FIELDS = {"estimate": "estimate", "ci_lb": "ci_low", "ci_ub": "ci_high", "pi_lb": "pi_low", "pi_ub": "pi_high"}
FIELDS |= {"se": "se", "tau2": "tau2", "Q": "q", "Q_p": "q_p", "I2": "i2", "k": "k"}


def _cases() -> list[tuple[str, str]]:
    cases = []
    for name in ("bcg", "hine1989", "normand1999"):
        for entry in json.loads((REFERENCE / f"{name}.metafor.json").read_text())["results"]:
            if entry.rsplit("_", 1)[0] in METHODS:
                cases.append((name, entry))
    return cases


def _check(out: dict, expected: dict, measure: str) -> None:
    ratio = measure in ("OR", "RR")
    for key, value in expected.items():
        if key == "scale":
            continue
        got = out[FIELDS[key]]
        if ratio and key in ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"):
            got = math.log(got)  # --json reports OR/RR on the ratio scale; metafor stores the log
        assert got == pytest.approx(value, rel=REL_TOL, abs=ABS_FLOOR), key
    if ratio:
        assert out["log_estimate"] == pytest.approx(expected["estimate"], rel=REL_TOL)


@pytest.mark.parametrize(("name", "entry"), _cases())
def test_json_matches_metafor(name: str, entry: str, capsys: pytest.CaptureFixture[str]) -> None:
    prefix, measure = entry.rsplit("_", 1)
    method, hksj = METHODS[prefix]
    argv = [str(REFERENCE / f"{name}.csv"), "--measure", measure, "--method", method, "--json"]
    assert pool_cli.main(argv + (["--hksj"] if hksj else [])) == 0
    out = json.loads(capsys.readouterr().out)
    expected = json.loads((REFERENCE / f"{name}.metafor.json").read_text())["results"][entry]
    _check(out, expected, measure)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: the script must import this checkout's models/, not whichever copy is installed in the venv.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60, env=env)


def test_subprocess_json_reml_hksj() -> None:
    """bcg, metafor rma(yi, vi, method="REML", test="knha") on escalc("RR", to="only0", drop00=TRUE)."""
    proc = _run(str(REFERENCE / "bcg.csv"), "--measure", "RR", "--method", "REML", "--hksj", "--json")
    assert proc.returncode == 0, proc.stderr
    expected = json.loads((REFERENCE / "bcg.metafor.json").read_text())["results"]["REML_HKSJ_RR"]
    _check(json.loads(proc.stdout), expected, "RR")


def test_subprocess_table_output() -> None:
    """normand1999 MD, DL: the table lists every study and the pooled line (metafor DL_MD estimate -13.98)."""
    proc = _run(str(REFERENCE / "normand1999.csv"), "--measure", "MD", "--method", "DL")
    assert proc.returncode == 0, proc.stderr
    assert "Edinburgh" in proc.stdout and "Uppsala" in proc.stdout
    assert "DL pooled MD = -13.982" in proc.stdout
    assert "prediction interval" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("missing.csv", "--measure", "OR", "--method", "MH"), "missing.csv: file not found"),
        ((str(REFERENCE / "bcg.csv"), "--measure", "RR", "--method", "Peto"), "Peto estimates an odds ratio only"),
    ],
    ids=["missing-file", "peto-rr"],
)
def test_subprocess_errors_exit_2_with_one_line(args: tuple[str, ...], message: str) -> None:
    proc = _run(*args)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "in.csv"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("study,e_t,n_t\na,1,10\n", ("--measure", "OR", "--method", "MH"), "which lacks e_c, n_c"),
        (
            "study,e_t,n_t,e_c,n_c\na,-1,10,2,10\n",
            ("--measure", "OR", "--method", "MH"),
            "row 2, column 'e_t': '-1' is negative",
        ),
        (
            "study,e_t,n_t,e_c,n_c\na,11,10,2,10\n",
            ("--measure", "RR", "--method", "DL"),
            "row 2, column 'e_t': e_t (11) exceeds n_t",
        ),
        ("study,e_t,n_t,e_c,n_c\na,1,10,2,10\n", ("--measure", "SMD", "--method", "MH"), "needs a binary measure"),
        ("study,e_t,n_t,e_c,n_c\na,1,10,2,10\n", ("--measure", "OR", "--method", "IV", "--hksj"), "HKSJ"),
        ("", ("--measure", "OR", "--method", "MH"), "in.csv: the file is empty"),
    ],
    ids=["columns", "negative", "events-over-total", "mh-smd", "hksj-iv", "empty"],
)
def test_bad_input_exits_2(
    tmp_path: Path, text: str, args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pool_cli.main([_write(tmp_path, text), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_unknown_choice_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        pool_cli.main([_write(tmp_path, "study,e_t,n_t,e_c,n_c\n"), "--measure", "XX", "--method", "MH"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'XX'" in err and err.count("\n") == 1
