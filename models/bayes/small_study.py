"""Bayesian small-study-effect adjustment inside the binomial-normal model (PET and PEESE meta-regressions).

PET (precision-effect test; Stanley & Doucouliagos 2014, Res Synth Methods 5:60) regresses the study effects on
their standard errors; the intercept is the effect of a study with SE = 0, an infinitely large study, which small-
study effects (publication bias among them) cannot reach. Here the regression sits inside the hierarchical
binomial-normal model of :mod:`models.bayes.binomial_normal` (exact binomial likelihood, log-OR scale)::

    theta_i = mu + beta * x_i + tau * z_i,   x_i = se_i (PET) or se_i^2 (PEESE)

``se_i`` is the study's large-sample SE of the log OR, ``sqrt(1/a + 1/b + 1/c + 1/d)``, with 0.5 added to all four
cells of a study with a zero cell (metafor ``escalc(to="only0")``); the correction is used for ``se_i`` only, the
likelihood keeps the exact counts. ``x_i`` is **not centred or scaled**: ``mu`` must be the log OR at ``se = 0``
(:func:`models.bayes.sampling.fit_binomial_normal` uses covariates as given), so ``mu`` is the adjusted pooled
log OR, ``exp(mu)`` the adjusted OR, and ``beta < 0`` means smaller studies report more benefit (lower OR).

Double-zero studies (no deaths in either arm) have no finite SE of the log OR: with ``double_zero="drop"`` (the
default) they are left out of the PET fit, as Egger's, Peters' and Harbord's tests leave them out; the unadjusted
comparison in :func:`small_study_comparison` is then fitted to the same studies, so that the two differ only in the
adjustment. ``double_zero="corrected"`` keeps them with the 0.5-corrected SE instead (an arbitrary number, since
the correction sets it; such a study barely informs ``theta_i`` either way).

Slope prior (stated, not data-dependent): ``beta ~ Normal(0, 1)`` per unit SE of the log OR for PET. SEs of study
log ORs in small trials run from about 0.2 to 2; ``beta = -1`` already means that a study with SE 1 reports an OR
``exp(-1) = 0.37`` times that of an infinitely large study, a very strong small-study effect, so Normal(0, 1) (95%
within +/-1.96) admits every asymmetry seen in meta-epidemiological work while ruling out absurd extrapolations; it
is weakly informative against the likelihood when k is about 10 (Egger's slope on the MSC data has SE about 0.5).
The same Normal(0, 1) is used for PEESE per unit *variance* of the log OR. Because ``mu`` is an extrapolation, its
posterior is wider than the unadjusted one and sensitive to ``beta_sd``; report the slope with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.bayes.posterior import DrawsPosterior, Posterior
from models.bayes.sampling import fit_binomial_normal
from models.effects import escalc
from models.priors import EffectPrior, TauPrior
from models.tables import BinaryTable

KINDS = {"pet": "se", "peese": "se2"}
"""Adjustment kind -> covariate column name (``se``: SE of the log OR; ``se2``: its square)."""
DOUBLE_ZERO = ("drop", "corrected")
SLOPE_SD_DEFAULT = 1.0
"""SD of the Normal(0, sd) prior on the PET/PEESE slope (log OR per unit SE, or per unit variance); see module doc."""
THRESHOLDS = (1.0, 0.8)
"""Odds ratios whose posterior probabilities :func:`adjustment_table` reports: P(OR < 1) and P(OR < 0.8)."""


@dataclass(frozen=True)
class SmallStudyCovariate:
    """The PET/PEESE covariate of the studies a small-study fit uses.

    ``frame``: indexed by study label, one column (``"se"`` or ``"se2"``) on the log-OR scale, uncentred.
    ``table``: the arm counts of those studies; ``excluded``: double-zero studies left out (``double_zero="drop"``);
    ``corrected``: studies whose SE was computed with 0.5 added to every cell.
    """

    kind: str
    frame: pd.DataFrame
    table: BinaryTable
    excluded: tuple[str, ...]
    corrected: tuple[str, ...]
    double_zero: str


def small_study_covariate(
    table: BinaryTable, kind: str = "pet", *, double_zero: str = "drop", add: float = 0.5
) -> SmallStudyCovariate:
    """SE (PET) or SE^2 (PEESE) of each study's log OR, with ``add`` in every cell of zero-cell studies (see module)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if double_zero not in DOUBLE_ZERO:
        raise ValueError(f"double_zero must be one of {', '.join(DOUBLE_ZERO)}; got {double_zero!r}")
    if not isinstance(table, BinaryTable):
        raise TypeError(f"table must be a BinaryTable; got {type(table).__name__}")
    effects = escalc(table, "OR", correction="only0", add=add, drop00=double_zero == "drop")
    column = KINDS[kind]
    values = effects.sei if kind == "pet" else effects.vi
    frame = pd.DataFrame({column: values}, index=pd.Index(effects.study, name="study"))
    kept = table.subset(list(effects.study)) if effects.dropped else table
    corrected = tuple(s for s, c in zip(effects.study, effects.corrected, strict=True) if c)
    return SmallStudyCovariate(kind, frame, kept, effects.dropped, corrected, double_zero)


