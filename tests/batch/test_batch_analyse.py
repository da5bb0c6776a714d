"""One meta-analysis: the rows are the engines' own answers (nothing recomputed differently), directions and
thresholds are applied as stated, and the synthetic generator is reproducible."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from models.batch.analyse import Options, analyse_entry
from models.batch.corpus import Entry
from models.batch.synthetic import write_corpus
from models.bayes.exact import exact_normal_normal
from models.bayes.exact_binomial import exact_binomial_normal
from models.bayes.model_averaging import average_binomial
from models.effects import escalc
from models.prior_policy import PriorOptions, grid_pairs, primary_pair
from models.priors import effect_prior, tau_prior
from models.reader import read_study_file

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus"


def test_rows_are_the_exact_engines_answers():
    """Source of the expected values: the exact engines called directly on the same table, under the prior policy's
    default for OR (Turner 2015 general, Normal(0, 1): the pair reanalyse fit uses)."""
    entry = Entry("hine1989", str(CORPUS / "hine1989.csv"), None, False, 1.2)
    rows = analyse_entry(entry, Options())
    table = read_study_file(entry.path).counts
    tp, ep = tau_prior("turner2015_general"), effect_prior("weakly_informative")
    assert [(r.key.tau_prior, r.key.effect_prior, r.primary_priors) for r in rows] == [(tp.key, ep.key, True)] * 2
    bn = exact_binomial_normal(table, tp, ep)
    eff = escalc(table, "OR")
    nn = exact_normal_normal(eff.yi, eff.vi, tp, ep, measure="OR")
    assert [r.key.model for r in rows] == ["binomial_normal_exact", "normal_normal_exact"]
    for row, post in zip(rows, (bn, nn), strict=True):
        assert row.effect.p_benefit == post.prob_below(1.0)
        assert row.effect.p_important == post.prob_below(0.8)
        assert (row.effect.low, row.effect.high) == (post.interval().low, post.interval().high)
        assert row.tau.median == post.tau_median()
        assert row.context.published.estimate == 1.2 and row.status == "ok"
    assert rows[0].evidence.log_bf10_effect == pytest.approx(math.log(average_binomial(table, tp, ep).bf10_effect),
                                                             rel=1e-12)  # fmt: skip


def test_higher_is_benefit_mirrors_probabilities_and_threshold():
    path = str(CORPUS / "hine1989.csv")
    low = analyse_entry(Entry("a", path, None, False, None), Options())[1]
    high = analyse_entry(Entry("a", path, None, True, None), Options())[1]
    assert high.effect.important_threshold == pytest.approx(1.25) and low.effect.important_threshold == 0.8
    assert high.effect.p_benefit == pytest.approx(1.0 - low.effect.p_benefit, abs=1e-12)
    assert math.isclose(high.effect.median, low.effect.median)


def test_grid_priors_give_one_row_per_pair_of_the_policy_grid():
    rows = analyse_entry(Entry("bcg", str(CORPUS / "bcg.csv"), None, False, None), Options(prior_set="grid"))
    pairs = {p.keys for p in grid_pairs("OR", primary_pair("OR"))}
    assert len(pairs) == 8 * 4
    for model in ("binomial_normal_exact", "normal_normal_exact"):
        assert {(r.key.tau_prior, r.key.effect_prior) for r in rows if r.key.model == model} == pairs
    assert len(rows) == 2 * 32 and sum(r.primary_priors for r in rows) == 2
    assert len({r.key for r in rows}) == 2 * 32


def test_written_priors_reach_the_rows_with_their_canonical_keys():
    entry = Entry("bcg", str(CORPUS / "bcg.csv"), None, False, None)
    rows = analyse_entry(entry, Options(priors=PriorOptions("HalfNormal(0.5)", "normal(0, 1)")))
    assert {(r.key.tau_prior, r.key.effect_prior) for r in rows} == {("halfnormal_0.5", "weakly_informative")}


def test_effects_file_without_measure_is_an_error_row(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("study,yi,vi\na,0.1,0.04\nb,-0.2,0.05\n")
    (row,) = analyse_entry(Entry("e", str(path), None, False, None), Options())
    assert row.status == "error" and "an effects file does not say its measure: give one of" in row.message
    ok = analyse_entry(Entry("e", str(path), "SMD", True, None), Options())
    assert [r.key.tau_prior for r in ok] == ["rhodes2015_smd_general"] and ok[0].effect.important_threshold == 0.2


def test_seed_of_a_meta_analysis_depends_on_seed_and_id_only():
    from models.settings import derive_seed

    assert derive_seed(1, "a") == derive_seed(1, "a") != derive_seed(2, "a") != derive_seed(1, "b")


def test_synthetic_corpus_is_reproducible(tmp_path):
    a, b, c = (write_corpus(tmp_path / n, 6, seed=s, malformed=1) for n, s in (("a", 5), ("b", 5), ("c", 6)))
    files = sorted(p.name for p in a.parent.glob("*.csv"))
    assert len(files) == 8  # 7 meta-analyses and the manifest
    assert all((a.parent / f).read_bytes() == (b.parent / f).read_bytes() for f in files)
    assert any((a.parent / f).read_bytes() != (c.parent / f).read_bytes() for f in files)
    k = [len((a.parent / f).read_text().splitlines()) - 1 for f in files if f != "manifest.csv"]
    assert all(1 <= x <= 30 for x in k)


def test_a_failed_bayes_factor_keeps_the_posterior(monkeypatch):
    """issue 18: a posterior that computed is never discarded because a derived quantity failed."""
    import models.batch.analyse as analyse

    def broken(*args, **kwargs):
        raise FloatingPointError("evidence overflow")

    monkeypatch.setattr(analyse, "average_binomial", broken)
    bn, nn = analyse_entry(Entry("hine1989", str(CORPUS / "hine1989.csv"), None, False, None), Options())
    assert bn.status == "partial" and "Bayes factors not computed: FloatingPointError: evidence overflow" in bn.message
    assert bn.effect is not None and bn.evidence is None and nn.status == "ok"


def test_title_of_the_manifest_is_the_rows_title():
    entry = Entry(
        "hine1989", str(CORPUS / "hine1989.csv"), None, False, None, "death (lidocaine)", "all_cause_mortality"
    )
    assert {r.context.title for r in analyse_entry(entry, Options())} == {"death (lidocaine)"}


@pytest.mark.slow
def test_bartos2023_rows_are_the_scale_mixture_answers():
    """Source of the expected values: models.bayes.scale_mixture called directly on the same table under Bartoš et
    al.'s log OR pair (Student-t(0, 0.58, 4), InvGamma(1.77, 0.55)), itself checked against brute force."""
    from models.bayes.exact_binomial import BinomialLikelihood
    from models.bayes.scale_mixture import binomial_fit
    from models.prior_policy import empirical_pair

    entry = Entry("hine1989", str(CORPUS / "hine1989.csv"), None, False, None)
    rows = analyse_entry(entry, Options(prior_set="bartos2023"))
    pair = empirical_pair("OR")
    assert [(r.key.tau_prior, r.key.effect_prior, r.status) for r in rows] == [
        (pair.tau.key, pair.effect.key, "ok")
    ] * 2
    fit = binomial_fit(BinomialLikelihood(read_study_file(entry.path).counts), pair.tau, pair.effect)
    assert rows[0].effect.p_benefit == pytest.approx(fit.posterior.prob_below(1.0), abs=1e-12)
    assert rows[0].evidence.log_bf10_heterogeneity == pytest.approx(
        math.log(fit.average(quantiles=False).bf10_heterogeneity), abs=1e-9
    )
