"""The fitting policy: identical fits run once, seeds depend on a fit's content and not on the order of fits, and a
fit that fails its gates is run once more (new seed, twice the draws, target_accept 0.99) with the failure recorded.
Fits come from the suite's fake sampler (tests/conftest.py), injected into the fit function."""

from functools import partial

from models.bayes.policy import RETRY_SETTINGS, FitPolicy, content_key, fit_seed
from models.bayes.sampling import fit_binomial_normal
from models.priors import effect_prior, tau_prior
from models.tables import BinaryTable

TP, EP = tau_prior("halfnormal_0.5"), effect_prior("weakly_informative")
A = BinaryTable(("s1", "s2", "s3"), [1, 4, 2], [20, 30, 25], [3, 6, 5], [20, 31, 24])
B = BinaryTable(("s1", "s2"), [1, 4], [20, 30], [3, 6], [20, 31])


LENIENT = {"rhat_max": 1.05, "ess_min": 100, "divergences_max": 0}
"""Gates independent fake draws pass (the fake sampler's ESS is about the number of draws)."""


def _policy(sampler, tmp_path, gates=LENIENT) -> FitPolicy:
    settings = {"draws": 200, "tune": 10, "chains": 2, "prior_draws": 50, "gates": gates}
    return FitPolicy(partial(fit_binomial_normal, sampler=sampler), seed=7, sampler=settings, fit_dir=tmp_path)


def test_identical_fits_run_once_and_are_saved(fake_sampler, tmp_path):
    policy = _policy(fake_sampler, tmp_path)
    first = policy.fit(A, TP, EP, label="a", name="a")
    again = policy.fit(A, TP, EP, label="a again", name="a2")
    policy.wait()
    policy.check_writes()
    assert again is first and len(fake_sampler.compiled) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["a.nc"]


def test_seed_follows_the_content_not_the_order(fake_sampler, tmp_path):
    one, two = _policy(fake_sampler, tmp_path / "1"), _policy(fake_sampler, tmp_path / "2")
    a1 = one.fit(A, TP, EP, label="a", name="a").fit
    two.fit(B, TP, EP, label="b", name="b")
    a2 = two.fit(A, TP, EP, label="a", name="a").fit
    for p in (one, two):
        p.wait()
    key = content_key("fit_binomial_normal", A, None, TP, EP)  # named through the functools.partial
    assert a1.settings["seed"] == a2.settings["seed"] != fit_seed(7, content_key("x", B, None, TP, EP))
    assert a1.settings["seed"] == fit_seed(7, key)


def test_a_failing_fit_is_retried_once_and_the_failure_recorded(fake_sampler, tmp_path):
    impossible = {"rhat_max": 1.01, "ess_min": 10**9, "divergences_max": 0}
    policy = _policy(fake_sampler, tmp_path, gates=impossible)
    saved = policy.fit(A, TP, EP, label="a", name="a")
    policy.wait()
    assert not saved.fit.diagnostics.passed
    assert saved.fit.settings["draws"] == 400 and saved.fit.settings["target_accept"] == RETRY_SETTINGS["target_accept"]
    assert saved.fit.settings["first_attempt_failures"]
    ((label, failures, passed),) = policy.retried
    assert label == "a" and failures and passed is False
    assert len(policy.fits) == 1  # only the retry is used
