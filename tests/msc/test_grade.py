"""GRADE by rule (models/msc/grade.py): each rule takes its levels off at its stated threshold and says why, in the
GRADE handbook's terms; the plain-language statement follows Santesso et al. 2020 (J Clin Epidemiol 119:126,
Table 2)."""

from dataclasses import replace

import pytest

from models.msc.grade import Body, certainty, information_size, plain_language

CLEAN = Body(low=0.5, high=0.9, pred_low=0.4, pred_high=1.1, tau=0.2, participants=4000, deaths=1200,
             control_risk=0.3, intended=4000, unpublished=0, imputed=False, randomised=4000, randomised_at_risk=0,
             non_randomised=0)  # fmt: skip
"""A body no rule rates down: precise (CrI below 1, 4,000 participants > the OIS), consistent, published, trials."""


def test_a_clean_randomised_body_stays_high():
    c = certainty(CLEAN)
    assert (c.level, c.start, c.downgrades) == ("high", "high", ())


def test_non_randomised_studies_without_robins_i_start_at_low():
    c = certainty(replace(CLEAN, randomised=3000, non_randomised=1000))
    assert c.start == "low" and c.level == "low" and "starts at low" in c.downgrades[0]


def test_robins_i_judgements_start_high_and_rate_risk_of_bias():
    # GRADE guidelines 18 (Schünemann et al. 2019): with ROBINS-I the body starts high; serious risk: -2
    serious = replace(CLEAN, randomised=2000, non_randomised=2000, robins_i=((1500, "serious"), (500, "low")))
    c = certainty(serious)
    assert c.start == "high" and c.level == "low" and "(-2)" in c.downgrades[0]
    low = replace(serious, robins_i=((1500, "low"), (500, "serious")))  # 25% at serious: still rated down
    assert certainty(low).level == "low"
    fine = replace(serious, robins_i=((1600, "low"), (400, "serious")))  # 20% at serious: not
    assert certainty(fine).level == "high"


@pytest.mark.parametrize(("at_risk", "level"), [(999, "high"), (1000, "moderate")])
def test_risk_of_bias_from_a_quarter_of_the_randomised_participants(at_risk, level):
    c = certainty(replace(CLEAN, randomised_at_risk=at_risk))
    assert c.level == level
    if level == "moderate":
        assert c.downgrades[0].startswith("risk of bias: 25% of the randomised participants")


def test_inconsistency_reads_tau_and_the_prediction_interval():
    assert certainty(replace(CLEAN, tau=0.51)).downgrades[0].startswith("inconsistency: posterior median tau 0.51")
    wide = certainty(replace(CLEAN, pred_low=0.19, pred_high=1.92))
    assert wide.level == "moderate" and "0.19 to 1.92, includes both an important benefit" in wide.downgrades[0]
    one_sided = certainty(replace(CLEAN, pred_low=0.3, pred_high=1.2))  # reaches OR < 0.8 but not OR > 1.25
    assert one_sided.level == "high"


def test_imprecision_includes_or_1_and_the_optimal_information_size():
    crosses = certainty(replace(CLEAN, high=1.11))
    assert crosses.level == "moderate" and "95% CrI 0.50 to 1.11 includes OR = 1" in crosses.downgrades[0]
    both = certainty(replace(CLEAN, high=1.3))
    assert both.level == "low" and both.downgrades[0].endswith("(-2)")
    # R power.prop.test(p1 = 0.3, p2 = 0.24, power = 0.8)$n = 858.3 per arm (tests/reference/sample_size.R.json)
    assert information_size(CLEAN) == 2 * 859
    small = certainty(replace(CLEAN, participants=1717, deaths=500))
    assert small.level == "moderate" and "fewer than the optimal information size of 1,718" in small.downgrades[0]
    assert certainty(replace(CLEAN, participants=1718)).level == "high"


def test_reporting_bias_keeps_imputed_deaths_as_unpublished():
    assert certainty(replace(CLEAN, intended=4444, unpublished=444)).level == "high"  # 9.99%
    missing = certainty(replace(CLEAN, intended=4445, unpublished=445))
    assert missing.level == "moderate" and "never published" in missing.downgrades[0]
    imputed = certainty(replace(CLEAN, unpublished=1000, imputed=True))  # counts in the table, but imputed
    assert imputed.level == "moderate" and "imputed here from published totals" in imputed.downgrades[0]


def test_levels_stop_at_very_low():
    worst = replace(CLEAN, non_randomised=100, tau=0.9, high=1.5, unpublished=2000)
    assert certainty(worst).level == "very low"


@pytest.mark.parametrize(
    ("level", "difference", "statement"),
    [
        ("high", -84, "MSCs reduce mortality."),
        ("moderate", -84, "MSCs probably reduce mortality."),
        ("low", -84, "MSCs may reduce mortality."),
        ("low", 30, "MSCs may increase mortality."),
        ("low", -5, "MSCs may result in little to no difference in mortality."),
        ("very low", -84, "The evidence is very uncertain about the effect of MSCs on mortality."),
    ],
)
def test_plain_language_follows_grade_wording(level, difference, statement):
    assert plain_language(level, difference, 20) == statement
