"""Prior distributions for the normal-normal and binomial-normal meta-analysis models.

Priors are small frozen, printable specifications that name their source, so that a reanalysis states every prior
it used (no data-dependent defaults). Two kinds:

* :class:`TauPrior` -- the between-study standard deviation ``tau`` on the analysis scale (log-OR/log-RR for binary
  outcomes, the MD/SMD scale for continuous ones). Some published priors are stated for ``tau^2`` or ``log(tau^2)``;
  every method here (``logpdf``, ``cdf``, ``ppf``, ``rvs``, ...) is nevertheless about ``tau`` itself, with the
  change-of-variables Jacobian included.
* :class:`EffectPrior` -- a normal prior on the pooled effect ``mu`` (log-OR/log-RR scale, or MD/SMD scale); the
  Student-t effect priors of Bartoš et al. are :class:`models.student_t_prior.StudentTEffectPrior`.

Presets with their sources are in :data:`TAU_PRESETS`, :data:`EFFECT_PRESETS` and :data:`BIAS_PRESETS`. Which of
them a reanalysis of a user's data uses by default is :mod:`models.prior_policy`'s decision; the MSC job's own choice
and its reasons are in :mod:`models.msc.priors`.

Importing this module loads neither numpy nor scipy (the densities, distribution functions and quantiles import them
when first called), so that a command can check a prior option and list the presets' names before it loads them.
"""

from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

TAU_FAMILIES: dict[str, tuple[str, ...]] = {
    "lognormal_tau2": ("m", "s"),
    "halfnormal": ("scale",),
    "halfcauchy": ("scale",),
    "invgamma": ("alpha", "beta"),
    "logt_tau2": ("df", "loc", "scale"),
}
"""Supported ``TauPrior`` families and their parameter names, in order.

* ``lognormal_tau2`` (m, s): ``log(tau^2) ~ Normal(m, s)`` with ``s`` the SD (Turner et al.'s parametrisation);
  equivalently ``log(tau) ~ Normal(m/2, s/2)``.
* ``halfnormal`` (scale): ``tau ~ HalfNormal(scale)``.
* ``halfcauchy`` (scale): ``tau ~ HalfCauchy(scale)``.
* ``invgamma`` (alpha, beta): ``tau ~ InverseGamma(shape alpha, scale beta)`` -- on ``tau``, not ``tau^2``.
* ``logt_tau2`` (df, loc, scale): ``log(tau^2) ~ Student-t(df, loc, scale)`` (Rhodes et al.'s parametrisation).
"""


def _fmt(x: float) -> str:
    """Compact number for printing: three decimals below 1, three significant digits above."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if abs(x) >= 0.9995:
        return f"{x:.3g}"
    if abs(x) >= 0.01:
        return f"{x:.3f}"
    return f"{x:.2g}"


def _check_prob(name: str, prob: float) -> float:
    prob = float(prob)
    if not 0.0 < prob < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {prob!r}")
    return prob


@functools.cache
def _frozen(family: str, params: tuple[tuple[str, float], ...]):
    """The scipy frozen distribution behind a tau prior, built once per (family, parameters). Only random draws
    use it (and the tests, as the reference of the closed forms below); ``scipy.stats`` is imported here, not at
    module level, because its import costs about 0.5 s, paid by every Dask worker of a batch at start-up."""
    from scipy import stats

    p = dict(params)
    if family == "lognormal_tau2":
        return stats.norm(loc=p["m"], scale=p["s"])
    if family == "logt_tau2":
        return stats.t(df=p["df"], loc=p["loc"], scale=p["scale"])
    if family == "halfnormal":
        return stats.halfnorm(scale=p["scale"])
    if family == "halfcauchy":
        return stats.halfcauchy(scale=p["scale"])
    return stats.invgamma(a=p["alpha"], scale=p["beta"])


@functools.cache
def _log_density_terms(family: str, params: tuple[tuple[str, float], ...]) -> tuple[float, ...]:
    """The constant terms of the base distribution's log density (see :func:`_base_logpdf`), once per prior."""
    p = dict(params)
    if family == "lognormal_tau2":
        return (p["m"], p["s"], -math.log(p["s"]) - 0.5 * math.log(2.0 * math.pi))
    if family == "logt_tau2":
        df = p["df"]
        const = (math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * math.log(df * math.pi)
                 - math.log(p["scale"]))  # fmt: skip
        return (df, p["loc"], p["scale"], const)
    if family == "halfnormal":
        return (p["scale"], 0.5 * math.log(2.0 / math.pi) - math.log(p["scale"]))
    if family == "halfcauchy":
        return (p["scale"], math.log(2.0 / math.pi) - math.log(p["scale"]))
    return (p["alpha"], p["beta"], p["alpha"] * math.log(p["beta"]) - math.lgamma(p["alpha"]))


