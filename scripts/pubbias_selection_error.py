"""Error of the normal approximation behind the probability of publication of a 2x2 study.

Run from the repository root: ``.venv/bin/python scripts/pubbias_selection_error.py``.

The robust Bayesian model averaging on 2x2 data (:mod:`models.bayes.publication_bias`) computes a study's
probability of landing in each p-value interval from ``y ~ Normal(theta, se^2)``, y the study's log OR and se its
observed SE (0.5 added to the cells of zero-cell tables). Exactly, the study's possible results are the
``(n_t + 1) (n_c + 1)`` tables its arms can produce; each has a p-value computed the same way (Wald z of the
0.5-corrected log OR, z = 0 for a double-zero table), and its probability depends on the true log OR theta and the
control risk, here fixed at the study's observed (0.5-corrected) control risk. For each randomised MSC trial with
counts, printed: the largest absolute error of P(one-sided p < 0.025 in the direction of benefit) and of
P(p < 0.05), over theta within 3 SE of the study's estimate and over theta in [-3, 3], and the largest error of the
log of the publication probability ``A = P(p < 0.025) + 0.5 P(p > 0.025)`` (a step model with omega 0.5) in the first
range.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from models.effects import escalc
from models.msc.datasets import load_dataset
from models.msc.specs import PRIMARY_ANALYSIS, evidence_base_sets

DIRECTION = -1  # benefit lowers the odds of death


def table_z(nt: int, nc: int) -> np.ndarray:
    """Directed Wald z of every table (e_t, e_c) of the study's arm sizes, 0.5 added to all cells of zero-cell
    tables; 0 for double-zero and double-full tables (log OR 0 after the correction)."""
    et, ec = np.meshgrid(np.arange(nt + 1), np.arange(nc + 1), indexing="ij")
    a, b, c, d = et.astype(float), (nt - et).astype(float), ec.astype(float), (nc - ec).astype(float)
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    a, b, c, d = (np.where(zero, x + 0.5, x) for x in (a, b, c, d))
    y = np.log(a * d / (b * c))
    se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return DIRECTION * y / se


def exact_probs(theta: np.ndarray, nt: int, nc: int, pc: float, z: np.ndarray, crit: float) -> np.ndarray:
    """P(z > crit) at each true log OR theta, control risk pc, by enumeration of the tables."""
    out = np.empty(theta.size)
    sig = z > crit
    pmf_c = stats.binom.pmf(np.arange(nc + 1), nc, pc)
    for i, t in enumerate(theta):
        pt = special.expit(special.logit(pc) + t)
        pmf_t = stats.binom.pmf(np.arange(nt + 1), nt, pt)
        out[i] = float(pmf_t @ sig @ pmf_c)
    return out


def main() -> None:
    ds = load_dataset()
    rct = {s.analysis: s for s in evidence_base_sets(ds)}[PRIMARY_ANALYSIS].table
    eff = escalc(rct, "OR", correction="only0", add=0.5, drop00=True)
    c025, c05 = stats.norm.isf(0.025), stats.norm.isf(0.05)
    print("study           n_t  n_c   se   max|dP(p<.025)| near / all   max|dP(p<.05)| near / all   max|dlog A| near")
    for s, y, v in zip(eff.study, eff.yi, eff.vi, strict=True):
        i = rct.study.index(s)
        nt, nc, ec = int(rct.n_t[i]), int(rct.n_c[i]), int(rct.e_c[i])
        pc = (ec + 0.5) / (nc + 1.0) if ec in (0, nc) else ec / nc
        se = float(np.sqrt(v))
        z = table_z(nt, nc)
        near = np.linspace(y - 3 * se, y + 3 * se, 61)
        wide = np.linspace(-3.0, 3.0, 121)
        row = []
        for crit in (c025, c05):
            for theta in (near, wide):
                exact = exact_probs(theta, nt, nc, pc, z, crit)
                approx = stats.norm.sf(crit - DIRECTION * theta / se)
                row.append(np.max(np.abs(exact - approx)))
        exact = exact_probs(near, nt, nc, pc, z, c025)
        approx = stats.norm.sf(c025 - DIRECTION * near / se)
        dlog = np.max(np.abs(np.log(exact + 0.5 * (1 - exact)) - np.log(approx + 0.5 * (1 - approx))))
        print(f"{s:14s} {nt:4d} {nc:4d} {se:5.2f}   {row[0]:.3f} / {row[1]:.3f}               "
              f"{row[2]:.3f} / {row[3]:.3f}              {dlog:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
