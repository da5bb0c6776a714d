"""The one prior policy (models/prior_policy.py): defaults by measure, the grid, and one key per distribution.

References: the policy as the lead stated it (Turner et al. 2015 general setting, log tau^2 ~ N(-2.56, 1.74^2), with
mu ~ Normal(0, 1) for OR/RR/HR; Rhodes et al. 2015 general with Normal(0, 1) for SMD; MD and RD need both priors
written), and the presets' own parameters in models/priors.py (a written prior must equal them to be them)."""

from __future__ import annotations

import math

import pytest

from models.prior_policy import (
    RATIO_EFFECT_GRID,
    RATIO_TAU_GRID,
    PriorError,
    PriorOptions,
    grid_pairs,
    list_priors,
    parse_effect_prior,
    parse_tau_prior,
    primary_pair,
    sensitivity_grid,
    statement,
)
from models.priors import EFFECT_PRESETS, TAU_FAMILIES, TAU_PRESETS


@pytest.mark.parametrize("measure", ["OR", "RR", "HR"])
def test_ratio_default_is_turner_general_and_normal_0_1(measure) -> None:
    pair = primary_pair(measure)
    assert (pair.tau.family, dict(pair.tau.params)) == ("lognormal_tau2", {"m": -2.56, "s": 1.74})
    assert (pair.effect.mean, pair.effect.sd) == (0.0, 1.0)
    assert pair.keys == ("turner2015_general", "weakly_informative")


def test_smd_default_is_rhodes_general_and_normal_0_1_on_the_smd_scale() -> None:
    pair = primary_pair("SMD")
    assert (pair.tau.family, dict(pair.tau.params)) == ("logt_tau2", {"df": 5.0, "loc": -3.44, "scale": 2.59})
    assert (pair.effect.mean, pair.effect.sd, pair.effect.log_scale) == (0.0, 1.0, False)
    assert "ratio" not in str(pair.effect)  # an SMD prior prints its range on the SMD scale


@pytest.mark.parametrize("measure", ["MD", "RD"])
def test_md_and_rd_need_both_priors_written(measure) -> None:
    with pytest.raises(PriorError, match=f"--measure {measure} has no default priors: give --tau-prior"):
        primary_pair(measure)
    with pytest.raises(PriorError, match="give --effect-prior"):
        primary_pair(measure, tau="halfnormal(5)")
    with pytest.raises(PriorError, match="is a preset on the log-ratio/SMD scale"):
        primary_pair(measure, tau="halfnormal(5)", effect="vague")
    pair = primary_pair(measure, tau="halfnormal(5)", effect="normal(0, 10)")
    assert pair.keys == ("halfnormal(5)", "normal(0, 10)") and grid_pairs(measure, pair) == (pair,)


def _written(prior) -> str:
    return f"{prior.family}({', '.join(repr(v) for _, v in prior.params)})"


@pytest.mark.parametrize("key", list(TAU_PRESETS))
def test_a_written_tau_prior_equal_to_a_preset_is_that_preset(key) -> None:
    preset = TAU_PRESETS[key]
    for text in (_written(preset), _written(preset).upper(), _written(preset).replace(", ", ","), key, key.upper()):
        assert parse_tau_prior(text) is preset, text


@pytest.mark.parametrize("measure", ["OR", "RR", "HR", "SMD"])
def test_a_written_effect_prior_equal_to_a_preset_is_that_preset(measure) -> None:
    for key, preset in EFFECT_PRESETS.items():
        got = parse_effect_prior(f"normal({preset.mean!r}, {preset.sd!r})", measure)
        assert (got.key, got.mean, got.sd, got.citation) == (key, preset.mean, preset.sd, preset.citation)
    assert parse_effect_prior("normal(0.0, 1.00)", measure).key == "weakly_informative"


def test_on_md_a_written_normal_is_not_the_log_scale_preset() -> None:
    got = parse_effect_prior("normal(0, 1)", "MD")
    assert got.key == "normal(0, 1)" and not got.log_scale


