"""Speed of the robust Bayesian model averaging (models.bayes.publication_bias) on 2x2 data.

Run from the repository root: ``.venv/bin/python -m benchmarks.pubbias [--repeat N]``.

Line (``name  value  unit  [<= target ok|MISS]  # note``), wall-clock median over ``--repeat`` calls in a warm
process (the exact engine's numba kernels compiled and its per-study curves cached beforehand, as in a batch):

* ``pubbias_bma_k15_ms``: one whole model-averaged analysis (the 36 RoBMA-PSMA models: effect x heterogeneity x
  none / six weight functions / PET / PEESE) of 15 synthetic 2x2 studies (``benchmarks/exact_bn.synthetic(15)``)
  on the binomial likelihood under HalfNormal(0.5) and Normal(0, 1), summaries included; target <= 1000 ms.

The header records ``os.getloadavg()`` before and after: the machine is shared, compare runs made under similar load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from benchmarks.exact_bn import synthetic
from models.bayes.publication_bias import robust_bma_binomial
from models.priors import effect_prior, tau_prior


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"# loadavg before: {os.getloadavg()}", flush=True)
    table = synthetic(15, seed=1)
    tp, ep = tau_prior("halfnormal_0.5"), effect_prior("weakly_informative")
    t0 = time.perf_counter()
    robust_bma_binomial(table, tp, ep)
    print(f"# first call (compile, curves): {time.perf_counter() - t0:.1f} s", flush=True)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = robust_bma_binomial(table, tp, ep)
        times.append(time.perf_counter() - t0)
    ms = 1e3 * statistics.median(times)
    ok = "ok" if ms <= 1000 else "MISS"
    print(f"pubbias_bma_k15_ms  {ms:.0f}  ms  <= 1000 {ok}  # 36 models, k = {res.k}, "
          f"P(OR < 1) {res.averaged.prob_below_null:.3f}, log BF bias {res.bias.log_bf:.2f}", flush=True)  # fmt: skip
    print(f"# loadavg after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
