"""The generic analysis kinds: which studies each step holds, in which order, and that the posterior function is
asked for exactly those (a recording stand-in for the model, so the tests are about the kinds, not the models)."""

import math

import pytest

from models.bayes.summary_level import SummaryLevelPosterior
from models.priors import effect_prior, tau_prior
from models.toolkit import kinds


def _recorder():
    asked: list[tuple[str, ...]] = []

    def posterior_of(studies: tuple[str, ...]):
        asked.append(studies)
        return ("posterior of", studies)

    return asked, posterior_of


def test_leave_one_out_drops_each_study_once_and_keeps_the_order():
    asked, posterior_of = _recorder()
    out = list(kinds.leave_one_out(["a", "b", "c"], posterior_of))
    assert [(o, kept) for o, kept, _ in out] == [("a", ("b", "c")), ("b", ("a", "c")), ("c", ("a", "b"))]
    assert asked == [("b", "c"), ("a", "c"), ("a", "b")]


def test_cumulative_by_study_adds_one_study_per_step_in_year_order():
    asked, posterior_of = _recorder()
    steps = list(kinds.cumulative(["a", "b", "c"], [2003, 2001, 2003], posterior_of))
    assert [(s.year, s.added) for s in steps] == [(2001, ("b",)), (2003, ("a",)), (2003, ("c",))]
    assert [s.studies for s in steps] == [("b",), ("a", "b"), ("a", "b", "c")]  # listed in the order given
    assert asked == [s.studies for s in steps]


def test_cumulative_by_year_adds_a_whole_year_and_skips_small_steps():
    _, posterior_of = _recorder()
    steps = list(kinds.cumulative(["a", "b", "c", "d"], [2001, 2002, 2002, 2004], posterior_of, by="year",
                                  min_studies=2))  # fmt: skip
    assert [(s.year, s.added, s.studies) for s in steps] == [(2002, ("b", "c"), ("a", "b", "c")),
                                                             (2004, ("d",), ("a", "b", "c", "d"))]  # fmt: skip


def test_cumulative_refuses_an_unknown_grouping():
    with pytest.raises(ValueError, match="by must be"):
        list(kinds.cumulative(["a"], [2001], lambda s: None, by="decade"))


def test_published_estimate_grid_equals_the_summary_level_posterior_of_each_prior_pair():
    taus = [tau_prior("halfnormal_0.5"), tau_prior("turner2015_general")]
    effects = [effect_prior("weakly_informative"), effect_prior("sceptical")]
    grid = list(kinds.published_estimate(0.74, 0.55, 0.99, "OR", taus, effects, fixed_effect_k=7))
    assert [(t.key, e.key) for t, e, _ in grid] == [(t.key, e.key) for t in taus for e in effects]
    for tau, effect, post in grid:
        direct = SummaryLevelPosterior(0.74, 0.55, 0.99, "OR", tau, effect, fixed_effect_k=7)
        assert post.prob_below(1.0) == direct.prob_below(1.0)
        assert math.isclose(post.median(), direct.median())
