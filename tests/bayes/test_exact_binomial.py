"""Tests of models.bayes.exact_binomial (the binomial-normal posterior by quadrature).

Independent references, each named in the test:
(a) brute force written here from the model statement: the baseline log-odds integrated by a dense trapezoid rule
    (binomial log-pmf from scipy.special.gammaln), the study effects by a dense trapezoid rule on a fine grid of
    log-ORs (step 0.01), then a dense trapezoid grid over (mu, log tau) with scipy's prior densities;
(b) a 2-D brute-force grid over (a, mu) for one study with tau = 0 (fixed effect), where the marginal likelihood
    is that 2-D integral;
(c) exact invariances of the bias model: a common bias mean shifts the posterior of mu; a huge bias SD removes the
    study;
(d) grid refinement on the MSC evidence base;
(e) slow: long MCMC of the project's PyMC model (models.bayes.sampling.fit_binomial_normal), within 3 MCSE.
Tolerance: 1e-3 against brute force (brief), 1e-4 for refinement.
"""

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats

from models.bayes.exact_binomial import BinomialLikelihood, exact_binomial_normal
from models.priors import EffectPrior, effect_prior, tau_prior
from models.reader import read_study_file
from models.tables import BinaryTable

REF = Path(__file__).resolve().parents[1] / "reference"
TURNER = tau_prior("turner2015_mortality_pharma")
WEAK = effect_prior("weakly_informative")
# shu2020 (zero events in the MSC arm), shi2021 (double zero), lanzoni2021, monsel2022 from the MSC data
SMALL = BinaryTable(
    ("zero", "double_zero", "lanzoni", "monsel"),
    np.array([0, 0, 2, 5]),
    np.array([12, 65, 12, 21]),
    np.array([3, 0, 7, 4]),
    np.array([29, 35, 12, 24]),
)


def _log_binom(e: float, n: float, logit: np.ndarray) -> np.ndarray:
    lc = special.gammaln(n + 1) - special.gammaln(e + 1) - special.gammaln(n - e + 1)
    return lc + e * -np.logaddexp(0.0, -logit) + (n - e) * -np.logaddexp(0.0, logit)


def _brute_log_lt(table: BinaryTable, t: np.ndarray, control: bool = False) -> np.ndarray:
    """log L_i(t) by a dense trapezoid rule over a in [-18, 18] (step 0.0225); shape (t, k)."""
    a = np.linspace(-18.0, 18.0, 1601)
    da = a[1] - a[0]
    out = np.empty((t.size, table.k))
    prior = stats.norm(0.0, 2.5).logpdf(a)[None, :]
    for i in range(table.k):
        oc = 0.0 * t[:, None] if control else -t[:, None] / 2
        ot = t[:, None] if control else t[:, None] / 2
        g = (
            _log_binom(table.e_c[i], table.n_c[i], a[None, :] + oc)
            + _log_binom(table.e_t[i], table.n_t[i], a[None, :] + ot)
            + prior
        )
        top = g.max(axis=1, keepdims=True)
        out[:, i] = top[:, 0] + np.log(np.trapezoid(np.exp(g - top), dx=da, axis=1))
    return out