def _base_logpdf(family: str, params: tuple[tuple[str, float], ...], x: np.ndarray) -> np.ndarray:
    """Log density of the distribution :func:`_frozen` freezes, in closed form (the formulas scipy uses; equal to
    its ``logpdf`` within rounding, checked in the tests): a scipy call costs about 95 microseconds of overhead, and
    the exact engines evaluate priors a dozen times per meta-analysis. Defined for ``x >= 0`` on tau families
    (callers mask ``x < 0``); ``invgamma`` is ``-inf`` at ``x <= 0``."""
    import numpy as np

    c = _log_density_terms(family, params)
    if family == "lognormal_tau2":
        m, sd, const = c
        z = (x - m) / sd
        return const - 0.5 * z * z
    if family == "logt_tau2":
        df, loc, scale, const = c
        z = (x - loc) / scale
        return const - (df + 1.0) / 2.0 * np.log1p(z * z / df)
    if family == "halfnormal":
        scale, const = c
        z = x / scale
        return const - 0.5 * z * z
    if family == "halfcauchy":
        scale, const = c
        z = x / scale
        return const - np.log1p(z * z)
    alpha, beta, const = c
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = x > 0
        safe = np.where(pos, x, 1.0)
        return np.where(pos, const - (alpha + 1.0) * np.log(safe) - beta / safe, -np.inf)


def _standard(family: str, params: tuple[tuple[str, float], ...]) -> tuple[float, float]:
    """Location and scale of the base distribution (scipy's ``loc`` and ``scale``)."""
    p = dict(params)
    if family == "lognormal_tau2":
        return p["m"], p["s"]
    if family == "logt_tau2":
        return p["loc"], p["scale"]
    if family == "invgamma":
        return 0.0, p["beta"]
    return 0.0, p["scale"]


def _base_cdf(family: str, params: tuple[tuple[str, float], ...], x: np.ndarray, upper: bool) -> np.ndarray:
    """``P(X <= x)`` (``upper``: ``P(X > x)``) of the distribution :func:`_frozen` freezes, by the special functions
    scipy.stats itself calls (``ndtr``, ``stdtr``, ``erf``, ``arctan``, ``gammainc(c)``; equal to scipy within
    rounding, checked in the tests) without its argument handling, which costs about 50 microseconds a call.
    Defined for ``x >= 0`` on tau families (callers mask ``x < 0``)."""
    import numpy as np
    from scipy import special

    loc, scale = _standard(family, params)
    z = (x - loc) / scale
    if family == "lognormal_tau2":
        return special.ndtr(-z if upper else z)
    if family == "logt_tau2":
        df = dict(params)["df"]
        return special.stdtr(df, -z if upper else z)
    if family == "halfnormal":
        return 2.0 * special.ndtr(-z) if upper else special.erf(z / math.sqrt(2.0))
    if family == "halfcauchy":
        return 2.0 / np.pi * (np.arctan2(1.0, z) if upper else np.arctan(z))
    alpha = dict(params)["alpha"]
    with np.errstate(divide="ignore"):
        inv = 1.0 / z
    return np.where(z > 0, special.gammainc(alpha, inv) if upper else special.gammaincc(alpha, inv), 1.0 * upper)


