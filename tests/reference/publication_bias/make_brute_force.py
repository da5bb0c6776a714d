"""Brute-force references for the publication-bias quadrature (models/bayes/publication_bias/quadrature.py).

Run from the repository root: ``.venv/bin/python tests/reference/publication_bias/make_brute_force.py`` (a few
minutes); writes ``brute_force.json`` beside this file. Independent of the code under test: every integral is
scipy's adaptive quadrature (``scipy.integrate.quad`` nested through ``nquad``) on the models written out here from
their definitions (Vevea & Hedges 1995 weighted normal likelihood with the random effect integrated out; PET/PEESE
mean shift; half-Cauchy slope prior; cumulative-Dirichlet weights through their stick-breaking density), the mean
mu integrated in closed form where the model is conjugate in it, and for 2x2 data each study's likelihood of its true
log OR by ``quad`` over the baseline log-odds.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from scipy import integrate, stats

HERE = Path(__file__).resolve().parent
Y = [0.45, 0.30, 0.62, 0.12, 0.80]
V = [0.04, 0.02, 0.09, 0.01, 0.16]
EFFECT_SD, TAU_SCALE = 0.5, 0.3  # mu ~ Normal(0, 0.5); tau ~ HalfNormal(0.3)
OPTS = {"epsabs": 0.0, "epsrel": 1e-7, "limit": 100}
TABLES = [(3, 40, 9, 41), (10, 120, 18, 118), (1, 15, 4, 16)]  # (e_t, n_t, e_c, n_c)
BASELINE_SD = 2.5


def tau_pdf(t: float) -> float:
    return 2.0 * stats.norm.pdf(t, 0.0, TAU_SCALE)


def half_cauchy(b: float, scale: float) -> float:
    return 2.0 / (math.pi * scale * (1.0 + (b / scale) ** 2))


def conj_mu(y: np.ndarray, var: np.ndarray) -> float:
    """log int prod_i N(y_i; mu, var_i) N(mu; 0, EFFECT_SD^2) dmu (closed form)."""
    prec = np.sum(1.0 / var) + 1.0 / EFFECT_SD**2
    mean = np.sum(y / var) / prec
    quad = np.sum(y**2 / var) - prec * mean**2
    return float(-0.5 * np.sum(np.log(2 * np.pi * var)) - 0.5 * math.log(EFFECT_SD**2 * prec) - 0.5 * quad)


def pet_random(power: int, scale: float) -> float:
    y, v = np.array(Y), np.array(V)
    x = np.sqrt(v) ** power

    def f(b: float, t: float) -> float:
        return math.exp(conj_mu(y - b * x, v + t * t)) * tau_pdf(t) * half_cauchy(b, scale)

    val, _ = integrate.nquad(f, [[0.0, np.inf], [0.0, np.inf]], opts=OPTS)
    return math.log(val)


def _ncdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def weighted_loglik(mu: float, tau: float, cuts_z: np.ndarray, group: np.ndarray, omega: np.ndarray) -> float:
    """Sum over studies of log[omega_{j_i} N(y_i; mu, s_i^2) / sum_j omega_j P(z in group j)], s_i^2 = v + tau^2,
    z = y / se (direction +1); intervals of z cut at ``cuts_z`` with weight group ``group`` (plain ``math``: this
    runs millions of times inside the nested quadrature)."""
    total = 0.0
    cuts = [float(c) for c in cuts_z]
    for y, v in zip(Y, V, strict=True):
        se, s = math.sqrt(v), math.sqrt(v + tau * tau)
        cdf = [0.0] + [_ncdf((c * se - mu) / s) for c in cuts] + [1.0]
        den = sum(omega[group[j]] * (cdf[j + 1] - cdf[j]) for j in range(len(cuts) + 1))
        j_obs = int(np.searchsorted(cuts_z, y / se, side="left"))
        total += math.log(omega[group[j_obs]]) - 0.5 * math.log(2 * math.pi * s * s) - 0.5 * ((y - mu) / s) ** 2
        total -= math.log(den)
    return total


def one_sided(steps: list[float]) -> tuple[np.ndarray, np.ndarray]:
    q = stats.norm.ppf(1 - np.array(steps))[::-1]
    return q, np.arange(len(steps), -1, -1)


def two_sided(steps: list[float]) -> tuple[np.ndarray, np.ndarray]:
    q = stats.norm.ppf(1 - np.array(steps) / 2)
    m = len(steps)
    return np.concatenate([-q, q[::-1]]), np.concatenate([np.arange(0, m + 1), np.arange(m - 1, -1, -1)])


def omega_of(eta: list[float]) -> np.ndarray:
    """omega by group (0 = most significant) from eta ordered least to most significant (cumulative Dirichlet)."""
    m = len(eta) - 1
    cum = np.cumsum(eta)
    return np.array([1.0] + [cum[m - j] for j in range(1, m + 1)])


def selection_effect_random_1s(step: float) -> tuple[float, float]:
    """effect/random, one-sided one-step weight function (omega ~ Uniform(0, 1)): log evidence and P(mu < 0)."""
    cuts, group = one_sided([step])

    def f(mu: float, t: float, w: float) -> float:
        om = np.array([1.0, w])
        return math.exp(weighted_loglik(mu, t, cuts, group, om)) * stats.norm.pdf(mu, 0, EFFECT_SD) * tau_pdf(t)

    lims = [[-4.0, 4.0], [0.0, 2.5], [0.0, 1.0]]
    opts = {"epsabs": 0.0, "epsrel": 1e-5, "limit": 50}
    z, _ = integrate.nquad(f, lims, opts=opts)
    below, _ = integrate.nquad(f, [[-4.0, 0.0], [0.0, 2.5], [0.0, 1.0]], opts=opts)
    return math.log(z), below / z


def selection_effect_fixed_1s(step: float) -> tuple[float, float]:
    """effect/fixed, one-sided one-step weight function (omega ~ Uniform(0, 1)): log evidence and P(mu < 0)."""
    cuts, group = one_sided([step])

    def f(mu: float, w: float) -> float:
        om = np.array([1.0, w])
        return math.exp(weighted_loglik(mu, 0.0, cuts, group, om)) * stats.norm.pdf(mu, 0, EFFECT_SD)

    opts = {"epsabs": 0.0, "epsrel": 1e-8, "limit": 100}
    z, _ = integrate.nquad(f, [[-4.0, 4.0], [0.0, 1.0]], opts=opts)
    below, _ = integrate.nquad(f, [[-4.0, 0.0], [0.0, 1.0]], opts=opts)
    return math.log(z), below / z


def selection_null_random_2s(steps: list[float]) -> float:
    """null/random, two-sided two-step weight function (eta ~ Dirichlet(1, 1, 1) by stick-breaking)."""
    cuts, group = two_sided(steps)

    def f(t: float, u1: float, u2: float) -> float:
        eta = [u1, (1 - u1) * u2, (1 - u1) * (1 - u2)]
        jac = (1 - u1) * 2.0  # stick-breaking Jacobian times the Dirichlet(1, 1, 1) density 2
        return math.exp(weighted_loglik(0.0, t, cuts, group, omega_of(eta))) * tau_pdf(t) * jac

    val, _ = integrate.nquad(f, [[0.0, 2.5], [0.0, 1.0], [0.0, 1.0]], opts={"epsabs": 0.0, "epsrel": 1e-6})
    return math.log(val)


def selection_null_fixed_1s(steps: list[float]) -> float:
    """null/fixed, one-sided three-step weight function (eta ~ Dirichlet(1, 1, 1, 1))."""
    cuts, group = one_sided(steps)

    def f(u1: float, u2: float, u3: float) -> float:
        eta = [u1, (1 - u1) * u2, (1 - u1) * (1 - u2) * u3, (1 - u1) * (1 - u2) * (1 - u3)]
        jac = (1 - u1) ** 2 * (1 - u2) * 6.0
        return math.exp(weighted_loglik(0.0, 0.0, cuts, group, omega_of(eta))) * jac

    val, _ = integrate.nquad(f, [[0.0, 1.0]] * 3, opts={"epsabs": 0.0, "epsrel": 1e-6})
    return math.log(val)


def _log_expit(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x > 0 else x - math.log1p(math.exp(x))


def binomial_study_loglik(t: float, table: tuple[int, int, int, int]) -> float:
    """log int Bin(e_t | n_t, expit(a + t/2)) Bin(e_c | n_c, expit(a - t/2)) N(a; 0, 2.5^2) da (symmetric), the
    integrand scaled by its maximum over a (located on a grid of 601 points) so that nothing underflows."""
    et, nt, ec, nc = table
    const = math.lgamma(nt + 1) - math.lgamma(et + 1) - math.lgamma(nt - et + 1) + math.lgamma(nc + 1)
    const += -math.lgamma(ec + 1) - math.lgamma(nc - ec + 1) - math.log(BASELINE_SD * math.sqrt(2 * math.pi))

    def logg(a: float) -> float:
        xt, xc = a + t / 2, a - t / 2
        return (et * _log_expit(xt) + (nt - et) * _log_expit(-xt) + ec * _log_expit(xc) + (nc - ec) * _log_expit(-xc)
                - 0.5 * (a / BASELINE_SD) ** 2)  # fmt: skip

    grid = np.linspace(-30.0, 30.0, 601)
    vals = [logg(a) for a in grid]
    j = int(np.argmax(vals))
    top = vals[j]
    val, _ = integrate.quad(lambda a: math.exp(logg(a) - top), -30, 30, epsabs=0.0, epsrel=1e-10, limit=200,
                            points=[grid[j] - 1.0, grid[j], grid[j] + 1.0])  # fmt: skip
    return math.log(val) + top + const


def binomial_pet_fixed(scale: float) -> tuple[float, list[float]]:
    """effect/fixed PET on 2x2 tables: mu ~ Normal(0, 0.5), theta_i = mu - beta se_i (direction -1)."""
    se = [math.sqrt(1 / a + 1 / (n - a) + 1 / c + 1 / (m - c)) for a, n, c, m in TABLES]

    def f(mu: float, b: float) -> float:
        ll = sum(binomial_study_loglik(mu - b * s, tab) for s, tab in zip(se, TABLES, strict=True))
        return math.exp(ll + 12.0) * stats.norm.pdf(mu, 0, EFFECT_SD) * half_cauchy(b, scale)

    val, _ = integrate.nquad(f, [[-3.0, 3.0], [0.0, np.inf]], opts={"epsabs": 0.0, "epsrel": 1e-6, "limit": 50})
    return math.log(val) - 12.0, se


CASES = {
    "effect/random/PET": lambda: {"log_evidence": pet_random(1, 1.0), "scale": 1.0},
    "effect/random/PEESE": lambda: {"log_evidence": pet_random(2, 5.0), "scale": 5.0},
    "binomial effect/fixed/PET": lambda: dict(
        zip(("log_evidence", "se"), binomial_pet_fixed(1.0), strict=True), scale=1.0, direction=-1
    ),
    "null/fixed/omega_1s_0.025_0.05_0.5": lambda: {"log_evidence": selection_null_fixed_1s([0.025, 0.05, 0.5])},
    "null/random/omega_2s_0.05_0.1": lambda: {"log_evidence": selection_null_random_2s([0.05, 0.10])},
    "effect/fixed/omega_1s_0.025": lambda: dict(
        zip(("log_evidence", "prob_below_0"), selection_effect_fixed_1s(0.025), strict=True)
    ),
    "effect/random/omega_1s_0.025": lambda: dict(
        zip(("log_evidence", "prob_below_0"), selection_effect_random_1s(0.025), strict=True)
    ),
}


def main() -> None:
    """Compute every case (or those named with ``--cases``, merged into the existing file) and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="*", default=list(CASES), help="cases to compute (default all)")
    args = ap.parse_args()
    path = HERE / "brute_force.json"
    out = json.loads(path.read_text()) if path.exists() else {
        "source": "scipy adaptive quadrature of the models written out in make_brute_force.py (independent code)",
        "y": Y, "v": V, "effect_sd": EFFECT_SD, "tau_halfnormal_scale": TAU_SCALE, "tables": TABLES,
        "baseline_sd": BASELINE_SD, "cases": {},
    }  # fmt: skip
    for name in args.cases:
        out["cases"][name] = CASES[name]()
        print(name, out["cases"][name], flush=True)
        path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
