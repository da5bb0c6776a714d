"""Hand-made rows of the columns the corpus report reads (models/batch/report_data.py COLUMNS), chosen so that every
derived number tests/batch/test_report.py checks can be worked out by hand: six meta-analyses A-F under both models
and the primary pair, two of them also under a second tau prior, and one error row. Log10 Bayes factors, tau medians,
P(benefit), the REML log OR and its SE are set in SPEC; the 95% interval and two-sided p follow from them.
Run from the repository root: python tests/reference/corpus_report/make_results_sample.py
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

Z = 1.959963984540054
COLUMNS = ("analysis", "model", "tau_prior", "effect_prior", "primary_priors", "source", "measure", "higher_is_benefit",
           "k", "effect_median", "p_benefit", "tau_median", "tau_low", "tau_high", "log_bf10_effect",
           "log_bf10_heterogeneity", "p_benefit_model_averaged", "freq_estimate", "freq_ci_low", "freq_ci_high",
           "freq_p", "freq_tau2", "freq_i2", "freq_k", "status", "message")  # fmt: skip
# analysis, k, tau (bn, nn), log10 BF effect (bn, nn), log10 BF heterogeneity (bn, nn), P(benefit) (bn, nn),
# REML log OR, its SE, REML tau^2, I^2
SPEC = (
    ("A", 5, (0.10, 0.12), (-1.5, -1.2), (-0.6, -0.5), (0.40, 0.42), 0.10, 0.20, 0.0, 0.0),
    ("B", 6, (0.20, 0.20), (-0.7, -0.7), (-0.2, -0.3), (0.70, 0.69), -0.20, 0.25, 0.01, 10.0),
    ("C", 8, (0.30, 0.42), (0.2, 0.3), (0.3, 0.2), (0.975, 0.975), -0.392, 0.20, 0.04, 30.0),
    ("D", 12, (0.50, 0.45), (0.8, 0.9), (1.2, 1.1), (0.99, 0.99), -0.60, 0.20, 0.25, 60.0),
    ("E", 30, (0.80, 0.82), (400.0, 350.0), (310.0, 305.0), (0.99999999, 0.99999999), -1.2, 0.15, 0.64, 85.0),
    ("F", 5, (0.15, 0.15), (-0.9, -1.0), (-0.4, -0.4), (0.10, 0.12), 0.30, 0.20, 0.0, 0.0),
)
SECOND_PAIR = (
    ("A", 5, 0.30, -1.0, 0.2, 0.50, 0.10, 0.20, 0.0, 0.0),
    ("B", 6, 0.35, -0.5, 0.1, 0.97, -0.20, 0.25, 0.01, 10.0),
)


def _row(a, model, k, tau, bf_e, bf_h, p, y, se, tau2, i2, primary=True, tau_prior="turner2015_general"):
    return {"analysis": a, "model": model, "tau_prior": tau_prior, "effect_prior": "weakly_informative",
            "primary_priors": primary, "source": f"studies/{a}.csv", "measure": "OR", "higher_is_benefit": False,
            "k": k, "effect_median": math.exp(y), "p_benefit": p, "tau_median": tau, "tau_low": tau / 3,
            "tau_high": tau * 3, "log_bf10_effect": bf_e * math.log(10), "log_bf10_heterogeneity": bf_h * math.log(10),
            "p_benefit_model_averaged": p, "freq_estimate": math.exp(y), "freq_ci_low": math.exp(y - Z * se),
            "freq_ci_high": math.exp(y + Z * se), "freq_p": math.erfc(abs(y / se) / math.sqrt(2)), "freq_tau2": tau2,
            "freq_i2": i2, "freq_k": k, "status": "ok", "message": ""}  # fmt: skip


def main() -> None:
    rows = []
    for a, k, tau, bf_e, bf_h, p, y, se, tau2, i2 in SPEC:
        for j, model in enumerate(("binomial_normal_exact", "normal_normal_exact")):
            rows.append(_row(a, model, k, tau[j], bf_e[j], bf_h[j], p[j], y, se, tau2, i2))
    for a, k, tau, bf_e, bf_h, p, y, se, tau2, i2 in SECOND_PAIR:
        rows.append(_row(a, "binomial_normal_exact", k, tau, bf_e, bf_h, p, y, se, tau2, i2, False, "halfnormal_0.5"))
    rows.append({"analysis": "G", "model": "normal_normal_exact", "tau_prior": "turner2015_general",
                 "effect_prior": "weakly_informative", "primary_priors": True, "source": "studies/G.csv",
                 "measure": "OR", "higher_is_benefit": False, "k": 1, "status": "error",
                 "message": "3 studies with no events in either arm left out: 'x', 'y', 'z'; 1 estimable effect(s): "
                            "needs at least 2"})  # fmt: skip
    path = Path(__file__).with_name("results_sample.csv")
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: r.get(c, "") for c in COLUMNS} for r in rows)


if __name__ == "__main__":
    main()