def _base_quantile(family: str, params: tuple[tuple[str, float], ...], q: np.ndarray, upper: bool) -> np.ndarray:
    """Quantile (``upper``: inverse survival function) of the distribution :func:`_frozen` freezes, by the
    special functions scipy.stats calls (``ndtri``, ``stdtrit``, ``tan``, ``gammaincinv``/``gammainccinv``); the
    half-Cauchy upper quantile as ``cot(pi q / 2)``, where scipy's ``tan(pi (1 - q) / 2)`` loses digits for small q."""
    import numpy as np
    from scipy import special

    loc, scale = _standard(family, params)
    if family == "lognormal_tau2":
        z = -special.ndtri(q) if upper else special.ndtri(q)
    elif family == "logt_tau2":
        df = dict(params)["df"]
        z = -special.stdtrit(df, q) if upper else special.stdtrit(df, q)
    elif family == "halfnormal":
        z = -special.ndtri(q / 2.0) if upper else special.ndtri((1.0 + q) / 2.0)
    elif family == "halfcauchy":
        z = 1.0 / np.tan(np.pi / 2.0 * q) if upper else np.tan(np.pi / 2.0 * q)  # cot(pi q / 2): exact for small q
    else:
        alpha = dict(params)["alpha"]
        z = 1.0 / (special.gammaincinv(alpha, q) if upper else special.gammainccinv(alpha, q))
    return loc + scale * z


