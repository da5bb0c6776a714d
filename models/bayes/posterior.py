"""The posterior query protocol shared by exact (quadrature) and MCMC posteriors.

A random-effects meta-analysis posterior is queried through one set of methods, so that report code reads like a
methods section (``post.prob_below(1.0)``, ``post.interval(0.95)``, ``post.predictive_interval()``...), whichever
way the posterior was computed:

* :class:`DrawsPosterior` -- over MCMC draws (an xarray posterior with ``chain`` and ``draw`` dims);
* ``models.bayes.exact.ExactPosterior`` -- the normal-normal model computed by quadrature over tau.

Scales. ``mu`` (and ``theta``) are stored on the analysis scale: log-OR/log-RR for the ratio measures ``OR`` and
``RR``, the raw scale for ``RD``, ``MD`` and ``SMD``. Every threshold a user passes and every interval or median
returned is on the *reported* scale: the ratio scale (OR, RR) for ratio measures (``prob_below(1.0)`` is
``P(OR < 1)``), the raw scale otherwise. ``tau`` is always on the analysis scale (SD of log-OR/log-RR, or of the
raw effect).

Absolute effects. ``arr`` is the absolute risk reduction ``p_c - p_t`` (positive = fewer events with treatment),
from the ratio and a control-arm risk ``p_c`` that the caller gives (``baseline_risk=``, the risk of the population
the result is for; asking for an absolute effect of OR/RR without it is a ValueError, and a model's internal baseline
risk is never used): ``p_c * (1 - RR)`` for RR and ``p_c - OR*odds_c / (1 + OR*odds_c)``
for OR; for RD it is ``-RD`` (RD = p_t - p_c) and needs no baseline.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize

if TYPE_CHECKING:  # xarray is imported where draws are read (about 0.15 s of a batch worker's start-up otherwise)
    import xarray as xr

RATIO_MEASURES = ("OR", "RR")
DIFFERENCE_MEASURES = ("RD", "MD", "SMD")
MEASURES = RATIO_MEASURES + DIFFERENCE_MEASURES
INTERVAL_KINDS = ("eti", "hdi")


def check_measure(measure: str) -> str:
    """Validate an effect measure name (``OR``, ``RR``, ``RD``, ``MD``, ``SMD``)."""
    if measure not in MEASURES:
        raise ValueError(f"measure {measure!r} is not one of {', '.join(MEASURES)}")
    return measure


def _check_prob(prob: float, name: str = "prob") -> float:
    prob = float(prob)
    if not 0.0 < prob < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {prob!r}")
    return prob


def _check_kind(kind: str) -> str:
    if kind not in INTERVAL_KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(INTERVAL_KINDS)}")
    return kind


@dataclass(frozen=True)
class Interval:
    """A credible or predictive interval that carries its probability and kind.

    ``low``/``high`` are on the reported scale (ratio scale for OR/RR); ``kind`` is ``"eti"`` (equal-tailed) or
    ``"hdi"`` (highest density, computed on the analysis scale, i.e. log scale for ratio measures).
    """

    low: float
    high: float
    prob: float
    kind: str

    def __post_init__(self) -> None:
        _check_prob(self.prob)
        _check_kind(self.kind)

    def __str__(self) -> str:
        return f"{self.low:.3g} to {self.high:.3g} ({self.prob:.0%} {self.kind.upper()})"


ArrayLike = float | Sequence[float] | np.ndarray


def _elementwise(f: Callable[[float], float], x: ArrayLike) -> float | np.ndarray:
    """``f`` at each value of ``x``: a float for a number, an array of x's shape otherwise."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        return float(f(float(arr)))
    return np.array([f(float(v)) for v in arr.ravel()], dtype=float).reshape(arr.shape)


def _levels(q: ArrayLike) -> float | np.ndarray:
    """Probability levels, each strictly between 0 and 1 (a ValueError names the first that is not)."""
    arr = np.asarray(q, dtype=float)
    bad = ~((arr > 0.0) & (arr < 1.0))
    if bad.any():
        raise ValueError(f"levels must be strictly between 0 and 1, got {float(arr.ravel()[np.argmax(bad.ravel())])!r}")
    return float(arr) if arr.ndim == 0 else arr


