"""The job's orchestration with the fake sampler injected (no MCMC): typed results keyed by what they are, variants
tied to their pooled analysis, one summary row per result, and the fitting policy's deduplication and seeds."""

from functools import partial

import pytest

from models.bayes.sampling import fit_binomial_normal
from models.msc.datasets import load_dataset
from models.msc.results import Kind
from models.msc.rows import COLUMNS
from models.msc.runner import RunSettings, run_reanalysis


@pytest.fixture(scope="module")
def run(tmp_path_factory, make_fake_sampler):
    sampler = make_fake_sampler()
    fit_fn = partial(fit_binomial_normal, sampler=sampler)
    out = tmp_path_factory.mktemp("evidence")
    result = run_reanalysis(load_dataset(), RunSettings(only="evidence_base", quick=True), out, progress=False,
                            fit_fn=fit_fn)  # fmt: skip
    return result, sampler


def test_every_fit_came_from_the_injected_sampler(run):
    result, sampler = run
    assert result.fits and all(fit.settings["sampler"] == "fake" for _, fit, _ in result.fits)
    assert len(sampler.compiled) == len(result.fits)  # the fake compiles per fit; identical fits are not refitted


def test_one_summary_row_per_result_in_the_documented_columns(run):
    result, _ = run
    frame = result.summary
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == len(result.results)
    assert not frame.duplicated(["analysis_id", "model", "tau_prior", "effect_prior"]).any()


def test_leave_one_out_results_name_their_set_and_omitted_study(run):
    result, _ = run
    rct = result.study_sets["evidence_base/rct"]
    loo = result.results.select(kind=Kind.LEAVE_ONE_OUT, parent="evidence_base/rct")
    assert sorted(r.context.variant for r in loo) == sorted(rct.table.study)
    for r in loo:
        assert r.context.variant not in r.context.studies and len(r.context.studies) == rct.table.k - 1
        assert r.row["analysis_id"] == f"evidence_base/rct/without_{r.context.variant}"


def test_absolute_effects_sit_beside_their_pooled_result(run):
    result, _ = run
    absolute = result.results.select(kind=Kind.ABSOLUTE)
    assert absolute
    for r in absolute:
        pooled = result.results.get(r.context.parent, r.key.model)
        assert pooled is not None and pooled.averaging is r.averaging
        assert r.row["analysis_id"].startswith(f"{r.context.parent}/absolute_at_")
        assert r.row["control_risk"] == r.absolute.control.risk
        assert r.row["median"] == pooled.row["median"]  # the same posterior, turned into deaths per 1,000


def test_bias_model_and_exchangeable_rows_differ(run):
    result, _ = run
    bias = result.results.get("evidence_base/nrs_bias", "binomial_normal_exact")
    pooled = result.results.get("evidence_base/all", "binomial_normal_exact")
    assert bias.context.studies == pooled.context.studies
    assert bias.row["high"] > pooled.row["high"]  # the bias model widens the interval (Turner et al. 2009)
