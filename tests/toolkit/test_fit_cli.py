"""``reanalyse fit`` end to end (in-process ``main(argv)``, exact by default: seconds) on the shipped reference sets.

Expected values: the exact normal-normal posterior (``models.bayes.exact.exact_normal_normal``, quadrature) computed
here from effects derived independently of the toolkit (log OR by its textbook formula for bcg; metafor 3.8-1's
``escalc`` SMD values from tests/reference/normand1999.metafor.json); frequentist pooling against metafor's JSON.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from tolerances import TOLERANCE

from models.bayes.exact import exact_normal_normal
from models.command import main
from models.priors import EFFECT_PRESETS, TAU_PRESETS
from models.results import COLUMN_NAMES

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
BCG = REFERENCE / "bcg.csv"
NORMAND = REFERENCE / "normand1999.csv"
TOL = {"posterior": TOLERANCE["same_computation"], "metafor": TOLERANCE["metafor"]}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def bcg_log_or() -> tuple[list[str], np.ndarray, np.ndarray]:
    """log OR and its variance per bcg trial: log(ad/bc), 1/a + 1/b + 1/c + 1/d (no zero cells in bcg)."""
    rows = _rows(BCG)
    a, n1, c, n2 = (np.array([float(r[k]) for r in rows]) for k in ("e_t", "n_t", "e_c", "n_c"))
    b, d = n1 - a, n2 - c
    return [r["study"] for r in rows], np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


def _fit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    code = main(["fit", *argv, "--no-progress", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out, parse_constant=lambda token: pytest.fail(f"not strict JSON: {token}"))


def _row(payload: dict, model: str, tau: str, effect: str, analysis: str = "all_studies") -> dict:
    (row,) = [
        r
        for r in payload["results"]
        if (r["model"], r["tau_prior"], r["effect_prior"], r["analysis"]) == (model, tau, effect, analysis)
    ]
    return row


def _check_against_oracle(row: dict, yi, vi, tau: str, effect: str, measure: str) -> None:
    post = exact_normal_normal(yi, vi, TAU_PRESETS[tau], EFFECT_PRESETS[effect], measure=measure)
    ci = post.interval(0.95)
    assert row["effect_median"] == pytest.approx(post.median(), rel=TOL["posterior"])
    assert row["effect_low"] == pytest.approx(ci.low, rel=TOL["posterior"])
    assert row["effect_high"] == pytest.approx(ci.high, rel=TOL["posterior"])
    assert row["scale"] == ("ratio" if measure in ("OR", "RR") else "difference")
    null = 1.0 if measure in ("OR", "RR") else 0.0
    assert row["p_below_null"] == pytest.approx(post.prob_below(null), rel=TOL["posterior"])
    assert row["tau_median"] == pytest.approx(post.tau_median(), rel=TOL["posterior"])
    assert row["k"] == len(yi)


@pytest.mark.parametrize(("tau", "effect"), [("turner2015_general", "weakly_informative"), ("halfnormal_1", "vague")])
def test_bcg_2x2_normal_normal_rows_equal_the_exact_posterior(tmp_path, capsys, tau, effect) -> None:
    payload = _fit([str(BCG), "--results", str(tmp_path / "out")], capsys)
    study, yi, vi = bcg_log_or()
    _check_against_oracle(_row(payload, "normal_normal_exact", tau, effect), yi, vi, tau, effect, "OR")
    assert {"report.md", "report.html", "summary.csv", "run_info.json"} <= {
        p.name for p in (tmp_path / "out").iterdir()
    }
    primary = payload["primary"]
    assert (primary["model"], primary["tau_prior"], primary["gate"]) == (
        "binomial_normal_exact",
        "turner2015_general",
        "not sampled",
    )
    # the one column vocabulary (docs/results-columns.md) in summary.csv and in every JSON record
    with open(tmp_path / "out" / "summary.csv", newline="") as handle:
        assert tuple(next(csv.reader(handle))) == COLUMN_NAMES
    assert tuple(primary) == COLUMN_NAMES and all(tuple(r) == COLUMN_NAMES for r in payload["results"])
    grid = {(r["tau_prior"], r["effect_prior"]) for r in payload["results"] if r["model"] == "binomial_normal_exact"}
    assert len(grid) == 8 * 4  # the 8 x 4 grid (the primary pair is in it)
    loo = [r for r in payload["results"] if r["kind"] == "leave_one_out"]
    assert sorted(r["subject"] for r in loo) == sorted(study) and all(r["k"] == 12 for r in loo)
    assert all(r["analysis"] == f"without {r['subject']}" and r["parent"] == "all_studies" for r in loo)


def test_bcg_effects_layout_gives_the_same_posterior(tmp_path, capsys) -> None:
    """Written as a semicolon-separated file with decimal commas (R's write.csv2): read, and said in every output."""
    study, yi, vi = bcg_log_or()
    path = tmp_path / "bcg_effects.csv"
    cells = (f'"{s}";{float(y)!r};{float(v)!r}'.replace(".", ",") for s, y, v in zip(study, yi, vi, strict=True))
    path.write_text("study;yi;vi\n" + "\n".join(cells) + "\n")
    payload = _fit([str(path), "--measure", "OR", "--results", str(tmp_path / "out")], capsys)
    row = _row(payload, "normal_normal_exact", "turner2015_general", "weakly_informative")
    _check_against_oracle(row, yi, vi, "turner2015_general", "weakly_informative", "OR")
    assert payload["primary"]["model"] == "normal_normal_exact"  # no counts: no binomial-normal model
    assert not [r for r in payload["results"] if r["model"].startswith("binomial")]
    note = "read as semicolon-separated with decimal commas"
    assert payload["data_notes"] == [note]
    assert json.loads((tmp_path / "out" / "run_info.json").read_text())["data_notes"] == [note]
    assert f"Data as read: {note}." in (tmp_path / "out" / "report.md").read_text()


def test_normand_continuous_smd_equals_exact_posterior_on_metafor_effects(tmp_path, capsys) -> None:
    ref = json.loads((REFERENCE / "normand1999.metafor.json").read_text())["results"]
    yi, vi = np.array(ref["yi_SMD"]), np.array(ref["vi_SMD"])
    payload = _fit([str(NORMAND), "--measure", "SMD", "--results", str(tmp_path / "out")], capsys)
    for tau, effect in [("rhodes2015_smd_general", "weakly_informative"), ("halfnormal_0.5", "vague")]:
        _check_against_oracle(_row(payload, "normal_normal_exact", tau, effect), yi, vi, tau, effect, "SMD")


def test_cumulative_by_year_ends_with_all_studies(tmp_path, capsys) -> None:
    rows = _rows(BCG)
    path = tmp_path / "bcg_year.csv"
    lines = ["study,e_t,n_t,e_c,n_c,year"]  # bcg's labels end in the publication year (metadat::dat.bcg)
    lines += [f'"{r["study"]}",{r["e_t"]},{r["n_t"]},{r["e_c"]},{r["n_c"]},{r["study"][-4:]}' for r in rows]
    path.write_text("\n".join(lines) + "\n")
    payload = _fit([str(path), "--results", str(tmp_path / "out")], capsys)
    steps = sorted((r for r in payload["results"] if r["kind"] == "cumulative"), key=lambda r: r["analysis"])
    assert [r["k"] for r in steps] == list(range(1, 14))
    assert "1948" in steps[0]["subject"]
    last, primary = steps[-1], payload["primary"]
    assert last["effect_median"] == pytest.approx(primary["effect_median"], rel=1e-9)
    assert (tmp_path / "out" / "figures" / "evidence_over_time.png").is_file()


def test_report_opens_with_the_bottom_line_and_the_frequentist_result_beside_it(tmp_path, capsys) -> None:
    """The frequentist result's reference: R metafor 3.8-1 ``rma(yi, vi, method="REML")`` on bcg's log OR
    (tests/reference/bcg.metafor.json)."""
    argv = [str(BCG), "--favours", "BCG,no vaccine", "--published", "OR 0.49 [0.34, 0.70]"]
    payload = _fit([*argv, "--results", str(tmp_path / "o")], capsys)
    text = (tmp_path / "o" / "report.md").read_text().splitlines()
    assert text[0] == "# Bayesian reanalysis: bcg.csv"
    assert re.match(
        r"Across 13 studies, the probability that the pooled effect favours BCG \(P\(OR < 1\)\) is \*\*", text[2]
    )
    assert "P(important benefit, OR < 0.8)" in text[2] and "prediction interval" in text[2]
    assert text[4].startswith("Frequentist random effects beside it (metafor's rma, REML estimate of tau², Wald 95% CI")
    assert "OR 0.47 (95% CI 0.33 to 0.68)" in text[4]
    ref = json.loads((REFERENCE / "bcg.metafor.json").read_text())["results"]["REML_OR"]
    primary = payload["primary"]
    assert (primary["freq_method"], primary["freq_measure"], primary["freq_k"]) == ("REML", "OR", ref["k"])
    for field, key in (("freq_estimate", "estimate"), ("freq_ci_low", "ci_lb"), ("freq_ci_high", "ci_ub")):
        assert math.log(primary[field]) == pytest.approx(ref[key], rel=TOL["metafor"])
    for field, key in (("freq_tau2", "tau2"), ("freq_i2", "I2"), ("freq_q", "Q")):
        assert primary[field] == pytest.approx(ref[key], rel=TOL["metafor"])
    with open(tmp_path / "o" / "summary.csv", newline="") as handle:
        pooled = [r for r in csv.DictReader(handle) if r["analysis"] == "all_studies" and r["kind"] == "pooled"]
    assert pooled and {r["freq_method"] for r in pooled} == {"REML"}
    assert float(pooled[0]["freq_estimate"]) == primary["freq_estimate"]
    # probabilities at the ends read "P(...) > 0.999" / "< 0.001", never "= > 0.999" (bcg: P(OR < 1) > 0.999 and
    # P(at least 20 fewer per 1,000) < 0.001 at its crude control risk, below 1%)
    assert "= >" not in text[2] and "= <" not in text[2] and "P(at least 20 fewer per 1,000) < 0.001" in text[2]


@pytest.mark.parametrize("entry", ["REML_OR", "DL_RR", "EE_OR"])
def test_pool_subcommand_matches_metafor(capsys, entry) -> None:
    expected = json.loads((REFERENCE / "bcg.metafor.json").read_text())["results"][entry]
    method, measure = entry.split("_")
    assert main(["pool", str(BCG), "--measure", measure, "--method", "IV" if method == "EE" else method, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["log_estimate"] == pytest.approx(expected["estimate"], rel=TOL["metafor"])
    assert math.log(out["ci_low"]) == pytest.approx(expected["ci_lb"], rel=TOL["metafor"])
    assert out["tau2"] == pytest.approx(expected["tau2"], rel=TOL["metafor"], abs=1e-12)


def test_list_priors_names_every_preset_with_its_source(capsys) -> None:
    assert main(["fit", "--list-priors"]) == 0
    out = capsys.readouterr().out
    for key, prior in TAU_PRESETS.items():
        assert key in out and prior.citation in out


def test_absolute_effects_follow_the_pooled_or_at_each_stated_control_risk(tmp_path, capsys) -> None:
    """Closed form: at control risk p_c, an OR gives expit(logit(p_c) + log OR) with treatment (the OR's median and
    95% limits map to the risk's, a monotone transform); the crude control risk is sum(e_c) / sum(n_c) of bcg."""
    payload = _fit([str(BCG), "--results", str(tmp_path / "r"), "--control-risk", "0.3:stated"], capsys)
    rows = _rows(BCG)
    crude = sum(float(r["e_c"]) for r in rows) / sum(float(r["n_c"]) for r in rows)
    first, stated = [r for r in payload["results"] if r["kind"] == "absolute"]
    assert first["control_risk"] == pytest.approx(crude, rel=TOLERANCE["closed_form"])
    assert stated["control_risk"] == 0.3 and stated["control_risk_label"] == "stated"
    primary = payload["primary"]
    for a in (first, stated):
        p_c = a["control_risk"]
        assert a["parent"] == "all_studies" and a["effect_median"] == primary["effect_median"]
        for field in ("", "_low", "_high"):
            log_or = math.log(primary[f"effect{field or '_median'}"])
            expected = 1000 / (1 + math.exp(-(math.log(p_c / (1 - p_c)) + log_or)))
            assert a[f"events_per_1000{field}"] == pytest.approx(expected, rel=1e-6)
            assert a[f"difference_per_1000{field}"] == pytest.approx(expected - 1000 * p_c, abs=1e-6)
        # P(at least 20 fewer per 1,000) cannot exceed P(any benefit)
        assert a["p_arr_at_least_2pct"] <= primary["p_benefit"] + 1e-12


def test_no_absolute_effects_when_higher_is_benefit(tmp_path, capsys) -> None:
    payload = _fit([str(BCG), "--results", str(tmp_path / "r"), "--higher-is-benefit"], capsys)
    assert not [r for r in payload["results"] if r["kind"] == "absolute" or r["control_risk"] is not None]


@pytest.mark.parametrize("risk", ["1.5", "0", "x", "nan"])
def test_bad_control_risk_is_one_line_and_exit_2(tmp_path, capsys, risk) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["fit", str(BCG), "--control-risk", risk, "--results", str(tmp_path / "r")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--control-risk" in err[0]
    assert not (tmp_path / "r").exists()


def test_published_fixed_effect_ci_is_also_widened_by_the_between_study_variance(tmp_path, capsys) -> None:
    """Reference: SummaryLevelPosterior with fixed_effect_k = 13 (bcg's k) called directly; the widened interval
    contains the face-value one (the fixed-effect CI leaves out tau^2/k)."""
    from models.bayes.summary_level import SummaryLevelPosterior

    payload = _fit([str(BCG), "--results", str(tmp_path / "r"), "--published", "OR 0.49 [0.45, 0.54]",
                    "--published-fixed-effect"], capsys)  # fmt: skip
    tau, effect = payload["primary"]["tau_prior"], payload["primary"]["effect_prior"]
    face = _row(payload, "summary_level", tau, effect, "published")
    widened = _row(payload, "summary_level_re", tau, effect, "published")
    direct = SummaryLevelPosterior(0.49, 0.45, 0.54, "OR", TAU_PRESETS[tau], EFFECT_PRESETS[effect], fixed_effect_k=13)
    assert widened["effect_median"] == pytest.approx(direct.median(), rel=TOL["posterior"])
    assert widened["effect_low"] < face["effect_low"] and widened["effect_high"] > face["effect_high"]
    assert (widened["k"], widened["method"], face["method"]) == (13, "normal_mixture", "closed_form")


def test_published_fixed_effect_without_published_is_one_line_exit_2(tmp_path, capsys) -> None:
    assert main(["fit", str(BCG), "--published-fixed-effect", "--results", str(tmp_path / "r")]) == 2
    assert "--published-fixed-effect needs --published" in capsys.readouterr().err
