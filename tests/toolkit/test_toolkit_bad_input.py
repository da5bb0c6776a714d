"""Bad input to ``reanalyse``: exit 2, one line on stderr naming file, row and column, and nothing written."""

from __future__ import annotations

import re

import pytest

from models.command import main

HEADER = "study,e_t,n_t,e_c,n_c"


@pytest.mark.parametrize(
    ("lines", "extra", "message"),
    [
        ([HEADER, "a,1,10,2,10", "b,12,10,4,20"], [], r"data\.csv, row 3, column 'e_t': e_t \(12\) exceeds n_t"),
        ([HEADER, "a,1,10,2,10", "b,x,20,4,20"], [], r"data\.csv, row 3, column 'e_t': 'x' is not a finite number"),
        (["study,e_t,n_t,e_c", "a,1,10,2"], [], r"data\.csv, row 1: the header matches no layout"),
        (
            ["study,yi,vi", "a,0.1,0.2", "b,0.3,-1"],
            ["--measure", "OR"],
            r"data\.csv, row 3, column 'vi': '-1' is outside the range the engines handle \(1e-12 <= vi <= 1e\+06\)",
        ),
        (["study,yi,vi", "a,0.1,0.2"], [], r"data\.csv: an effects file does not say its measure: give one of OR"),
        ([HEADER, "a,1,10,2,10"], [], r"^error: data\.csv: has 1 study; a meta-analysis needs at least 2\n$"),
        ([HEADER, "a,1,10,2,10", "b,3,20,4,20", "Total,4,30,6,30"], [], r"data\.csv, row 4: row 4 looks like a totals"),
        ([HEADER + ",year", "a,1,10,2,10,1999", "b,3,20,4,20,x"], [], r"row 3, column 'year'"),
        (
            [HEADER, "a,1,10,2,10", "b,3,20,4,20"],
            ["--covariate", "dose"],
            r"data\.csv, row 1, column 'dose': covariate 'dose' is not a column of the file",
        ),
        (
            [HEADER + ",dose", "a,1,10,2,10,1", "b,3,20,4,20,1", "c,3,20,4,21,"],
            ["--covariate", "dose"],
            r"data\.csv, column 'dose': covariate 'dose' takes 1 value\(s\) over the 2 studies that have every",
        ),
        (
            [HEADER, "a,1,10,2,10", "b,3,20,4,20"],
            ["--tau-prior", "nosuch"],
            r"--tau-prior 'nosuch' is no preset and no distribution",
        ),
        ([HEADER, "a,1,10,2,10"], ["--published", "OR 0.7 [0.8, 0.9]"], r"published interval must hold the estimate"),
        (
            [HEADER, "a,1,10,2,10", "b,3,20,4,20"],
            ["--published", "RR 0.7 [0.5, 0.9]", "--measure", "OR"],
            r"published estimate 'RR 0.7 \[0.5, 0.9\]' is an RR, but --measure is OR",
        ),
        (
            ["study,n_t,mean_t,sd_t,n_c,mean_c,sd_c", "a,10,5,1,10,6,1", "b,20,5,1,20,6,2"],
            ["--measure", "MD"],
            r"--measure MD has no default priors: give --tau-prior",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path, capsys, monkeypatch, lines, extra, message
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    assert main(["fit", "data.csv", "--no-progress", "--results", "out", *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_bad_option_exits_2(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "x.csv", "--favours", "only-one"])
    assert exit_.value.code == 2
    assert "--favours: must be two names" in capsys.readouterr().err


def test_unknown_command_and_missing_batch(capsys) -> None:
    assert main(["nosuch"]) == 2
    assert "unknown command 'nosuch'" in capsys.readouterr().err
    code = main(["batch", "--help"])
    err = capsys.readouterr().err
    try:
        import models.batch.cli  # noqa: F401
    except ImportError:
        assert code == 2 and "batch runner (models.batch, with Dask) is not installed" in err
