"""Section 5: the binomial-normal fit on synthetic meta-analyses of 100 to 10,000 studies.

Each size runs in its own child process (``python -m benchmarks.scale --k K ...``) with empty compile caches, so
its compile time is a cold-cache figure and its peak memory is its own: the child reports
``getrusage(RUSAGE_SELF).ru_maxrss`` at exit (the figure the parent would read from ``RUSAGE_CHILDREN`` for that one
child), which includes the interpreter, PyMC, numba and LLVM (``rss_after_import_mb`` is that baseline).

Simulation (seeded numpy Generator): per study, arm sizes uniform on 20..200, control log-odds
``Normal(logit 0.3, 0.5)`` (baseline risk about 0.3), log OR ``theta_i ~ Normal(-0.3, 0.3)``, binomial events.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import cache_env, emit_result, nutpie_timers, peak_rss_mb, run_child

MU, TAU, BASELINE_RISK, BASELINE_LOGIT_SD = -0.3, 0.3, 0.3, 0.5
ARM_MIN, ARM_MAX = 20, 200
SIZE_TIERS = (
    (1000, {"draws": 1000, "tune": 1000, "chains": 4, "prior_draws": 1000}),
    (5000, {"draws": 400, "tune": 400, "chains": 2, "prior_draws": 400}),
)
"""(threshold, settings): from ``threshold`` studies on, ``settings`` replace the toolkit defaults. With the
defaults 1,000 studies take about 110 s to sample, and 10,000 studies cost about 0.16 s per NUTS iteration (2 loaded
cores), so larger sets get fewer draws to keep the whole benchmark near 15 minutes."""
CHILD_TIMEOUT_S = 3600.0


def scale_settings(k: int) -> dict[str, int]:
    """Sampler settings for ``k`` studies: empty (the toolkit's defaults) for small sets, fewer draws for large ones."""
    settings: dict[str, int] = {}
    for threshold, tier in SIZE_TIERS:
        if k >= threshold:
            settings = tier
    return dict(settings)


def simulate(k: int, seed: int):
    """A synthetic BinaryTable of ``k`` studies (see the module docstring); the same (k, seed) gives the same table."""
    from models.tables import BinaryTable

    rng = np.random.default_rng([seed, k])
    n_t = rng.integers(ARM_MIN, ARM_MAX + 1, size=k)
    n_c = rng.integers(ARM_MIN, ARM_MAX + 1, size=k)
    alpha = rng.normal(math.log(BASELINE_RISK / (1 - BASELINE_RISK)), BASELINE_LOGIT_SD, size=k)
    theta = rng.normal(MU, TAU, size=k)
    e_c = rng.binomial(n_c, 1 / (1 + np.exp(-alpha)))
    e_t = rng.binomial(n_t, 1 / (1 + np.exp(-(alpha + theta))))
    width = len(str(k))
    study = [f"sim{i + 1:0{width}d}" for i in range(k)]
    return BinaryTable(study, e_t, n_t, e_c, n_c)


def worker(k: int, seed: int, settings: dict[str, int]) -> dict[str, Any]:
    """Simulate, then fit once with ``fit_binomial_normal`` (primary priors), timing each phase.

    ``settings`` overrides the fit's draws, tune, chains and prior_draws; the result reports the values used.
    """
    t0 = time.perf_counter()
    from models.bayes import sampling
    from models.bayes.binomial_normal import build_binomial_normal
    from models.bayes.sampling import fit_binomial_normal, n_slots_for
    from models.msc.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
    from models.priors import effect_prior, tau_prior

    import_s = time.perf_counter() - t0
    rss_import = peak_rss_mb()
    table = simulate(k, seed)
    tau0, eff0 = tau_prior(PRIMARY_TAU_PRIOR), effect_prior(PRIMARY_EFFECT_PRIOR)
    t0 = time.perf_counter()
    build_binomial_normal(table, tau0, eff0, n_slots=n_slots_for(k))
    build_s = time.perf_counter() - t0
    with nutpie_timers() as timers:
        t0 = time.perf_counter()
        fit = fit_binomial_normal(table, tau0, eff0, seed=seed, **settings)
        fit_s = time.perf_counter() - t0
    compile_s, sample_s = sum(timers["compile"].seconds), sum(timers["sample"].seconds)
    tab = fit.diagnostics.table
    main = tab.loc[["mu", "tau"]]
    steps = fit.idata["sample_stats"]["n_steps"].values if "n_steps" in fit.idata["sample_stats"] else None
    return {
        "k": k,
        "n_slots": n_slots_for(k),
        "settings": {
            "draws": settings.get("draws", sampling.DRAWS),
            "tune": settings.get("tune", sampling.TUNE),
            "chains": settings.get("chains", sampling.CHAINS),
            "prior_draws": settings.get("prior_draws", sampling.PRIOR_DRAWS),
        },
        "import_s": import_s,
        "build_s": build_s,
        "compile_s": compile_s,
        "sample_s": sample_s,
        "other_s": fit_s - compile_s - sample_s,
        "fit_s": fit_s,
        "rss_after_import_mb": rss_import,
        "peak_rss_mb": peak_rss_mb(),
        "rhat_max": float(main["rhat"].max()),
        "ess_bulk_min": float(main["ess_bulk"].min()),
        "ess_tail_min": float(main["ess_tail"].min()),
        "rhat_max_all": float(tab["rhat"].max()),
        "ess_bulk_min_all": float(tab["ess_bulk"].min()),
        "divergences": fit.diagnostics.divergences,
        "mean_leapfrog": float(np.mean(steps)) if steps is not None else float("nan"),
        "mu_mean": float(fit.idata["posterior"]["mu"].mean()),
        "tau_mean": float(fit.idata["posterior"]["tau"].mean()),
    }


def loglog_slope(ks: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) on log(k): time grows like k**slope (NaN with fewer than 2 sizes)."""
    if len(ks) < 2:
        return float("nan")
    return float(np.polyfit(np.log(ks), np.log(seconds), 1)[0])


def run_scale(sizes: Sequence[int], seed: int, cache_parent: Path) -> list[dict[str, Any]]:
    """Run each size in a child process with fresh caches; failed sizes come back as ``{"k": k, "error": ...}``."""
    out = []
    for k in sizes:
        settings = scale_settings(k)
        args = ["--k", str(k), "--seed", str(seed)] + [f"--{n.replace('_', '-')}={v}" for n, v in settings.items()]
        cache = Path(tempfile.mkdtemp(prefix=f"scale{k}-", dir=cache_parent))
        result, wall, err = run_child("scale", args, cache_env(cache), timeout=CHILD_TIMEOUT_S)
        if result is None:
            out.append({"k": k, "error": err, "wall_s": wall})
        else:
            out.append({**result, "wall_s": wall})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, required=True)
    parser.add_argument("--seed", type=int, default=20240)
    for name in ("draws", "tune", "chains", "prior-draws"):
        parser.add_argument(f"--{name}", type=int, default=None, help="default: the toolkit's")
    args = parser.parse_args(argv)
    settings = {n: getattr(args, n) for n in ("draws", "tune", "chains", "prior_draws") if getattr(args, n) is not None}
    emit_result(worker(args.k, args.seed, settings))


if __name__ == "__main__":
    main()
