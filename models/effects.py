"""Per-study effect sizes: the labelled table every inverse-variance estimator pools.

The equivalent of R metafor's ``escalc``: arm-level data in, one effect ``yi`` and its sampling variance ``vi`` per
study out, together with the continuity correction that was applied and the studies that were removed. Keeping this
a separate step (rather than hiding it inside each pooling method) makes the correction policy visible and
testable, and lets the frequentist and the normal-normal Bayesian models share exactly the same inputs.

Scales: ``OR`` and ``RR`` are stored on the log scale (log odds ratio, log risk ratio); ``RD`` (risk difference),
``MD`` (mean difference, in the outcome's units) and ``SMD`` (Hedges' g) on their natural scale.

Formulas (Borenstein et al. 2009, chapters 4-5; identical to metafor 3.8 ``escalc`` with ``vtype="LS"``), with
``a, b`` = events, non-events in arm t and ``c, d`` in arm c (after any correction), ``n1 = a + b``, ``n2 = c + d``:

* OR: ``yi = log(a d / (b c))``, ``vi = 1/a + 1/b + 1/c + 1/d``
* RR: ``yi = log(a/n1) - log(c/n2)``, ``vi = 1/a - 1/n1 + 1/c - 1/n2``
* RD: ``yi = a/n1 - c/n2``, ``vi = p1 (1 - p1)/n1 + p2 (1 - p2)/n2``
* MD: ``yi = m1 - m2``, ``vi = sd1^2/n1 + sd2^2/n2``
* SMD: Hedges' g, ``yi = J(m) (m1 - m2)/s_pooled`` with the exact correction
  ``J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``, ``m = n1 + n2 - 2``, and
  ``vi = 1/n1 + 1/n2 + yi^2 / (2 (n1 + n2))``.

Continuity correction policies for binary data (``correction``):

* ``"none"``: no correction. A zero cell then makes the log OR or log RR non-estimable and :func:`escalc` raises
  :class:`EffectError` naming the study (it does not silently drop it); use ``"only0"`` or ``"all"`` instead.
* ``"only0"``: ``add`` (default 0.5) is added to all four cells of studies that have a zero cell (metafor
  ``to="only0"``, also RevMan's rule).
* ``"all"``: ``add`` is added to all four cells of every study (metafor ``to="all"``).

Double-zero studies (no events in either arm, or all participants with events in both arms) carry no information on
a ratio scale. With ``drop00=True`` they are removed and listed in ``EffectTable.dropped``. As in metafor's
``escalc(drop00=TRUE)`` this applies to RD as well as OR and RR (for RD such a study would otherwise have
``vi = 0`` without correction, i.e. an infinite weight).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from models.measures import BINARY_MEASURES, CONTINUOUS_MEASURES, MEASURES, RATIO_MEASURES
from models.tables import BinaryTable, ContinuousTable

CORRECTIONS = ("none", "only0", "all")


class EffectError(ValueError):
    """Raised when effect sizes cannot be computed; the message names the argument or the study."""


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise EffectError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


@dataclass(frozen=True)
class EffectTable:
    """Per-study effects ``yi`` with sampling variances ``vi`` (log scale for OR/RR), labelled by study.

    ``correction`` records the policy used, ``corrected[i]`` whether study ``i`` had ``add`` added to its cells, and
    ``dropped`` the studies removed before computing effects (double-zero studies under ``drop00``).
    """

    study: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    measure: str
    correction: str
    corrected: np.ndarray
    dropped: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        study = tuple(str(s) for s in self.study)
        object.__setattr__(self, "study", study)
        _check_choice("measure", self.measure, MEASURES)
        _check_choice("correction", self.correction, CORRECTIONS)
        if len(set(study)) != len(study):
            raise EffectError("study labels must be unique")
        for name in ("yi", "vi"):
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.shape != (len(study),):
                raise EffectError(f"{name} has {arr.size} values for {len(study)} studies")
            bad = ~np.isfinite(arr)
            if bad.any():
                raise EffectError(f"{name} is not finite for study {study[int(np.argmax(bad))]!r}")
            object.__setattr__(self, name, arr)
        if (self.vi <= 0).any():
            raise EffectError(f"vi must be positive; study {study[int(np.argmax(self.vi <= 0))]!r} has {self.vi.min()}")
        corrected = np.asarray(self.corrected, dtype=bool)
        if corrected.shape != (len(study),):
            raise EffectError(f"corrected has {corrected.size} values for {len(study)} studies")
        object.__setattr__(self, "corrected", corrected)
        object.__setattr__(self, "dropped", tuple(str(s) for s in self.dropped))

    @property
    def sei(self) -> np.ndarray:
        """Standard errors ``sqrt(vi)`` (same scale as ``yi``)."""
        return np.sqrt(self.vi)

    @property
    def k(self) -> int:
        """Number of studies with an effect (dropped studies excluded)."""
        return len(self.study)

    @property
    def is_ratio(self) -> bool:
        """True for OR/RR, whose ``yi`` are logarithms."""
        return self.measure in RATIO_MEASURES

    def subset(self, studies: Sequence[str]) -> EffectTable:
        """The rows of ``studies``, in the order given (``dropped`` is kept as is)."""
        index = {s: i for i, s in enumerate(self.study)}
        unknown = [s for s in studies if s not in index]
        if unknown:
            raise EffectError(f"unknown study label(s): {', '.join(unknown)}")
        rows = [index[s] for s in studies]
        return EffectTable(
            study=tuple(studies),
            yi=self.yi[rows],
            vi=self.vi[rows],
            measure=self.measure,
            correction=self.correction,
            corrected=self.corrected[rows],
            dropped=self.dropped,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per study: ``study, yi, vi, sei, corrected`` (yi on the log scale for OR/RR)."""
        return pd.DataFrame(
            {"study": self.study, "yi": self.yi, "vi": self.vi, "sei": self.sei, "corrected": self.corrected}
        )

    @classmethod
    def from_estimate_ci(
        cls,
        study: Sequence[str],
        estimate: Sequence[float],
        ci_low: Sequence[float],
        ci_high: Sequence[float],
        measure: str,
        level: float = 0.95,
    ) -> EffectTable:
        """Summary-level input: per-study estimates with a symmetric (on the analysis scale) confidence interval.

        For OR/RR, ``estimate``, ``ci_low`` and ``ci_high`` are on the ratio scale and are log-transformed; the
        standard error is ``(log hi - log lo) / (2 z)`` with ``z`` the normal quantile for ``level`` (1.96 for 95%).
        For RD/MD/SMD the values are used as given and ``SE = (hi - lo) / (2 z)``. This assumes the published
        interval was a Wald interval; rounding of published digits limits the precision of the recovered SE.
        """
        _check_choice("measure", measure, MEASURES)
        if not 0 < level < 1:
            raise EffectError(f"level must be between 0 and 1; got {level}")
        labels = tuple(str(s) for s in study)
        est, lo, hi = (np.asarray(v, dtype=float) for v in (estimate, ci_low, ci_high))
        for name, arr in (("estimate", est), ("ci_low", lo), ("ci_high", hi)):
            if arr.shape != (len(labels),):
                raise EffectError(f"{name} has {arr.size} values for {len(labels)} studies")
            if measure in RATIO_MEASURES and (arr <= 0).any():
                i = int(np.argmax(arr <= 0))
                raise EffectError(f"study {labels[i]!r}: {name} must be positive for a ratio measure ({measure})")
        bad = ~((lo < est) & (est < hi))
        if bad.any():
            i = int(np.argmax(bad))
            raise EffectError(f"study {labels[i]!r}: need ci_low < estimate < ci_high; got {lo[i]}, {est[i]}, {hi[i]}")
        if measure in RATIO_MEASURES:
            est, lo, hi = np.log(est), np.log(lo), np.log(hi)
        z = special.ndtri(0.5 + level / 2)
        se = (hi - lo) / (2 * z)
        return cls(labels, est, se**2, measure, "none", np.zeros(len(labels), dtype=bool))


