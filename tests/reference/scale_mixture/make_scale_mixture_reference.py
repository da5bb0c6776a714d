"""Brute-force reference of the normal-normal model under Bartoš et al.'s log OR pair (Student-t(0, 0.58, 4) on mu,
InvGamma(1.77, 0.55) on tau), written from the model statement with scipy alone (no project code):

    p(y, mu, tau) = t_4(mu; 0, 0.58) InvGamma(tau; 1.77, 0.55) prod_i N(y_i; mu, v_i + tau^2)

Simpson's rule in mu on 8,001 points over [-25, 25], adaptive quad_vec in tau (epsrel 1e-10), split at a cut; the
fixed-effect model (tau = 0) on the same mu grid; the null models (mu = 0) by quad. Writes the log evidence, the
posterior mean and SD of mu, P(mu < mu_cut), P(tau < tau_cut) and the log inclusion Bayes factors (prior probability
1/4 per model) for two synthetic data sets, at cuts given here (near the posterior's median of mu and 97.5% point of
tau). Run from the repository root: python tests/reference/scale_mixture/make_scale_mixture_reference.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from scipy import integrate, stats

CASES = {
    # five studies near the null: the prior's centre matters
    "five": {"y": [-0.4, -0.1, 0.2, -0.6, 0.05], "v": [0.04, 0.09, 0.05, 0.2, 0.12], "mu_cut": -0.15, "tau_cut": 0.6},
    # two imprecise studies far from the null: the prior's tails matter
    "two_far": {"y": [2.5, 3.1], "v": [0.3, 0.5], "mu_cut": 2.4, "tau_cut": 3.0},
}
T_PDF = stats.t(4, loc=0.0, scale=0.58).pdf
TAU_PDF = stats.invgamma(1.77, scale=0.55).pdf


def _npdf(x, m, sd):
    return np.exp(-0.5 * ((x - m) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))


def _simpson(grid):
    w = np.ones(grid.size)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w * (grid[1] - grid[0]) / 3.0


def brute(y, v, mu_cut, tau_cut):
    """The reference quantities of one data set (module docstring)."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    mu = np.linspace(-25.0, 25.0, 8001)
    low = np.linspace(-25.0, mu_cut, 8001)
    w, w_low = _simpson(mu), _simpson(low)

    def lik(m, tau):
        return np.prod(_npdf(y[None, :], m[:, None], np.sqrt(v + tau**2)[None, :]), axis=1)

    def integrand(tau):
        tau = max(tau, 1e-300)
        f = T_PDF(mu) * lik(mu, tau) * TAU_PDF(tau)
        return np.array([f @ w, (f * mu) @ w, (f * mu**2) @ w, (T_PDF(low) * lik(low, tau) * TAU_PDF(tau)) @ w_low])

    below = integrate.quad_vec(integrand, 0.0, tau_cut, epsabs=0, epsrel=1e-10)[0]
    above = integrate.quad_vec(integrand, tau_cut, np.inf, epsabs=0, epsrel=1e-10)[0]
    total = below + above
    z = total[0]
    fixed = float((T_PDF(mu) * lik(mu, 0.0)) @ w)
    null_fixed = float(np.prod(_npdf(y, 0.0, np.sqrt(v))))
    null_random = integrate.quad(lambda t: TAU_PDF(t) * np.prod(_npdf(y, 0.0, np.sqrt(v + t * t))), 0, np.inf,
                                 epsabs=0, epsrel=1e-10, limit=200)[0]  # fmt: skip
    return {
        "log_evidence": math.log(z),
        "mean": total[1] / z,
        "sd": math.sqrt(total[2] / z - (total[1] / z) ** 2),
        "cdf_mu": total[3] / z,
        "cdf_tau": below[0] / z,
        "log_bf_effect": math.log((fixed + z) / (null_fixed + null_random)),
        "log_bf_heterogeneity": math.log((null_random + z) / (null_fixed + fixed)),
    }


def main() -> None:
    out = {
        name: {**case, **brute(case["y"], case["v"], case["mu_cut"], case["tau_cut"])} for name, case in CASES.items()
    }
    path = Path(__file__).with_name("scale_mixture.brute.json")
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
