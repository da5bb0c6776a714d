"""The corpus report's numbers, from a small stored result table (tests/reference/corpus_report/results_sample.csv,
hand-made rows written by make_results_sample.py beside it): every expected value below is worked out by hand from
that script's SPEC (log10 Bayes factors, tau medians, P(benefit), REML log OR and SE)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from models.batch import report_sections as sections
from models.batch.analyse import Options
from models.batch.report import write_report
from models.batch.report_data import BF_CLASSES, bf_class, fmt_bf, load

SAMPLE = Path(__file__).parents[1] / "reference" / "corpus_report" / "results_sample.csv"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    table = pd.read_csv(SAMPLE, keep_default_na=False, na_values=[""])
    table["message"] = table["message"].fillna("")
    table.to_parquet(folder / "results.parquet")
    return folder


@pytest.fixture(scope="module")
def rows(out: Path) -> pd.DataFrame:
    return load(out, {"A": "all_cause_mortality", "B": "all_cause_mortality", "C": "adverse_events"})[0]


def test_bayes_factor_categories_put_an_edge_in_the_class_above() -> None:
    log10 = np.log10([0.05, 0.1, 0.2, 1 / 3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 1e5]) + [0, 1e-12, 0, 1e-12, 0, 0, 0,
                                                                                     1e-12, 0, 1e-12, 0]  # fmt: skip
    assert list(bf_class(log10)) == ["< 1/10", "1/10 to 1/3", "1/10 to 1/3", "1/3 to 1", "1/3 to 1", "1 to 3",
                                     "1 to 3", "3 to 10", "3 to 10", "> 10", "> 10"]  # fmt: skip
    assert bf_class(np.array([np.nan]))[0] == ""


def test_bayes_factors_beyond_a_double_are_stated_as_such() -> None:
    assert fmt_bf(400.0) == "> 10^300" and fmt_bf(-301.0) == "< 10^-300" and fmt_bf(math.inf) == "> 10^300"
    assert fmt_bf(math.log10(3.0)) == "3" and fmt_bf(5.0) == "1e+05" and fmt_bf(math.nan) == "n/a"


def test_one_sided_p_is_on_the_benefit_side(rows: pd.DataFrame) -> None:
    """C: log OR -0.392 with SE 0.2, benefit below 1: z = -1.96, p = Phi(-1.96); A: +0.1/0.2: Phi(0.5)."""
    p = rows.drop_duplicates("analysis").set_index("analysis")["p_one_sided"]
    assert p["C"] == pytest.approx(special.ndtr(-0.392 / 0.2), rel=1e-9)
    assert p["A"] == pytest.approx(special.ndtr(0.5), rel=1e-9)
    assert p["E"] == pytest.approx(special.ndtr(-8.0), rel=1e-6)


def test_error_rows_are_apart_and_tau_reml_is_the_root(out: Path, rows: pd.DataFrame) -> None:
    errors = load(out)[1]
    assert list(errors["analysis"]) == ["G"]
    d = rows[(rows["analysis"] == "D") & (rows["model"] == sections.NORMAL)]
    assert float(d["tau_reml"].iloc[0]) == pytest.approx(0.5)


def test_bayes_factor_table_counts(rows: pd.DataFrame) -> None:
    lines, fig = sections.bayes_factors(rows)
    bn = next(x for x in lines if x.startswith("| binomial-normal | effect"))
    cells = [c.strip() for c in bn.strip("|").split("|")]
    assert cells[2] == "6"
    assert cells[3:9] == ["16.7% (1)", "33.3% (2)", "0.0% (0)", "16.7% (1)", "16.7% (1)", "16.7% (1)"]
    assert cells[10] == "> 10^300"  # E: 10^400
    het = next(x for x in lines if x.startswith("| binomial-normal | heterogeneity"))
    assert [c.strip() for c in het.strip("|").split("|")][3:9] == ["0.0% (0)", "16.7% (1)", "33.3% (2)", "16.7% (1)",
                                                                   "0.0% (0)", "33.3% (2)"]  # fmt: skip
    assert fig is not None and len(BF_CLASSES) == 6


def test_published_side_by_side_shares_below_one(rows: pd.DataFrame) -> None:
    lines = sections.published(rows, {}, "priors")
    effect = next(x for x in lines if x.startswith("| meta-analyses more consistent with no effect"))
    assert effect.count("50.0% (3)") == 2  # A, B, F below 1 under both models
    text = "\n".join(lines)
    assert "Turner et al. 2015" in text and "Rhodes" in text and "2306.11468" in text


def test_p_benefit_against_one_sided_p(rows: pd.DataFrame) -> None:
    """p < 0.025: C, D, E; P(benefit) > 0.975: D, E (C is exactly 0.975)."""
    lines, fig = sections.benefit_vs_p(rows)
    bn = next(x for x in lines if x.startswith("| binomial-normal |"))
    assert [c.strip() for c in bn.strip("|").split("|")][1:] == ["6", "50.0% (3)", "33.3% (2)", "33.3% (2)",
                                                                  "16.7% (1)", "0.0% (0)", "0.0% (0)"]  # fmt: skip
    assert fig is not None


def test_results_by_number_of_studies(rows: pd.DataFrame) -> None:
    lines = sections.by_number_of_studies(rows)
    bins = [x.split("|")[1].strip() for x in lines if x.startswith("| ") and not x.startswith("| studies")]
    counts = [x.split("|")[2].strip() for x in lines if x.startswith("| ") and not x.startswith("| studies")]
    assert (bins, counts) == (["5-6", "7-9", "10-14", "25-49"], ["3", "1", "1", "1"])


def test_models_compared_meta_analysis_by_meta_analysis(rows: pd.DataFrame) -> None:
    lines, fig = sections.model_agreement(rows)
    tau = next(x for x in lines if x.startswith("| absolute difference of tau medians"))
    assert tau.rstrip(" |").endswith("16.7% (1)")  # C: 0.30 against 0.42
    assert next(x for x in lines if x.startswith("| BF10 effect in another")).rstrip(" |").endswith("0.0% (0)")
    assert fig is not None


def test_prior_sensitivity_spread_per_meta_analysis(rows: pd.DataFrame) -> None:
    """A: P(benefit) 0.40 and 0.50, BF10 het 10^-0.6 and 10^0.2; B: 0.70 and 0.97, 10^-0.2 and 10^0.1."""
    text = "\n".join(sections.prior_sensitivity(rows))
    assert "P(benefit) on both sides of 0.95 under some pair: 16.7% (1)" in text
    assert "BF10 for heterogeneity on both sides of 1: 33.3% (2)" in text
    assert "| halfnormal_0.5 | weakly_informative | 2 |" in text


def test_tau_by_outcome_type_beside_turner(rows: pd.DataFrame) -> None:
    lines, fig = sections.tau_by_outcome(rows, min_group=2)
    row = next(x for x in lines if x.startswith("| all-cause mortality"))
    assert "| 2 |" in row and "0.12-0.23" in row  # Turner's medians over the comparison types, exp((-4.18..-2.92)/2)
    assert not any(x.startswith("| adverse events") for x in lines)  # one meta-analysis only
    assert fig is not None


@pytest.mark.slow
def test_write_report_end_to_end(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from models.batch import report

    monkeypatch.setattr(report, "read_effects", lambda sources, seed: ([], [s[0] for s in sources]))
    path = write_report(out, Options())
    text = path.read_text()
    for heading in ("## Published meta-research, side by side", "## Bayes factors", "## P(benefit) against",
                    "## Results by number of studies", "## Binomial-normal against normal-normal",
                    "## Prior sensitivity", "## Rows with status error, by cause"):  # fmt: skip
        assert heading in text
    assert "| N estimable effect(s): needs at least N | 1 |" in text
    assert (out / "bayes_factors.png").is_file() and (out / "prob_benefit_vs_p.png").is_file()
