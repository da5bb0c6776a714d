"""Bayesian model averaging over effect x heterogeneity x publication bias (RoBMA), on the log scale throughout.

Posterior model probabilities are ``softmax(log p(y | M) + log P(M))``; inclusion Bayes factors are differences of
log-sum-exps of those terms minus the log prior inclusion odds, so evidences of several hundred log units (real
Cochrane data) neither overflow nor lose the smaller models. The posterior of mu under a set of models is the
mixture of the models' posteriors, each evaluated on one fine grid (``_FINE`` points over the union of their nodes)
from the cubic splines of its rows' log densities and renormalised there, plus a point mass at 0 for the models with
``mu = 0``; its cdf is the cumulative trapezoid rule on that grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import integrate, interpolate, special

from models.bayes.publication_bias.quadrature import ModelFit, MuRows
from models.bayes.publication_bias.results import BiasModelResult, EffectSummary, Inclusion, ModelRow

_FINE = 2001
_RATIO = ("OR", "RR", "HR")


def _densities(rows: MuRows, x: np.ndarray, block: int = 256) -> np.ndarray:
    """The mixture density of ``rows`` at the points ``x`` (rows' log densities splined in their node coordinate,
    0 outside their nodes)."""
    m = rows.log_density.shape[1]
    u = np.linspace(-1.0, 1.0, m)
    coef = interpolate.CubicSpline(u, rows.log_density.T).c  # (4, m - 1, rows)
    du = u[1] - u[0]
    out = np.zeros(x.size)
    for start in range(0, rows.centre.size, block):
        sl = slice(start, start + block)
        ux = (x[None, :] - rows.centre[sl, None]) / rows.half[sl, None]
        inside = np.abs(ux) <= 1.0
        idx = np.clip(np.floor((ux + 1.0) / du), 0, m - 2).astype(int)
        t = ux - u[idx]
        rr = np.arange(start, min(start + block, rows.centre.size))[:, None]
        val = ((coef[0, idx, rr] * t + coef[1, idx, rr]) * t + coef[2, idx, rr]) * t + coef[3, idx, rr]
        out += np.where(inside, np.exp(np.minimum(val, 700.0)), 0.0).sum(axis=0)
    return out


class MuMixtures:
    """Each effect model's posterior density of mu on one fine grid, normalised; mixtures of them with a point mass
    at 0 summarised as :class:`EffectSummary`."""

    def __init__(self, fits: Sequence[ModelFit], measure: str, threshold: float | None, prob: float) -> None:
        rows = [f.mu for f in fits if f.mu is not None]
        lo = min(0.0, *(float(np.min(r.centre - r.half)) for r in rows)) if rows else -1.0
        hi = max(0.0, *(float(np.max(r.centre + r.half)) for r in rows)) if rows else 1.0
        self.x = np.linspace(lo, hi, _FINE)
        self.dens: dict[int, np.ndarray] = {}
        for i, f in enumerate(fits):
            if f.mu is not None:
                d = _densities(f.mu, self.x)
                self.dens[i] = d / integrate.trapezoid(d, self.x)
        self.ratio = measure in _RATIO
        self.measure, self.prob = measure, prob
        if threshold is None:
            threshold = 0.8 if self.ratio else math.nan
        self.threshold = float(threshold)

    def summary(self, log_weights: np.ndarray, fits: Sequence[ModelFit]) -> EffectSummary:
        """The mixture of the models with log weights ``log_weights`` (normalised here; -inf leaves a model out)."""
        w = np.exp(log_weights - special.logsumexp(log_weights))
        cont = np.zeros(self.x.size)
        p_null = 0.0
        for i, (wi, f) in enumerate(zip(w, fits, strict=True)):
            if wi == 0.0:
                continue
            if f.mu is None:
                p_null += wi
            else:
                cont += wi * self.dens[i]
        x = self.x
        cdf = integrate.cumulative_trapezoid(cont, x, initial=0.0)
        mean = float(integrate.trapezoid(x * cont, x))

        def below(a: float) -> float:  # P(mu < a), strict
            return float(np.interp(a, x, cdf, left=0.0, right=cdf[-1])) + (p_null if a > 0 else 0.0)

        def ppf(q: float) -> float:
            at0 = float(np.interp(0.0, x, cdf))
            if q <= at0:
                return float(np.interp(q, cdf, x))
            if q <= at0 + p_null:
                return 0.0
            return float(np.interp(q - p_null, cdf, x))

        a = (1.0 - self.prob) / 2.0
        to_rep = math.exp if self.ratio else float
        thr = math.log(self.threshold) if self.ratio else self.threshold
        return EffectSummary(
            measure=self.measure,
            ratio=self.ratio,
            median=to_rep(ppf(0.5)),
            low=to_rep(ppf(a)),
            high=to_rep(ppf(1.0 - a)),
            prob=self.prob,
            mean=mean,
            p_null=float(p_null),
            prob_below_null=below(0.0),
            threshold=self.threshold,
            prob_below_threshold=below(thr) if math.isfinite(thr) else math.nan,
        )


def _inclusion(name: str, mask: np.ndarray, lp: np.ndarray, prior: np.ndarray) -> Inclusion:
    if not mask.any() or mask.all():
        return Inclusion(name, float(prior[mask].sum()), float(mask.all()), math.nan)
    with np.errstate(divide="ignore"):
        log_post_odds = special.logsumexp(lp[mask]) - special.logsumexp(lp[~mask])
        log_prior_odds = math.log(prior[mask].sum()) - math.log(prior[~mask].sum())
    return Inclusion(name, float(prior[mask].sum()), float(special.expit(log_post_odds)),
                     float(log_post_odds - log_prior_odds))  # fmt: skip


def combine(
    fits: Sequence[ModelFit], measure: str, threshold: float | None, prob: float
) -> tuple[EffectSummary, EffectSummary, tuple[Inclusion, Inclusion, Inclusion], tuple[ModelRow, ...],
           tuple[BiasModelResult, ...], float]:  # fmt: skip
    """Posterior model probabilities, inclusion Bayes factors, the averaged and conditional effects, each bias
    component's result and the averaged tau (module docstring)."""
    prior = np.array([f.spec.prior_prob for f in fits])
    le = np.array([f.log_evidence for f in fits])
    lp = le + np.log(prior)
    post = np.exp(lp - special.logsumexp(lp))
    effect = np.array([f.spec.effect for f in fits])
    het = np.array([f.spec.heterogeneity for f in fits])
    biased = np.array([f.spec.bias.key != "none" for f in fits])
    mix = MuMixtures(fits, measure, threshold, prob)
    averaged = mix.summary(lp, fits)
    conditional = mix.summary(np.where(effect, lp, -np.inf), fits)
    rows = tuple(
        ModelRow(f.spec.key, f.spec.effect, f.spec.heterogeneity, f.spec.bias.key, f.spec.bias.label,
                 float(f.spec.prior_prob), float(f.log_evidence), float(p), f.tau_mean, f.bias_mean, f.settled)
        for f, p in zip(fits, post, strict=True)
    )  # fmt: skip
    components: list[BiasModelResult] = []
    for key in dict.fromkeys(f.spec.bias.key for f in fits):
        mask = np.array([f.spec.bias.key == key for f in fits])
        inc = _inclusion(key, mask, lp, prior)
        label = next(f.spec.bias.label for f in fits if f.spec.bias.key == key)
        eff = mix.summary(np.where(mask & effect, lp, -np.inf), fits) if (mask & effect).any() else None
        components.append(BiasModelResult(key, label, inc.prior_prob, inc.posterior_prob, inc.log_bf, eff))
    tau_mean = float(np.sum(post * np.array([f.tau_mean for f in fits])))
    inclusions = (_inclusion("effect", effect, lp, prior), _inclusion("heterogeneity", het, lp, prior),
                  _inclusion("publication bias", biased, lp, prior))  # fmt: skip
    return averaged, conditional, inclusions, rows, tuple(components), tau_mean
