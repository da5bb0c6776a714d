"""Tests of the compiled step-1 kernels of models.bayes.exact_binomial (log L_i(t) of one study, a integrated out).

Independent references, each named in the test:
(a) the mode in a: scipy's brentq on the gradient of the log integrand (decreasing in a) from a wide bracket, and
    its derivative in t by central differences of those roots;
(b) the Gauss-Hermite rule of the module docstring written here in numpy, node by node, with scipy.special's
    log_expit and gammaln, at the brentq mode: the same rule without the kernel's shared exponentials;
(c) the level-set search against a full evaluation of reference (b) on the whole grid.
"""

import math

import numpy as np
import pytest
from numpy.polynomial.hermite import hermgauss
from scipy import optimize, special

from models.bayes.exact_binomial import kernels as eb

SA = 2.5
XA, WA = hermgauss(24)
# (e_t, n_t, e_c, n_c): balanced, lopsided (Newton once cycled on these), zero cells, all events, a large trial
COUNTS = [
    (12, 100, 20, 98),
    (295, 451, 19, 36),
    (16, 23, 186, 592),
    (286, 527, 3, 7),
    (0, 20, 3, 21),
    (0, 65, 0, 35),
    (40, 40, 0, 40),
    (1500, 5000, 1800, 5000),
]
T = np.array([-40.0, -17.5, -3.0, -0.4, 0.0, 0.9, 6.0, 40.0])


def _offsets(t: float, control: bool) -> tuple[float, float]:
    return (0.0, t) if control else (-0.5 * t, 0.5 * t)


def _ref_mode(t: float, counts: tuple[int, ...], control: bool) -> float:
    """Reference (a): root of the gradient in a by brentq on [-1e4, 1e4] (the prior term makes it change sign)."""
    et, nt, ec, nc = counts
    oc, ot = _offsets(t, control)

    def grad(a: float) -> float:
        return ec - nc * special.expit(a + oc) + et - nt * special.expit(a + ot) - a / SA**2

    return optimize.brentq(grad, -1e4, 1e4, xtol=1e-14, rtol=1e-15, maxiter=500)


def _ref_log_lik(t: float, counts: tuple[int, ...], control: bool) -> float:
    """Reference (b): log L(t) by 24-node Gauss-Hermite centred at the brentq mode, scaled by the curvature."""
    et, nt, ec, nc = counts
    oc, ot = _offsets(t, control)
    a = _ref_mode(t, counts, control)
    pc, pt = special.expit(a + oc), special.expit(a + ot)
    sd = 1.0 / math.sqrt(nc * pc * (1 - pc) + nt * pt * (1 - pt) + 1.0 / SA**2)
    aq = a + math.sqrt(2.0) * sd * XA
    g = (
        ec * special.log_expit(aq + oc)
        + (nc - ec) * special.log_expit(-(aq + oc))
        + et * special.log_expit(aq + ot)
        + (nt - et) * special.log_expit(-(aq + ot))
        - 0.5 * (aq / SA) ** 2
        + XA**2
    )
    lbin = (special.gammaln(nt + 1) - special.gammaln(et + 1) - special.gammaln(nt - et + 1)
            + special.gammaln(nc + 1) - special.gammaln(ec + 1) - special.gammaln(nc - ec + 1))  # fmt: skip
    return float(
        special.logsumexp(g, b=WA) + math.log(math.sqrt(2.0) * sd) + lbin - math.log(SA * math.sqrt(2 * math.pi))
    )


def _args(counts: tuple[int, ...], control: bool) -> tuple:
    et, nt, ec, nc = (float(c) for c in counts)
    return et, nt, ec, nc, SA, control


@pytest.mark.parametrize("control", [False, True])
@pytest.mark.parametrize("counts", COUNTS)
def test_mode_from_any_guess_is_the_root_of_the_gradient(counts, control):
    """Reference (a): the safeguarded Newton search reaches the same mode from guesses far off on either side (the
    warm starts of the curve passes), and its slope da/dt is the derivative of the mode."""
    for t in T:
        ref = _ref_mode(t, counts, control)
        for guess in (-60.0, -5.0, 0.0, ref + 1.0, 5.0, 60.0):
            a, h2, slope = eb._mode_a(t, guess, *_args(counts, control))
            assert abs(a - ref) <= 1e-10 * (1.0 + abs(ref)), (t, guess, a, ref)
        dt = 1e-5
        fd = (_ref_mode(t + dt, counts, control) - _ref_mode(t - dt, counts, control)) / (2 * dt)
        assert slope == pytest.approx(fd, abs=1e-6), t


@pytest.mark.parametrize("control", [False, True])
@pytest.mark.parametrize("counts", COUNTS)
def test_log_lik_at_nodes_matches_the_plain_gauss_hermite_rule(counts, control):
    """Reference (b): the kernel forms exp(-|x|) at the 24 nodes from shared exponentials; the plain rule with
    scipy's log_expit at every node agrees to rounding, also where one arm saturates (|t| = 40)."""
    got = eb._log_lik_t(T, 0.0, *_args(counts, control), XA, np.log(WA))
    ref = np.array([_ref_log_lik(t, counts, control) for t in T])
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-10)


def test_level_set_search_matches_the_full_grid():
    """Reference (c): the climb and the bisections with warm-started modes give the maximum and the ends of the
    level set ``l >= max - 60`` that a full evaluation of the grid gives, from any starting index, for the listed
    studies and 40 random count configurations (seeded, zero cells included)."""
    rng = np.random.default_rng(11)
    n = rng.integers(1, 400, size=(40, 2))
    e = rng.integers(0, n + 1)
    e[rng.random(e.shape) < 0.2] = 0
    configs = COUNTS + [(int(e[i, 0]), int(n[i, 0]), int(e[i, 1]), int(n[i, 1])) for i in range(40)]
    t = np.linspace(-40.0, 40.0, 81)
    for counts in configs:
        ref = np.array([_ref_log_lik(x, counts, False) for x in t])
        top = int(np.argmax(ref))
        inside = np.flatnonzero(ref >= ref[top] - 60.0)
        for start in (0, 40, 80):
            got = eb._level_set(t, start, 0.0, 60.0, *_args(counts, False), XA, np.log(WA))
            assert got[:3] == (top, inside[0], inside[-1]), (counts, start)