def test_other_written_priors_get_a_canonical_key_that_reads_back() -> None:
    cases = [("halfnormal(0.70)", "halfnormal(0.7)"), ("HalfCauchy( 2 )", "halfcauchy(2)"),
             ("invgamma(1, 0.25)", "invgamma(1, 0.25)"), ("lognormal_tau2(-3, 1.5)", "lognormal_tau2(-3, 1.5)"),
             ("halfnormal(0.1234567)", "halfnormal(0.1234567)")]  # fmt: skip
    for text, key in cases:
        prior = parse_tau_prior(text)
        assert prior.key == key and parse_tau_prior(prior.key) == prior
    assert parse_tau_prior("halfnormal(0.1234567)") != parse_tau_prior("halfnormal(0.1234568)")
    effect = parse_effect_prior("normal(-0.2, 0.5)", "OR")
    assert effect.key == "normal(-0.2, 0.5)" and parse_effect_prior(effect.key, "OR") == effect


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nosuch", "is no preset and no distribution"),
        ("halfnormal", "is no preset and no distribution"),
        ("halfnormal(x)", "the parameters must be numbers"),
        ("halfnormal(nan)", "must be finite"),
        ("halfnormal(1, 2)", "halfnormal takes 1 parameter"),
        ("halfnormal(-1)", "must be positive"),
        ("normal(0, 1)", "is no preset and no distribution"),
    ],
)
def test_bad_tau_priors_say_what_is_wrong(text, message) -> None:
    with pytest.raises(PriorError, match=message):
        parse_tau_prior(text)
    with pytest.raises(PriorError, match=message):
        PriorOptions(tau=text)


@pytest.mark.parametrize(("text", "message"), [("normal(0)", "normal takes 2"), ("normal(0, -1)", "must be positive"),
                                               ("cauchy(0, 1)", "no preset and no distribution")])  # fmt: skip
def test_bad_effect_priors_say_what_is_wrong(text, message) -> None:
    with pytest.raises(PriorError, match=message):
        PriorOptions(effect=text)


def test_every_family_can_be_written() -> None:
    for family, names in TAU_FAMILIES.items():
        values = {"m": -3.0, "s": 1.0, "scale": 0.8, "alpha": 2.0, "beta": 0.4, "df": 4.0, "loc": -2.0}
        prior = parse_tau_prior(f"{family}({', '.join(str(values[n]) for n in names)})")
        assert prior.family == family and math.isfinite(prior.median())


@pytest.mark.parametrize(("measure", "size"), [("OR", 32), ("RR", 32), ("HR", 32), ("SMD", 8)])
def test_the_grid_holds_the_primary_pair_once(measure, size) -> None:
    for tau in (None, "halfnormal(0.5)", "halfnormal_0.5", "HALFNORMAL(0.50)"):
        pairs = grid_pairs(measure, primary_pair(measure, tau=tau))
        keys = [p.keys for p in pairs]
        assert len(keys) == len(set(keys)) == size, tau
        assert keys[0] == primary_pair(measure, tau=tau).keys
    extra = grid_pairs(measure, primary_pair(measure, tau="halfnormal(0.7)"))
    assert len(extra) == size + len(sensitivity_grid(measure, primary_pair(measure))[1])


def test_the_ratio_grid_is_8_tau_by_4_effect_presets() -> None:
    taus, effects = sensitivity_grid("OR", primary_pair("OR"))
    assert [t.key for t in taus] == list(RATIO_TAU_GRID) and [e.key for e in effects] == list(RATIO_EFFECT_GRID)


def test_statement_names_the_pair_its_sources_and_the_log_rr_approximation() -> None:
    text = statement("RR", primary_pair("RR"), written=False)
    assert "the toolkit's default for RR" in text and "Turner et al. 2015" in text and "Röver et al. 2021" in text
    assert "Rhodes, Turner & Higgins 2016" in text and "log RR" in text
    assert "approximation" not in statement("OR", primary_pair("OR"), written=False)
    written = statement("OR", primary_pair("OR", tau="halfnormal(0.7)"), written=True)
    assert "given with --tau-prior/--effect-prior" in written and "written on the command line" in written


def test_list_priors_names_every_preset_with_its_source_and_the_defaults() -> None:
    text = list_priors()
    for key, prior in (*TAU_PRESETS.items(), *EFFECT_PRESETS.items()):
        assert key in text and prior.citation in text
    assert "turner2015_general + weakly_informative" in text and "MD, RD: both priors must be written" in text
