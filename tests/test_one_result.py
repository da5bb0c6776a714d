"""One result model, one prior policy, one reader (issue 18): the same CSV through ``reanalyse fit`` and through
``reanalyse batch`` gives identical Bayesian and frequentist numbers under each command's DEFAULT options, in every
layout.

Both commands are run as a user runs them (``models.command.main``: ``fit FILE --json`` and ``batch FOLDER``, no
prior or measure options except where a layout needs a measure), and their primary rows are compared column by
column. Reference: each command's own result for the other (no numbers are computed here); the engines are checked
against metafor and brute-force integration in their own tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.command import main

FILES = {
    "2x2": "study,e_t,n_t,e_c,n_c\na,1,10,2,10\nb,3,20,4,20\nc,5,30,9,31\nd,0,15,3,14\n",
    "continuous": "study,n_t,mean_t,sd_t,n_c,mean_c,sd_c\na,10,5,1,12,6,1.5\nb,20,4,2,20,5,2\nc,9,3.5,1,9,4,1.2\n",
    "effects": "study,yi,vi\na,0.1,0.04\nb,-0.3,0.09\nc,0.2,0.05\n",
    "effects_ci": "study,estimate,ci_low,ci_high\na,0.5,0.25,1\nb,2,1,4\nc,1.1,0.9,1.4\n",
}
CASES = [
    ("2x2", None),
    ("2x2", "RR"),
    ("continuous", None),
    ("effects", "OR"),
    ("effects", "SMD"),
    ("effects_ci", "RR"),
]
SAME = ("model", "measure", "scale", "method", "k", "studies", "effect_median", "effect_low", "effect_high",
        "p_below_null", "p_benefit", "tau_median", "tau_low", "tau_high", "pred_low", "pred_high", "p_new_benefit",
        "freq_method", "freq_measure", "freq_k", "freq_estimate", "freq_ci_low", "freq_ci_high", "freq_p",
        "freq_tau2", "freq_i2", "freq_q", "freq_q_p", "gate", "status")  # fmt: skip


@pytest.fixture(scope="module")
def batch_rows(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str | None], list[dict[str, str]]]:
    """One default ``reanalyse batch`` over a manifest holding every case (one in-process run for the module)."""
    import csv

    folder = tmp_path_factory.mktemp("one_result")
    lines = ["id,path,measure"]
    for layout, measure in CASES:
        (folder / f"{layout}.csv").write_text(FILES[layout])
        lines.append(f"{layout}-{measure},{layout}.csv,{measure or ''}")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    assert main(["batch", str(folder / "manifest.csv"), "--results", str(folder / "out"), "--workers", "0",
                 "--no-report", "--quiet"]) == 0  # fmt: skip
    with open(folder / "out" / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {case: [r for r in rows if r["analysis"] == f"{case[0]}-{case[1]}"] for case in CASES}


def _same(value: object) -> object:
    """A cell as both outputs can be compared: numbers as floats (JSON null and an empty CSV cell are None)."""
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


@pytest.mark.parametrize(("layout", "measure"), CASES, ids=[f"{lay}-{m}" for lay, m in CASES])
def test_fit_and_batch_give_identical_numbers_under_their_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], batch_rows: dict, layout: str, measure: str | None
) -> None:
    path = tmp_path / f"{layout}.csv"
    path.write_text(FILES[layout])
    argv = ["fit", str(path), "--json", "--results", str(tmp_path / "fit"), "--no-progress"]
    assert main(argv + (["--measure", measure] if measure else [])) == 0
    fit = json.loads(capsys.readouterr().out)["results"]
    batch = batch_rows[(layout, measure)]
    assert batch, "batch wrote no row for this case"
    for b in batch:
        key = (b["model"], "pooled", "all_studies", b["tau_prior"], b["effect_prior"])
        matches = [r for r in fit if (r["model"], r["kind"], r["analysis"], r["tau_prior"], r["effect_prior"]) == key]
        assert len(matches) == 1, (b["model"], b["tau_prior"], b["effect_prior"])
        assert {c: _same(matches[0][c]) for c in SAME} == {c: _same(b[c]) for c in SAME}, b["model"]
