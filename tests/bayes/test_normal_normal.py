"""Structural tests of the normal-normal PyMC model and of the swappable tau prior it shares with the binomial one.

Reference values are closed forms evaluated with scipy (normal log densities) and ``TauPrior.logpdf`` (scipy-based,
written independently in models/priors.py) plus the change-of-variables Jacobian ``log tau`` of ``tau = exp(log_tau)``.
Logp functions are compiled with ``mode="FAST_COMPILE"`` to keep these tests within seconds.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy import stats

from models.bayes.normal_normal import build_normal_normal, normal_normal_data, tau_prior_data
from models.priors import TAU_PRESETS, EffectPrior, TauPrior, effect_prior, tau_prior

FAST = {"mode": "FAST_COMPILE"}


@dataclass
class Effects:
    study: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    measure: str = "OR"


EFFECTS = Effects(("a", "b", "c"), np.array([-0.5, 0.1, -1.2]), np.array([0.2, 0.05, 0.4]))
TP = tau_prior("turner2015_mortality_pharma")
EP = effect_prior("weakly_informative")


def test_model_has_named_variables_and_labelled_dims():
    model = build_normal_normal(EFFECTS, TP, EP)
    names = {v.name for v in model.free_RVs}
    assert names == {"mu", "log_tau", "z"}
    assert {v.name for v in model.deterministics} == {"tau", "theta"}
    assert {v.name for v in model.potentials} == {"tau_prior", "loglik"}
    assert model.named_vars_to_dims["theta"] == ("study",)
    assert list(model.coords["study"]) == ["a", "b", "c"]


def test_logp_and_gradient_finite_at_initial_point():
    model = build_normal_normal(EFFECTS, TP, EP, n_slots=8)
    point = model.initial_point()
    assert np.isfinite(model.compile_logp(**FAST)(point))
    assert np.all(np.isfinite(model.compile_dlogp(**FAST)(point)))


def _point(model, mu, log_tau, z):
    return {"mu": np.array(mu), "log_tau": np.array(log_tau), "z": np.asarray(z, dtype=float)}


def test_log_density_is_the_closed_form_normal_normal_density():
    # closed form with theta integrated out: N(mu | m, s) + tau prior (TauPrior.logpdf + log tau)
    # + sum N(z | 0, 1) + sum N(y | mu, v + tau^2)
    model = build_normal_normal(EFFECTS, TP, EP)
    mu, log_tau, z = -0.3, np.log(0.2), np.array([0.5, -1.0, 2.0])
    expected = (
        stats.norm.logpdf(mu, EP.mean, EP.sd)
        + TP.logpdf(np.exp(log_tau))
        + log_tau
        + stats.norm.logpdf(z).sum()
        + stats.norm.logpdf(EFFECTS.yi, mu, np.sqrt(EFFECTS.vi + 0.2**2)).sum()
    )
    got = model.compile_logp(**FAST)(_point(model, mu, log_tau, z))
    assert got == pytest.approx(expected, rel=1e-10)


def test_padding_adds_only_the_prior_of_the_padded_z():
    # padded slots have mask 0: their likelihood term is 0, so the padded model's log density is the unpadded one
    # plus the N(0, 1) log densities of the padded z (closed form)
    plain = build_normal_normal(EFFECTS, TP, EP)
    padded = build_normal_normal(EFFECTS, TP, EP, n_slots=8)
    z = np.array([0.5, -1.0, 2.0])
    z_pad = np.array([0.3, -0.7, 1.1, 0.0, 2.5])
    lp_plain = plain.compile_logp(**FAST)(_point(plain, -0.3, -1.5, z))
    lp_padded = padded.compile_logp(**FAST)(_point(padded, -0.3, -1.5, np.concatenate([z, z_pad])))
    assert lp_padded == pytest.approx(lp_plain + stats.norm.logpdf(z_pad).sum(), rel=1e-12)


@pytest.mark.parametrize("key", sorted(TAU_PRESETS))
def test_potential_tau_prior_equals_tauprior_logpdf_plus_jacobian_after_a_data_swap(key):
    # one model built with the Turner prior; every preset's family and parameters are swapped in as data
    model = build_normal_normal(EFFECTS, TP, EP)
    target = TAU_PRESETS[key]
    with model:
        pm.set_data(tau_prior_data(target))
    f = model.compile_logp(vars=[model["tau_prior"]], **FAST)
    grid = np.log(np.array([1e-3, 0.01, 0.05, 0.14, 0.3, 0.7, 1.5, 4.0, 20.0]))
    got = np.array([f({"mu": np.array(0.0), "log_tau": np.array(s), "z": np.zeros(3)}) for s in grid])
    np.testing.assert_allclose(got, target.logpdf(np.exp(grid)) + grid, rtol=1e-9, atol=1e-9)


def test_effect_prior_is_swappable_data():
    model = build_normal_normal(EFFECTS, TP, EP)
    wide = EffectPrior("w", "wide", 0.5, 3.0, "test")
    with model:
        pm.set_data({"mu_mean": wide.mean, "mu_sd": wide.sd})
    f = model.compile_logp(vars=[model["mu"]], **FAST)
    assert f({"mu": np.array(-1.0), "log_tau": np.array(0.0), "z": np.zeros(3)}) == pytest.approx(
        stats.norm.logpdf(-1.0, 0.5, 3.0)
    )


def test_meta_regression_theta_is_its_conditional_posterior_draw():
    # theta_i | mu, beta, tau, y ~ N(m_i + B_i (y_i - m_i), B_i v_i), B_i = tau^2 / (v_i + tau^2), m_i = mu + x_i' beta
    # (normal-normal conjugacy), drawn as mean + sd * z
    cov = pd.DataFrame({"dose": [1.0, 0.0, -1.0], "severe": [0, 1, 1]}, index=["c", "a", "b"])  # any row order
    model = build_normal_normal(EFFECTS, TP, EP, covariates=cov, n_slots=8)
    assert list(model.coords["covariate"]) == ["dose", "severe"]
    assert model.named_vars_to_dims["beta"] == ("covariate",)
    point = {
        "mu": np.array(-0.2),
        "log_tau": np.log(np.array(0.5)),
        "z": np.linspace(-1, 1, 8),
        "beta": np.array([0.3, -0.4]),
    }
    (theta_graph,) = model.replace_rvs_by_values([model["theta"]])
    theta = model.compile_fn(theta_graph, inputs=model.value_vars, **FAST)(point)
    x = np.array([[0.0, 1.0], [-1.0, 1.0], [1.0, 0.0]])  # rows a, b, c
    m = -0.2 + x @ np.array([0.3, -0.4])
    b = 0.25 / (EFFECTS.vi + 0.25)
    expected = m + b * (EFFECTS.yi - m) + np.sqrt(b * EFFECTS.vi) * np.linspace(-1, 1, 8)[:3]
    np.testing.assert_allclose(theta[:3], expected, rtol=1e-12)


def test_single_study_builds():
    one = Effects(("pooled",), np.array([-0.4]), np.array([0.04]))
    model = build_normal_normal(one, TP, EP, n_slots=8)
    assert np.isfinite(model.compile_logp(**FAST)(model.initial_point()))


def test_tau_prior_data_one_hot_in_family_order():
    data = tau_prior_data(TauPrior("x", "x", "invgamma", (("alpha", 1.77), ("beta", 0.55)), "test"))
    np.testing.assert_array_equal(data["tau_family"], [0, 0, 0, 1, 0])
    np.testing.assert_array_equal(data["tau_params"][3, :2], [1.77, 0.55])


@pytest.mark.parametrize(
    ("kwargs", "effects", "match"),
    [
        ({"n_slots": 2}, EFFECTS, "n_slots = 2 is smaller than the number of studies"),
        ({}, Effects(("a", "b"), np.array([0.1, 0.2]), np.array([0.1, 0.0])), "vi must be positive; study 'b'"),
        (
            {},
            Effects(("a", "b"), np.array([0.1, np.nan]), np.array([0.1, 0.1])),
            "yi is missing or not finite for study 'b'",
        ),
        ({"covariates": pd.DataFrame({"d": [1.0, 2.0]}, index=["a", "b"])}, EFFECTS, "no row for study 'c'"),
        (
            {"covariates": pd.DataFrame({"d": [1, 2, 3, 4]}, index=["a", "b", "c", "x"])},
            EFFECTS,
            "row 'x' is not a study",
        ),
        (
            {"covariates": pd.DataFrame({"d": ["1", "x", "2"]}, index=["a", "b", "c"])},
            EFFECTS,
            "column 'd' must be numeric",
        ),
        ({"covariates": pd.DataFrame({"d": [1, None, 2]}, index=["a", "b", "c"])}, EFFECTS, "column 'd' .* study 'b'"),
        ({"covariates": pd.DataFrame({"d": [1, 2, 3]}, index=["a", "b", "c"]), "beta_sd": 0.0}, EFFECTS, "beta_sd"),
    ],
)
def test_bad_input_names_the_argument(kwargs, effects, match):
    with pytest.raises(ValueError, match=match):
        normal_normal_data(effects, TP, EP, **kwargs)
