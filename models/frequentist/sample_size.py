"""Sample size for comparing two proportions: the optimal information size (OIS) of GRADE's imprecision rule.

:func:`two_proportions_n` is the patients per arm that a single trial needs to detect a difference between a control
risk ``p_control`` and a treated risk ``p_treated`` with a two-sided test at level ``alpha`` and the given power, by
the normal approximation without continuity correction (Fleiss, Levin & Paik 2003, eq. 4.14):

    n = (z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{power} sqrt(p_c (1 - p_c) + p_t (1 - p_t)))^2 / (p_c - p_t)^2,

with ``pbar = (p_c + p_t) / 2``. This is the n that R's ``power.prop.test(p1, p2, power, sig.level)`` solves for
(its power equation with ``strict = FALSE`` inverts to this closed form). GRADE (Guyatt et al. 2011, J Clin Epidemiol
64:1283, "GRADE guidelines 6: imprecision") calls the total ``2 n`` the optimal information size: a body of evidence
with fewer patients than one adequately powered trial is imprecise even when its interval looks narrow.
"""

from __future__ import annotations

import math

from scipy import stats


def two_proportions_n(p_control: float, p_treated: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Patients per arm (not rounded) for a two-sided test of ``p_control`` vs ``p_treated`` (proportions in (0, 1),
    different); see the module docstring for the formula and its source."""
    for name, p in (("p_control", p_control), ("p_treated", p_treated)):
        if not 0 < p < 1:
            raise ValueError(f"{name} must be a proportion in (0, 1), got {p!r}")
    if p_control == p_treated:
        raise ValueError("p_control and p_treated must differ: no sample size detects a difference of 0")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha!r} and {power!r}")
    pbar = (p_control + p_treated) / 2
    z_alpha, z_power = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    spread = z_alpha * math.sqrt(2 * pbar * (1 - pbar)) + z_power * math.sqrt(
        p_control * (1 - p_control) + p_treated * (1 - p_treated)
    )
    return spread**2 / (p_control - p_treated) ** 2


def optimal_information_size(
    control_risk: float, relative_reduction: float = 0.2, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """GRADE's optimal information size: the total patients (both arms, rounded up per arm) of one trial powered to
    detect a relative risk reduction ``relative_reduction`` at ``control_risk`` (two-sided ``alpha``, ``power``)."""
    if not 0 < relative_reduction < 1:
        raise ValueError(f"relative_reduction must be in (0, 1), got {relative_reduction!r}")
    n = two_proportions_n(control_risk, control_risk * (1 - relative_reduction), alpha=alpha, power=power)
    return 2 * math.ceil(n)
