"""Speed of the exact binomial-normal engine (models.bayes.exact_binomial).

Run from the repository root: ``.venv/bin/python benchmarks/exact_bn.py [--skip-mcmc] [--repeat N]``.

Lines (``name  value  unit  [<= target ok|MISS]  # note``), wall-clock medians over ``--repeat`` calls in a warm
process (numba kernels compiled beforehand; compile time is printed as a comment):

* ``exact_bn_k15_ms``: the MSC mortality evidence base (15 studies), per-study cache cleared before each call:
  per-study curves + posterior under HalfNormal(0.5) + summaries (median, 95% interval, P(OR < 1), tau median and
  95% interval); target <= 20 ms.
* ``exact_bn_k1000_ms``: the same for 1000 synthetic studies (random arm sizes 20-400, distinct counts); target
  <= 1000 ms; ``exact_bn_k250_ms`` is printed beside it to show the growth in k.
* ``exact_bn_prior_swap_ms``: a new posterior + the same summaries from an existing ``BinomialLikelihood`` (k = 15)
  under another tau prior (HalfNormal(1)); target <= 5 ms.
* ``exact_bn_vs_mcmc_cost_ratio``: a compiled ``fit_binomial_normal`` (toolkit defaults) on the k = 15 set divided by
  ``exact_bn_k15_ms``.

The header records ``os.getloadavg()`` before and after: the machine is shared, compare runs made under similar load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from models.bayes import exact_binomial as eb
from models.msc.datasets import load_dataset
from models.priors import effect_prior, tau_prior
from models.tables import BinaryTable


def _summaries(post: eb.ExactBinomialPosterior) -> None:
    post.median()
    post.interval(0.95)
    post.prob_below(1.0)
    post.tau_median()
    post.tau_interval(0.95)


def _time(fn, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(out)


def _line(name: str, value: float, unit: str, target: float | None, note: str) -> None:
    tgt = "" if target is None else f"  <= {target:g} {'ok' if value <= target else 'MISS'}"
    print(f"{name}  {value:.3g}  {unit}{tgt}  # {note}", flush=True)


def synthetic(k: int, seed: int = 0) -> BinaryTable:
    """k studies with random arm sizes (20-400), baseline risks and effects (log-OR ~ N(-0.3, 0.3^2))."""
    rng = np.random.default_rng(seed)
    n_t, n_c = rng.integers(20, 401, k), rng.integers(20, 401, k)
    a = rng.normal(-1.5, 0.7, k)
    t = rng.normal(-0.3, 0.3, k)
    e_c = rng.binomial(n_c, 1 / (1 + np.exp(-a)))
    e_t = rng.binomial(n_t, 1 / (1 + np.exp(-(a + t))))
    return BinaryTable(tuple(f"s{i}" for i in range(k)), e_t, n_t, e_c, n_c)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-mcmc", action="store_true")
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    print(f"# cpu_count: {os.cpu_count()}  loadavg_start: {os.getloadavg()}")
    ds = load_dataset()
    table, _ = ds.binary_table("mortality", list(ds.studies.index))
    hn05, hn1, weak = tau_prior("halfnormal_0.5"), tau_prior("halfnormal_1"), effect_prior("weakly_informative")

    def full(tab: BinaryTable) -> None:
        eb.clear_cache()
        _summaries(eb.exact_binomial_normal(tab, hn05, weak))

    t0 = time.perf_counter()
    full(synthetic(3))
    print(f"# first call (numba compile or load from cache): {time.perf_counter() - t0:.2f} s")
    k15 = _time(lambda: full(table), args.repeat)
    _line("exact_bn_k15_ms", k15, "ms", 20, f"k={table.k}, HalfNormal(0.5), curves + posterior + summaries")
    big, mid = synthetic(1000), synthetic(250)
    k250 = _time(lambda: full(mid), max(3, args.repeat // 5))
    k1000 = _time(lambda: full(big), max(3, args.repeat // 5))
    _line("exact_bn_k250_ms", k250, "ms", None, "synthetic, for the growth in k")
    _line("exact_bn_k1000_ms", k1000, "ms", 1000, f"synthetic; k1000/k250 = {k1000 / k250:.2f} (linear: 4)")
    lik = eb.BinomialLikelihood(table)
    _summaries(lik.posterior(hn05, weak))
    swap = _time(lambda: _summaries(lik.posterior(hn1, weak)), args.repeat)
    _line("exact_bn_prior_swap_ms", swap, "ms", 5, "k=15, HalfNormal(1) on an existing BinomialLikelihood")
    if not args.skip_mcmc:
        from models.bayes.sampling import fit_binomial_normal

        fit_binomial_normal(table, hn05, weak, seed=0)  # compile
        mcmc = _time(lambda: fit_binomial_normal(table, hn05, weak, seed=1), 3)
        _line("exact_bn_vs_mcmc_cost_ratio", mcmc / k15, "x", None, f"compiled fit_binomial_normal {mcmc:.0f} ms")
    print(f"# loadavg_end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
