"""Structural tests of the binomial-normal PyMC model.

Reference values are closed forms evaluated with scipy: binomial log pmfs (``scipy.stats.binom``), normal log
densities, ``TauPrior.logpdf`` (models/priors.py) plus the Jacobian ``log tau``, and the logistic function.
Padding argument: a binomial arm with n = 0 trials and 0 events has probability 1, i.e. contributes log 1 = 0.
"""

import numpy as np
import pytest
from scipy import special, stats

from models.bayes.binomial_normal import binomial_normal_data, build_binomial_normal
from models.priors import effect_prior, tau_prior
from models.tables import BinaryTable

FAST = {"mode": "FAST_COMPILE"}
TP = tau_prior("turner2015_mortality_pharma")
EP = effect_prior("weakly_informative")
# a zero-event experimental arm, a double-zero study, and an ordinary one
TABLE = BinaryTable(("zero_t", "double_zero", "plain"), [0, 0, 5], [12, 15, 21], [3, 0, 4], [29, 14, 24])


def _point(mu, log_tau, z, alpha):
    return {
        "mu": np.array(mu),
        "log_tau": np.array(log_tau),
        "z": np.asarray(z, float),
        "alpha": np.asarray(alpha, float),
    }


def test_model_has_named_variables_and_labelled_dims():
    model = build_binomial_normal(TABLE, TP, EP)
    assert {v.name for v in model.free_RVs} == {"mu", "log_tau", "z", "alpha"}
    assert {v.name for v in model.observed_RVs} == {"events_t", "events_c"}
    assert {v.name for v in model.deterministics} == {"tau", "theta", "baseline_risk", "rr"}
    for name in ("theta", "alpha", "z", "events_t", "events_c"):
        assert model.named_vars_to_dims[name] == ("study",)
    assert list(model.coords["study"]) == ["zero_t", "double_zero", "plain"]


def test_logp_and_gradient_finite_at_initial_point():
    model = build_binomial_normal(TABLE, TP, EP, n_slots=8)
    point = model.initial_point()
    assert np.isfinite(model.compile_logp(**FAST)(point))
    assert np.all(np.isfinite(model.compile_dlogp(**FAST)(point)))


def test_log_density_is_the_closed_form_binomial_normal_density():
    model = build_binomial_normal(TABLE, TP, EP, baseline_sd=2.5)
    mu, log_tau = -0.4, np.log(0.3)
    z, alpha = np.array([0.2, -1.1, 0.7]), np.array([-2.0, -3.5, -1.4])
    theta = mu + np.exp(log_tau) * z
    expected = (
        stats.norm.logpdf(mu, 0.0, 1.0)
        + TP.logpdf(np.exp(log_tau))
        + log_tau
        + stats.norm.logpdf(z).sum()
        + stats.norm.logpdf(alpha, 0.0, 2.5).sum()
        + stats.binom.logpmf(TABLE.e_c, TABLE.n_c, special.expit(alpha - theta / 2)).sum()
        + stats.binom.logpmf(TABLE.e_t, TABLE.n_t, special.expit(alpha + theta / 2)).sum()
    )
    assert model.compile_logp(**FAST)(_point(mu, log_tau, z, alpha)) == pytest.approx(expected, rel=1e-10)


def test_padding_adds_only_the_priors_of_the_padded_slots():
    plain = build_binomial_normal(TABLE, TP, EP)
    padded = build_binomial_normal(TABLE, TP, EP, n_slots=8)
    z, alpha = np.array([0.2, -1.1, 0.7]), np.array([-2.0, -3.5, -1.4])
    z_pad, alpha_pad = np.array([0.3, -0.7, 1.1, 0.0, 2.5]), np.array([1.0, -4.0, 0.0, 3.0, -0.5])
    lp_plain = plain.compile_logp(**FAST)(_point(-0.4, -1.2, z, alpha))
    lp_padded = padded.compile_logp(**FAST)(
        _point(-0.4, -1.2, np.concatenate([z, z_pad]), np.concatenate([alpha, alpha_pad]))
    )
    pads = stats.norm.logpdf(z_pad).sum() + stats.norm.logpdf(alpha_pad, 0.0, 2.5).sum()
    assert lp_padded == pytest.approx(lp_plain + pads, rel=1e-12)


def test_baseline_risk_and_rr_use_real_studies_only():
    model = build_binomial_normal(TABLE, TP, EP, n_slots=8)
    alpha = np.array([-2.0, -3.5, -1.4, 5.0, 5.0, 5.0, 5.0, 5.0])  # padded alphas far from the real ones
    point = _point(-0.4, -1.2, np.zeros(8), alpha)  # z = 0: theta = mu = -0.4 in every study
    graphs = model.replace_rvs_by_values([model["baseline_risk"], model["rr"]])
    risk, rr = model.compile_fn(graphs, inputs=model.value_vars, on_unused_input="ignore", **FAST)(point)
    p0 = special.expit(np.mean(alpha[:3] + 0.4 / 2))  # control log-odds alpha - theta / 2
    assert risk == pytest.approx(p0, rel=1e-12)
    # RR implied by OR = exp(-0.4) at control risk p0: p_t / p0 with odds_t = OR * odds_0
    odds_t = np.exp(-0.4) * p0 / (1 - p0)
    assert rr == pytest.approx(odds_t / (1 + odds_t) / p0, rel=1e-12)


def test_swapping_counts_is_a_data_swap():
    import pymc as pm

    other = BinaryTable(("x", "y", "z"), [1, 2, 3], [10, 10, 10], [4, 5, 6], [10, 10, 10])
    model = build_binomial_normal(TABLE, TP, EP, n_slots=8)
    data = binomial_normal_data(other, TP, EP, n_slots=8)
    with model:
        pm.set_data({k: data[k] for k in ("e_t", "n_t", "e_c", "n_c", "mask")})
    f = model.compile_logp(vars=[model["events_c"]], **FAST)
    alpha = np.full(8, -0.5)
    expected = stats.binom.logpmf(other.e_c, other.n_c, special.expit(-0.5)).sum()  # theta = mu = 0
    assert f(_point(0.0, 0.0, np.zeros(8), alpha)) == pytest.approx(expected, rel=1e-12)


def test_padded_data_layout():
    data = binomial_normal_data(TABLE, TP, EP, n_slots=8)
    np.testing.assert_array_equal(data["n_t"], [12, 15, 21, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(data["mask"], [1, 1, 1, 0, 0, 0, 0, 0])
    assert "x" not in data and "beta_sd" not in data


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"baseline_sd": 0.0}, ValueError, "baseline_sd must be positive"),
        ({"n_slots": 2}, ValueError, "n_slots = 2 is smaller"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        binomial_normal_data(TABLE, TP, EP, **kwargs)


def test_table_must_be_a_binary_table():
    with pytest.raises(TypeError, match="table must be a BinaryTable"):
        binomial_normal_data(TABLE.to_frame(), TP, EP)
