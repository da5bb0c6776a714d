"""Sections 2-4 on the tang2024 mortality set: compile and refit times, the exact oracle, ESS per second.

Run as a child of :mod:`benchmarks.run` (``python -m benchmarks.micro``), which gives it empty compile caches. All
fits use the binomial-normal model (log-OR scale) on the studies of tang2024's mortality analysis with known counts.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from typing import Any

import numpy as np

from benchmarks.common import emit_result, nutpie_timers

REFITS = 12
"""Refits of the compiled structure (half with a new prior, half with new data)."""
EXACT_CALLS = 100
REFIT_TAU_PRIORS = ("halfnormal_0.5", "halfnormal_1", "halfcauchy_1", "bartos2023_logor", "turner2015_general")
REFIT_EFFECT_PRIORS = ("vague", "sceptical", "weakly_informative")


def tang2024_mortality():
    """The tang2024 mortality studies with known counts, as a BinaryTable."""
    from models.msc.datasets import load_dataset

    ds = load_dataset()
    table, _ = ds.binary_table("mortality", ds.analysis_set("tang2024", "mortality").best_studies)
    return table


def _perturbed(table, i: int):
    """``table`` with one control-arm event moved (same studies, same slot count): a data swap for a refit."""
    from models.tables import BinaryTable

    e_c = table.e_c.copy()
    j = i % table.k
    e_c[j] = e_c[j] - 1 if e_c[j] > 0 else e_c[j] + 1
    return BinaryTable(table.study, table.e_t, table.n_t, e_c, table.n_c)


def _min_bulk_ess(posterior) -> dict[str, float]:
    """Bulk ESS of mu and tau (arviz-stats, rank-normalised, as the toolkit's diagnostics)."""
    import arviz_stats as azs

    return {v: float(azs.ess(posterior[v].transpose("chain", "draw").values, method="bulk")) for v in ("mu", "tau")}


def _divergences(idata) -> int:
    stats = idata["sample_stats"]
    return int(stats["diverging"].values.sum()) if "diverging" in stats else -1


def compile_and_refit(table, seed: int) -> dict[str, Any]:
    """Section 2: first fit of the structure (with compile), refits with new priors/data, recompile on a warm cache."""
    from models.bayes.sampling import clear_cache, compiled_structures, fit_binomial_normal
    from models.msc.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
    from models.priors import effect_prior, tau_prior

    tau0, eff0 = tau_prior(PRIMARY_TAU_PRIOR), effect_prior(PRIMARY_EFFECT_PRIOR)
    with nutpie_timers() as timers:
        t0 = time.perf_counter()
        fit_binomial_normal(table, tau0, eff0, seed=seed)
        first = time.perf_counter() - t0
        compile_cold = timers["compile"].seconds[-1]
        refit, refit_sample = [], []
        for i in range(REFITS):
            if i % 2 == 0:
                args = (table, tau_prior(REFIT_TAU_PRIORS[i // 2 % len(REFIT_TAU_PRIORS)]), eff0)
            else:
                args = (_perturbed(table, i // 2), tau0, effect_prior(REFIT_EFFECT_PRIORS[i // 2 % 3]))
            t0 = time.perf_counter()
            fit_binomial_normal(*args, seed=seed + 1 + i)
            refit.append(time.perf_counter() - t0)
            refit_sample.append(timers["sample"].seconds[-1])
        structures = len(compiled_structures())
        n_compiles = len(timers["compile"].seconds)
        clear_cache()
        t0 = time.perf_counter()
        fit_binomial_normal(table, tau0, eff0, seed=seed)
        first_warm = time.perf_counter() - t0
        compile_warm = timers["compile"].seconds[-1]
    return {
        "k": table.k,
        "first_fit_s": first,
        "compile_s": compile_cold,
        "refit_median_s": statistics.median(refit),
        "refit_max_s": max(refit),
        "refit_sample_median_s": statistics.median(refit_sample),
        "refits": REFITS,
        "compiles_during_refits": n_compiles - 1,
        "structures_cached": structures,
        "first_fit_warm_s": first_warm,
        "compile_warm_s": compile_warm,
    }


def exact_timing(table) -> dict[str, Any]:
    """Section 3: median wall time of ``exact_normal_normal`` on the set's log ORs (escalc, 0.5 added to zero cells)."""
    from models.bayes.exact import exact_normal_normal
    from models.effects import escalc
    from models.msc.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
    from models.priors import effect_prior, tau_prior

    es = escalc(table, "OR")
    tau0, eff0 = tau_prior(PRIMARY_TAU_PRIOR), effect_prior(PRIMARY_EFFECT_PRIOR)
    exact_normal_normal(es.yi, es.vi, tau0, eff0, study=es.study)
    times = []
    for _ in range(EXACT_CALLS):
        t0 = time.perf_counter()
        exact_normal_normal(es.yi, es.vi, tau0, eff0, study=es.study)
        times.append(time.perf_counter() - t0)
    return {
        "exact_ms": 1e3 * statistics.median(times),
        "exact_p90_ms": 1e3 * float(np.quantile(times, 0.9)),
        "exact_calls": EXACT_CALLS,
        "exact_k": len(es.study),
    }


class _NutsLog(logging.Handler):
    """Keeps PyMC's ``NUTS[...]`` log line, which names the sampler PyMC picked."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("NUTS"):
            self.lines.append(msg)


def _pymc_run(model, seed: int, **kwargs: Any) -> dict[str, Any]:
    """``pm.sample(random_seed=seed, progressbar=False, **kwargs)``; ESS/s over PyMC's own ``sampling_time``."""
    import pymc as pm

    handler = _NutsLog()
    log = logging.getLogger("pymc")
    log.addHandler(handler)
    try:
        with nutpie_timers() as timers, model:
            t0 = time.perf_counter()
            idata = pm.sample(random_seed=seed, progressbar=False, **kwargs)
            total = time.perf_counter() - t0
    finally:
        log.removeHandler(handler)
    post = idata["posterior"]
    sampling = float(post.attrs["sampling_time"])
    ess = _min_bulk_ess(post)
    return {
        "sampler": "nutpie" if timers["sample"].seconds else "pymc",
        "log": handler.lines[0] if handler.lines else "",
        "chains": int(post.sizes["chain"]),
        "draws": int(post.sizes["draw"]),
        "tune": int(post.attrs.get("tuning_steps", -1)),
        "sampling_s": sampling,
        "total_s": total,
        "setup_s": total - sampling,
        "ess_bulk_mu": ess["mu"],
        "ess_bulk_tau": ess["tau"],
        "ess_per_s": min(ess.values()) / sampling,
        "divergences": _divergences(idata),
    }


def ess_per_second(table, seed: int) -> dict[str, Any]:
    """Section 4: min bulk ESS of (mu, tau) per second of sampling, ours vs ``pm.sample`` on the same model.

    Ours: ``fit_binomial_normal`` with its defaults on an already compiled structure; the time is the wall time of
    its ``nutpie.sample`` call (tuning + draws, all chains). PyMC: the model from ``build_binomial_normal`` (no
    padding), ``pm.sample`` with default arguments except ``progressbar=False``; the time is PyMC's
    ``posterior.attrs["sampling_time"]`` (the sampling loop only; compile and initialisation excluded).
    """
    from models.bayes.binomial_normal import build_binomial_normal
    from models.bayes.sampling import fit_binomial_normal
    from models.msc.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
    from models.priors import effect_prior, tau_prior

    tau0, eff0 = tau_prior(PRIMARY_TAU_PRIOR), effect_prior(PRIMARY_EFFECT_PRIOR)
    fit_binomial_normal(table, tau0, eff0, seed=seed, draws=10, tune=10, prior_draws=10)
    with nutpie_timers() as timers:
        fit = fit_binomial_normal(table, tau0, eff0, seed=seed)
    sampling = timers["sample"].seconds[-1]
    ess = _min_bulk_ess(fit.idata["posterior"])
    ours = {
        "sampler": "nutpie (toolkit)",
        "chains": fit.settings["chains"],
        "draws": fit.settings["draws"],
        "tune": fit.settings["tune"],
        "target_accept": fit.settings["target_accept"],
        "sampling_s": sampling,
        "ess_bulk_mu": ess["mu"],
        "ess_bulk_tau": ess["tau"],
        "ess_per_s": min(ess.values()) / sampling,
        "divergences": fit.diagnostics.divergences,
    }
    default = _pymc_run(build_binomial_normal(table, tau0, eff0), seed)
    out = {"ours": ours, "default": default}
    if default["sampler"] != "pymc":
        out["pymc_nuts"] = _pymc_run(build_binomial_normal(table, tau0, eff0), seed, nuts_sampler="pymc")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=20240)
    args = parser.parse_args(argv)
    table = tang2024_mortality()
    result = {"refit": compile_and_refit(table, args.seed), "exact": exact_timing(table)}
    result["ess"] = ess_per_second(table, args.seed)
    emit_result(result)


if __name__ == "__main__":
    main()