def _double_zero(table: BinaryTable) -> np.ndarray:
    """Studies with no events in both arms, or events in everyone in both arms (metafor's drop00 rule)."""
    no_events = (table.e_t == 0) & (table.e_c == 0)
    all_events = (table.e_t == table.n_t) & (table.e_c == table.n_c)
    return no_events | all_events


def corrected_cells(table: BinaryTable, correction: str, add: float) -> tuple[np.ndarray, ...]:
    """The 2x2 cells ``a, b, c, d`` (float) after the continuity-correction policy, and the corrected flags.

    Shared by :func:`escalc` and the Mantel-Haenszel RevMan convention so both apply the same rule.
    """
    _check_choice("correction", correction, CORRECTIONS)
    if not add > 0:
        raise EffectError(f"add must be positive; got {add}")
    a = table.e_t.astype(float)
    b = (table.n_t - table.e_t).astype(float)
    c = table.e_c.astype(float)
    d = (table.n_c - table.e_c).astype(float)
    if correction == "all":
        corrected = np.ones(table.k, dtype=bool)
    elif correction == "only0":
        corrected = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    else:
        corrected = np.zeros(table.k, dtype=bool)
    a, b, c, d = (x + add * corrected for x in (a, b, c, d))
    return a, b, c, d, corrected


