"""One reader for every command (issue 18): the same file, in every layout and spelling, read through ``fit``
(``build_spec``), ``batch`` (``read_entry``) and ``pool`` gives the identical table and measure, and a file one
command refuses every command refuses with the same message.

Reference: each command's own read path, compared with the others (no numbers are computed here); the values the
reader returns are checked against metafor in tests/reader/test_metadat.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.batch.analyse import Options, analyse_entry, read_entry
from models.batch.corpus import Entry
from models.reader import SPELLINGS
from models.toolkit.cli import build_spec, fit_parser
from models.toolkit.pool import main as pool_main
from models.validation import DataValidationError

ROWS = {
    "2x2": [("a", 1, 10, 2, 10), ("b", 3, 20, 4, 20), ("c", 5, 30, 9, 31)],
    "continuous": [
        ("a", 10, 5.0, 1.0, 12, 6.0, 1.5),
        ("b", 20, 4.0, 2.0, 20, 5.0, 2.0),
        ("c", 9, 3.5, 1.0, 9, 4.0, 1.2),
    ],
    "effects": [("a", 0.1, 0.04), ("b", -0.3, 0.09), ("c", 0.2, 0.05)],
    "effects_ci": [("a", 0.5, 0.25, 1.0), ("b", 2.0, 1.0, 4.0), ("c", 1.1, 0.9, 1.4)],
}


def _cells(spelling, row) -> list:
    study, *values = row
    if spelling.names == ("ai", "bi", "ci", "di"):
        a, n1, c, n2 = values
        values = [a, n1 - a, c, n2 - c]
    if spelling.names[-1] in ("sei", "sete"):
        values = [values[0], values[1] ** 0.5]
    return [study, *values]


def _file(tmp_path: Path, spelling) -> Path:
    path = tmp_path / f"{spelling.layout}_{'_'.join(spelling.names)}.csv"
    label = "studlab" if spelling.origin == "meta" else "study"
    lines = [",".join([label, *spelling.names])]
    lines += [",".join(str(x) for x in _cells(spelling, r)) for r in ROWS[spelling.layout]]
    path.write_text("\n".join(lines) + "\n")
    return path


def _measures(layout: str) -> list[str | None]:
    return {"2x2": [None, "RR"], "continuous": [None], "effects": ["OR", "SMD"], "effects_ci": ["RR"]}[layout]


CASES = [(s, m) for s in SPELLINGS for m in _measures(s.layout)]


@pytest.mark.parametrize(("spelling", "measure"), CASES, ids=[f"{','.join(s.names)}-{m}" for s, m in CASES])
def test_fit_and_batch_read_the_identical_table_and_measure(tmp_path, spelling, measure):
    path = _file(tmp_path, spelling)
    argv = [str(path)] + (["--measure", measure] if measure else [])
    spec = build_spec(fit_parser().parse_args(argv))
    data = read_entry(Entry("x", str(path), measure, False, None))
    assert spec.measure == data.measure and spec.study == data.study and spec.notes == data.notes
    assert spec.effects.study == data.effects.study
    np.testing.assert_array_equal(spec.effects.yi, data.effects.yi)
    np.testing.assert_array_equal(spec.effects.vi, data.effects.vi)
    assert (spec.counts is None) == (data.counts is None)
    if spec.counts is not None:
        for column in ("e_t", "n_t", "e_c", "n_c"):
            np.testing.assert_array_equal(getattr(spec.counts, column), getattr(data.counts, column))


BAD = {
    "one-study": "study,e_t,n_t,e_c,n_c\na,1,10,2,10\n",
    "totals-row": "study,e_t,n_t,e_c,n_c\na,1,10,2,10\nb,3,20,4,20\nTotal,4,30,6,30\n",
    "no-layout": "Study,events_t,N_t\na,1,10\nb,3,20\n",
    "bad-cell": "study,e_t,n_t,e_c,n_c\na,1,10,2,10\nb,30,20,4,20\n",
    "effects-without-measure": "study,yi,vi\na,0.1,0.04\nb,0.2,0.05\n",
    "decimal-comma-in-quotes": 'study,yi,vi\na,"0,1",0.04\nb,0.2,0.05\n',
    "huge-count": "study,e_t,n_t,e_c,n_c\na,1,10,2,10\nb,3,9007199254740993,4,20\n",
    "out-of-range-yi": "study,estimate,ci_low,ci_high\na,0.5,0.25,1\nb,2,1,1e300\n",
}
GOOD = {
    "semicolon-decimal-comma": "study;n_t;mean_t;sd_t;n_c;mean_c;sd_c\na;10;5,5;1;12;6;1,5\nb;20;4;2;20;5;2\n",
    "repeated-labels": "Study,ai,bi,ci,di\nx,1,9,2,8\nx,3,17,4,16\ny,2,8,2,8\n",
    "empty-arm": "study,e_t,n_t,e_c,n_c\na,1,10,2,10\nb,0,0,4,20\nc,5,30,9,31\n",
}


@pytest.mark.parametrize("name", [*BAD, *GOOD])
def test_a_file_one_command_accepts_every_command_accepts(tmp_path, capsys, name):
    path = tmp_path / "f.csv"
    path.write_text({**BAD, **GOOD}[name])
    try:
        build_spec(fit_parser().parse_args([str(path)]))
        fit_error = None
    except DataValidationError as err:
        fit_error = str(err)
    rows = analyse_entry(Entry("x", str(path), None, False, None), Options())
    batch_error = rows[0].message if len(rows) == 1 and rows[0].status == "error" else None
    pool_code = pool_main([str(path), "--json"])
    out = capsys.readouterr()
    pool_error = out.err.removeprefix("pool.py: error: ").rstrip("\n") if pool_code == 2 else None
    assert (fit_error is None) == (name in GOOD)
    assert fit_error == batch_error == pool_error
    if name in GOOD:
        assert json.loads(out.out)["method"] == "REML" and all(r.status == "ok" for r in rows)
