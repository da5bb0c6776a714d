"""What the studies with unknown death counts would need to be: a tipping-point grid.

Unknown counts are never filled in. Instead, for a study set with missing studies, every combination of total
deaths in the missing studies' MSC arms (0..sum of their MSC arm sizes) and control arms (0..sum of their control
arm sizes) is added to the known studies, and P(benefit) recomputed. Deaths are split across the missing studies in
proportion to their arm sizes (largest-remainder rounding), which is the least informative split.

Hundreds of refits per set are needed, so this uses the exact normal-normal posterior on the log-OR scale (0.5 added
to the cells of single-zero studies, double-zero studies dropped, as in ``models.effects.escalc``), under the
primary priors: milliseconds per grid point. It approximates the binomial-normal primary model, which the report
states; the grid's purpose is the location of the boundary, not the third decimal. At the edges of the grid (no
deaths, or every patient dead, in a missing arm) the 0.5 continuity correction inflates that study's variance, so
P(benefit) is not monotone there: an artefact of the normal approximation that the binomial-normal model avoids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.bayes.exact import exact_normal_normal
from models.datasets import Dataset
from models.effects import escalc
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
    """P(benefit) (pooled OR) for every split of deaths in the missing studies; one row per grid point.

    Columns: ``deaths_msc``, ``deaths_control`` (totals over the missing studies), ``risk_msc``, ``risk_control``
    (those totals as proportions of the missing arms) and ``p_benefit``.
    """
    n_t_total, n_c_total = int(missing_n_t.sum()), int(missing_n_c.sum())
    rows = []
    for d_t in range(0, n_t_total + 1, step):
        e_t_missing = split_counts(d_t, missing_n_t)
        for d_c in range(0, n_c_total + 1, step):
            e_c_missing = split_counts(d_c, missing_n_c)
            full = BinaryTable(
                table.study + missing_labels,
                np.concatenate([table.e_t, e_t_missing]),
                np.concatenate([table.n_t, missing_n_t]),
                np.concatenate([table.e_c, e_c_missing]),
                np.concatenate([table.n_c, missing_n_c]),
            )
            effects = escalc(full, "OR", correction="only0")
            post = exact_normal_normal(
                effects.yi, effects.vi, tau_prior, effect_prior, study=effects.study, measure="OR", grid_size=400
            )
            p_below = post.prob_below(1.0)
            rows.append(
                {
                    "deaths_msc": d_t,
                    "deaths_control": d_c,
                    "risk_msc": d_t / n_t_total,
                    "risk_control": d_c / n_c_total,
                    "p_benefit": 1 - p_below if higher_is_benefit else p_below,
                }
            )
    return pd.DataFrame(rows)


def describe_boundary(grid: pd.DataFrame, threshold: float = 0.9) -> str:
    """One sentence on where P(benefit) stays above ``threshold`` in the grid."""
    keep = grid[grid["p_benefit"] >= threshold]
    share = len(keep) / len(grid)
    equal = grid[np.isclose(grid["risk_msc"], grid["risk_control"], atol=0.5 / max(grid["deaths_msc"].max(), 1))]
    equal_ok = equal["p_benefit"].min() if not equal.empty else float("nan")
    return (
        f"P(benefit) >= {threshold:.0%} in {share:.0%} of the {len(grid)} possible death splits; with equal risks in "
        f"both missing arms (no benefit in the missing studies) it is at least {equal_ok:.2f}"
    )
