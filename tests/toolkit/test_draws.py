"""Exact independent draws (models/toolkit/draws.py) reproduce the exact posterior they are drawn from.

Reference: the exact engines' own distribution functions (``_mu_cdf``, ``_tau_cdf``, ``_pred_cdf``; validated against
brute-force integration in tests/bayes), a code path apart from the quantile functions the sampler inverts: each
variable's empirical quantiles sit at their levels of the exact cdf within Monte Carlo error."""

from __future__ import annotations

import numpy as np
import pytest

from models.bayes.exact import exact_normal_normal
from models.bayes.exact_binomial import exact_binomial_normal
from models.priors import effect_prior, tau_prior
from models.tables import BinaryTable
from models.toolkit.draws import exact_draws

TABLE = BinaryTable(("a", "b", "c", "d"), np.array([3, 10, 0, 25]), np.array([40, 120, 30, 300]),
                    np.array([8, 15, 2, 30]), np.array([40, 118, 31, 305]))  # fmt: skip
N = 4000


@pytest.fixture(scope="module", params=["binomial", "normal"])
def posterior(request):
    tp, ep = tau_prior("turner2015_general"), effect_prior("weakly_informative")
    if request.param == "binomial":
        return exact_binomial_normal(TABLE, tp, ep)
    return exact_normal_normal([-0.9, -0.4, -1.2, -0.2], [0.3, 0.1, 0.9, 0.05], tp, ep, measure="OR")


@pytest.fixture(scope="module")
def draws(posterior) -> dict[str, np.ndarray]:
    return exact_draws(posterior, n=N, seed=11)


@pytest.mark.parametrize(("name", "cdf"), [("mu", "_mu_cdf"), ("tau", "_tau_cdf"), ("theta_new", "_pred_cdf")])
def test_each_variable_follows_its_exact_marginal(posterior, draws, name, cdf) -> None:
    draws = draws[name]
    assert draws.shape == (N,)
    for q in (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99):  # an empirical quantile: SE sqrt(q(1-q)/N) in probability
        level = getattr(posterior, cdf)(float(np.quantile(draws, q)))
        assert abs(level - q) < 4 * np.sqrt(q * (1 - q) / N), q


def test_each_study_effect_follows_its_exact_marginal(posterior, draws) -> None:
    theta = draws["theta"]
    assert theta.shape == (N, 4)
    exact = np.log(posterior.shrunken(0.9))  # median, 90% equal-tailed interval (OR scale) from the engine
    for j, study in enumerate(exact.index):
        for column, q in (("low", 0.05), ("median", 0.5), ("high", 0.95)):
            share = float(np.mean(theta[:, j] <= exact.loc[study, column]))
            assert abs(share - q) < 4 * np.sqrt(q * (1 - q) / N), (study, column)


def test_the_same_seed_gives_the_same_draws(posterior, draws) -> None:
    again = exact_draws(posterior, n=N, seed=11)
    assert all(np.array_equal(again[k], draws[k]) for k in draws)
    assert not np.array_equal(exact_draws(posterior, n=N, seed=12)["mu"], draws["mu"])