def _brute_posterior(table: BinaryTable, control: bool = False) -> dict[str, float]:
    """Dense-grid posterior summaries under TURNER and WEAK (see (a) in the module docstring)."""
    t = np.linspace(-12.0, 12.0, 2401)
    dt = t[1] - t[0]
    lt = _brute_log_lt(table, t, control)
    ltop = lt.max(axis=0)
    big_l = np.exp(lt - ltop)
    mu = np.linspace(-4.0, 3.0, 281)
    s = np.linspace(math.log(1e-4), math.log(8.0), 180)
    tau = np.exp(s)
    logj = np.empty((s.size, mu.size))
    for n, tn in enumerate(tau):
        if tn >= 2.5 * dt:
            k = np.exp(-0.5 * ((t[None, :] - mu[:, None]) / tn) ** 2) * dt / (tn * math.sqrt(2 * math.pi))
            ll = np.log(k @ big_l) + ltop
        else:  # tau below the t grid's resolution: L_i(mu, tau) ~ L_i(mu) (error O(tau^2))
            ll = np.stack([np.interp(mu, t, lt[:, i]) for i in range(table.k)], axis=1)
        logj[n] = ll.sum(axis=1) + stats.norm(0.0, 1.0).logpdf(mu) + TURNER.logpdf(tn) + s[n]
    top = logj.max()
    joint = np.exp(logj - top)
    z = np.trapezoid(np.trapezoid(joint, mu, axis=1), s)
    mu_marg = np.trapezoid(joint, s, axis=0) / z
    s_marg = np.trapezoid(joint, mu, axis=1) / z
    mu_cdf = np.concatenate([[0.0], np.cumsum((mu_marg[1:] + mu_marg[:-1]) / 2 * np.diff(mu))])
    s_cdf = np.concatenate([[0.0], np.cumsum((s_marg[1:] + s_marg[:-1]) / 2 * np.diff(s))])
    return {
        "p_below_1": float(np.interp(0.0, mu, mu_cdf)),
        "median": float(np.exp(np.interp(0.5, mu_cdf, mu))),
        "low": float(np.exp(np.interp(0.025, mu_cdf, mu))),
        "high": float(np.exp(np.interp(0.975, mu_cdf, mu))),
        "tau_median": float(np.exp(np.interp(0.5, s_cdf, s))),
        "log_evidence": float(top + math.log(z)),
    }