@dataclass(frozen=True)
class SmallStudyFit:
    """A PET or PEESE fit of the binomial-normal model; ``mu`` is the log OR of a study with SE = 0.

    ``fit`` is the :class:`~models.bayes.fit.Fit` (its ``diagnostics`` hold the convergence verdict, ``beta`` has
    the single covariate ``"se"`` or ``"se2"``); ``slope_sd`` the prior SD of ``beta``.
    """

    kind: str
    covariate: SmallStudyCovariate
    fit: Any
    slope_sd: float

    def posterior(self, seed: int = 0) -> DrawsPosterior:
        """Queryable posterior of the adjusted pooled effect (``mu`` at SE = 0; thresholds on the OR scale).

        Its predictive interval is for a new, infinitely large study (``mu + tau z``), and ``tau`` is the
        heterogeneity left after the adjustment.
        """
        return self.fit.posterior(seed=seed)

    def slope_draws(self) -> np.ndarray:
        """Draws of ``beta`` (log OR per unit SE for PET, per unit variance for PEESE), chains flattened."""
        beta = self.fit.idata["posterior"]["beta"].sel(covariate=KINDS[self.kind])
        return np.asarray(beta.transpose("chain", "draw").values, dtype=float).reshape(-1)

    def slope_summary(self, prob: float = 0.95) -> dict[str, float]:
        """Median, equal-tailed ``prob`` interval of ``beta`` and ``P(beta < 0)`` (more benefit in small studies)."""
        draws = self.slope_draws()
        a = (1 - prob) / 2
        low, median, high = np.quantile(draws, [a, 0.5, 1 - a])
        return {
            "median": float(median),
            "low": float(low),
            "high": float(high),
            "prob": float(prob),
            "p_below_0": float(np.mean(draws < 0)),
        }


Fitter = Callable[..., Any]


def fit_small_study(
    table: BinaryTable,
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    *,
    kind: str = "pet",
    slope_sd: float = SLOPE_SD_DEFAULT,
    double_zero: str = "drop",
    seed: int = 0,
    fitter: Fitter = fit_binomial_normal,
    **fit_kwargs: Any,
) -> SmallStudyFit:
    """Fit the PET (``kind="pet"``) or PEESE (``"peese"``) binomial-normal meta-regression to ``table``.

    ``effect_prior`` is the prior of ``mu``, now the log OR at SE = 0; ``slope_sd`` the SD of the Normal(0, sd)
    prior on the slope. ``fitter`` is :func:`models.bayes.sampling.fit_binomial_normal` (injectable for tests);
    ``fit_kwargs`` go to it (draws, tune, chains, label, ...). Needs at least 3 studies after ``double_zero``.
    """
    if not (np.isfinite(slope_sd) and slope_sd > 0):
        raise ValueError(f"slope_sd must be positive and finite; got {slope_sd!r}")
    cov = small_study_covariate(table, kind, double_zero=double_zero)
    if cov.table.k < 3:
        raise ValueError(f"a small-study adjustment needs at least 3 studies; got k = {cov.table.k}")
    fit = fitter(cov.table, tau_prior, effect_prior, covariates=cov.frame, beta_sd=slope_sd, seed=seed, **fit_kwargs)
    return SmallStudyFit(kind, cov, fit, float(slope_sd))


