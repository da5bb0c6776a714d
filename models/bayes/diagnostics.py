"""MCMC convergence diagnostics with pass/fail gates.

For every reported quantity (``mu``, ``tau``, each ``beta``, ``baseline_risk``, ``rr``, each ``theta``) the table
holds the rank-normalised split R-hat and the bulk and tail effective sample sizes of Vehtari et al. 2021
(Bayesian Analysis 16:667; tail ESS = the smaller of the ESS of the 5% and 95% quantiles), computed with
arviz-stats' array functions on the (chain, draw) draws of that quantity. A fit passes when every quantity meets
the gates of :data:`GATES` and the sampler reported no more divergent transitions than allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr

GATES: dict[str, float] = {"rhat_max": 1.01, "ess_min": 1000, "divergences_max": 0}
"""Default gates: R-hat <= 1.01 (Vehtari et al. 2021), bulk and tail ESS >= 1000, no divergent transitions."""

REPORTED: tuple[str, ...] = ("mu", "tau", "beta", "baseline_risk", "rr", "theta")
"""Posterior variables whose every element is diagnosed (those present in a fit)."""

TAIL_PROB = 0.05
"""Tail ESS is computed for the TAIL_PROB and 1 - TAIL_PROB quantiles."""


@dataclass(frozen=True)
class Diagnostics:
    """Convergence diagnostics of one fit.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per reported quantity (index e.g. ``"mu"``, ``"beta[age]"``, ``"theta[shu2020]"``) with columns
        ``rhat`` (rank-normalised split R-hat), ``ess_bulk`` and ``ess_tail``.
    divergences : int
        Divergent transitions after tuning, all chains.
    passed : bool
        True when no gate failed.
    failures : tuple of str
        Human-readable reasons, one per failed gate and quantity (empty when passed).
    """

    table: pd.DataFrame
    divergences: int
    passed: bool
    failures: tuple[str, ...]

    def __str__(self) -> str:
        head = "diagnostics passed" if self.passed else "diagnostics FAILED: " + "; ".join(self.failures)
        worst = (
            f"max R-hat {self.table['rhat'].max():.4f}, min bulk ESS {self.table['ess_bulk'].min():.0f}, "
            f"min tail ESS {self.table['ess_tail'].min():.0f}, {self.divergences} divergences"
        )
        return f"{head} ({worst})"


def _quantities(posterior: xr.Dataset, var_names: Sequence[str]) -> dict[str, np.ndarray]:
    """(chain, draw) arrays by quantity name; vector variables give one entry per element, labelled by coordinate."""
    out: dict[str, np.ndarray] = {}
    for name in var_names:
        da = posterior[name]
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        da = da.transpose("chain", "draw", *extra)
        if not extra:
            out[name] = da.values
            continue
        if len(extra) > 1:
            raise ValueError(f"variable {name!r} has more than one non-sample dimension {extra}")
        for i, label in enumerate(da[extra[0]].values):
            out[f"{name}[{label}]"] = da.values[:, :, i]
    return out


def diagnostics_table(posterior: xr.Dataset, var_names: Sequence[str] | None = None) -> pd.DataFrame:
    """R-hat (rank), bulk ESS and tail ESS for each element of ``var_names`` (default: :data:`REPORTED` present)."""
    if var_names is None:
        var_names = [v for v in REPORTED if v in posterior.data_vars]
    missing = [v for v in var_names if v not in posterior.data_vars]
    if missing:
        raise KeyError(f"posterior has no variable(s) {', '.join(missing)}")
    rows = {}
    for label, draws in _quantities(posterior, var_names).items():
        # constant draws give 0/0 inside the estimators: report NaN (which fails the gates) without a warning
        with np.errstate(invalid="ignore", divide="ignore"):
            rows[label] = {
                "rhat": float(azs.rhat(draws, method="rank")),
                "ess_bulk": float(azs.ess(draws, method="bulk")),
                "ess_tail": float(azs.ess(draws, method="tail", prob=TAIL_PROB)),
            }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["rhat", "ess_bulk", "ess_tail"])
    table.index.name = "quantity"
    return table


def count_divergences(sample_stats: xr.Dataset | None) -> int:
    """Number of divergent transitions in ``sample_stats["diverging"]`` (0 when there are no sampler stats)."""
    if sample_stats is None or "diverging" not in sample_stats:
        return 0
    return int(sample_stats["diverging"].values.sum())


def check_gates(table: pd.DataFrame, divergences: int, gates: Mapping[str, float] = GATES) -> tuple[str, ...]:
    """Reasons the diagnostics fail ``gates`` (an empty tuple when they pass). NaN statistics fail."""
    unknown = set(gates) - set(GATES)
    if unknown:
        raise KeyError(f"unknown gate(s) {', '.join(sorted(unknown))}; valid: {', '.join(GATES)}")
    gates = {**GATES, **gates}
    failures = []
    for label, row in table.iterrows():
        if not row["rhat"] <= gates["rhat_max"]:
            failures.append(f"R-hat of {label} is {row['rhat']:.4f} > {gates['rhat_max']}")
        for kind in ("bulk", "tail"):
            ess = row[f"ess_{kind}"]
            if not ess >= gates["ess_min"]:
                shown = "nan" if math.isnan(ess) else f"{ess:.0f}"
                failures.append(f"{kind} ESS of {label} is {shown} < {gates['ess_min']:g}")
    if divergences > gates["divergences_max"]:
        failures.append(f"{divergences} divergent transitions > {gates['divergences_max']:g}")
    return tuple(failures)


def diagnose(
    posterior: xr.Dataset,
    sample_stats: xr.Dataset | None,
    *,
    var_names: Sequence[str] | None = None,
    gates: Mapping[str, float] = GATES,
) -> Diagnostics:
    """Diagnostics of a posterior (dims chain, draw, ...) and its sampler statistics, checked against ``gates``."""
    table = diagnostics_table(posterior, var_names)
    divergences = count_divergences(sample_stats)
    failures = check_gates(table, divergences, gates)
    return Diagnostics(table=table, divergences=divergences, passed=not failures, failures=failures)