@dataclass(frozen=True)
class TauPrior:
    """Prior on the between-study SD ``tau`` (scale of the analysis: log-OR/log-RR, or MD/SMD).

    Attributes
    ----------
    key : str
        Short identifier, e.g. ``"turner2015_mortality_pharma"``.
    label : str
        Human label used when printing, e.g. ``"Turner 2015 mortality, pharmacological"``.
    family : str
        One of :data:`TAU_FAMILIES`.
    params : tuple of (name, value) pairs
        The family's parameters in the order of :data:`TAU_FAMILIES` (hashable; read one with :meth:`param`).
    citation : str
        The source of the prior.

    All methods are about ``tau`` itself, also for the families stated on ``tau^2`` (the Jacobian is included).
    """

    key: str
    label: str
    family: str
    params: tuple[tuple[str, float], ...]
    citation: str

    def __post_init__(self) -> None:
        if self.family not in TAU_FAMILIES:
            raise ValueError(f"family {self.family!r} is not one of {', '.join(TAU_FAMILIES)}")
        params = tuple((str(n), float(v)) for n, v in self.params)
        names = tuple(n for n, _ in params)
        expected = TAU_FAMILIES[self.family]
        if names != expected:
            raise ValueError(
                f"params of family {self.family!r} must be ({', '.join(expected)}) in that order, "
                f"got ({', '.join(names)})"
            )
        for n, v in params:
            if not math.isfinite(v):
                raise ValueError(f"param {n!r} must be finite, got {v!r}")
            if n in ("s", "scale", "alpha", "beta", "df") and v <= 0:
                raise ValueError(f"param {n!r} must be positive, got {v!r}")
        object.__setattr__(self, "params", params)

    def param(self, name: str) -> float:
        """The value of parameter ``name``; KeyError lists the family's parameter names."""
        for n, v in self.params:
            if n == name:
                return v
        raise KeyError(
            f"{self.family!r} prior has no parameter {name!r}; it has {', '.join(TAU_FAMILIES[self.family])}"
        )

    # -- the distribution of the underlying variable: tau itself, or log(tau^2) for the *_tau2 families --------

    def _on_log_tau2(self) -> bool:
        return self.family.endswith("_tau2")

    def logpdf(self, tau: np.ndarray | float) -> np.ndarray:
        """Log density of ``tau`` (``-inf`` for ``tau < 0``; Jacobian ``log(2/tau)`` included for tau^2 families)."""
        import numpy as np

        tau = np.asarray(tau, dtype=float)
        if not self._on_log_tau2():
            return np.where(tau < 0, -np.inf, _base_logpdf(self.family, self.params, np.maximum(tau, 0.0)))
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = tau > 0
            t = np.where(pos, tau, 1.0)
            out = _base_logpdf(self.family, self.params, 2.0 * np.log(t)) + np.log(2.0 / t)
        return np.where(pos, out, -np.inf)

    def pdf(self, tau: np.ndarray | float) -> np.ndarray:
        """Density of ``tau``."""
        import numpy as np

        return np.exp(self.logpdf(tau))

    def cdf(self, tau: np.ndarray | float) -> np.ndarray:
        """``P(tau' <= tau)``."""
        return self._tail(tau, upper=False)

    def sf(self, tau: np.ndarray | float) -> np.ndarray:
        """``P(tau' > tau)``, accurate in the far right tail."""
        return self._tail(tau, upper=True)

    def _tail(self, tau: np.ndarray | float, upper: bool) -> np.ndarray:
        import numpy as np

        tau = np.asarray(tau, dtype=float)
        below = 1.0 if upper else 0.0  # the value at tau <= 0 (tau < 0 for the families on tau itself)
        if not self._on_log_tau2():
            return np.where(tau < 0, below, _base_cdf(self.family, self.params, np.maximum(tau, 0.0), upper))
        with np.errstate(divide="ignore"):
            x = 2.0 * np.log(np.where(tau > 0, tau, 1.0))
        return np.where(tau > 0, _base_cdf(self.family, self.params, x, upper), below)

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        """Quantile function of ``tau``."""
        import numpy as np

        x = _base_quantile(self.family, self.params, np.asarray(q, dtype=float), upper=False)
        return np.exp(x / 2.0) if self._on_log_tau2() else x

    def isf(self, q: np.ndarray | float) -> np.ndarray:
        """Inverse survival function of ``tau`` (upper quantile ``P(tau' > x) = q``), accurate for small ``q``."""
        import numpy as np

        x = _base_quantile(self.family, self.params, np.asarray(q, dtype=float), upper=True)
        return np.exp(x / 2.0) if self._on_log_tau2() else x

    def median(self) -> float:
        """Median of ``tau`` (computed once per prior: the exact engines ask for it several times
        per meta-analysis to place their grids, and each scipy quantile costs about 100 microseconds)."""
        return _median(self)

    def interval(self, prob: float = 0.95) -> tuple[float, float]:
        """Equal-tailed ``prob`` interval of ``tau`` (the "95% range" of the published tables)."""
        prob = _check_prob("prob", prob)
        a = (1.0 - prob) / 2.0
        return float(self.ppf(a)), float(self.isf(a))

    def rvs(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` independent draws of ``tau`` from the seeded generator ``rng``."""
        import numpy as np

        x = _frozen(self.family, self.params).rvs(size=size, random_state=rng)
        return np.exp(x / 2.0) if self._on_log_tau2() else np.asarray(x, dtype=float)

    def distribution(self) -> str:
        """The distribution in words, e.g. ``"tau^2 ~ LogNormal(-3.95, 1.34^2)"``."""
        p = dict(self.params)
        if self.family == "lognormal_tau2":
            return f"tau^2 ~ LogNormal({p['m']:g}, {p['s']:g}^2)"
        if self.family == "logt_tau2":
            return f"log(tau^2) ~ Student-t({p['df']:g} df, location {p['loc']:g}, scale {p['scale']:g})"
        if self.family == "halfnormal":
            return f"tau ~ HalfNormal({p['scale']:g})"
        if self.family == "halfcauchy":
            return f"tau ~ HalfCauchy({p['scale']:g})"
        return f"tau ~ InverseGamma({p['alpha']:g}, {p['beta']:g})"

    def __str__(self) -> str:
        lo, hi = self.interval(0.95)
        return (
            f"{self.label}: {self.distribution()}; median tau {_fmt(self.median())}, "
            f"95% range {_fmt(lo)}-{_fmt(hi)} [{self.citation}]"
        )


@functools.cache
def _median(prior: TauPrior) -> float:
    """:meth:`TauPrior.median`, cached per prior (a frozen, hashable specification: equal priors, equal medians)."""
    return float(prior.ppf(0.5))


@dataclass(frozen=True)
class EffectPrior:
    """Normal prior ``mu ~ Normal(mean, sd)`` on the pooled effect.

    ``mean`` and ``sd`` are on the analysis scale: log-OR/log-RR when ``log_scale`` is true (the default; printing
    then also shows the ratio-scale 95% range), otherwise the raw scale (RD, MD, SMD).
    """

    key: str
    label: str
    mean: float
    sd: float
    citation: str
    log_scale: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", float(self.mean))
        object.__setattr__(self, "sd", float(self.sd))
        if not math.isfinite(self.mean):
            raise ValueError(f"mean must be finite, got {self.mean!r}")
        if not (math.isfinite(self.sd) and self.sd > 0):
            raise ValueError(f"sd must be positive and finite, got {self.sd!r}")

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        """Log density of ``mu`` at ``x`` (analysis scale)."""
        import numpy as np

        z = (np.asarray(x, dtype=float) - self.mean) / self.sd
        return -0.5 * z * z - math.log(self.sd) - 0.5 * math.log(2.0 * math.pi)

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        """``P(mu <= x)`` (``x`` on the analysis scale, e.g. ``log(0.8)``)."""
        import numpy as np
        from scipy import special

        return special.ndtr((np.asarray(x, dtype=float) - self.mean) / self.sd)

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        """Quantile of ``mu`` (analysis scale)."""
        import numpy as np
        from scipy import special

        return self.mean + self.sd * special.ndtri(np.asarray(q, dtype=float))

    def interval(self, prob: float = 0.95) -> tuple[float, float]:
        """Equal-tailed ``prob`` interval of ``mu`` on the analysis scale."""
        prob = _check_prob("prob", prob)
        a = (1.0 - prob) / 2.0
        return float(self.ppf(a)), float(self.ppf(1.0 - a))

    def rvs(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` independent draws of ``mu`` from the seeded generator ``rng``."""
        return rng.normal(self.mean, self.sd, size=size)

    def distribution(self) -> str:
        """The distribution in words, e.g. ``"mu ~ Normal(0, 1^2)"``."""
        return f"mu ~ Normal({self.mean:.3g}, {self.sd:.3g}^2)"

    def __str__(self) -> str:
        return describe_effect_prior(self)


class _EffectPriorText(Protocol):
    label: str
    citation: str
    log_scale: bool

    def interval(self, prob: float = 0.95) -> tuple[float, float]: ...

    def distribution(self) -> str: ...


def describe_effect_prior(prior: _EffectPriorText) -> str:
    """An effect prior printed (a normal one, or :class:`models.student_t_prior.StudentTEffectPrior`): label,
    distribution, 95% range (of the ratio on a log scale) and source."""
    lo, hi = prior.interval(0.95)
    if prior.log_scale:
        rng = f"95% range of the ratio {_fmt(math.exp(lo))}-{_fmt(math.exp(hi))}"
    else:
        rng = f"95% range {_fmt(lo)} to {_fmt(hi)}"
    return f"{prior.label}: {prior.distribution()}; {rng} [{prior.citation}]"


_SFP_1994 = "Spiegelhalter, Freedman & Parmar 1994, J R Stat Soc A 157:357"


def _design_log(design_ratio: float, tail_prob: float) -> tuple[float, float]:
    design_ratio = float(design_ratio)
    if not (math.isfinite(design_ratio) and design_ratio > 0 and design_ratio != 1):
        raise ValueError(f"design_ratio must be a positive ratio other than 1, got {design_ratio!r}")
    tail_prob = float(tail_prob)
    if not 0.0 < tail_prob < 0.5:
        raise ValueError(f"tail_prob must be strictly between 0 and 0.5, got {tail_prob!r}")
    log_d = math.log(design_ratio)
    # the normal quantile of the standard library (Wichura's AS241, relative error about 1e-16), so that building the
    # presets at import loads no scipy
    return log_d, abs(log_d) / -statistics.NormalDist().inv_cdf(tail_prob)


def sceptical_prior(design_ratio: float, tail_prob: float = 0.05) -> EffectPrior:
    """Sceptical prior: centred on no effect, with ``P(effect beyond log(design_ratio)) = tail_prob``.

    For a beneficial design effect (``design_ratio < 1``) that is ``P(mu < log(design_ratio)) = tail_prob``
    (Spiegelhalter, Freedman & Parmar 1994). Log-ratio scale (OR or RR).
    """
    log_d, sd = _design_log(design_ratio, tail_prob)
    return EffectPrior(
        key="sceptical",
        label=f"Sceptical (design ratio {design_ratio:g}, {tail_prob:.0%} tail)",
        mean=0.0,
        sd=sd,
        citation=_SFP_1994,
    )


def enthusiastic_prior(design_ratio: float, tail_prob: float = 0.05) -> EffectPrior:
    """Enthusiastic prior: centred on ``log(design_ratio)``, with ``P(no benefit) = tail_prob``.

    For ``design_ratio < 1`` that is ``P(mu > 0) = tail_prob`` (Spiegelhalter, Freedman & Parmar 1994; the form
    Goligher et al. 2018 used, with ratio 0.78). Log-ratio scale (OR or RR).
    """
    log_d, sd = _design_log(design_ratio, tail_prob)
    return EffectPrior(
        key="enthusiastic",
        label=f"Enthusiastic (design ratio {design_ratio:g}, {tail_prob:.0%} tail)",
        mean=log_d,
        sd=sd,
        citation=_SFP_1994,
    )


DEFAULT_DESIGN_RATIO: float = 0.7
"""Design effect (OR/RR) behind the preset sceptical and enthusiastic priors.

A 30% relative reduction in mortality: a large but plausible benefit for a critical-care intervention, inside the
RR 0.67-0.78 span of the benefit thresholds and the enthusiastic prior (RR 0.78) of Goligher et al. 2018
(JAMA 320:2251). The sceptical prior
puts 5% probability on an effect at least this large; the enthusiastic prior puts 5% on no benefit. Sensitivity
analyses can build other ones with :func:`sceptical_prior` and :func:`enthusiastic_prior`.
"""

_TURNER_2015 = "Turner et al. 2015, Stat Med 34:984"
_TURNER_2012 = "Turner et al. 2012, Int J Epidemiol 41:818"
_BARTOS_2023 = "Bartoš, Otte, Gronau, Timmers, Ly & Wagenmakers 2023, arXiv 2306.11468"
_FRIEDE_2017 = "Friede, Röver et al. 2017, Res Synth Methods 8:79; Röver et al. 2021, Res Synth Methods 12:448"

TAU_PRESETS: dict[str, TauPrior] = {
    p.key: p
    for p in (
        TauPrior(
            "turner2015_mortality_pharma",
            "Turner 2015 mortality, pharmacological",
            "lognormal_tau2",
            (("m", -3.95), ("s", 1.34)),
            _TURNER_2015 + ", Table IV",
        ),
        TauPrior(
            "turner2015_mortality_nonpharma",
            "Turner 2015 mortality, non-pharmacological",
            "lognormal_tau2",
            (("m", -4.17), ("s", 1.55)),
            _TURNER_2015 + ", Table IV",
        ),
        TauPrior(
            "turner2015_general",
            "Turner 2015 general setting",
            "lognormal_tau2",
            (("m", -2.56), ("s", 1.74)),
            _TURNER_2015 + ", p. 993",
        ),
        TauPrior(
            "turner2012_mortality_pharma",
            "Turner 2012 mortality, pharmacological",
            "lognormal_tau2",
            (("m", -4.06), ("s", 1.45)),
            _TURNER_2012,
        ),
        TauPrior(
            "halfnormal_0.5",
            "Weakly informative HalfNormal(0.5)",
            "halfnormal",
            (("scale", 0.5),),
            _FRIEDE_2017,
        ),
        TauPrior(
            "halfnormal_1",
            "Conservative HalfNormal(1)",
            "halfnormal",
            (("scale", 1.0),),
            "Friede, Röver et al. 2017, Res Synth Methods 8:79",
        ),
        TauPrior(
            "halfcauchy_1",
            "Vague HalfCauchy(1)",
            "halfcauchy",
            (("scale", 1.0),),
            "common in the bayesmeta examples (Röver 2020, J Stat Softw 93(6))",
        ),
        TauPrior(
            "bartos2023_logor",
            "Empirical binary-outcome (log OR), Cochrane",
            "invgamma",
            (("alpha", 1.77), ("beta", 0.55)),
            _BARTOS_2023 + ", Cochrane-wide prior for log OR (RoBMA's binomial default)",
        ),
        TauPrior(
            "bartos2023_logrr",
            "Empirical binary-outcome (log RR), Cochrane",
            "invgamma",
            (("alpha", 1.51), ("beta", 0.23)),
            _BARTOS_2023 + ", Cochrane-wide prior for log RR",
        ),
        TauPrior(
            "rhodes2015_smd_general",
            "Rhodes 2015 SMD, general",
            "logt_tau2",
            (("df", 5.0), ("loc", -3.44), ("scale", 2.59)),
            "Rhodes et al. 2015, J Clin Epidemiol 68:52",
        ),
        TauPrior(
            "bartos2021_smd",
            "Empirical continuous-outcome (SMD), Cochrane",
            "invgamma",
            (("alpha", 1.71), ("beta", 0.40)),
            "Bartoš, Gronau, Timmers, Otte, Ly & Wagenmakers 2021, Stat Med 40:6743, Cochrane-wide prior for the SMD",
        ),
    )
}
"""Heterogeneity priors by key; each names its source, and printing one shows its median and 95% range. The
``bartos*`` presets are the heterogeneity halves of Bartoš et al.'s empirical pairs, whose Student-t effect priors
are in :mod:`models.student_t_prior` (same keys)."""

EFFECT_PRESETS: dict[str, EffectPrior] = {
    "weakly_informative": EffectPrior(
        "weakly_informative",
        "Weakly informative",
        0.0,
        1.0,
        "Röver et al. 2021, Res Synth Methods 12:448 (half the unit-information SD of 2)",
    ),
    "vague": EffectPrior(
        "vague",
        "Vague (variance 10)",
        0.0,
        math.sqrt(10.0),
        "minimally informative Normal(0, 10) in variance terms",
    ),
    "sceptical": sceptical_prior(DEFAULT_DESIGN_RATIO),
    "enthusiastic": enthusiastic_prior(DEFAULT_DESIGN_RATIO),
}
"""Effect priors on the log-OR/log-RR scale by key; sceptical/enthusiastic use :data:`DEFAULT_DESIGN_RATIO`."""


def tau_prior(key: str) -> TauPrior:
    """The heterogeneity preset ``key``; KeyError lists the valid keys."""
    try:
        return TAU_PRESETS[key]
    except KeyError:
        raise KeyError(f"unknown tau prior {key!r}; valid keys: {', '.join(TAU_PRESETS)}") from None


def effect_prior(key: str) -> EffectPrior:
    """The effect preset ``key``; KeyError lists the valid keys."""
    try:
        return EFFECT_PRESETS[key]
    except KeyError:
        raise KeyError(f"unknown effect prior {key!r}; valid keys: {', '.join(EFFECT_PRESETS)}") from None


@dataclass(frozen=True)
class BiasPrior:
    """Additive bias of a non-randomised study on the log-OR scale: ``delta_i ~ Normal(mean, sd^2)``, independent per
    study (Turner et al. 2009, J R Stat Soc A 172:21). Integrated out, a non-randomised study's true effect is
    ``Normal(mu + mean, tau^2 + sd^2)``: ``sd`` down-weights the study, ``mean`` shifts what it is taken to say.
    """

    key: str
    label: str
    mean: float
    sd: float
    source: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean) and math.isfinite(self.sd) and self.sd >= 0):
            raise ValueError(f"bias prior {self.key!r} needs a finite mean and a non-negative sd")

    def __str__(self) -> str:
        lo, hi = math.exp(self.mean - 1.959964 * self.sd), math.exp(self.mean + 1.959964 * self.sd)
        return (
            f"{self.label}: bias ~ Normal({_fmt(self.mean)}, {_fmt(self.sd)}^2) on log-OR; 95% range of the ratio of "
            f"odds ratios {lo:.2f}-{hi:.2f} [{self.source}]"
        )


BIAS_PRESETS: dict[str, BiasPrior] = {
    p.key: p
    for p in (
        BiasPrior(
            "nrs_bias",
            "Non-randomised studies, bias of unknown direction",
            0.0,
            0.5,
            "Turner et al. 2009 (additive bias model); direction unknown as in the Cochrane methodology review of "
            "randomised vs non-randomised comparisons (Odgaard-Jensen et al. 2011, MR000012), which found "
            "differences in both directions",
        ),
        BiasPrior(
            "nrs_bias_optimistic",
            "Non-randomised studies exaggerate benefit",
            math.log(0.8),
            0.5,
            "Turner et al. 2009 (additive bias model); sensitivity: non-randomised studies taken to overstate the "
            "benefit by a ratio of odds ratios of 0.8 on average (a stated assumption of direction and size, not an "
            "estimate)",
        ),
    )
}
"""Bias models for non-randomised studies: direction unknown (``nrs_bias``), or towards benefit
(``nrs_bias_optimistic``)."""


BASELINE_SD_DEFAULT = 2.5
"""Default SD of the Normal(0, sd) prior on each study's baseline (control-arm or mean-arm) log-odds in the
binomial-normal model (MetaStan: variance 10). Here, not in :mod:`models.bayes.binomial_normal`, so that the exact
engine can use it without importing PyMC (a batch worker would otherwise load PyMC for one number)."""
