"""Student-t effect priors and Bartoš et al.'s empirical pairs.

References: the "Cochrane" rows of the papers' tables (Bartoš et al. 2023, arXiv 2306.11468: log OR Student-t(0, 0.58,
4) with InvGamma(1.77, 0.55), log RR Student-t(0, 0.32, 3) with InvGamma(1.51, 0.23); Bartoš et al. 2021, Stat Med
40:6743: SMD T(0, 0.43, 5) with Inv-Gamma(1.71, 0.40)), as transcribed in the authors' BayesTools tests
(tests/testthat/test-priors-informed.R); scipy.stats.t for the scale mixture's density and distribution function.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from models.batch.analyse import Options
from models.prior_policy import EMPIRICAL, PriorError, empirical_pair, list_priors, parse_effect_prior, statement
from models.student_t_prior import STUDENT_T_PRESETS, StudentTEffectPrior

PUBLISHED = {
    "OR": ((0.0, 0.58, 4.0), (1.77, 0.55)),
    "RR": ((0.0, 0.32, 3.0), (1.51, 0.23)),
    "SMD": ((0.0, 0.43, 5.0), (1.71, 0.40)),
}


@pytest.mark.parametrize("measure", list(PUBLISHED))
def test_empirical_pair_is_the_published_cochrane_row(measure: str) -> None:
    pair = empirical_pair(measure)
    (loc, scale, df), (alpha, beta) = PUBLISHED[measure]
    assert (pair.effect.location, pair.effect.scale, pair.effect.df) == (loc, scale, df)
    assert (pair.tau.family, dict(pair.tau.params)) == ("invgamma", {"alpha": alpha, "beta": beta})
    assert pair.primary and pair.tau.key == pair.effect.key == EMPIRICAL[measure]
    assert ("2021" if measure == "SMD" else "2023") in pair.tau.citation and "Bartoš" in pair.effect.citation
    assert pair.effect.log_scale is (measure != "SMD")


def test_other_measures_have_no_empirical_pair() -> None:
    with pytest.raises(PriorError, match="OR, RR, SMD"):
        empirical_pair("MD")


@pytest.mark.parametrize("df", [3.0, 4.0, 5.0, 10.0])
def test_scale_mixture_density_and_cdf_match_the_t(df: float) -> None:
    prior = StudentTEffectPrior("t", "t", 0.1, 0.58, df, "test")
    pairs = prior.normal_components()
    w = np.array([p for p, _ in pairs])
    mean = np.array([c.mean for _, c in pairs])[:, None]
    sd = np.array([c.sd for _, c in pairs])[:, None]
    x = 0.1 + 0.58 * np.concatenate([np.linspace(-100, -5, 200), np.linspace(-5, 5, 201), np.linspace(5, 100, 200)])
    density = w @ stats.norm.pdf(x[None, :], mean, sd)
    cdf = w @ stats.norm.cdf(x[None, :], mean, sd)
    reference = stats.t(df, loc=0.1, scale=0.58)
    assert np.max(np.abs(density / reference.pdf(x) - 1.0)) < 1e-4
    assert np.max(np.abs(cdf - reference.cdf(x))) < 1e-5
    assert w.sum() == pytest.approx(1.0, abs=1e-12) and 20 <= w.size <= 45


def test_prior_methods_are_scipy_t() -> None:
    prior = STUDENT_T_PRESETS["bartos2023_logrr"]
    ref = stats.t(3, scale=0.32)
    assert prior.cdf(-0.2) == pytest.approx(ref.cdf(-0.2), rel=1e-12)
    assert prior.interval(0.95) == pytest.approx(ref.interval(0.95), rel=1e-12)
    assert "Student-t(3 df, location 0, scale 0.32)" in str(prior) and "2306.11468" in str(prior)


def test_t_presets_are_listed_but_are_not_effect_prior_options() -> None:
    assert "bartos2023_logor" in list_priors() and "--priors bartos2023" in list_priors()
    with pytest.raises(PriorError, match="no preset"):
        parse_effect_prior("bartos2023_logor", "OR")


def test_statement_names_the_choice() -> None:
    text = statement("RR", empirical_pair("RR"), written=False)
    assert "chosen with --priors bartos2023" in text and "Student-t(3 df" in text and "InverseGamma(1.51, 0.23)" in text
    assert "Turner" not in text


def test_batch_bartos2023_runs_the_pair_of_each_measure() -> None:
    options = Options(prior_set="bartos2023")
    assert [p.keys for p in options.pairs("RR")] == [("bartos2023_logrr", "bartos2023_logrr")]
    assert [p.keys for p in options.pairs("SMD")] == [("bartos2021_smd", "bartos2021_smd")]


def test_batch_refuses_written_priors_with_bartos2023(tmp_path, capsys) -> None:
    from models.batch.cli import main

    code = main(
        [str(tmp_path), "--priors", "bartos2023", "--tau-prior", "halfnormal(0.5)", "--results", str(tmp_path / "out")]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--priors bartos2023 sets both priors" in err
    assert not (tmp_path / "out").exists()
