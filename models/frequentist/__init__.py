"""Frequentist meta-analysis engine reproducing R metafor 3.8 (MH, Peto, EE/DL/REML/PM, HKSJ, Q/I2, Egger)."""

from models.frequentist.bias import egger
from models.frequentist.heterogeneity import cochran_q, i2_from_q, i2_from_tau2
from models.frequentist.mantel_haenszel import mantel_haenszel
from models.frequentist.peto import peto
from models.frequentist.pooling import METHODS, check_method, format_report, pool, study_effects
from models.frequentist.random_effects import ConvergenceError, rma, tau2_dl, tau2_pm, tau2_reml
from models.frequentist.result import EggerResult, PooledResult, SubgroupResult
from models.frequentist.sensitivity import cumulative, leave_one_out, subgroup_analysis

__all__ = [
    "METHODS",
    "ConvergenceError",
    "EggerResult",
    "PooledResult",
    "SubgroupResult",
    "check_method",
    "cochran_q",
    "cumulative",
    "egger",
    "format_report",
    "i2_from_q",
    "i2_from_tau2",
    "leave_one_out",
    "mantel_haenszel",
    "peto",
    "pool",
    "rma",
    "study_effects",
    "subgroup_analysis",
    "tau2_dl",
    "tau2_pm",
    "tau2_reml",
]
