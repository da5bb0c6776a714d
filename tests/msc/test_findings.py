"""The statements the report makes: precision of probabilities and the hierarchy (GRADE rules: test_grade.py; the
bottom line: test_report_text.py)."""

import math

import pytest

from models.bayes.exact import exact_normal_normal
from models.msc.datasets import load_dataset
from models.msc.findings import HIERARCHY, fmt_p
from models.msc.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
from models.msc.report_evidence import hierarchy_table
from models.msc.results import Results
from models.msc.specs import PRIMARY_ANALYSIS, is_blinded_or_placebo, study_sets
from models.priors import effect_prior, tau_prior
from models.results import Context, Direction, Method, ResultKey
from models.results.summarise import summarise


@pytest.mark.parametrize(("p", "text"), [(0.9996, "> 0.999"), (1.0, "> 0.999"), (0.0004, "< 0.001"),
                                         (0.95, "0.950"), (math.nan, "–")])  # fmt: skip
def test_probabilities_are_printed_with_the_precision_they_have(p, text):
    assert fmt_p(p) == text


def test_hierarchy_puts_randomised_trials_first():
    assert HIERARCHY[0].analysis_id == f"evidence_base/{PRIMARY_ANALYSIS}" and HIERARCHY[0].randomised_only
    assert all(not t.randomised_only for t in HIERARCHY[2:])


def _hierarchy_results() -> Results:
    """One exact normal-normal result per tier of the hierarchy, each with a different pooled effect."""
    results = Results()
    tp, ep = tau_prior(PRIMARY_TAU_PRIOR), effect_prior(PRIMARY_EFFECT_PRIOR)
    for tier, log_or in zip(HIERARCHY, [-0.4, -0.35, -0.6, -0.25], strict=True):
        post = exact_normal_normal([log_or, log_or + 0.1], [0.05, 0.08], tp, ep, study=["a", "b"], measure="OR")
        context = Context(source="evidence_base", title=tier.label, studies=("a", "b"))
        key = ResultKey(tier.analysis_id, tier.model, PRIMARY_TAU_PRIOR, PRIMARY_EFFECT_PRIOR)
        results.add(summarise(post, key, Direction("OR", False, 0.8), method=Method.EXACT_QUADRATURE, k=2,
                              context=context, primary_priors=True, keep_posterior=True))  # fmt: skip
    return results


def test_new_setting_probability_is_worded_as_a_true_effect_not_a_new_study():
    table = hierarchy_table(_hierarchy_results())
    assert "P(true OR in a new setting < 1)" in table.columns
    assert not any("new study" in c for c in table.columns)


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