def adjustment_table(posteriors: Mapping[str, Posterior], thresholds: tuple[float, ...] = THRESHOLDS) -> pd.DataFrame:
    """One row per posterior (e.g. unadjusted, PET, PEESE): median OR, 95% equal-tailed CrI, P(OR < t) per t.

    Columns ``median``, ``low``, ``high`` (OR scale) and ``p_below_<t>`` for each threshold (OR scale).
    """
    rows = []
    for name, post in posteriors.items():
        ci = post.interval(0.95, "eti")
        row = {"model": name, "median": post.median(), "low": ci.low, "high": ci.high}
        for t in thresholds:
            row[f"p_below_{t:g}"] = post.prob_below(t)
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("model")
    frame.attrs.update(prob=0.95, kind="eti", scale="OR")
    return frame


@dataclass(frozen=True)
class SmallStudyComparison:
    """Unadjusted and small-study-adjusted fits on the same studies (see :func:`small_study_comparison`)."""

    unadjusted: Any
    adjusted: dict[str, SmallStudyFit]

    def table(self, thresholds: tuple[float, ...] = THRESHOLDS) -> pd.DataFrame:
        """:func:`adjustment_table` of the unadjusted fit and each adjustment, plus the slope's median and CrI."""
        posts: dict[str, Posterior] = {"unadjusted": self.unadjusted.posterior()}
        posts.update({kind.upper(): f.posterior() for kind, f in self.adjusted.items()})
        frame = adjustment_table(posts, thresholds)
        for col in ("slope_median", "slope_low", "slope_high", "p_slope_below_0"):
            frame[col] = np.nan
        for kind, f in self.adjusted.items():
            s = f.slope_summary()
            frame.loc[kind.upper(), ["slope_median", "slope_low", "slope_high", "p_slope_below_0"]] = [
                s["median"],
                s["low"],
                s["high"],
                s["p_below_0"],
            ]
        return frame


def small_study_comparison(
    table: BinaryTable,
    tau_prior: TauPrior,
    effect_prior: EffectPrior,
    *,
    kinds: tuple[str, ...] = ("pet", "peese"),
    slope_sd: float = SLOPE_SD_DEFAULT,
    double_zero: str = "drop",
    seed: int = 0,
    fitter: Fitter = fit_binomial_normal,
    **fit_kwargs: Any,
) -> SmallStudyComparison:
    """Fit the unadjusted model and each adjustment in ``kinds`` to the same studies (same seed).

    With ``double_zero="drop"`` the unadjusted fit also leaves the double-zero studies out, so that the rows of
    :meth:`SmallStudyComparison.table` differ only in the adjustment.
    """
    if not kinds:
        raise ValueError("kinds must name at least one adjustment (pet, peese)")
    studies = small_study_covariate(table, kinds[0], double_zero=double_zero).table
    unadjusted = fitter(studies, tau_prior, effect_prior, seed=seed, **fit_kwargs)
    adjusted = {
        kind: fit_small_study(
            table,
            tau_prior,
            effect_prior,
            kind=kind,
            slope_sd=slope_sd,
            double_zero=double_zero,
            seed=seed,
            fitter=fitter,
            **fit_kwargs,
        )
        for kind in kinds
    }
    return SmallStudyComparison(unadjusted, adjusted)