# five homogeneous studies (all ORs near 0.6): the tau posterior has its mode at tau = 0
HOMOG = BinaryTable(
    ("h1", "h2", "h3", "h4", "h5"),
    np.array([10, 12, 8, 20, 6]),
    np.array([50, 60, 40, 100, 30]),
    np.array([15, 18, 12, 29, 9]),
    np.array([50, 60, 40, 100, 30]),
)
_BRUTE_LL: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _brute_loglik_mu_tau(name: str, table: BinaryTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """sum_i log L_i(mu, tau) on a dense (tau, mu) grid, tau linear from 0 (reference (a'), module docstring)."""
    if name in _BRUTE_LL:
        return _BRUTE_LL[name]
    t = np.linspace(-12.0, 12.0, 2401)
    dt = t[1] - t[0]
    lt = _brute_log_lt(table, t)
    ltop = lt.max(axis=0)
    big_l = np.exp(lt - ltop)
    d2 = np.gradient(np.gradient(big_l, dt, axis=0), dt, axis=0)  # L_i''(t) by central differences
    mu = np.linspace(-5.0, 4.0, 361)
    tau = np.concatenate([np.linspace(0.0, 3.0, 301), np.geomspace(3.02, 80.0, 250)])
    ll = np.empty((tau.size, mu.size))
    for n, tn in enumerate(tau):
        if tn >= 2.5 * dt:  # trapezoid in t; every 5th node (step 0.05) once tau >= 0.25 (still >= 5 steps per SD)
            sub = 5 if tn >= 0.25 else 1
            ts, h = t[::sub], dt * sub
            k = np.exp(-0.5 * ((ts[None, :] - mu[:, None]) / tn) ** 2) * h / (tn * math.sqrt(2 * math.pi))
            lmt = k @ big_l[::sub]
        else:  # L_i(mu, tau) = L_i(mu) + tau^2 / 2 L_i''(mu) + O(tau^4)
            lmt = np.stack([np.interp(mu, t, big_l[:, i] + 0.5 * tn**2 * d2[:, i]) for i in range(table.k)], axis=1)
        ll[n] = (np.log(lmt) + ltop).sum(axis=1)
    _BRUTE_LL[name] = (mu, tau, ll)
    return _BRUTE_LL[name]


def _pl_quantile(x: np.ndarray, f: np.ndarray, cdf: np.ndarray, q: float) -> float:
    """Quantile q of the piecewise-linear density f on the nodes x (cdf its exact integral, the cumulative
    trapezoid): solves the quadratic within the cell rather than interpolating the cdf linearly."""
    j = int(np.clip(np.searchsorted(cdf, q) - 1, 0, x.size - 2))
    h, r = x[j + 1] - x[j], q - cdf[j]
    a, b = (f[j + 1] - f[j]) / (2.0 * h), f[j]
    d = 2.0 * r / (b + math.sqrt(b * b + 4.0 * a * r))  # root of a d^2 + b d = r (stable form)
    return float(x[j] + d)


def _brute_posterior_tau(name: str, table: BinaryTable, prior) -> dict[str, float]:
    """Reference (a'): posterior summaries from the dense (tau, mu) grid of :func:`_brute_loglik_mu_tau`, trapezoid
    rule in tau itself (the integrand is smooth and even in tau, finite at tau = 0 for these priors; step 0.01 up to
    tau = 3, then geometric to 80 for the HalfCauchy tail) and in mu (step 0.025 over [-5, 4])."""
    mu, tau, ll = _brute_loglik_mu_tau(name, table)
    with np.errstate(divide="ignore"):
        lp = np.where(tau > 0, prior.logpdf(np.maximum(tau, 1e-300)), prior.logpdf(0.0))
    logj = ll + stats.norm(0.0, 1.0).logpdf(mu)[None, :] + lp[:, None]
    joint = np.exp(logj - logj.max())
    z = np.trapezoid(np.trapezoid(joint, mu, axis=1), tau)
    mu_marg = np.trapezoid(joint, tau, axis=0) / z
    tau_marg = np.trapezoid(joint, mu, axis=1) / z
    mu_cdf = np.concatenate([[0.0], np.cumsum((mu_marg[1:] + mu_marg[:-1]) / 2 * np.diff(mu))])
    tau_cdf = np.concatenate([[0.0], np.cumsum((tau_marg[1:] + tau_marg[:-1]) / 2 * np.diff(tau))])
    return {
        "p_below_1": float(np.interp(0.0, mu, mu_cdf)),
        "median": math.exp(_pl_quantile(mu, mu_marg, mu_cdf, 0.5)),
        "low": math.exp(_pl_quantile(mu, mu_marg, mu_cdf, 0.025)),
        "high": math.exp(_pl_quantile(mu, mu_marg, mu_cdf, 0.975)),
        "tau_median": _pl_quantile(tau, tau_marg, tau_cdf, 0.5),
        "tau_low": _pl_quantile(tau, tau_marg, tau_cdf, 0.025),
        "tau_high": _pl_quantile(tau, tau_marg, tau_cdf, 0.975),
    }


@pytest.mark.parametrize("data", ["small", "homogeneous"])
@pytest.mark.parametrize("prior_key", ["halfnormal_0.5", "halfnormal_1", "halfcauchy_1"])
def test_priors_with_density_at_zero_against_brute_force(data, prior_key):
    """Reference (a'): brute force in (mu, tau) with tau on a linear grid from 0, under tau priors with positive
    density at tau = 0 (whose posterior in log tau has an exp(log tau) lower tail), on the four studies with a
    zero-event and a double-zero study, and on five homogeneous studies (tau posterior mode at 0)."""
    table = SMALL if data == "small" else HOMOG
    prior = tau_prior(prior_key)
    ref = _brute_posterior_tau(data, table, prior)
    post = exact_binomial_normal(table, prior, WEAK)
    ci, tci = post.interval(0.95), post.tau_interval(0.95)
    got = {
        "p_below_1": post.prob_below(1.0),
        "median": post.median(),
        "low": ci.low,
        "high": ci.high,
        "tau_median": post.tau_median(),
        "tau_low": tci.low,
        "tau_high": tci.high,
    }
    assert got == pytest.approx(ref, abs=1e-3)


@pytest.mark.parametrize("parametrisation", ["symmetric", "control"])
def test_against_brute_force_integration(parametrisation):
    """Reference (a): dense-grid brute force on four studies incl. a zero-event and a double-zero study."""
    ref = _brute_posterior(SMALL, control=parametrisation == "control")
    post = exact_binomial_normal(SMALL, TURNER, WEAK, parametrisation=parametrisation)
    ci = post.interval(0.95)
    assert post.prob_below(1.0) == pytest.approx(ref["p_below_1"], abs=1e-3)
    assert post.median() == pytest.approx(ref["median"], abs=1e-3)
    assert (ci.low, ci.high) == pytest.approx((ref["low"], ref["high"]), abs=1e-3)
    assert post.tau_median() == pytest.approx(ref["tau_median"], abs=1e-3)
    assert post.log_evidence == pytest.approx(ref["log_evidence"], abs=1e-3)


# three studies, the first with 295/451 vs 19/36 events: its likelihood curve needs the safeguarded Newton step
LOPSIDED = BinaryTable(
    ("l1", "l2", "l3"),
    np.array([295, 40, 25]),
    np.array([451, 100, 80]),
    np.array([19, 30, 20]),
    np.array([36, 100, 85]),
)


def test_lopsided_study_against_brute_force_integration():
    """Reference (a) on LOPSIDED (plain Newton had put the median OR at 2.92 and the tau median at 0.84 here; the
    brute force gives 1.55 and 0.12). The 95% interval is left out: at an upper end of OR 2.3 the brute force's
    mu step of 0.025 leaves it about 1.5e-3 off on the OR scale (the exact engine on a 128 x 96 grid moves it by
    1e-6)."""
    ref = _brute_posterior(LOPSIDED)
    post = exact_binomial_normal(LOPSIDED, TURNER, WEAK)
    assert post.prob_below(1.0) == pytest.approx(ref["p_below_1"], abs=1e-3)
    assert post.median() == pytest.approx(ref["median"], abs=1e-3)
    assert post.tau_median() == pytest.approx(ref["tau_median"], abs=1e-3)
    assert post.log_evidence == pytest.approx(ref["log_evidence"], abs=1e-3)


def test_likelihood_curve_against_brute_force():
    """Reference (a), step 1 alone: log L_i(t) of every study at a few log-ORs."""
    t = np.array([-6.0, -2.0, -0.5, 0.0, 0.7, 3.0])
    lik = BinomialLikelihood(SMALL)
    np.testing.assert_allclose(lik.log_lik_t(t), _brute_log_lt(SMALL, t), atol=5e-5)


@pytest.mark.parametrize("counts", [(295, 451, 19, 36), (16, 23, 186, 592), (286, 527, 3, 7)])
def test_likelihood_curve_nodes_against_brute_force_for_lopsided_counts(counts):
    """Reference (a), step 1 alone, at the curve's own spline nodes wherever l is within 20 of its maximum, for
    studies with one arm's risk far from the other's. (Plain Newton for the mode in a, started cold at the first
    node of each pass, cycled here and left l wrong by more than 60 at nodes near the maximum.)"""
    table = BinaryTable(("s",), *([c] for c in counts))
    lik = BinomialLikelihood(table)
    t = lik._lo[0] + lik._h[0] * np.arange(128)
    ref = _brute_log_lt(table, t)[:, 0]
    near = ref > ref.max() - 20.0
    np.testing.assert_allclose(lik.log_lik_t(t[near])[:, 0], ref[near], atol=5e-5)


def test_fixed_effect_single_study_evidence_against_2d_grid():
    """Reference (b): with tau = 0 and one study, p(y) = int int Bin Bin N(a) N(mu) da dmu on a dense 2-D grid."""
    one = SMALL.subset(["lanzoni"])
    a = np.linspace(-15.0, 15.0, 3001)[None, :]
    mu = np.linspace(-6.0, 6.0, 2401)[:, None]
    g = (
        _log_binom(7, 12, a - mu / 2)
        + _log_binom(2, 12, a + mu / 2)
        + stats.norm(0, 2.5).logpdf(a)
        + stats.norm(0, 1).logpdf(mu)
    )
    top = g.max()
    ref = top + math.log(np.trapezoid(np.trapezoid(np.exp(g - top), a[0], axis=1), mu[:, 0]))
    lik = BinomialLikelihood(one)
    assert lik.log_evidence(None, WEAK) == pytest.approx(ref, abs=1e-5)
    null_ref = math.log(np.trapezoid(np.exp(g[1200] - stats.norm(0, 1).logpdf(0.0)), a[0]))  # mu = 0 row
    assert lik.log_evidence(None, None) == pytest.approx(null_ref, abs=1e-5)


def test_grid_refinement_on_the_evidence_base():
    """Reference (d): doubling both grid sizes moves P(OR < 1), the median and P(tau > 0.5) by < 1e-4."""
    from models.msc.datasets import load_dataset

    ds = load_dataset()
    table, _ = ds.binary_table("mortality", list(ds.studies.index))
    lik = BinomialLikelihood(table)
    base = lik.posterior(TURNER, WEAK)
    fine = lik.posterior(TURNER, WEAK, n_tau=96, n_mu=64)
    assert base.prob_below(1.0) == pytest.approx(fine.prob_below(1.0), abs=1e-4)
    assert base.median() == pytest.approx(fine.median(), abs=1e-4)
    assert base.prob_tau_above(0.5) == pytest.approx(fine.prob_tau_above(0.5), abs=1e-4)
    assert base.log_evidence == pytest.approx(fine.log_evidence, abs=1e-4)


def test_common_bias_mean_shifts_mu():
    """Reference (c): bias_mean = d in every study (bias_sd 0) is mu' = mu + d, i.e. the effect prior shifted."""
    d = 0.4
    shifted = exact_binomial_normal(SMALL, TURNER, WEAK, bias_mean=[d] * 4, bias_sd=[0.0] * 4)
    moved_prior = EffectPrior("moved", "moved", WEAK.mean + d, WEAK.sd, "test")
    ref = exact_binomial_normal(SMALL, TURNER, moved_prior)
    assert shifted.log_mean() + d == pytest.approx(ref.log_mean(), abs=1e-6)
    assert shifted.tau_median() == pytest.approx(ref.tau_median(), abs=1e-6)
    assert shifted.log_evidence == pytest.approx(ref.log_evidence, abs=1e-6)
    plain = exact_binomial_normal(SMALL, TURNER, WEAK)
    zero = exact_binomial_normal(SMALL, TURNER, WEAK, bias_mean=[0.0] * 4, bias_sd=[0.0] * 4)
    assert zero.prob_below(1.0) == plain.prob_below(1.0)


def test_huge_bias_sd_removes_the_study():
    """Reference (c): an NRS row with bias SD 100 leaves the posterior of the other studies (evidence up to the
    constant factor of that study's nearly flat likelihood)."""
    with_nrs = exact_binomial_normal(SMALL, TURNER, WEAK, bias_mean=[0, 0, 0, 1.0], bias_sd=[0, 0, 0, 100.0])
    without = exact_binomial_normal(SMALL.subset(["zero", "double_zero", "lanzoni"]), TURNER, WEAK)
    assert with_nrs.prob_below(1.0) == pytest.approx(without.prob_below(1.0), abs=1e-3)
    assert with_nrs.median() == pytest.approx(without.median(), abs=1e-3)
    assert with_nrs.tau_median() == pytest.approx(without.tau_median(), abs=1e-3)
    assert abs(with_nrs.prob_below(1.0) - exact_binomial_normal(SMALL, TURNER, WEAK).prob_below(1.0)) > 1e-3


def test_prior_swap_reuses_the_likelihood():
    """A BinomialLikelihood gives the same posterior as the one-shot function (same numbers, shared curves)."""
    lik = BinomialLikelihood(SMALL)
    hn = tau_prior("halfnormal_0.5")
    assert lik.posterior(hn, WEAK).prob_below(1.0) == exact_binomial_normal(SMALL, hn, WEAK).prob_below(1.0)


def test_query_protocol_and_errors():
    post = exact_binomial_normal(SMALL, TURNER, WEAK)
    row = post.summary(baseline_risk=0.3)
    assert row["measure"] == "OR" and row["baseline_source"] == "user"
    assert row["pred_low"] < row["low"] < row["median"] < row["high"] < row["pred_high"]
    shr = post.shrunken()
    assert list(shr.index) == list(SMALL.study)
    assert (shr["low"] < shr["median"]).all() and (shr["median"] < shr["high"]).all()
    assert 0.0 < post.prob_nnt_at_most(10, baseline_risk=0.3) < 1.0
    with pytest.raises(ValueError, match="baseline_risk"):
        post.arr()
    with pytest.raises(ValueError, match="parametrisation"):
        exact_binomial_normal(SMALL, TURNER, WEAK, parametrisation="arm")
    with pytest.raises(ValueError, match="bias_sd has 2 values"):
        exact_binomial_normal(SMALL, TURNER, WEAK, bias_sd=[0, 1])
    fixed = exact_binomial_normal(SMALL, TURNER, WEAK, model="fixed")
    assert fixed.tau_median() == 0.0
    assert fixed.predictive_interval().low == pytest.approx(fixed.interval().low, abs=1e-9)


def test_shrunken_effect_of_a_single_study_against_brute_force():
    """Reference (a): p(t_1 | y) for k = 1 on a dense (t, log tau) grid with mu integrated in closed form."""
    one = SMALL.subset(["lanzoni"])
    post = exact_binomial_normal(one, TURNER, WEAK)
    t = np.linspace(-8.0, 6.0, 2801)
    lt = _brute_log_lt(one, t)[:, 0]
    s = np.linspace(math.log(1e-4), math.log(8.0), 400)
    tau = np.exp(s)
    # t | tau ~ N(0, 1 + tau^2) after integrating mu ~ N(0, 1)
    logj = lt[None, :] + stats.norm.logpdf(t[None, :], 0.0, np.sqrt(1 + tau[:, None] ** 2))
    logj += (TURNER.logpdf(tau) + s)[:, None]
    dens = np.trapezoid(np.exp(logj - logj.max()), s, axis=0)
    cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(t))])
    cdf /= cdf[-1]
    ref = np.exp(np.interp([0.025, 0.5, 0.975], cdf, t))
    shr = post.shrunken().iloc[0]
    assert (shr["low"], shr["median"], shr["high"]) == pytest.approx(tuple(ref), abs=1e-3)


