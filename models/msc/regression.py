"""Covariate coding for the meta-regressions on severity, number of infusions, design and dose.

Codings (0/1 indicators, so that ``mu`` is the log-OR of the reference category and each slope a difference of
log-ORs; slopes get Normal(0, 0.5) priors, which on 0/1 indicators allows ORs ratios of about 0.4 to 2.7 between
categories at 95%):

* severity: ``critical`` (severity class critical) and ``includes_moderate`` (the study enrolled non-severe
  patients); reference = severe or severe-critical studies without moderate patients.
* infusions: ``two_infusions`` and ``three_infusions``; reference = one infusion. Studies whose number of
  infusions is unknown or varied (haberle2021, wei2021) are left out of this regression.
* design and dose, jointly: ``nrs`` (non-randomised study; reference = RCT), the "NRS as their own level"
  sensitivity analysis, and ``log_cells_per_kg``, standardised (mean 0, SD 1 over the studies in the model; absolute
  doses were converted with an assumed 70 kg body weight, see data/README.md).
* dose alone (randomised trials, where there is no design contrast): ``log_cells_per_kg`` as above.

The regressions of all studies (:data:`REGRESSIONS`) have two covariates each, so they share one compiled model
structure; the randomised trials' regressions (:data:`RANDOMISED_REGRESSIONS`, the primary hierarchy's version,
reported first) replace design and dose by dose alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Regression:
    """One meta-regression: the studies it uses, their covariates, and the subgroups to report."""

    key: str
    title: str
    covariates: pd.DataFrame
    subgroups: dict[str, dict[str, float]]
    published: dict[str, tuple[str, str]]
    dropped: tuple[str, ...]


def severity_regression(cov: pd.DataFrame) -> Regression:
    """Severity indicators; subgroups severe (reference), critical, includes moderate."""
    x = pd.DataFrame(
        {
            "critical": (cov["severity_class"] == "critical").astype(float),
            "includes_moderate": cov["includes_moderate"].astype(bool).astype(float),
        },
        index=cov.index,
    )
    subgroups = {
        "severe / severe-critical": {"critical": 0.0, "includes_moderate": 0.0},
        "critical": {"critical": 1.0, "includes_moderate": 0.0},
        "includes moderate": {"critical": 0.0, "includes_moderate": 1.0},
    }
    published = {
        "severe / severe-critical": ("yao2022", "mortality_severe"),
        "critical": ("yao2022", "mortality_critical"),
        "includes moderate": ("scrt2026", "mortality_moderate_included"),
    }
    return Regression("severity", "Meta-regression on severity", x, subgroups, published, ())


def infusion_regression(cov: pd.DataFrame) -> Regression:
    """Number-of-infusions indicators; subgroups 1 (reference), 2 and 3 infusions."""
    known = cov["n_infusions"].notna()
    c = cov[known]
    x = pd.DataFrame(
        {
            "two_infusions": (c["n_infusions"] == 2).astype(float),
            "three_infusions": (c["n_infusions"] == 3).astype(float),
        },
        index=c.index,
    )
    subgroups = {
        "1 infusion": {"two_infusions": 0.0, "three_infusions": 0.0},
        "2 infusions": {"two_infusions": 1.0, "three_infusions": 0.0},
        "3 infusions": {"two_infusions": 0.0, "three_infusions": 1.0},
    }
    published = {
        "1 infusion": ("yao2022", "mortality_1_dose"),
        "2 infusions": ("yao2022", "mortality_2_doses"),
        "3 infusions": ("yao2022", "mortality_3_doses"),
    }
    dropped = tuple(cov.index[~known])
    return Regression("infusions", "Meta-regression on the number of infusions", x, subgroups, published, dropped)


def design_dose_regression(cov: pd.DataFrame) -> Regression:
    """Design indicator (NRS vs RCT) and standardised log cells/kg, jointly.

    Non-randomised studies get their own level (the design sensitivity analysis) and the dose slope is adjusted for
    design. Subgroups: RCT and NRS at the median dose; RCT at the 25th and 75th percentile dose.
    """
    known = cov["cells_per_kg"].notna()
    c = cov[known]
    logdose = np.log(c["cells_per_kg"].astype(float))
    mean, sd = float(logdose.mean()), float(logdose.std(ddof=0))
    x = pd.DataFrame(
        {"nrs": (c["design"] == "NRS").astype(float), "log_cells_per_kg": (logdose - mean) / sd}, index=c.index
    )
    q25, q50, q75 = np.quantile(logdose, [0.25, 0.5, 0.75])
    z = {name: (q - mean) / sd for name, q in (("q25", q25), ("q50", q50), ("q75", q75))}
    subgroups = {
        "RCT, median dose": {"nrs": 0.0, "log_cells_per_kg": z["q50"]},
        "NRS, median dose": {"nrs": 1.0, "log_cells_per_kg": z["q50"]},
        f"RCT, {np.exp(q25):.2g} cells/kg (25th pct)": {"nrs": 0.0, "log_cells_per_kg": z["q25"]},
        f"RCT, {np.exp(q75):.2g} cells/kg (75th pct)": {"nrs": 0.0, "log_cells_per_kg": z["q75"]},
    }
    title = "Meta-regression on design (NRS as their own level) and cell dose (log cells/kg)"
    return Regression("design_dose", title, x, subgroups, {}, tuple(cov.index[~known]))


def dose_regression(cov: pd.DataFrame) -> Regression:
    """Standardised log cells/kg alone (randomised trials: no design contrast); subgroups at the 25th, 50th and 75th
    percentile dose."""
    known = cov["cells_per_kg"].notna()
    c = cov[known]
    logdose = np.log(c["cells_per_kg"].astype(float))
    mean, sd = float(logdose.mean()), float(logdose.std(ddof=0))
    x = pd.DataFrame({"log_cells_per_kg": (logdose - mean) / sd}, index=c.index)
    q25, q50, q75 = np.quantile(logdose, [0.25, 0.5, 0.75])
    subgroups = {
        f"{float(np.exp(q)):.2g} cells/kg ({name})": {"log_cells_per_kg": (q - mean) / sd}
        for name, q in (("25th pct", q25), ("median", q50), ("75th pct", q75))
    }
    return Regression("dose", "Meta-regression on cell dose (log cells/kg)", x, subgroups, {}, tuple(cov.index[~known]))


REGRESSIONS = (severity_regression, infusion_regression, design_dose_regression)
"""The meta-regressions of all studies with known counts (a sensitivity analysis)."""

RANDOMISED_REGRESSIONS = (severity_regression, infusion_regression, dose_regression)
"""The meta-regressions of the randomised trials (the primary hierarchy's version)."""


def studies_in_group(covariates: pd.DataFrame, x: dict[str, float]) -> int:
    """Studies whose 0/1 indicators equal the subgroup's (continuous covariates such as dose do not restrict)."""
    indicators = [c for c in covariates.columns if set(covariates[c].unique()) <= {0.0, 1.0}]
    match = np.ones(len(covariates), dtype=bool)
    for c in indicators:
        match &= covariates[c].to_numpy() == x[c]
    return int(match.sum())


def subgroup_log_or(reg: Regression, posterior) -> dict[str, np.ndarray]:
    """Draws of each subgroup's log OR, ``mu + x' beta``, from a meta-regression posterior (chains flattened)."""
    mu = posterior["mu"].values.reshape(-1)
    beta = posterior["beta"].transpose("chain", "draw", "covariate").values.reshape(mu.size, -1)
    labels = [str(c) for c in posterior["covariate"].values]
    return {group: mu + beta @ np.array([x[c] for c in labels]) for group, x in reg.subgroups.items()}
