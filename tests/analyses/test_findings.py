"""The statements the report makes: precision of probabilities, GRADE rules, the bottom line and the hierarchy."""

import math

import pandas as pd
import pytest

from models.analyses.findings import HIERARCHY, bottom_line, certainty, fmt_p
from models.analyses.report import _hierarchy_table
from models.analyses.specs import PRIMARY_ANALYSIS, is_blinded_or_placebo, study_sets
from models.datasets import load_dataset
from models.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR


@pytest.mark.parametrize(("p", "text"), [(0.9996, "> 0.999"), (1.0, "> 0.999"), (0.0004, "< 0.001"),
                                         (0.95, "0.950"), (math.nan, "–")])  # fmt: skip
def test_probabilities_are_printed_with_the_precision_they_have(p, text):
    assert fmt_p(p) == text


def _row(**kw):
    base = {"tau_median": 0.2, "low": 0.5, "high": 0.9, "median": 0.7}
    base.update(kw)
    return pd.Series(base)


def test_certainty_rules_each_take_one_level_and_say_why():
    assert certainty(_row(), share_unblinded=0.1, share_unknown=0.0, has_nrs=False).level == "high"
    imprecise = certainty(_row(high=1.1), share_unblinded=0.1, share_unknown=0.0, has_nrs=False)
    assert imprecise.level == "moderate" and "includes no effect" in imprecise.downgrades[0]
    wide = certainty(_row(low=0.5, high=1.3), share_unblinded=0.1, share_unknown=0.0, has_nrs=False)
    assert wide.level == "low"  # CrI reaches both OR < 0.8 and OR > 1.25: -2
    worst = certainty(_row(tau_median=0.6, high=1.3), share_unblinded=0.3, share_unknown=0.2, has_nrs=True)
    assert worst.level == "very low" and len(worst.downgrades) == 4


def test_hierarchy_puts_randomised_trials_first():
    assert HIERARCHY[0].analysis_id == f"evidence_base/{PRIMARY_ANALYSIS}" and HIERARCHY[0].randomised_only
    assert all(not t.randomised_only for t in HIERARCHY[2:])


def _summary_rows():
    rows = []
    for tier, (p, median) in zip(HIERARCHY, [(0.962, 0.67), (0.94, 0.68), (0.996, 0.56), (0.953, 0.76)],
                                 strict=True):  # fmt: skip
        rows.append({"analysis_id": tier.analysis_id, "model": tier.model, "tau_prior": PRIMARY_TAU_PRIOR,
                     "effect_prior": PRIMARY_EFFECT_PRIOR, "k": 10, "median": median, "low": 0.41, "high": 1.04,
                     "p_benefit": p, "p_below_0.8": 0.79, "tau_median": 0.14, "pred_low": 0.34, "pred_high": 1.22,
                     "p_new_benefit": 0.92})  # fmt: skip
    return pd.DataFrame(rows)


def test_new_setting_probability_is_worded_as_a_true_effect_not_a_new_study():
    table = _hierarchy_table(_summary_rows())
    assert "P(true OR in a new setting < 1)" in table.columns
    assert not any("new study" in c for c in table.columns)


def test_bottom_line_quotes_the_randomised_result_and_published_totals_first():
    from models.analyses.absolute import RECOVERY_VENTILATED, absolute_effect
    from models.bayes.exact import exact_normal_normal
    from models.priors import effect_prior, tau_prior

    post = exact_normal_normal([math.log(0.67)], [0.05], tau_prior(PRIMARY_TAU_PRIOR), effect_prior("vague"))
    text = bottom_line(_summary_rows(), {HIERARCHY[0].analysis_id: [absolute_effect(post, RECOVERY_VENTILATED)]},
                       "low")  # fmt: skip
    assert len(text.split()) <= 150
    assert text.index("randomised trials") < text.index("SCRT 2026") < text.index("Non-randomised")
    assert "0.962" in text and "0.953" in text and "Certainty of the evidence: low" in text


def test_study_set_labels_say_where_the_set_comes_from():
    sets = {s.key: s for s in study_sets(load_dataset())}
    tang = sets["tang2024/mortality"]
    assert tang.set_source.startswith("inferred from arm totals") and "prints no study list" in tang.set_source
    assert any("xu2021" in n and "non-randomised" in n for n in tang.notes)  # data/studies.csv: xu2021 is NRS
    assert "candidate set" in sets["yao2022/mortality"].title


def test_blinded_subset_by_hand():
    # data/studies.csv: double-blind, or placebo / sham control; shu2020 (open, standard care) and zarrabi2023
    # (blinding not found, standard care) are out
    ds = load_dataset()
    blinded = {s for s in ds.studies.index if ds.studies.loc[s, "design"] == "RCT"
               and is_blinded_or_placebo(ds.studies.loc[s])}  # fmt: skip
    assert {"shi2021", "lanzoni2021", "dilogo2021", "zhu2021", "monsel2022", "bowdish2023"} <= blinded
    assert not {"shu2020", "zarrabi2023"} & blinded