def _msc_table(subset: str) -> BinaryTable:
    """The MSC mortality evidence base (all studies with known counts) or its RCT subset."""
    from models.msc.datasets import load_dataset

    ds = load_dataset()
    studies = list(ds.studies.index)
    if subset == "rct":
        studies = [s for s in studies if ds.studies.loc[s, "design"] == "RCT"]
    table, _ = ds.binary_table("mortality", studies)
    return table


def mcmc_against_exact(table: BinaryTable, prior, seed: int, draws: int) -> list[tuple[str, float, float, float]]:
    """(statistic, MCMC value, exact value, MCSE) for mean/median/2.5%/97.5% of mu and tau and P(OR < 1): MCMC of
    the project's PyMC model (models.bayes.sampling.fit_binomial_normal, 4 chains), MCSE from arviz-stats."""
    import arviz_stats as azs

    from models.bayes.sampling import fit_binomial_normal

    fit = fit_binomial_normal(table, prior, WEAK, seed=seed, draws=draws)
    assert fit.diagnostics.passed, fit.diagnostics
    ds = fit.idata["posterior"].to_dataset()[["mu", "tau"]]
    ds["below"] = (ds["mu"] < 0).astype(float)
    post = exact_binomial_normal(table, prior, WEAK)
    exact = {
        ("mu", "mean"): post.log_mean(),
        ("tau", "mean"): post.tau_mean(),
        ("below", "mean"): post.prob_below(1.0),
    }
    for q in (0.025, 0.5, 0.975):
        exact[("mu", q)], exact[("tau", q)] = post.mu_ppf(q), post.tau_ppf(q)
    mcse_mean = azs.mcse(ds, method="mean")
    out = []
    for (name, stat), truth in exact.items():
        x = ds[name].values.reshape(-1)
        if stat == "mean":
            out.append((f"{name} mean", float(x.mean()), truth, float(mcse_mean[name])))
        else:
            err = float(azs.mcse(ds[[name]], method="quantile", prob=stat)[name])
            out.append((f"{name} q{stat}", float(np.quantile(x, stat)), truth, err))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("subset", "prior_key"),
    [("all", "halfnormal_0.5"), ("rct", "halfnormal_0.5"), ("all", "turner2015_mortality_pharma")],
)
def test_mcmc_matches_exact_within_3_mcse(subset, prior_key):
    """Reference (e): long MCMC (4 x 10,000 draws, seed 1) of models.bayes.sampling.fit_binomial_normal on the MSC
    evidence base and its RCT subset; every statistic within 3 MCSE of the exact value."""
    rows = mcmc_against_exact(_msc_table(subset), tau_prior(prior_key), seed=1, draws=10_000)
    failures = [f"{s}: mcmc {v:.5f} exact {t:.5f} mcse {e:.5f}" for s, v, t, e in rows if abs(v - t) > 3 * e]
    assert not failures, failures


