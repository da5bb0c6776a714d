"""Exact posterior of the binomial-normal random-effects model by nested quadrature (no MCMC).

Model (log-OR scale; identical to :func:`models.bayes.binomial_normal.build_binomial_normal`)::

    e_c,i ~ Binomial(n_c,i, expit(a_i - t_i / 2))      symmetric parametrisation (primary), or
    e_t,i ~ Binomial(n_t,i, expit(a_i + t_i / 2))      logit p_c = a_i, logit p_t = a_i + t_i  ("control")
    a_i ~ Normal(0, baseline_sd^2)
    t_i ~ Normal(mu + bias_mean_i, tau^2 + bias_sd_i^2)   additive bias model (Turner et al. 2009, JRSS A 172:21)
    mu ~ Normal(m0, s0^2)                                  an EffectPrior
    tau ~ TauPrior

Zero-event and double-zero studies enter with their exact binomial likelihood (no continuity correction).

Three nested integrals, each with its own error control:

1. ``L_i(t) = int Bin(e_c | ...) Bin(e_t | ...) N(a; 0, baseline_sd^2) da`` (binomial coefficients included, so
   ``prod_i L_i`` is a density of the data). For each ``t`` the integrand in ``a`` is log-concave; it is integrated by
   24-node Gauss-Hermite centred at its mode (Newton) and scaled by its curvature (adaptive Gauss-Hermite, exact for
   a Gaussian integrand, error far below 1e-10 for these near-Gaussian ones); the mode comes from Newton steps kept
   inside a shrinking bracket (plain Newton could cycle between saturated tails and leave the nodes off the mode,
   which made ``l_i`` wrong by up to 23 at some nodes for about 1% of random count configurations), started from
   the mode at the nearest t already evaluated moved along its slope ``da/dt``.
   ``l_i(t) = log L_i(t)`` is itself concave (Prekopa), and is tabulated per study on 128 equally spaced nodes
   covering ``l_i >= max - 60`` (found on a coarse grid over |t| <= 40 and one refinement of 64 points, each by
   climbing to the grid's maximum and bisecting for the ends of the level set, which concavity makes the same as
   evaluating the whole grid), then represented by a not-a-knot cubic spline, continued outside the
   nodes by the quadratic with the end value, slope and (non-positive) curvature. Studies are cached by
   ``(e_t, n_t, e_c, n_c, baseline_sd, parametrisation)``: re-using a study costs nothing.
2. ``L_i(mu, tau) = int L_i(t) N(t; mu + b_i, tau^2 + s_bi^2) dt`` by 16-node Gauss-Hermite centred and scaled by
   the product of the kernel with the Gaussian approximation of ``L_i`` (mode, and the wider of the curvature and
   the drop-2 half-widths). For a narrow kernel this is Gauss-Hermite on the kernel (nodes on the smooth spline,
   never a spike on a coarse grid); for a wide one it follows the likelihood. ``tau^2 + s_bi^2 = 0`` is ``L_i(mu)``.
   The nodes are placed as offsets from the kernel mean (``t = m + d + s x`` with ``d`` computed directly), so the
   rule stays exact as tau -> 0 (forming ``c - m`` by subtraction lost all digits once tau < 1e-8 |mu| and inflated
   each study's likelihood by up to e^2 at tau < 1e-16).
3. The posterior over tau in two parts. (i) The lump ``[0, tau_0]``, where the likelihood is flat in tau: the joint
   density is interpolated linearly in tau^2 between a row at tau = 0 and the row at tau_0 and integrated against
   the prior itself (prior cdf, and ``int u^2 p(u) du`` by 24-node Gauss-Legendre), so any density at tau = 0 (finite
   for half-normal/half-Cauchy, an integrable spike for log-t on tau^2) is exact. ``tau_0`` starts where the
   normal-normal approximation moves ``log L`` by ``_FLAT`` = 0.01 and is lowered until the two rows' integrals
   differ by at most 0.01 (interpolation error O(0.01^2) of the lump's mass). (ii) Above ``tau_0``, ``n_tau`` rows
   equally spaced in ``s = log tau`` (trapezoid rule with the Gregory end correction ``h^2/12 g'(s_0)`` at the
   junction, where the integrand in s behaves like ``exp(s)`` for priors with density at 0), up to where the log
   integrand is 30 below its maximum. (Previously the rows started 50 below the maximum of the ``exp(s)`` tail,
   spreading 48 rows over 60 units of log tau.) Per row, ``n_mu`` equally spaced values of ``mu`` centred and
   scaled by a normal approximation (rows sheared to follow ``mu | tau``), widened until the log density at the ends
   is 30 below the row maximum (rows carrying more than ``exp(-45)`` of the mass); trapezoid rule (geometric
   convergence for smooth integrands negligible at the ends). Distribution functions (of mu, tau, a new study's
   effect, the shrunken effects) integrate cubic splines of the log density with 5-point Gauss-Legendre per cell
   (tau below tau_0: the lump formula with the prior cdf); quantiles by root finding (compiled safeguarded Newton
   steps on the cdf and density, from a normal-approximation guess).

Accuracy (tests/bayes/test_exact_binomial.py): against an independent brute-force integration, probabilities,
quantiles and the log evidence agree within 1e-4 under Turner's prior and within 5e-4 (the brute force's own error)
under HalfNormal/HalfCauchy priors; grids of 128 x 96 instead of 48 x 24 move every summary by less than 1e-5 on
the MSC data and a 40-study synthetic set.
"""

from models.bayes.exact_binomial.curves import _CACHE as _CACHE  # re-exported: the batch tests check it is emptied
from models.bayes.exact_binomial.curves import clear_cache
from models.bayes.exact_binomial.likelihood import PARAMETRISATIONS, TableCurves
from models.bayes.exact_binomial.model import BinomialLikelihood, exact_binomial_normal
from models.bayes.exact_binomial.posterior import ExactBinomialPosterior

__all__ = [
    "PARAMETRISATIONS",
    "BinomialLikelihood",
    "ExactBinomialPosterior",
    "TableCurves",
    "clear_cache",
    "exact_binomial_normal",
]
