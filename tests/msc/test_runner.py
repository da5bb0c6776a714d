"""The job's orchestration with the fake sampler injected (no MCMC): typed results keyed by what they are, variants
tied to their pooled analysis, one summary row per result, and the fitting policy's deduplication and seeds."""

import pytest

from models.bayes.diagnostics import GATES
from models.msc.runner import Job, check_order
from models.results import COLUMN_NAMES, Kind


@pytest.fixture(scope="module")
def run(evidence_run):
    return evidence_run


def test_every_fit_came_from_the_injected_sampler(run):
    result, sampler = run
    assert result.fits and all(fit.settings["sampler"] == "fake" for _, fit, _ in result.fits)
    assert len(sampler.compiled) == len(result.fits)  # the fake compiles per fit; identical fits are not refitted


def test_one_summary_row_per_result_in_the_documented_columns(run):
    result, _ = run
    frame = result.summary
    assert tuple(frame.columns) == COLUMN_NAMES
    assert len(frame) == len(result.results)
    assert not frame.duplicated(["analysis", "model", "tau_prior", "effect_prior"]).any()


def test_leave_one_out_results_name_their_set_and_omitted_study(run):
    result, _ = run
    rct = result.study_sets["evidence_base/rct"]
    loo = result.results.select(kinds=(Kind.LEAVE_ONE_OUT,), parent="evidence_base/rct")
    assert sorted(r.context.subject for r in loo) == sorted(rct.table.study)
    for r in loo:
        assert r.context.subject not in r.context.studies and len(r.context.studies) == rct.table.k - 1
        assert r.key.analysis == f"evidence_base/rct/without_{r.context.subject}"


def test_absolute_effects_sit_beside_their_pooled_result(run):
    result, _ = run
    absolute = result.results.select(kinds=(Kind.ABSOLUTE,))
    assert absolute
    for r in absolute:
        pooled = result.results.get(r.context.parent, r.key.model)
        assert pooled is not None and pooled.evidence == r.evidence and pooled.evidence.log_bf10_effect is not None
        assert r.key.analysis == f"{r.context.parent}/absolute_at_{r.context.subject}"
        assert r.context.control is r.absolute.control
        assert r.effect == pooled.effect  # the same posterior, turned into deaths per 1,000


def test_bias_model_and_exchangeable_rows_differ(run):
    result, _ = run
    bias = result.results.get("evidence_base/nrs_bias", "binomial_normal_exact")
    pooled = result.results.get("evidence_base/all", "binomial_normal_exact")
    assert bias.context.studies == pooled.context.studies
    assert bias.effect.high > pooled.effect.high  # the bias model widens the interval (Turner et al. 2009)


def test_pooled_rows_give_absolute_effects_at_the_set_crude_control_risk(run):
    """The crude control risk of the set (sum of control deaths / sum of control patients), never the model's."""
    result, _ = run
    rct = result.study_sets["evidence_base/rct"]
    pooled = result.results.get("evidence_base/rct", "binomial_normal_exact")
    risk = pooled.absolute.control.risk
    assert risk == rct.table.e_c.sum() / rct.table.n_c.sum()
    assert pooled.absolute.p_arr[0.02] == pooled.posterior.prob_arr_above(0.02, baseline_risk=risk)


def test_a_job_before_a_job_it_needs_is_refused():
    with pytest.raises(ValueError, match="job 'b' runs before 'a', whose results it reads"):
        check_order([Job("b", lambda: None, needs=("a",)), Job("a", lambda: None)])
    check_order([Job("a", lambda: None), Job("b", lambda: None, needs=("a", "not in this run"))])


def test_the_gates_recorded_are_the_gates_applied(run):
    result, _ = run
    assert result.settings.gates == result.settings.sampler["gates"] != GATES
    assert all(fit.settings["gates"] == result.settings.gates for _, fit, _ in result.fits)