TANG = [
    "adas2021",
    "bowdish2023",
    "dilogo2021",
    "lanzoni2021",
    "monsel2022",
    "rebelatto2022",
    "shu2020",
    "zhu2021",
    "xu2021",
]


def _mcmc_sets():
    from models.msc.datasets import load_dataset

    ds = load_dataset()
    evidence, _ = ds.binary_table("mortality", list(ds.studies.index))
    tang, _ = ds.binary_table("mortality", TANG)
    return {
        "tang2024": tang,
        "evidence_base": evidence,
        "bcg": read_study_file(REF / "bcg.csv").counts,
        "hine1989": read_study_file(REF / "hine1989.csv").counts,
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tang2024", "evidence_base", "bcg", "hine1989"])
def test_agrees_with_long_mcmc_of_the_pymc_model(name):
    """Reference (e): 4 x 20,000 draws of models.bayes.sampling.fit_binomial_normal (the project's PyMC model,
    symmetric parametrisation); MCSE by arviz-stats; every quantity within 3 MCSE."""
    import arviz_stats as azs

    from models.bayes.sampling import fit_binomial_normal

    table = _mcmc_sets()[name]
    fit = fit_binomial_normal(table, TURNER, WEAK, seed=11, draws=20_000)
    post = exact_binomial_normal(table, TURNER, WEAK)
    draws = fit.idata["posterior"].to_dataset()
    for var in ("mu", "tau"):
        x = np.asarray(draws[var].transpose("chain", "draw").values)
        if var == "mu":
            ref = {"mean": post.log_mean(), "median": math.log(post.median())}
            ci = post.interval(0.95)
            ref["q025"], ref["q975"] = math.log(ci.low), math.log(ci.high)
        else:
            ti = post.tau_interval(0.95)
            ref = {"mean": post.tau_mean(), "median": post.tau_median(), "q025": ti.low, "q975": ti.high}
        est = {
            "mean": (x.mean(), azs.mcse(x, method="mean")),
            "median": (np.median(x), azs.mcse(x, method="median")),
            "q025": (np.quantile(x, 0.025), azs.mcse(x, method="quantile", prob=0.025)),
            "q975": (np.quantile(x, 0.975), azs.mcse(x, method="quantile", prob=0.975)),
        }
        for key, (value, se) in est.items():
            assert abs(value - ref[key]) < 3 * float(se), (name, var, key, value, ref[key], se)
    mu = np.asarray(draws["mu"].transpose("chain", "draw").values)
    below = (mu < 0).astype(float)
    se = float(azs.mcse(below, method="mean"))
    assert abs(below.mean() - post.prob_below(1.0)) < 3 * max(se, 1e-4)


@pytest.mark.parametrize("n", [4, 5, 16, 128])
def test_spline_coefficients_are_scipys_not_a_knot_spline(n):
    """Reference: scipy.interpolate.CubicSpline (default not-a-knot ends) on the same nodes, per row."""
    from scipy.interpolate import CubicSpline

    from models.bayes.exact_binomial.kernels import _spline_coef

    rng = np.random.default_rng(n)
    y = np.cumsum(rng.normal(size=(3, n)), axis=1) - 0.1 * np.arange(n) ** 2
    ref = np.moveaxis(CubicSpline(np.arange(n, dtype=float), y, axis=1).c, 2, 0)
    np.testing.assert_allclose(_spline_coef(y), ref, rtol=0, atol=1e-12 * np.abs(ref).max())
