"""The corpus report's table: the results rows it reads, with the derived quantities every section uses.

Read from ``results.parquet``: one row per meta-analysis x model x prior pair (``status`` ``error`` rows apart).
Derived here, each on a stated scale:

* ``p_one_sided`` -- the one-sided frequentist p-value for benefit (REML, Wald): ``Phi(z)`` when benefit is an
  effect below the null, ``1 - Phi(z)`` otherwise, with ``z`` the log-scale estimate over its standard error
  (from the 95% interval). Small when the estimate is on the benefit side, near 1 on the harm side: the frequentist
  counterpart of ``1 - P(benefit)`` (under a flat prior and a normal likelihood the two are equal).
* ``log10_bf_effect``, ``log10_bf_heterogeneity`` -- the inclusion Bayes factors on the log10 scale (the results
  hold natural logs); ``bf_effect_class``, ``bf_heterogeneity_class`` their categories (:data:`BF_CLASSES`).
* ``tau_reml`` -- ``sqrt(freq_tau2)``; ``k_class`` -- the number of studies in the bins of :data:`K_CLASSES`;
  ``outcome_type`` -- from the manifest (empty when not given).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

COLUMNS = ("analysis", "model", "tau_prior", "effect_prior", "primary_priors", "source", "measure",
           "higher_is_benefit", "k", "effect_median", "p_benefit", "tau_median", "tau_low", "tau_high",
           "log_bf10_effect", "log_bf10_heterogeneity", "p_benefit_model_averaged", "freq_estimate", "freq_ci_low",
           "freq_ci_high", "freq_p", "freq_tau2", "freq_i2", "freq_k", "status", "message")  # fmt: skip
"""Columns of ``results.parquet`` the report reads."""
Z95 = 1.959963984540054
BF_EDGES = (-1.0, -math.log10(3.0), 0.0, math.log10(3.0), 1.0)
"""Edges of the Bayes factor categories on the log10 scale: 1/10, 1/3, 1, 3, 10 (a Bayes factor on an edge goes to
the category above it)."""
BF_CLASSES = ("< 1/10", "1/10 to 1/3", "1/3 to 1", "1 to 3", "3 to 10", "> 10")
"""Bayes factor categories (Jeffreys' scale as Bartoš et al. and most of the field use it), from strong evidence
against to strong evidence for."""
K_CLASSES = ((2, 4), (5, 6), (7, 9), (10, 14), (15, 24), (25, 49), (50, None))
"""Bins of the number of studies (inclusive; None: no upper end)."""
DOUBLE_MAX_LOG10 = 300.0
"""Above this a Bayes factor is stated as "> 10^300" (a double holds up to about 1.8e308)."""


def k_label(low: int, high: int | None) -> str:
    return f"{low}+" if high is None else f"{low}-{high}"


def bf_class(log10_bf: np.ndarray) -> np.ndarray:
    """The category label (:data:`BF_CLASSES`) of each log10 Bayes factor; empty for NaN."""
    x = np.asarray(log10_bf, dtype=float)
    index = np.searchsorted(np.array(BF_EDGES), x, side="right")
    labels = np.array(BF_CLASSES, dtype=object)[np.minimum(index, len(BF_CLASSES) - 1)]
    return np.where(np.isnan(x), "", labels)


def fmt_bf(log10_bf: float) -> str:
    """A Bayes factor as text from its log10: ``"> 10^300"`` / ``"< 10^-300"`` beyond what a double holds, else three
    significant digits (``"1.7e+05"`` above 10^4)."""
    if not math.isfinite(log10_bf):
        return "n/a" if math.isnan(log10_bf) else ("> 10^300" if log10_bf > 0 else "< 10^-300")
    if log10_bf > DOUBLE_MAX_LOG10:
        return "> 10^300"
    if log10_bf < -DOUBLE_MAX_LOG10:
        return "< 10^-300"
    value = 10.0**log10_bf
    return f"{value:.3g}" if 1e-4 <= value < 1e4 else f"{value:.2g}"


def one_sided_p(frame: pd.DataFrame) -> np.ndarray:
    """The one-sided p-value for benefit of each row (module docstring); NaN without a frequentist result."""
    est, lo, hi = (frame[c].to_numpy(dtype=float) for c in ("freq_estimate", "freq_ci_low", "freq_ci_high"))
    ratio = frame["measure"].isin(["OR", "RR"]).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(ratio, np.log(est), est)
        se = np.where(ratio, np.log(hi) - np.log(lo), hi - lo) / (2.0 * Z95)
        z = y / se
    below = special.ndtr(z)
    return np.where(frame["higher_is_benefit"].to_numpy(dtype=bool), special.ndtr(-z), below)


def _k_class(k: np.ndarray) -> np.ndarray:
    out = np.full(k.shape, "", dtype=object)
    for low, high in K_CLASSES:
        inside = (k >= low) & (k <= (high if high is not None else np.inf))
        out[inside] = k_label(low, high)
    return out


def load(out: Path, outcome_types: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows with a posterior (status ``ok`` or ``partial``) with the derived columns, and the ``error`` rows."""
    table = pd.read_parquet(out / "results.parquet", columns=list(COLUMNS))
    errors = table[table["status"] == "error"].reset_index(drop=True)
    rows = table[table["status"] != "error"].reset_index(drop=True)
    rows["p_one_sided"] = one_sided_p(rows)
    for name in ("effect", "heterogeneity"):
        rows[f"log10_bf_{name}"] = rows[f"log_bf10_{name}"].to_numpy(dtype=float) / math.log(10.0)
        rows[f"bf_{name}_class"] = bf_class(rows[f"log10_bf_{name}"].to_numpy())
    rows["tau_reml"] = np.sqrt(rows["freq_tau2"].to_numpy(dtype=float))
    rows["k_class"] = _k_class(rows["k"].to_numpy())
    types = outcome_types or {}
    rows["outcome_type"] = [types.get(a, "") for a in rows["analysis"]]
    return rows, errors


def share(mask: np.ndarray | pd.Series) -> str:
    """A share as a percentage with its count: ``"24.5% (449)"``."""
    values = np.asarray(mask, dtype=bool)
    if values.size == 0:
        return "n/a"
    return f"{100.0 * values.mean():.1f}% ({int(values.sum())})"


def quantiles(values: np.ndarray | pd.Series, digits: int = 2) -> str:
    """Median and 2.5%-97.5% range of the finite values: ``"0.18 (0.00-0.95)"``."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return "n/a"
    lo, med, hi = np.quantile(x, [0.025, 0.5, 0.975])
    return f"{med:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"
