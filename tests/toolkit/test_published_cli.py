"""``reanalyse published`` against the conjugate normal closed form (posterior of mu given one published estimate)."""

from __future__ import annotations

import json
import math
import re

import pytest
from scipy import stats

from models.command import main
from models.prior_policy import parse_tau_prior
from models.priors import EFFECT_PRESETS
from models.toolkit.published import PublishedEstimate, SpecError


def test_published_or_equals_conjugate_normal(capsys) -> None:
    assert main(["published", "OR 0.74 [0.55, 0.99]", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    se = (math.log(0.99) - math.log(0.55)) / (2 * stats.norm.ppf(0.975))
    y = math.log(0.74)
    assert len({r["effect_prior"] for r in payload["results"]}) == 4
    assert len({r["tau_prior"] for r in payload["results"]}) == 8
    for row in payload["results"]:
        prior = EFFECT_PRESETS[row["effect_prior"]]
        precision = 1 / se**2 + 1 / prior.sd**2
        mean, sd = (y / se**2 + prior.mean / prior.sd**2) / precision, precision**-0.5
        assert row["effect_median"] == pytest.approx(math.exp(mean), rel=1e-9)
        assert row["effect_low"] == pytest.approx(math.exp(mean - stats.norm.ppf(0.975) * sd), rel=1e-9)
        assert row["p_below_null"] == pytest.approx(stats.norm.cdf(0, mean, sd), rel=1e-9)
        assert row["p_important"] == pytest.approx(stats.norm.cdf(math.log(0.8), mean, sd), rel=1e-9)


def test_fixed_effect_k_widens_the_interval(capsys) -> None:
    assert main(["published", "OR 0.74 [0.55, 0.99]", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)["results"][0]
    assert main(["published", "OR 0.74 [0.55, 0.99]", "--fixed-effect-k", "5", "--json"]) == 0
    fixed = json.loads(capsys.readouterr().out)["results"][0]
    assert (fixed["model"], fixed["k"]) == ("summary_level_re", 5)
    assert fixed["effect_high"] / fixed["effect_low"] > plain["effect_high"] / plain["effect_low"]


@pytest.mark.parametrize(
    ("text", "measure", "parsed"),
    [
        ("OR 0.74 [0.55, 0.99]", None, ("OR", 0.74, 0.55, 0.99)),
        ("0.74 (0.55-0.99)", "OR", ("OR", 0.74, 0.55, 0.99)),
        ("OR 0.74 (95% CI 0.55 to 0.99)", None, ("OR", 0.74, 0.55, 0.99)),
        ("0.74 (0.55\u20130.99)", "RR", ("RR", 0.74, 0.55, 0.99)),  # en dash
        ("HR 0.80 (0.66\u20140.97)", None, ("HR", 0.8, 0.66, 0.97)),  # em dash
        ("HR = 0.80; 95% CI: 0.66, 0.97", None, ("HR", 0.8, 0.66, 0.97)),
        ("rr 0.8 (0.6-0.95)", None, ("RR", 0.8, 0.6, 0.95)),
        ("OR 0.74, 95% CI 0.55-0.99", None, ("OR", 0.74, 0.55, 0.99)),
        ("OR: 0.74 (95% confidence interval 0.55\u20130.99)", "OR", ("OR", 0.74, 0.55, 0.99)),
        ("MD -1.5 [-2.5 to -0.5]", None, ("MD", -1.5, -2.5, -0.5)),
        ("MD \u22121.2 (\u22122.0 to \u22120.4)", None, ("MD", -1.2, -2.0, -0.4)),  # Unicode minus signs
        ("MD -1.2 (-2.0--0.4)", None, ("MD", -1.2, -2.0, -0.4)),  # hyphen, then a negative bound
        ("SMD 0.3 [95%CI 0.1; 0.5]", None, ("SMD", 0.3, 0.1, 0.5)),
    ],
)
def test_published_text_forms(text, measure, parsed) -> None:
    p = PublishedEstimate.parse(text, measure)
    assert (p.measure, p.estimate, p.ci_low, p.ci_high) == parsed


@pytest.mark.parametrize(
    ("text", "measure", "message"),
    [
        ("OR 0.74 (90% CI 0.6 to 0.9)", None, "a 90% interval; give the 95% interval"),
        ("0.74 (0.55-0.99)", None, "names no measure: write it first"),
        ("OR 0.74 (0.55-0.99)", "RR", "is an OR, but --measure is RR"),
        ("OR 0,74 (0,55-0,99)", None, "decimal commas: write 0.74, not 0,74"),
        ("OR 0.74 [0.99, 0.55]", None, "need low < estimate < high"),
        ("XX 1 (0.5-2)", None, "XX is not one of OR, RR, RD, MD, SMD, HR"),
        ("OR 0.74", None, "is not of a form read here"),
        ("HR -0.7 (-0.9 to -0.5)", None, "a published HR and its interval must be positive"),
    ],
)
def test_published_text_that_is_refused_says_why(text, measure, message) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        PublishedEstimate.parse(text, measure)


def test_hr_is_a_ratio_on_the_log_scale_at_summary_level(capsys) -> None:
    """Reference: the conjugate normal closed form on log HR (a log ratio like log RR)."""
    assert main(["published", "HR 0.80 (95% CI 0.66 to 0.97)", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {r["measure"] for r in payload["results"]} == {"HR"} and "log HR" in payload["priors"]
    se = (math.log(0.97) - math.log(0.66)) / (2 * stats.norm.ppf(0.975))
    first = payload["results"][0]
    assert (first["tau_prior"], first["effect_prior"]) == ("turner2015_general", "weakly_informative")
    precision = 1 / se**2 + 1
    mean = math.log(0.8) / se**2 / precision
    assert first["effect_median"] == pytest.approx(math.exp(mean), rel=1e-9)
    assert first["p_benefit"] == pytest.approx(stats.norm.cdf(0, mean, precision**-0.5), rel=1e-9)


def test_fit_refuses_a_published_hr_pointing_to_published(tmp_path, capsys) -> None:
    path = tmp_path / "t.csv"
    path.write_text("study,e_t,n_t,e_c,n_c\na,1,10,2,10\nb,3,20,4,20\n")
    assert main(["fit", str(path), "--published", "HR 0.8 (0.6-0.95)", "--results", str(tmp_path / "o")]) == 2
    assert "reanalyse published 'HR 0.8 (0.6-0.95)'" in capsys.readouterr().err


@pytest.mark.parametrize("prior", ["halfnormal(0.5)", "halfnormal_0.5", "HalfCauchy(1)", "halfnormal(0.7)"])
def test_a_written_prior_gives_each_pair_once(capsys, prior) -> None:
    assert main(["published", "OR 0.74 [0.55, 0.99]", "--tau-prior", prior, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    keys = [(r["tau_prior"], r["effect_prior"]) for r in rows]
    assert len(keys) == len(set(keys)) == (32 if prior != "halfnormal(0.7)" else 36)
    assert keys[0][0] == parse_tau_prior(prior).key


def test_wide_prediction_intervals_print_as_bounds_not_digits(capsys) -> None:
    """Under HalfCauchy(1) the 95% prediction interval of the OR runs from about 1e-4 to 1e4: printed '< 0.001 to
    > 1000' (the JSON keeps the numbers), never '0.000 to 32747.827'."""
    assert main(["published", "OR 0.74 [0.55, 0.99]", "--tau-prior", "halfcauchy(1)"]) == 0
    out = capsys.readouterr().out.splitlines()
    row = next(line for line in out if line.startswith("halfcauchy_1") and "weakly_informative" in line)
    assert row.endswith("< 0.001 to > 1000") and "0.000" not in row
    assert main(["published", "OR 0.74 [0.55, 0.99]", "--tau-prior", "halfcauchy(1)", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["results"][0]
    assert first["pred_high"] > 1000 and first["pred_low"] < 0.001  # the JSON keeps the numbers (ratio scale)
