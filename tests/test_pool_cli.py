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


def test_defaults_are_stated_in_help_and_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Defaults as for every command: measure by layout (OR for 2x2, SMD for continuous), method REML (metafor's
    rma default). bcg: metafor REML_OR; normand1999: metafor REML_SMD (tests/reference/*.metafor.json)."""
    with pytest.raises(SystemExit):
        pool_cli.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default REML (metafor's default)" in text and "default: OR for 2x2, SMD for continuous" in text
    for name, entry in (("bcg", "REML_OR"), ("normand1999", "REML_SMD")):
        assert pool_cli.main([str(REFERENCE / f"{name}.csv"), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        expected = json.loads((REFERENCE / f"{name}.metafor.json").read_text())["results"][entry]
        assert out["method"] == "REML"
        _check(out, expected, entry.split("_")[1])


def test_every_layout_fit_reads_pool_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An effects file and an estimate-with-CI file pool by REML like the 2x2 file they come from (bcg REML_OR)."""
    from models.reader import read_study_file

    bcg = read_study_file(REFERENCE / "bcg.csv")
    yi, se = bcg.effects.yi.tolist(), bcg.effects.sei.tolist()
    lines = ["study,yi,vi", *(f"{s},{y!r},{e * e!r}" for s, y, e in zip(bcg.study, yi, se, strict=True))]
    effects = _write(tmp_path, "\n".join(lines) + "\n")
    z = 1.959963984540054  # the 97.5% normal quantile
    lines = ["study,estimate,ci_low,ci_high"]
    lines += [
        f"{s},{math.exp(y)!r},{math.exp(y - z * e)!r},{math.exp(y + z * e)!r}"
        for s, y, e in zip(bcg.study, yi, se, strict=True)
    ]
    ci = tmp_path / "ci.csv"
    ci.write_text("\n".join(lines) + "\n")
    expected = json.loads((REFERENCE / "bcg.metafor.json").read_text())["results"]["REML_OR"]
    for path in (effects, str(ci)):
        assert pool_cli.main([path, "--measure", "OR", "--json"]) == 0
        _check(json.loads(capsys.readouterr().out), expected, "OR")
    assert pool_cli.main([effects, "--method", "MH", "--measure", "OR"]) == 2
    assert "method MH needs a 2x2 table" in capsys.readouterr().err
    assert pool_cli.main([effects]) == 2
    assert "an effects file does not say its measure" in capsys.readouterr().err


def test_notes_go_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "study,e_t,n_t,e_c,n_c\na,1,10,2,10\na,3,20,4,20\nb,0,0,1,10\n")
    assert pool_cli.main([path, "--json"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "pool.py: note: repeated study labels kept, made unique as metafor does: 'a' (rows 2, 3) as 'a.1', 'a.2'",
        "pool.py: note: 1 study with no patients in an arm dropped (nothing to compare; metafor would add 0.5 to every "
        "cell and keep it): 'b'",
    ]
