"""The prior predictive check of Cochran's Q (models/batch/calibration.py).

References: with tau = 0, Q is chi-square with k - 1 degrees of freedom exactly (scipy); metafor's I^2 for REML,
100 tau^2 / (tau^2 + s^2), gives the typical within-study variance s^2 of the BCG data from metafor 3.8-1's REML tau^2
and I^2 (tests/reference/bcg.metafor.json); a corpus simulated from the prior itself has uniform PIT values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from models.batch.calibration import Effects, decile_shares, q_pit, read_effects
from models.priors import tau_prior

REFERENCE = Path(__file__).parents[1] / "reference"


def test_pit_under_tau_zero_is_the_chi_square_cdf() -> None:
    effects = Effects("x", np.array([0.3, -0.2, 0.5, 0.1, -0.4]), np.array([0.04, 0.09, 0.05, 0.2, 0.12]))
    u = q_pit(effects, tau_prior("halfnormal_0.5"), seed=1, p_zero=1.0)
    assert u == pytest.approx(stats.chi2.cdf(effects.q, df=4), abs=0.02)  # 4,000 draws: Monte Carlo SE < 0.008


def test_typical_variance_is_metafors_for_i2() -> None:
    (bcg,), unread = read_effects([("bcg", str(REFERENCE / "bcg.csv"), "OR")], seed=1)
    ref = json.loads((REFERENCE / "bcg.metafor.json").read_text())["results"]["REML_OR"]
    s2 = ref["tau2"] * (100.0 - ref["I2"]) / ref["I2"]
    assert unread == [] and bcg.typical_variance == pytest.approx(s2, rel=1e-6)


def test_a_corpus_drawn_from_the_prior_gives_uniform_pit() -> None:
    prior, rng = tau_prior("halfnormal_0.5"), np.random.default_rng(7)
    u = []
    for i in range(200):
        v = rng.uniform(0.02, 0.3, size=6)
        tau = prior.rvs(1, rng)[0]
        u.append(q_pit(Effects(f"m{i}", rng.normal(0.0, np.sqrt(v + tau**2)), v), prior, seed=3, n_draws=1000))
    assert np.all(np.abs(decile_shares(np.array(u)) - 0.1) < 0.07)  # binomial SD of a tenth's share: 0.021


def test_pit_is_seeded() -> None:
    effects = Effects("x", np.array([0.3, -0.2, 0.5]), np.array([0.04, 0.09, 0.05]))
    prior = tau_prior("turner2015_general")
    assert q_pit(effects, prior, seed=5) == q_pit(effects, prior, seed=5) != q_pit(effects, prior, seed=6)
