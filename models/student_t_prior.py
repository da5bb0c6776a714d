"""Student-t priors on the pooled effect, and their exact-engine form: a finite scale mixture of normal priors.

:class:`StudentTEffectPrior` is ``mu ~ t_df(location, scale)`` on the analysis scale (log OR / log RR, or SMD). The
empirical priors of Bartoš et al. (2021 for SMD, 2023 for log OR and log RR) are of this form; they are the presets
of :data:`STUDENT_T_PRESETS`, paired with their inverse-gamma heterogeneity priors in :mod:`models.priors`.

The exact engines integrate ``mu`` against a normal prior. A Student-t is a scale mixture of normals,
``t_df(m, s) = integral of Normal(m, s^2 / lambda) Gamma(lambda; df/2, rate df/2) d lambda``; with
``u = log lambda`` the integrand is analytic and decays fast at both ends, so the trapezoid rule in ``u`` converges
geometrically (Trefethen & Weideman 2014, SIAM Rev 56:385). :meth:`StudentTEffectPrior.normal_components` gives the
nodes: step ``h = min(0.6, 0.85 sd(log lambda))`` (``sd(log lambda) = sqrt(trigamma(df/2))``) from ``u = -14`` (a
component of SD ``s e^7``: the t's tails out to about a thousand scales; for large df from where the Gamma weight
rises above 1e-30 of its largest) to where it falls below 1e-12 of its largest, with the weights normalised to sum
to 1 (a proper prior). The mixture's density is within 1e-4 relative of the t density for ``|mu - m|`` up to 100
scales, and its distribution function within 1e-5 absolute, for df 3 to 10 (tests/test_student_t_prior.py, against
scipy.stats.t; 1.3e-4 at df 2); 29 to 41 components. The posterior
under the mixture prior is then exactly the mixture of the components' posteriors, each weighted by its prior weight
times its evidence (:mod:`models.bayes.scale_mixture`).

Importing this module loads neither numpy nor scipy.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.priors import EffectPrior, describe_effect_prior

if TYPE_CHECKING:
    import numpy as np

_U_LOW = -14.0
_MAX_STEP = 0.6
_STEP_PER_SD = 0.85
_LIGHT_TAIL = 1e-12
_HEAVY_TAIL = 1e-30


@dataclass(frozen=True)
class StudentTEffectPrior:
    """``mu ~ Student-t(df, location, scale)`` on the analysis scale (log OR / log RR when ``log_scale``, else SMD or
    raw units), with its source. Methods as :class:`~models.priors.EffectPrior`'s; :meth:`normal_components` is its
    form for the exact engines (module docstring)."""

    key: str
    label: str
    location: float
    scale: float
    df: float
    citation: str
    log_scale: bool = True

    def __post_init__(self) -> None:
        for name in ("location", "scale", "df"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if not math.isfinite(self.location):
            raise ValueError(f"location must be finite, got {self.location!r}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale must be positive and finite, got {self.scale!r}")
        if not (math.isfinite(self.df) and self.df > 0):
            raise ValueError(f"df must be positive and finite, got {self.df!r}")

    def _frozen(self):
        from scipy import stats

        return stats.t(df=self.df, loc=self.location, scale=self.scale)

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        """Log density of ``mu`` at ``x`` (analysis scale)."""
        return self._frozen().logpdf(x)

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        """``P(mu <= x)`` (analysis scale)."""
        return self._frozen().cdf(x)

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        """Quantile of ``mu`` (analysis scale)."""
        return self._frozen().ppf(q)

    def interval(self, prob: float = 0.95) -> tuple[float, float]:
        """Equal-tailed ``prob`` interval of ``mu`` on the analysis scale."""
        if not 0.0 < prob < 1.0:
            raise ValueError(f"prob must be strictly between 0 and 1, got {prob!r}")
        a = (1.0 - prob) / 2.0
        return float(self.ppf(a)), float(self.ppf(1.0 - a))

    def rvs(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` independent draws of ``mu`` from the seeded generator ``rng``."""
        return self.location + self.scale * rng.standard_t(self.df, size=size)

    def distribution(self) -> str:
        """The distribution in words, e.g. ``"mu ~ Student-t(4 df, 0, 0.58)"``."""
        return f"mu ~ Student-t({self.df:g} df, location {self.location:g}, scale {self.scale:g})"

    def __str__(self) -> str:
        return describe_effect_prior(self)

    def normal_components(self) -> tuple[tuple[float, EffectPrior], ...]:
        """The scale mixture of normal priors that stands for this prior in the exact engines: ``(weight, prior)``
        pairs, weights summing to 1, widest component first (module docstring)."""
        return _components(self)


@functools.cache
def _components(prior: StudentTEffectPrior) -> tuple[tuple[float, EffectPrior], ...]:
    import numpy as np
    from scipy import special

    a = prior.df / 2.0  # lambda ~ Gamma(shape a, rate a): mean 1
    step = min(_MAX_STEP, _STEP_PER_SD * math.sqrt(float(special.polygamma(1, a))))
    u = np.arange(_U_LOW, 20.0, step)
    log_w = a * math.log(a) - math.lgamma(a) + a * u - a * np.exp(u)  # log of Gamma density(e^u) * e^u
    top = float(np.max(log_w))
    peak = int(np.argmax(log_w))
    keep = log_w > top + math.log(_HEAVY_TAIL)  # wide components, down to 1e-30 of the largest weight
    keep[peak:] = log_w[peak:] > top + math.log(_LIGHT_TAIL)  # narrow components: the light tail is cut sooner
    u, log_w = u[keep], log_w[keep]
    w = np.exp(log_w - top)
    w /= w.sum()
    return tuple(
        (float(wj), EffectPrior(f"{prior.key}~{j}", f"{prior.label}, component {j}", prior.location,
                                prior.scale * math.exp(-uj / 2.0), prior.citation, log_scale=prior.log_scale))
        for j, (wj, uj) in enumerate(zip(w, u, strict=True))
    )  # fmt: skip


_BARTOS_2023 = "Bartoš, Otte, Gronau, Timmers, Ly & Wagenmakers 2023, arXiv 2306.11468"
_BARTOS_2021 = "Bartoš, Gronau, Timmers, Otte, Ly & Wagenmakers 2021, Stat Med 40:6743"

STUDENT_T_PRESETS: dict[str, StudentTEffectPrior] = {
    p.key: p
    for p in (
        StudentTEffectPrior("bartos2023_logor", "Empirical binary-outcome (log OR), Cochrane", 0.0, 0.58, 4.0,
                            f"{_BARTOS_2023}, Cochrane-wide prior for log OR"),
        StudentTEffectPrior("bartos2023_logrr", "Empirical binary-outcome (log RR), Cochrane", 0.0, 0.32, 3.0,
                            f"{_BARTOS_2023}, Cochrane-wide prior for log RR"),
        StudentTEffectPrior("bartos2021_smd", "Empirical continuous-outcome (SMD), Cochrane", 0.0, 0.43, 5.0,
                            f"{_BARTOS_2021}, Cochrane-wide prior for the SMD", log_scale=False),
    )
}  # fmt: skip
"""Empirical effect priors fitted to the Cochrane database by Bartoš et al. (the "Cochrane" rows of their tables, as
the authors' R package BayesTools also states them: ``prior_informed("Cochrane", ...)``); their heterogeneity
priors are the inverse-gamma presets of the same keys in :data:`models.priors.TAU_PRESETS`."""