def hdi_from_ppf(ppf: Callable[[float], float], prob: float) -> tuple[float, float]:
    """Shortest interval of a continuous unimodal distribution given its quantile function."""
    eps = 1e-12
    res = optimize.minimize_scalar(
        lambda a: ppf(a + prob) - ppf(a), bounds=(eps, 1.0 - prob - eps), method="bounded", options={"xatol": 1e-10}
    )
    a = float(res.x)
    return ppf(a), ppf(a + prob)


def hdi_from_draws(x: np.ndarray, prob: float) -> tuple[float, float]:
    """Shortest interval containing ``ceil(prob * n)`` of the draws ``x``."""
    s = np.sort(x)
    n = s.size
    m = min(n, math.ceil(prob * n))
    widths = s[m - 1 :] - s[: n - m + 1]
    i = int(np.argmin(widths))
    return float(s[i]), float(s[i + m - 1])


class Posterior(ABC):
    """Query methods common to every meta-analysis posterior (see the module docstring for scales).

    Subclasses provide a handful of primitives on the analysis scale (distribution functions of ``mu``, of the
    effect in a new study, of ``tau`` and of the shrunken study effects, plus draws of ``mu`` for absolute effects);
    this class turns them into the public methods: the distribution functions themselves on the analysis scale
    (:meth:`mu_pdf`, :meth:`mu_cdf`, :meth:`mu_ppf` and the same for ``tau``, ``predictive`` and ``theta``, as R
    bayesmeta's ``dposterior``/``pposterior``/``qposterior``), and the queries on the reported scale.
    """

    measure: str

    # -- primitives on the analysis scale ------------------------------------------------------------------------

    @abstractmethod
    def _mu_cdf(self, x: float) -> float: ...

    @abstractmethod
    def _mu_pdf(self, x: float) -> float: ...

    @abstractmethod
    def _pred_pdf(self, x: float) -> float: ...

    @abstractmethod
    def _tau_pdf(self, t: float) -> float: ...

    @abstractmethod
    def _theta_cdf(self, i: int, x: float) -> float: ...

    @abstractmethod
    def _theta_pdf(self, i: int, x: float) -> float: ...

    @abstractmethod
    def _mu_ppf(self, q: float) -> float: ...

    @abstractmethod
    def _mu_hdi(self, prob: float) -> tuple[float, float]: ...

    @abstractmethod
    def _pred_cdf(self, x: float) -> float: ...

    @abstractmethod
    def _pred_ppf(self, q: float) -> float: ...

    @abstractmethod
    def _pred_hdi(self, prob: float) -> tuple[float, float]: ...

    @abstractmethod
    def _tau_cdf(self, t: float) -> float: ...

    @abstractmethod
    def _tau_ppf(self, q: float) -> float: ...

    @abstractmethod
    def _tau_hdi(self, prob: float) -> tuple[float, float]: ...

    @abstractmethod
    def _theta_ppf(self, q: float) -> np.ndarray: ...

    @abstractmethod
    def _study_labels(self) -> tuple[str, ...]: ...

    @abstractmethod
    def _mu_draws(self) -> np.ndarray: ...

    @abstractmethod
    def log_mean(self) -> float:
        """Posterior mean of ``mu`` on the analysis scale (log-OR/log-RR for ratio measures)."""

    @abstractmethod
    def log_sd(self) -> float:
        """Posterior SD of ``mu`` on the analysis scale."""

    @abstractmethod
    def _ratio_mean(self) -> float: ...

    # -- distribution functions on the analysis scale (bayesmeta's d/p/qposterior) -------------------------------
    #
    # x, t and q may be numbers (a float is returned) or array-like (an array of the same shape). x is on the
    # analysis scale (log-OR/log-RR for ratio measures, raw otherwise), t is tau (never exponentiated), q a level
    # strictly between 0 and 1. cdfs are P(X <= x). Exact posteriors answer from their quadrature (to its stated
    # accuracy), MCMC posteriors from their draws (empirical cdf and quantiles, Gaussian kernel density).

    def mu_pdf(self, x: ArrayLike) -> float | np.ndarray:
        """Posterior density of the pooled effect ``mu`` at ``x`` (analysis scale)."""
        return _elementwise(self._mu_pdf, x)

    def mu_cdf(self, x: ArrayLike) -> float | np.ndarray:
        """Posterior ``P(mu <= x)`` (analysis scale)."""
        return _elementwise(self._mu_cdf, x)

    def mu_ppf(self, q: ArrayLike) -> float | np.ndarray:
        """Posterior quantile of ``mu`` at level ``q`` (analysis scale)."""
        return _elementwise(self._mu_ppf, _levels(q))

    def tau_pdf(self, t: ArrayLike) -> float | np.ndarray:
        """Posterior density of the between-study SD ``tau`` at ``t`` (0 for ``t < 0``; a fixed-effect posterior,
        tau = 0, has no density)."""
        return _elementwise(lambda v: 0.0 if v < 0 else self._tau_pdf(v), t)

    def tau_cdf(self, t: ArrayLike) -> float | np.ndarray:
        """Posterior ``P(tau <= t)``."""
        return _elementwise(lambda v: 0.0 if v < 0 else self._tau_cdf(v), t)

    def tau_ppf(self, q: ArrayLike) -> float | np.ndarray:
        """Posterior quantile of ``tau`` at level ``q``."""
        return _elementwise(self._tau_ppf, _levels(q))

    def predictive_pdf(self, x: ArrayLike) -> float | np.ndarray:
        """Density of the true effect in a new setting, ``mu + tau z`` (analysis scale)."""
        return _elementwise(self._pred_pdf, x)

    def predictive_cdf(self, x: ArrayLike) -> float | np.ndarray:
        """``P(mu + tau z <= x)``: the true effect in a new setting (analysis scale)."""
        return _elementwise(self._pred_cdf, x)

    def predictive_ppf(self, q: ArrayLike) -> float | np.ndarray:
        """Quantile of the true effect in a new setting at level ``q`` (analysis scale)."""
        return _elementwise(self._pred_ppf, _levels(q))

    def theta_pdf(self, x: ArrayLike, study: int | str) -> float | np.ndarray:
        """Posterior density of study ``study``'s true (shrunken) effect ``theta_i`` at ``x`` (analysis scale);
        ``study`` is its label or its position in the table."""
        i = self._study_index(study)
        return _elementwise(lambda v: self._theta_pdf(i, v), x)

    def theta_cdf(self, x: ArrayLike, study: int | str) -> float | np.ndarray:
        """Posterior ``P(theta_i <= x)`` of study ``study`` (label or position)."""
        i = self._study_index(study)
        return _elementwise(lambda v: self._theta_cdf(i, v), x)

    def theta_ppf(self, q: ArrayLike, study: int | str | None = None) -> float | np.ndarray:
        """Posterior quantile of ``theta_i`` at level ``q`` for study ``study`` (label or position); with
        ``study=None`` and a single level, an array over the studies in table order."""
        if study is None:
            level = _levels(q)
            if np.ndim(level) != 0:
                raise ValueError("theta_ppf(q) for all studies takes one level; pass study= for an array of levels")
            return np.asarray(self._theta_ppf(float(level)), dtype=float)
        i = self._study_index(study)
        return _elementwise(lambda v: float(self._theta_ppf(v)[i]), _levels(q))

    def mu_draws(self) -> np.ndarray:
        """Draws of ``mu`` on the analysis scale: the MCMC draws, or an exact posterior's seeded simulated draws
        (the ones behind :meth:`arr`); a copy."""
        return np.array(self._mu_draws(), dtype=float)

    def _study_index(self, study: int | str) -> int:
        labels = self._study_labels()
        if isinstance(study, str):
            if study not in labels:
                raise ValueError(f"no study {study!r}; studies are {', '.join(labels)}")
            return labels.index(study)
        i = int(study)
        if not 0 <= i < len(labels):
            raise ValueError(f"study index {study!r} is outside 0..{len(labels) - 1}")
        return i

    # -- scale conversion -----------------------------------------------------------------------------------------

    @property
    def is_ratio(self) -> bool:
        """True for OR/RR (effects stored on the log scale, reported on the ratio scale)."""
        return self.measure in RATIO_MEASURES

    @property
    def null_value(self) -> float:
        """The no-effect value on the reported scale: 1 for ratio measures, 0 otherwise."""
        return 1.0 if self.is_ratio else 0.0

    def _to_analysis(self, threshold: float, name: str = "threshold") -> float:
        threshold = float(threshold)
        if self.is_ratio:
            if not threshold > 0:
                raise ValueError(f"{name} is on the {self.measure} ratio scale and must be positive, got {threshold!r}")
            return math.log(threshold)
        if not math.isfinite(threshold):
            raise ValueError(f"{name} must be finite, got {threshold!r}")
        return threshold

    def _to_reported(self, x: float | np.ndarray) -> float | np.ndarray:
        return np.exp(x) if self.is_ratio else x

    def _interval(
        self, ppf: Callable[[float], float], hdi: Callable[[float], tuple[float, float]], prob: float, kind: str
    ) -> Interval:
        prob = _check_prob(prob)
        kind = _check_kind(kind)
        if kind == "eti":
            a = (1.0 - prob) / 2.0
            lo, hi = ppf(a), ppf(1.0 - a)
        else:
            lo, hi = hdi(prob)
        return Interval(float(self._to_reported(lo)), float(self._to_reported(hi)), prob, kind)

    # -- pooled effect mu -----------------------------------------------------------------------------------------

    def prob_below(self, threshold: float) -> float:
        """``P(effect < threshold)`` for the pooled effect; threshold on the reported scale (1.0 = no effect)."""
        return float(self._mu_cdf(self._to_analysis(threshold)))

    def prob_above(self, threshold: float) -> float:
        """``P(effect > threshold)`` for the pooled effect; threshold on the reported scale."""
        return 1.0 - self.prob_below(threshold)

    def interval(self, prob: float = 0.95, kind: str = "eti") -> Interval:
        """Credible interval of the pooled effect (reported scale); 95% equal-tailed unless told otherwise."""
        return self._interval(self._mu_ppf, self._mu_hdi, prob, kind)

    def median(self) -> float:
        """Posterior median of the pooled effect (reported scale)."""
        return float(self._to_reported(self._mu_ppf(0.5)))

    def mean(self) -> float:
        """Posterior mean of the pooled effect on the reported scale (``E[exp(mu)]`` for ratio measures)."""
        return float(self._ratio_mean()) if self.is_ratio else float(self.log_mean())

    def prob_in_rope(self, low: float | None = None, high: float | None = None) -> float:
        """Posterior share of the pooled effect inside the region of practical equivalence ``[low, high]``.

        Bounds on the reported scale; for ratio measures they default to 0.9 and 1.1, for difference measures they
        must be given.
        """
        if low is None or high is None:
            if not self.is_ratio:
                raise ValueError(f"prob_in_rope needs explicit low and high bounds for measure {self.measure!r}")
            low = 0.9 if low is None else low
            high = 1.1 if high is None else high
        lo, hi = self._to_analysis(low, "low"), self._to_analysis(high, "high")
        if not lo < hi:
            raise ValueError(f"low ({low!r}) must be below high ({high!r})")
        return float(self._mu_cdf(hi) - self._mu_cdf(lo))

    # -- a new study ----------------------------------------------------------------------------------------------

    def predictive_interval(self, prob: float = 0.95, kind: str = "eti") -> Interval:
        """Interval for the effect in a new study, ``mu + tau * z`` (reported scale)."""
        return self._interval(self._pred_ppf, self._pred_hdi, prob, kind)

    def prob_new_below(self, threshold: float) -> float:
        """``P(effect in a new study < threshold)``; threshold on the reported scale."""
        return float(self._pred_cdf(self._to_analysis(threshold)))

    # -- heterogeneity tau (analysis scale) ------------------------------------------------------------------------

    def tau_median(self) -> float:
        """Posterior median of tau (SD of log-OR/log-RR, or of the raw effect)."""
        return float(self._tau_ppf(0.5))

    def tau_interval(self, prob: float = 0.95, kind: str = "eti") -> Interval:
        """Credible interval of tau (analysis scale: never exponentiated)."""
        prob = _check_prob(prob)
        kind = _check_kind(kind)
        if kind == "eti":
            a = (1.0 - prob) / 2.0
            lo, hi = self._tau_ppf(a), self._tau_ppf(1.0 - a)
        else:
            lo, hi = self._tau_hdi(prob)
        return Interval(float(lo), float(hi), prob, kind)

    def prob_tau_above(self, t: float = 0.5) -> float:
        """``P(tau > t)``; ``t`` on the analysis scale (0.5 on log-OR is "substantial" heterogeneity)."""
        t = float(t)
        if not (math.isfinite(t) and t >= 0):
            raise ValueError(f"t must be a non-negative number, got {t!r}")
        return 1.0 - float(self._tau_cdf(t))

    # -- shrunken study effects -----------------------------------------------------------------------------------

    def shrunken(self, prob: float = 0.95) -> pd.DataFrame:
        """Per-study shrunken effects ``theta_i``: median and equal-tailed ``prob`` interval (reported scale).

        One row per study (index ``study``), columns ``median``, ``low``, ``high``; ``attrs`` holds prob and kind.
        """
        prob = _check_prob(prob)
        a = (1.0 - prob) / 2.0
        frame = pd.DataFrame(
            {
                "median": self._to_reported(self._theta_ppf(0.5)),
                "low": self._to_reported(self._theta_ppf(a)),
                "high": self._to_reported(self._theta_ppf(1.0 - a)),
            },
            index=pd.Index(self._study_labels(), name="study"),
        )
        frame.attrs.update(prob=prob, kind="eti", measure=self.measure)
        return frame

    # -- absolute effects -----------------------------------------------------------------------------------------

    def _baseline(self, baseline_risk: float | None) -> float:
        """The control-arm risk of an absolute effect: the caller's, never a model's internal one (module docstring)."""
        if baseline_risk is None:
            raise ValueError(
                "absolute effects need a control-arm risk: pass baseline_risk= (the risk without treatment in the "
                "population the result is for, e.g. the pooled control-arm risk); the model's internal baseline is "
                "not a clinical baseline and is never used"
            )
        p = float(baseline_risk)
        if not 0.0 < p < 1.0:
            raise ValueError(f"baseline_risk must be strictly between 0 and 1, got {baseline_risk!r}")
        return p

    def _check_binary(self) -> None:
        if self.measure not in ("OR", "RR", "RD"):
            raise ValueError(
                f"absolute risk reduction needs a binary measure (OR, RR, RD); measure is {self.measure!r}"
            )

    def arr(self, baseline_risk: float | None = None) -> np.ndarray:
        """Draws of the absolute risk reduction ``p_c - p_t`` (positive = benefit) at the control-arm risk
        ``p_c = baseline_risk`` (required for OR and RR, a ValueError without it; not needed for RD)."""
        self._check_binary()
        mu = self._mu_draws()
        if self.measure == "RD":
            return -mu
        p_c = self._baseline(baseline_risk)
        ratio = np.exp(mu)
        if self.measure == "RR":
            return p_c * (1.0 - ratio)
        odds_c = p_c / (1.0 - p_c)
        return p_c - ratio * odds_c / (1.0 + ratio * odds_c)

    def _prob_arr(self, x: float, baseline_risk: float | None) -> float:
        """``P(ARR > x)``, exactly through ``mu``: at a fixed control-arm risk, ARR is decreasing in mu."""
        self._check_binary()
        x = float(x)
        if not math.isfinite(x):
            raise ValueError(f"ARR threshold must be finite, got {x!r}")
        if self.measure == "RD":
            return float(self._mu_cdf(-x))
        p_c = self._baseline(baseline_risk)
        # ARR is decreasing in mu: ARR > x  <=>  p_t < p_c - x  <=>  mu < log(ratio at which p_t = p_c - x)
        p_t = p_c - x
        if p_t <= 0.0:
            return 0.0
        if self.measure == "RR":
            return float(self._mu_cdf(math.log(p_t / p_c)))
        if p_t >= 1.0:
            return 1.0
        return float(self._mu_cdf(math.log(p_t / (1.0 - p_t)) - math.log(p_c / (1.0 - p_c))))

    def prob_arr_above(self, x: float, baseline_risk: float | None = None) -> float:
        """``P(ARR > x)``, ``x`` an absolute risk (0.02 = 2 percentage points)."""
        return self._prob_arr(x, baseline_risk)

    def prob_nnt_at_most(self, k: float, baseline_risk: float | None = None) -> float:
        """``P(NNT <= k) = P(ARR >= 1/k)`` (NNT is only meaningful for a benefit, ARR > 0)."""
        k = float(k)
        if not k > 0:
            raise ValueError(f"k (number needed to treat) must be positive, got {k!r}")
        return self._prob_arr(1.0 / k, baseline_risk)

    # -- the standard row -----------------------------------------------------------------------------------------

    def summary(self, baseline_risk: float | None = None) -> dict[str, float | str | None]:
        """The standard reporting row, every interval 95% equal-tailed on the reported scale.

        Keys: ``measure``; ``median``, ``low``, ``high`` (pooled effect); ``p_below_null`` (P(effect < 1) for ratio
        measures, < 0 otherwise); for ratio measures also ``p_below_0.9`` and ``p_below_0.8``; for OR/RR/RD
        ``p_arr_above_0.02`` (P(ARR > 2 percentage points) at ``baseline_risk``), ``baseline_risk`` (the caller's
        value) and ``baseline_source`` (``"user"``, ``"not needed"`` for RD, or ``"none"`` when no baseline_risk is
        given: then no absolute effect is computed and ``p_arr_above_0.02`` is NaN); ``tau_median``,
        ``p_tau_above_0.5``; ``pred_low``, ``pred_high`` (95% predictive interval for a new study);
        ``p_new_below_null``.
        """
        ci = self.interval(0.95)
        row: dict[str, float | str | None] = {
            "measure": self.measure,
            "median": self.median(),
            "low": ci.low,
            "high": ci.high,
            "p_below_null": self.prob_below(self.null_value),
        }
        if self.is_ratio:
            row["p_below_0.9"] = self.prob_below(0.9)
            row["p_below_0.8"] = self.prob_below(0.8)
        if self.measure in ("OR", "RR", "RD"):
            if self.measure == "RD":
                source, base = "not needed", None
            elif baseline_risk is not None:
                source, base = "user", float(baseline_risk)
            else:
                source, base = "none", None
            row["p_arr_above_0.02"] = (
                math.nan if source == "none" else self.prob_arr_above(0.02, baseline_risk=baseline_risk)
            )
            row["baseline_risk"] = base
            row["baseline_source"] = source
        pred = self.predictive_interval(0.95)
        row.update(
            {
                "tau_median": self.tau_median(),
                "p_tau_above_0.5": self.prob_tau_above(0.5),
                "pred_low": pred.low,
                "pred_high": pred.high,
                "p_new_below_null": self.prob_new_below(self.null_value),
            }
        )
        return row


