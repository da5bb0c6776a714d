"""What the studies with unknown death counts would need to be: a tipping-point map.

Unknown counts are never filled in. Instead, for a study set with missing studies, combinations of total deaths in
the missing studies' MSC arms (0..sum of their MSC arm sizes) and control arms (0..sum of their control arm sizes) are
added to the known studies, and P(OR < 1) and P(OR < 0.8) recomputed. Deaths are split across the missing studies in
proportion to their arm sizes (largest-remainder rounding), the split that assumes nothing about which study they
fell in; :mod:`models.msc.totals` shows how much other splits matter at the published totals.

Every cell uses the primary model itself -- the binomial-normal model with its exact binomial likelihood, computed by
quadrature (:mod:`models.bayes.exact_binomial`) -- so no continuity correction distorts the edges of the map (no
deaths, or every patient dead, in a missing arm). The per-study likelihood integrals are cached by their counts, so
a map of thousands of cells costs seconds. With ``step > 1`` a cell stands for the totals at its centre.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.bayes.exact_binomial import exact_binomial_normal
from models.msc.datasets import Dataset
from models.priors import EffectPrior, TauPrior
from models.tables import BinaryTable


def missing_arm_sizes(dataset: Dataset, outcome: str, missing: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray] | None:
    """Arm sizes (MSC, control) of the studies whose event counts are unknown; None if any arm size is unknown too."""
    rows = dataset.outcomes[(dataset.outcomes["outcome"] == outcome) & (dataset.outcomes["variant"] == "primary")]
    n_t, n_c = [], []
    for sid in missing:
        mine = rows[rows["study_id"] == sid]
        totals = {arm: mine.loc[mine["arm"] == arm, "total"] for arm in ("msc", "control")}
        if any(t.empty or t.isna().any() for t in totals.values()):
            return None
        n_t.append(int(totals["msc"].iloc[0]))
        n_c.append(int(totals["control"].iloc[0]))
    return np.array(n_t), np.array(n_c)


def split_counts(total: int, sizes: np.ndarray) -> np.ndarray:
    """Split ``total`` events over arms of ``sizes`` in proportion to size (largest remainder), capped by size."""
    sizes = np.asarray(sizes, dtype=int)
    raw = total * sizes / sizes.sum()
    out = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - out), kind="stable")[: total - out.sum()]:
        out[i] += 1
    return np.minimum(out, sizes)


def tipping_grid(
    table: BinaryTable,
    missing_n_t: np.ndarray,
    missing_n_c: np.ndarray,
    missing_labels: tuple[str, ...],
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    *,
    step: int = 1,
    higher_is_benefit: bool = False,
) -> pd.DataFrame:
    """P(benefit) and P(OR < 0.8) for splits of deaths in the missing studies; one row per grid point.

    Columns: ``events_t``, ``events_c`` (totals over the missing studies, every ``step``-th integer including
    both ends), ``risk_t``, ``risk_c`` (those totals as proportions of the missing arms), ``p_benefit``
    (P(OR < 1), or P(OR > 1) when higher is benefit) and ``p_important`` (P(OR < 0.8); P(OR > 1.25) when higher is
    benefit).
    """
    n_t_total, n_c_total = int(missing_n_t.sum()), int(missing_n_c.sum())
    rows = []
    for d_t in _steps(n_t_total, step):
        e_t_missing = split_counts(d_t, missing_n_t)
        for d_c in _steps(n_c_total, step):
            e_c_missing = split_counts(d_c, missing_n_c)
            full = BinaryTable(
                table.study + missing_labels,
                np.concatenate([table.e_t, e_t_missing]),
                np.concatenate([table.n_t, missing_n_t]),
                np.concatenate([table.e_c, e_c_missing]),
                np.concatenate([table.n_c, missing_n_c]),
            )
            post = exact_binomial_normal(full, tau_prior, effect_prior)
            p_below, p_important = post.prob_below(1.0), post.prob_below(0.8)
            rows.append(
                {
                    "events_t": d_t,
                    "events_c": d_c,
                    "risk_t": d_t / n_t_total,
                    "risk_c": d_c / n_c_total,
                    "p_benefit": 1 - p_below if higher_is_benefit else p_below,
                    "p_important": post.prob_above(1.25) if higher_is_benefit else p_important,
                }
            )
    return pd.DataFrame(rows)


def _steps(total: int, step: int) -> list[int]:
    """0, step, 2*step, ... and always ``total`` itself, so the map reaches its edges."""
    out = list(range(0, total + 1, step))
    return out if out[-1] == total else [*out, total]


def describe_boundary(grid: pd.DataFrame, threshold: float = 0.9, step: int = 1) -> str:
    """One sentence on where P(benefit) stays above ``threshold`` in the grid, and what a cell is."""
    keep = grid[grid["p_benefit"] >= threshold]
    share = len(keep) / len(grid)
    equal = grid[np.isclose(grid["risk_t"], grid["risk_c"], atol=0.5 * step / max(grid["events_t"].max(), 1))]
    equal_ok = equal["p_benefit"].min() if not equal.empty else float("nan")
    what = (
        f"all {len(grid)} possible splits of deaths" if step == 1
        else f"{len(grid)} splits of deaths on a grid stepping by {step} deaths in each arm"
    )  # fmt: skip
    lowest = "above 0.999" if equal_ok > 0.999 else f"at least {equal_ok:.3f}"
    return (
        f"P(benefit) >= {threshold:.0%} in {share:.0%} of {what}; with equal risks in both missing arms (no benefit "
        f"in the missing studies) it is {lowest}"
    )
