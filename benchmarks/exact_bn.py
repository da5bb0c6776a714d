"""Exact binomial-normal posterior (quadrature, no MCMC): speed at k = 15 and k = 1000, prior swaps, and its cost
against an MCMC refit of the compiled PyMC structure on the same set.

Run as a child of :mod:`benchmarks.run` (``python -m benchmarks.exact_bn``). Times are wall-clock medians; "cold"
means the per-study likelihood cache of :mod:`models.bayes.exact_binomial` was cleared before each call (every
per-study integral recomputed), numba kernels compiled beforehand (first call excluded).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

from benchmarks.common import emit_result

CALLS = 30
SIZES = (250, 500, 1000)
TURNER_FAMILY = ("turner2015_general", "turner2012_mortality_pharma", "turner2015_mortality_nonpharma")
"""Prior swaps timed for ``exact_bn_prior_swap_ms`` (log-normal tau^2 priors: short log-tau range)."""
HALF_FAMILY = ("halfnormal_0.5", "halfcauchy_1")
"""Prior swaps with a tau density positive at 0 (long exp(s) tail in log tau, more grid rows)."""


def _median_ms(func, calls: int) -> float:
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def measure(seed: int, with_mcmc: bool = True) -> dict[str, Any]:
    """All measurements of the exact binomial-normal engine (see the module docstring)."""
    from benchmarks.micro import tang2024_mortality
    from benchmarks.scale import simulate
    from models.bayes.exact_binomial import BinomialLikelihood, clear_cache, exact_binomial_normal
    from models.datasets import load_dataset
    from models.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR, effect_prior, tau_prior

    tp, ep = tau_prior(PRIMARY_TAU_PRIOR), effect_prior(PRIMARY_EFFECT_PRIOR)
    ds = load_dataset()
    table, _ = ds.binary_table("mortality", list(ds.studies.index))
    exact_binomial_normal(table, tp, ep)  # compile the numba kernels (on-disk cache) outside the timings

    def cold(tab) -> None:
        clear_cache()
        exact_binomial_normal(tab, tp, ep)

    out: dict[str, Any] = {"k15": table.k, "k15_cold_ms": _median_ms(lambda: cold(table), CALLS)}
    lik = BinomialLikelihood(table)
    for name, taus in (("prior_swap_ms", TURNER_FAMILY), ("prior_swap_half_ms", HALF_FAMILY)):
        swaps = [(tau_prior(t), effect_prior(e)) for t in taus for e in ("vague", "sceptical")]
        i = iter(range(10**9))
        out[name] = _median_ms(lambda swaps=swaps, i=i: lik.posterior(*swaps[next(i) % len(swaps)]), CALLS)
    out["k15_warm_ms"] = _median_ms(lambda: exact_binomial_normal(table, tp, ep), CALLS)
    big = {}
    for k in SIZES:
        tab = simulate(k, seed)
        big[k] = _median_ms(lambda tab=tab: cold(tab), 3)
    out["scale_ms"] = big
    ks = list(big)
    lx, ly = [math.log(k) for k in ks], [math.log(big[k]) for k in ks]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    out["slope"] = sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum((a - mx) ** 2 for a in lx)
    if with_mcmc:
        from models.bayes.sampling import fit_binomial_normal

        tang = tang2024_mortality()
        fit_binomial_normal(tang, tp, ep, seed=seed)  # compile the structure
        t0 = time.perf_counter()
        refits = 3
        for r in range(refits):
            fit_binomial_normal(tang, tp, ep, seed=seed + 1 + r)
        mcmc_s = (time.perf_counter() - t0) / refits
        exact_ms = _median_ms(lambda: cold(tang), CALLS)
        out.update(tang_k=tang.k, mcmc_refit_s=mcmc_s, tang_exact_ms=exact_ms, cost_ratio=1e3 * mcmc_s / exact_ms)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=20240)
    parser.add_argument("--no-mcmc", action="store_true", help="skip the MCMC side of the cost ratio")
    args = parser.parse_args()
    emit_result(measure(args.seed, with_mcmc=not args.no_mcmc))


if __name__ == "__main__":
    main()