def escalc(
    table: BinaryTable, measure: str, correction: str = "only0", add: float = 0.5, drop00: bool = True
) -> EffectTable:
    """Per-study log OR, log RR or RD from a 2x2 table (metafor ``escalc(measure, to=correction, add, drop00)``).

    See the module docstring for formulas and the correction policy. Raises :class:`EffectError` when a study's
    effect is not estimable (a zero cell with ``correction="none"`` for OR/RR, or ``vi = 0``), naming the study.
    """
    _check_choice("measure", measure, BINARY_MEASURES)
    _check_choice("correction", correction, CORRECTIONS)
    if not isinstance(table, BinaryTable):
        raise EffectError(f"escalc needs a BinaryTable; got {type(table).__name__} (use escalc_continuous)")
    drop = _double_zero(table) if drop00 else np.zeros(table.k, dtype=bool)
    dropped = tuple(s for s, x in zip(table.study, drop, strict=True) if x)
    keep = [s for s, x in zip(table.study, drop, strict=True) if not x]
    if not keep:
        raise EffectError(f"every study is double-zero and was dropped: {', '.join(dropped)}")
    kept = table.subset(keep) if dropped else table
    a, b, c, d, corrected = corrected_cells(kept, correction, add)
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(a / b) - np.log(c / d)
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log(a / n1) - np.log(c / n2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        else:
            p1, p2 = a / n1, c / n2
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    bad = ~np.isfinite(yi) | ~np.isfinite(vi) | (vi <= 0)
    if bad.any():
        s = kept.study[int(np.argmax(bad))]
        raise EffectError(
            f"study {s!r}: {measure} is not estimable with correction={correction!r} (zero cell); "
            "use correction='only0' or 'all', or drop the study"
        )
    return EffectTable(kept.study, yi, vi, measure, correction, corrected, dropped)


def escalc_continuous(table: ContinuousTable, measure: str) -> EffectTable:
    """Per-study mean difference (MD, outcome units) or Hedges' g (SMD) as metafor ``escalc`` (vtype "LS")."""
    _check_choice("measure", measure, CONTINUOUS_MEASURES)
    if not isinstance(table, ContinuousTable):
        raise EffectError(f"escalc_continuous needs a ContinuousTable; got {type(table).__name__} (use escalc)")
    n1, n2 = table.n_t.astype(float), table.n_c.astype(float)
    diff = table.mean_t - table.mean_c
    if measure == "MD":
        yi = diff
        vi = table.sd_t**2 / n1 + table.sd_c**2 / n2
    else:
        m = n1 + n2 - 2
        s_pooled = np.sqrt(((n1 - 1) * table.sd_t**2 + (n2 - 1) * table.sd_c**2) / m)
        j = np.exp(special.gammaln(m / 2) - np.log(np.sqrt(m / 2)) - special.gammaln((m - 1) / 2))
        yi = j * diff / s_pooled
        vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    return EffectTable(table.study, yi, vi, measure, "none", np.zeros(table.k, dtype=bool))