def _as_dataset(posterior: xr.Dataset | xr.DataTree) -> xr.Dataset:
    import xarray as xr

    if isinstance(posterior, xr.DataTree):
        node = posterior["posterior"] if "posterior" in posterior.children else posterior
        return node.to_dataset()
    if isinstance(posterior, xr.Dataset):
        return posterior
    raise TypeError(
        f"posterior must be an xarray Dataset (or a DataTree with a posterior group), got {type(posterior)}"
    )


def _flat(ds: xr.Dataset, name: str) -> np.ndarray:
    da = ds[name]
    if set(da.dims) != {"chain", "draw"}:
        raise ValueError(f"posterior variable {name!r} must have dims (chain, draw), has {da.dims}")
    return np.asarray(da.transpose("chain", "draw").values, dtype=float).reshape(-1)


def kde_pdf(draws: np.ndarray, x: float, *, lower: float | None = None) -> float:
    """Gaussian kernel density estimate of ``draws`` at ``x``, bandwidth by Silverman's rule of thumb
    (``0.9 min(SD, IQR / 1.34) n^(-1/5)``); with ``lower`` the density of draws bounded below by it, by reflection
    (0 below the bound). An estimate from draws: its error is of the order of the bandwidth's smoothing plus the
    Monte Carlo error, not of quadrature."""
    d = np.asarray(draws, dtype=float)
    q75, q25 = np.quantile(d, [0.75, 0.25])
    spread = min(float(np.std(d, ddof=1)), float(q75 - q25) / 1.34) if d.size > 1 else 0.0
    if not spread > 0:
        spread = float(np.std(d, ddof=1)) if d.size > 1 else 0.0
    if not spread > 0:
        return math.inf if np.all(d == x) else 0.0
    h = 0.9 * spread * d.size ** (-0.2)
    if lower is not None and x < lower:
        return 0.0
    dens = np.exp(-0.5 * ((x - d) / h) ** 2)
    if lower is not None:
        dens = dens + np.exp(-0.5 * ((x + d - 2.0 * lower) / h) ** 2)
    return float(np.mean(dens) / (h * math.sqrt(2.0 * math.pi)))


