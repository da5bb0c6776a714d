"""PSIS prior reweighting against a closed form: a conjugate normal posterior under two different priors."""

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from models.bayes.reweight import KHAT_MAX, prior_log_ratio, reweight
from models.priors import EffectPrior, TauPrior

TAU = TauPrior("hn", "hn", "halfnormal", (("scale", 1.0),), "test")
TAU_NARROW = TauPrior("hn5", "hn5", "halfnormal", (("scale", 0.5),), "test")


def _conjugate(y, se, prior_mean, prior_sd):
    precision = 1 / se**2 + 1 / prior_sd**2
    return (y / se**2 + prior_mean / prior_sd**2) / precision, precision**-0.5


def _draws(y, se, prior: EffectPrior, n=40_000, seed=0):
    """Exact posterior draws of mu (normal likelihood y ~ N(mu, se), normal prior) with tau from TAU (no data)."""
    rng = np.random.default_rng(seed)
    mean, sd = _conjugate(y, se, prior.mean, prior.sd)
    mu = rng.normal(mean, sd, size=(4, n // 4))
    tau = np.abs(rng.normal(0, 1.0, size=(4, n // 4)))
    return xr.Dataset({"mu": (("chain", "draw"), mu), "tau": (("chain", "draw"), tau)})


def test_reweighting_recovers_the_conjugate_posterior_under_the_target_prior():
    y, se = -0.5, 0.25
    proposal = EffectPrior("vague", "vague", 0.0, 3.16, "test")
    target = EffectPrior("sceptical", "sceptical", 0.0, 0.22, "test")
    post = _draws(y, se, proposal)
    rw = reweight(post, (TAU, target), (TAU, proposal), r_eff=1.0, seed=1)
    mean, sd = _conjugate(y, se, target.mean, target.sd)  # closed form under the target prior
    mu = rw.posterior["mu"].to_numpy().ravel()
    assert rw.passed and rw.khat < KHAT_MAX
    assert abs(mu.mean() - mean) < 4 * sd / np.sqrt(rw.ess)
    assert abs(np.mean(mu < 0) - stats.norm.cdf(0, mean, sd)) < 0.02


def test_tau_prior_change_reweights_tau():
    post = _draws(-0.5, 0.25, EffectPrior("v", "v", 0.0, 3.16, "t"))
    rw = reweight(post, (TAU_NARROW, EffectPrior("v", "v", 0.0, 3.16, "t")),
                  (TAU, EffectPrior("v", "v", 0.0, 3.16, "t")), r_eff=1.0)  # fmt: skip
    # tau has no data here: the reweighted draws follow the target prior HalfNormal(0.5), median 0.5 * 0.6745
    assert np.median(rw.posterior["tau"]) == pytest.approx(0.5 * stats.halfnorm.ppf(0.5), rel=0.05)


def test_identical_priors_give_unit_weights():
    post = _draws(-0.5, 0.25, EffectPrior("v", "v", 0.0, 3.16, "t"))
    ratio = prior_log_ratio(post["mu"].values, post["tau"].values, (TAU, EffectPrior("v", "v", 0.0, 3.16, "t")),
                            (TAU, EffectPrior("v", "v", 0.0, 3.16, "t")))  # fmt: skip
    assert np.allclose(ratio, 0.0)


def test_a_target_far_from_the_proposal_fails_the_gate():
    post = _draws(-0.5, 0.05, EffectPrior("v", "v", 0.0, 3.16, "t"))
    far = EffectPrior("far", "far", 1.5, 0.05, "t")  # prior far outside the posterior
    rw = reweight(post, (TAU, far), (TAU, EffectPrior("v", "v", 0.0, 3.16, "t")), r_eff=1.0)
    assert not rw.passed


def test_bad_r_eff_is_named():
    post = _draws(-0.5, 0.25, EffectPrior("v", "v", 0.0, 3.16, "t"))
    with pytest.raises(ValueError, match="r_eff"):
        reweight(post, (TAU, EffectPrior("v", "v", 0, 1, "t")), (TAU, EffectPrior("v", "v", 0, 1, "t")), r_eff=0)


@pytest.mark.slow
def test_psis_reweighted_grid_posterior_matches_a_direct_fit():
    """On the Tang 2024 mortality studies with known counts: reweighting the broad proposal fit to other priors
    gives the same posterior as fitting those priors directly, within Monte Carlo error."""
    from models.bayes.sampling import fit_binomial_normal
    from models.msc.datasets import load_dataset
    from models.msc.specs import study_sets
    from models.priors import effect_prior, tau_prior

    table = {s.key: s for s in study_sets(load_dataset())}["tang2024/mortality"].table
    proposal = (tau_prior("halfcauchy_1"), effect_prior("vague"))
    broad = fit_binomial_normal(table, *proposal, seed=3, draws=4000)
    post = broad.idata["posterior"].to_dataset()
    r_eff = float(broad.diagnostics.table.loc[["mu", "tau"], "ess_bulk"].min()) / (
        post.sizes["chain"] * post.sizes["draw"]
    )
    for tk, ek in (("turner2015_general", "enthusiastic"), ("halfnormal_0.5", "weakly_informative")):
        target = (tau_prior(tk), effect_prior(ek))
        rw = reweight(post, target, proposal, r_eff=r_eff, seed=4)
        direct = fit_binomial_normal(table, *target, seed=5)
        assert rw.khat <= KHAT_MAX and direct.diagnostics.passed
        mu_rw = rw.posterior["mu"].to_numpy().ravel()
        mu_direct = direct.idata["posterior"]["mu"].to_numpy().ravel()
        sd = mu_direct.std()
        se = np.sqrt(sd**2 / rw.ess + sd**2 / direct.diagnostics.table.loc["mu", "ess_bulk"])
        assert abs(mu_rw.mean() - mu_direct.mean()) < 4 * se, (tk, ek, mu_rw.mean(), mu_direct.mean(), se)
        assert abs(np.mean(mu_rw < 0) - np.mean(mu_direct < 0)) < 0.01