class DrawsPosterior(Posterior):
    """Posterior queries over MCMC draws.

    Parameters
    ----------
    posterior : xarray.Dataset (or a DataTree with a ``posterior`` group)
        Dims ``(chain, draw[, study][, covariate])``. Variables: ``mu`` (log scale for OR/RR), ``tau``; optional
        ``theta`` (dim ``study``: shrunken study effects) and ``beta`` (dim ``covariate``, kept as :attr:`beta`).
        Other variables (e.g. the binomial-normal model's internal ``baseline_risk``) are not read.
    measure : str
        ``OR``, ``RR``, ``RD``, ``MD`` or ``SMD``.
    seed : int
        Seeds the numpy Generator behind the predictive draws ``mu + tau * z``, so results are reproducible.
    """

    def __init__(self, posterior: xr.Dataset | xr.DataTree, measure: str, seed: int = 0) -> None:
        ds = _as_dataset(posterior)
        self.measure = check_measure(measure)
        for name in ("mu", "tau"):
            if name not in ds:
                raise ValueError(f"posterior has no variable {name!r} (has {', '.join(map(str, ds.data_vars))})")
        self._mu = _flat(ds, "mu")
        self._tau = _flat(ds, "tau")
        if (self._tau < 0).any():
            raise ValueError("posterior variable 'tau' has negative draws")
        self._theta: np.ndarray | None = None
        self._labels: tuple[str, ...] = ()
        if "theta" in ds:
            da = ds["theta"]
            if set(da.dims) != {"chain", "draw", "study"}:
                raise ValueError(f"posterior variable 'theta' must have dims (chain, draw, study), has {da.dims}")
            self._theta = np.asarray(da.transpose("chain", "draw", "study").values, dtype=float).reshape(
                -1, da.sizes["study"]
            )
            labels = ds["study"].values if "study" in ds.coords else np.arange(da.sizes["study"])
            self._labels = tuple(str(s) for s in labels)
        self.beta: xr.DataArray | None = ds["beta"] if "beta" in ds else None
        rng = np.random.default_rng(seed)
        self._pred = self._mu + self._tau * rng.standard_normal(self._mu.size)

    @property
    def n_draws(self) -> int:
        """Number of posterior draws (chains x draws)."""
        return int(self._mu.size)

    def _mu_cdf(self, x: float) -> float:
        return float(np.mean(self._mu < x))

    def _mu_ppf(self, q: float) -> float:
        return float(np.quantile(self._mu, q))

    def _mu_pdf(self, x: float) -> float:
        return kde_pdf(self._mu, x)

    def _mu_hdi(self, prob: float) -> tuple[float, float]:
        return hdi_from_draws(self._mu, prob)

    def _pred_cdf(self, x: float) -> float:
        return float(np.mean(self._pred < x))

    def _pred_ppf(self, q: float) -> float:
        return float(np.quantile(self._pred, q))

    def _pred_hdi(self, prob: float) -> tuple[float, float]:
        return hdi_from_draws(self._pred, prob)

    def _pred_pdf(self, x: float) -> float:
        return kde_pdf(self._pred, x)

    def _tau_cdf(self, t: float) -> float:
        return float(np.mean(self._tau <= t))

    def _tau_pdf(self, t: float) -> float:
        return kde_pdf(self._tau, t, lower=0.0)

    def _tau_ppf(self, q: float) -> float:
        return float(np.quantile(self._tau, q))

    def _tau_hdi(self, prob: float) -> tuple[float, float]:
        return hdi_from_draws(self._tau, prob)

    def _theta_draws(self) -> np.ndarray:
        if self._theta is None:
            raise ValueError("posterior has no variable 'theta' (shrunken study effects)")
        return self._theta

    def _theta_ppf(self, q: float) -> np.ndarray:
        return np.quantile(self._theta_draws(), q, axis=0)

    def _theta_cdf(self, i: int, x: float) -> float:
        return float(np.mean(self._theta_draws()[:, i] <= x))

    def _theta_pdf(self, i: int, x: float) -> float:
        return kde_pdf(self._theta_draws()[:, i], x)

    def _study_labels(self) -> tuple[str, ...]:
        return self._labels

    def _mu_draws(self) -> np.ndarray:
        return self._mu

    def log_mean(self) -> float:
        """Posterior mean of ``mu`` on the analysis scale."""
        return float(np.mean(self._mu))

    def log_sd(self) -> float:
        """Posterior SD of ``mu`` on the analysis scale."""
        return float(np.std(self._mu, ddof=1))

    def _ratio_mean(self) -> float:
        return float(np.mean(np.exp(self._mu)))

    def predictive_draws(self) -> np.ndarray:
        """The seeded draws of the effect in a new study, ``mu + tau * z`` (analysis scale)."""
        return self._pred.copy()
