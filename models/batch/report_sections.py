"""The corpus report's sections, each from the rows of :func:`models.batch.report_data.load`: Markdown lines, and
the figure each section shows (drawn by :mod:`models.report.corpus_figures`).

Published comparisons are stated with their source and with how the published figure and this corpus's differ in
inclusion and priors (:mod:`models.cochrane_references`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.batch.report_data import BF_CLASSES, K_CLASSES, fmt_bf, k_label, quantiles, share
from models.cochrane_references import (
    BARTOS2023_HEADLINE,
    BARTOS2023_SOURCE,
    COMPARISON_TYPES,
    OUTCOME_TYPES,
    RHODES2016_I2,
    TURNER2015,
    TURNER2015_GENERAL,
    TURNER2015_SOURCE,
    lognormal_tau_quantile,
)
from models.report import corpus_figures as figures

BINOMIAL, NORMAL = "binomial_normal_exact", "normal_normal_exact"
MODEL_NAMES = {BINOMIAL: "binomial-normal", NORMAL: "normal-normal"}
MIN_GROUP = 20
"""Outcome types with fewer meta-analyses than this are not compared with Turner et al. one by one."""


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A Markdown table ('|' in cells replaced by '/')."""

    def cell(x: object) -> str:
        return str(x).replace("|", "/").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]


def model_rows(rows: pd.DataFrame, model: str, primary: bool = True) -> pd.DataFrame:
    """The rows of one model (under the run's primary pair unless ``primary`` is False)."""
    sub = rows[rows["model"] == model]
    return sub[sub["primary_priors"]] if primary else sub


def binary_rows(rows: pd.DataFrame, model: str) -> pd.DataFrame:
    """One model's primary rows on the log odds ratio scale (the scale of the published Cochrane figures)."""
    sub = model_rows(rows, model)
    return sub[sub["measure"] == "OR"]


def bayesian_i2(frame: pd.DataFrame, typical: dict[str, float]) -> np.ndarray:
    """I^2 (percent) at each row's posterior median of tau, ``tau^2 / (tau^2 + s^2)`` with the meta-analysis's typical
    within-study variance ``s^2`` (NaN where it is unknown)."""
    s2 = np.array([typical.get(a, math.nan) for a in frame["analysis"]])
    tau2 = frame["tau_median"].to_numpy(dtype=float) ** 2
    return 100.0 * tau2 / (tau2 + s2)


# -- the published figures, side by side --------------------------------------------------------------------------


def published(rows: pd.DataFrame, typical: dict[str, float], priors_note: str) -> list[str]:
    """The side-by-side table against Turner 2015, Rhodes 2016 and Bartoš 2023, with the differences stated."""
    bn, nn = binary_rows(rows, BINOMIAL), binary_rows(rows, NORMAL)
    m, s = TURNER2015_GENERAL
    turner = (f"median {lognormal_tau_quantile(m, s, 0.5):.2f} (95% {lognormal_tau_quantile(m, s, 0.025):.2f}-"
              f"{lognormal_tau_quantile(m, s, 0.975):.2f})")  # fmt: skip
    rhodes = RHODES2016_I2["OR"]
    reml_tau = nn["tau_reml"]
    body = [
        ["tau, between-study SD of log OR: median (2.5%-97.5%)", f"{turner}: predictive distribution for a new "
         f"meta-analysis, general setting [{TURNER2015_SOURCE}, p. 993]", quantiles(bn["tau_median"]) +
         " (posterior medians)", f"{quantiles(reml_tau)} (REML; {share(reml_tau == 0)} exactly 0)"],
        ["I^2 (%): median (2.5%-97.5%)", f"{rhodes.median:.0f} ({rhodes.low:.0f}-{rhodes.high:.0f}): predictive "
         f"distribution, {rhodes.setting} [{rhodes.source}]", quantiles(bayesian_i2(bn, typical), 0) +
         " (at the posterior median of tau)", f"{quantiles(nn['freq_i2'], 0)} (REML, metafor's I^2)"],
        ["meta-analyses more consistent with no effect: BF10 < 1 for an effect", f'"{BARTOS2023_HEADLINE}" '
         f"[{BARTOS2023_SOURCE}]", share(bn["log10_bf_effect"] < 0), share(nn["log10_bf_effect"] < 0)],
        ["... with no heterogeneity: BF10 < 1 for heterogeneity", "(same)", share(bn["log10_bf_heterogeneity"] < 0),
         share(nn["log10_bf_heterogeneity"] < 0)],
    ]  # fmt: skip
    lines = [
        "## Published meta-research, side by side",
        "",
        f"Binary outcomes on the log odds ratio scale: {bn['analysis'].nunique()} meta-analyses (binomial-normal "
        f"model), {nn['analysis'].nunique()} (normal-normal model and REML). {priors_note}",
        "",
        *table(["quantity", "published", "this corpus: binomial-normal", "this corpus: normal-normal / REML"], body),
        "",
        "How the comparisons differ:",
        "",
        "- **Turner et al. 2015** fitted a hierarchical model to 14,886 meta-analyses of binary outcomes in the "
        "Cochrane Database (issue 1, 2008; all sizes from 2 studies): their figure is the predictive distribution of "
        "the *true* "
        "tau of a new meta-analysis, free of estimation error. Here each meta-analysis gives an *estimate*: posterior "
        "medians are pulled towards the prior (towards Turner's own general-setting distribution under the default "
        "priors), and REML estimates scatter widely and are often exactly 0. The calibration check below is the "
        "like-for-like test.",
        "- **Rhodes, Turner & Higgins 2016** modelled I^2 in 3,873 binary-outcome meta-analyses of the same database; "
        "their figure is again a predictive distribution for a new meta-analysis. Here I^2 is computed per "
        "meta-analysis (from the posterior median of tau and the typical within-study variance, or by REML).",
        "- **Bartoš et al. 2023** fitted a binomial-normal model averaged over effect x heterogeneity (prior "
        "probability 1/2 each) to Cochrane binary outcomes, with their empirical priors: effect Student-t(0, 0.58, 4) "
        "on log OR, tau InvGamma(1.77, 0.55). Their headline is reproduced here only when this run used those priors "
        "(`--priors bartos2023`); under other priors the same model average gives other Bayes factors. Their "
        "baseline-risk prior and inclusion (their own extraction of the Cochrane database) also differ from this "
        "corpus's (symmetric arm parametrisation with Normal(0, 2.5^2) on each study's mean log-odds).",
        "",
    ]
    return lines + body_notes(rows)


def body_notes(rows: pd.DataFrame) -> list[str]:
    """The inclusion of this corpus in one line."""
    k = rows.drop_duplicates("analysis")["k"]
    return [f"This corpus: {k.size} meta-analyses with a posterior, {k.min()} to {k.max()} studies (median "
            f"{int(np.median(k))}).", ""]  # fmt: skip


# -- tau by outcome type --------------------------------------------------------------------------------------------


def turner_row(outcome: str) -> tuple[tuple[float, float, float], ...]:
    """Turner et al. 2015's predictive (median, 2.5%, 97.5%) of tau for ``outcome``, one per comparison type."""
    out = []
    for comparison in COMPARISON_TYPES:
        m, s = TURNER2015[(outcome, comparison)]
        out.append(tuple(lognormal_tau_quantile(m, s, q) for q in (0.5, 0.025, 0.975)))
    return tuple(out)


def tau_by_outcome(rows: pd.DataFrame, min_group: int = MIN_GROUP) -> tuple[list[str], Figure | None]:
    """The distribution of tau by outcome type against Turner et al. 2015's, where the manifest labels it (types with
    at least ``min_group`` meta-analyses)."""
    bn, nn = binary_rows(rows, BINOMIAL), binary_rows(rows, NORMAL)
    lines = ["## Heterogeneity by outcome type, beside Turner et al. 2015", ""]
    counts = bn["outcome_type"].value_counts()
    types = [t for t in OUTCOME_TYPES if counts.get(t, 0) >= min_group]
    if not types:
        return lines + [f"No outcome type has {min_group} or more meta-analyses labelled in the manifest "
                        "(`outcome_type`).", ""], None  # fmt: skip
    body, groups = [], []
    for t in types:
        post = bn.loc[bn["outcome_type"] == t, "tau_median"].to_numpy()
        reml = nn.loc[nn["outcome_type"] == t, "tau_reml"].to_numpy()
        ref = turner_row(t)
        medians = [r[0] for r in ref]
        body.append([OUTCOME_TYPES[t], post.size, quantiles(post), quantiles(reml), share(reml == 0),
                     f"{min(medians):.2f}-{max(medians):.2f}",
                     f"{min(r[1] for r in ref):.2f}-{max(r[2] for r in ref):.2f}"])  # fmt: skip
        groups.append(figures.TauGroup(f"{OUTCOME_TYPES[t]} (n = {post.size})", post, reml, ref))
    unlabelled = int((bn["outcome_type"] == "").sum())
    lines += table(["outcome type", "n", "posterior median of tau", "REML tau", "REML tau = 0",
                    "Turner median (5 comparison types)", "Turner 95% (widest)"], body)  # fmt: skip
    lines += [
        "",
        f"Outcome types with at least {min_group} meta-analyses; {unlabelled} meta-analyses have no outcome type. "
        f"Turner's columns: the range over the five types of comparison of {TURNER2015_SOURCE} (the corpus does not "
        "say whether a comparison is pharmacological). Medians (2.5%-97.5%) of the corpus's values; the caveats of "
        "the side-by-side table apply.",
        "",
        "![tau by outcome type](tau_by_outcome.png)",
        "",
    ]
    return lines, figures.tau_by_group(groups, "Turner 2015 predictive median and 95% (each comparison type)")


# -- Bayes factors ---------------------------------------------------------------------------------------------------


def class_shares(frame: pd.DataFrame, column: str) -> np.ndarray:
    labels = frame[column]
    labels = labels[labels != ""]
    return np.array([(labels == c).mean() if labels.size else math.nan for c in BF_CLASSES])


def bayes_factors(rows: pd.DataFrame) -> tuple[list[str], Figure | None]:
    """The Bayes factor categories for an effect and for heterogeneity, by model, with the extremes."""
    lines = ["## Bayes factors for an effect and for heterogeneity", ""]
    body, panels = [], []
    for model, name in MODEL_NAMES.items():
        sub = model_rows(rows, model)
        if sub.empty:
            continue
        series = {}
        for what in ("effect", "heterogeneity"):
            column = f"bf_{what}_class"
            counts = [int((sub[column] == c).sum()) for c in BF_CLASSES]
            n = int((sub[column] != "").sum())
            body.append([name, what, n, *(f"{100 * c / max(n, 1):.1f}% ({c})" for c in counts),
                         fmt_bf(float(np.nanmin(sub[f"log10_bf_{what}"]))),
                         fmt_bf(float(np.nanmax(sub[f"log10_bf_{what}"])))])  # fmt: skip
            series[what] = class_shares(sub, column)
        panels.append((f"{name} model", BF_CLASSES, series))
    if not panels:
        return lines + ["No Bayes factors.", ""], None
    lines += table(["model", "BF10 for", "n", *BF_CLASSES, "smallest", "largest"], body)
    lines += [
        "",
        "Inclusion Bayes factors from the exact marginal likelihoods of {fixed, random} x {null, effect} (prior "
        "probability 1/4 each), categories on Jeffreys' scale (a BF on an edge goes to the category above). In the "
        "results table `log_bf10_*` are natural logs; divide by ln 10 = 2.303 for log10. A Bayes factor beyond what a "
        "double holds is stated as > 10^300.",
        "",
        "![Bayes factor categories](bayes_factors.png)",
        "",
    ]
    return lines, figures.bayes_factor_classes(panels)


# -- P(benefit) and p-values ------------------------------------------------------------------------------------------


def benefit_vs_p(rows: pd.DataFrame) -> tuple[list[str], Figure | None]:
    """P(benefit) against the one-sided p-value for benefit, by model."""
    lines = ["## P(benefit) against the one-sided p-value", ""]
    body, panels = [], []
    for model, name in MODEL_NAMES.items():
        sub = model_rows(rows, model)
        sub = sub[np.isfinite(sub["p_one_sided"])]
        if sub.empty:
            continue
        p, prob = sub["p_one_sided"].to_numpy(), sub["p_benefit"].to_numpy()
        sig, strong = p < 0.025, prob > 0.975
        important = sub["p_benefit"].to_numpy() > 0.95
        body.append([name, sub.shape[0], share(sig), share(strong), share(sig & strong), share(sig & ~strong),
                     share(~sig & strong), share(important & ~(p < 0.05))])  # fmt: skip
        panels.append((f"{name} model", p, prob))
    if not panels:
        return lines + ["No rows with both a posterior and a frequentist result.", ""], None
    lines += table(["model", "n", "p < 0.025 (one-sided)", "P(benefit) > 0.975", "both", "p only", "P only",
                    "P(benefit) > 0.95 with one-sided p >= 0.05"], body)  # fmt: skip
    lines += [
        "",
        "The one-sided p-value for benefit is small on the benefit side and near 1 on the harm side, so harmful and "
        "beneficial results are not mixed (a two-sided p is). Both axes are on the logit scale; values beyond 1e-6 of "
        "0 or 1 are drawn at 1e-6. Under a flat prior and a normal likelihood every point would lie on the line; the "
        "priors, the exact binomial likelihood and tau's uncertainty move it.",
        "",
        "![P(benefit) against the one-sided p-value](prob_benefit_vs_p.png)",
        "",
    ]
    return lines, figures.probability_vs_p(panels)


# -- number of studies ------------------------------------------------------------------------------------------------


def by_number_of_studies(rows: pd.DataFrame) -> list[str]:
    """Heterogeneity, evidence and significance by the number of studies (binomial-normal model where present)."""
    model = BINOMIAL if not model_rows(rows, BINOMIAL).empty else NORMAL
    sub, reml = model_rows(rows, model), model_rows(rows, NORMAL)
    body = []
    for low, high in K_CLASSES:
        label = k_label(low, high)
        s, r = sub[sub["k_class"] == label], reml[reml["k_class"] == label]
        if s.empty:
            continue
        het, eff = s["log10_bf_heterogeneity"], s["log10_bf_effect"]
        third = math.log10(3)
        body.append([label, s.shape[0], quantiles(s["tau_median"]), share(r["tau_reml"] == 0), share(het > third),
                     share(het < -third), share(eff > third), share(eff < -third),
                     share(r["freq_p"] < 0.05)])  # fmt: skip
    return [
        "## Results by number of studies",
        "",
        *table(
            [
                "studies",
                "n",
                f"tau posterior median ({MODEL_NAMES[model]})",
                "REML tau = 0",
                "BF10 het > 3",
                "BF10 het < 1/3",
                "BF10 effect > 3",
                "BF10 effect < 1/3",
                "REML p < 0.05",
            ],
            body,
        ),  # fmt: skip
        "",
    ]


# -- the two models ---------------------------------------------------------------------------------------------------


def model_agreement(rows: pd.DataFrame) -> tuple[list[str], Figure | None]:
    """Binomial-normal against normal-normal, meta-analysis by meta-analysis (the same priors)."""
    lines = ["## Binomial-normal against normal-normal", ""]
    keys = ["analysis", "tau_prior", "effect_prior"]
    bn, nn = model_rows(rows, BINOMIAL, False), model_rows(rows, NORMAL, False)
    nn = nn[nn["measure"] == "OR"]
    both = bn.merge(nn, on=keys, suffixes=("_bn", "_nn"))
    both = both[both["primary_priors_bn"]]
    if both.empty:
        return lines + ["The run has no meta-analysis with both models on the log odds ratio scale.", ""], None
    d_effect = np.abs(np.log(both["effect_median_bn"]) - np.log(both["effect_median_nn"]))
    d_tau = np.abs(both["tau_median_bn"] - both["tau_median_nn"])
    d_p = np.abs(both["p_benefit_bn"] - both["p_benefit_nn"])
    body = [
        ["absolute difference of log OR medians", quantiles(d_effect, 3), share(d_effect > 0.1)],
        ["absolute difference of tau medians", quantiles(d_tau, 3), share(d_tau > 0.1)],
        ["absolute difference of P(benefit)", quantiles(d_p, 3), share(d_p > 0.1)],
        ["BF10 effect in another category", "", share(both["bf_effect_class_bn"] != both["bf_effect_class_nn"])],
        ["BF10 heterogeneity in another category", "",
         share(both["bf_heterogeneity_class_bn"] != both["bf_heterogeneity_class_nn"])],
    ]  # fmt: skip
    lines += table(["quantity", "median (2.5%-97.5%)", "above 0.1 (or: differs)"], body)
    lines += [
        "",
        f"{both.shape[0]} meta-analyses, primary priors. The normal-normal model uses the per-study log odds ratios "
        "with 0.5 added to zero cells and double-zero studies left out (as REML); the binomial-normal model uses the "
        "counts, every study included. They part most where events are rare.",
        "",
        "![binomial-normal against normal-normal](model_agreement.png)",
        "",
    ]
    fig = figures.agreement([
        ("tau, posterior median", both["tau_median_nn"].to_numpy(), both["tau_median_bn"].to_numpy(),
         "normal-normal", "binomial-normal"),
        ("log10 BF10 for heterogeneity", both["log10_bf_heterogeneity_nn"].to_numpy(),
         both["log10_bf_heterogeneity_bn"].to_numpy(), "normal-normal", "binomial-normal"),
    ])  # fmt: skip
    return lines, fig


# -- prior sensitivity ------------------------------------------------------------------------------------------------


def prior_sensitivity(rows: pd.DataFrame) -> list[str]:
    """By prior pair (a ``--priors grid`` run): the corpus's summaries, and each meta-analysis's spread."""
    model = BINOMIAL if not model_rows(rows, BINOMIAL, False).empty else NORMAL
    sub = model_rows(rows, model, False)
    if sub[["tau_prior", "effect_prior"]].drop_duplicates().shape[0] < 2:
        return []
    body = []
    for (tau, effect), g in sub.groupby(["tau_prior", "effect_prior"], sort=False):
        body.append([tau, effect, g.shape[0], quantiles(g["tau_median"]), share(g["p_benefit"] > 0.95),
                     share(g["log10_bf_effect"] > math.log10(3)), share(g["log10_bf_heterogeneity"] > math.log10(3)),
                     share(g["log10_bf_heterogeneity"] < -math.log10(3))])  # fmt: skip
    spread = sub.groupby("analysis").agg(p_lo=("p_benefit", "min"), p_hi=("p_benefit", "max"),
                                         t_lo=("tau_median", "min"), t_hi=("tau_median", "max"),
                                         b_lo=("log10_bf_heterogeneity", "min"),
                                         b_hi=("log10_bf_heterogeneity", "max"))  # fmt: skip
    crosses = (spread["p_lo"] <= 0.95) & (spread["p_hi"] > 0.95)
    flips = (spread["b_lo"] < 0) & (spread["b_hi"] > 0)
    return [
        f"## Prior sensitivity ({MODEL_NAMES[model]} model, every prior pair of the grid)",
        "",
        *table(
            [
                "tau prior",
                "effect prior",
                "n",
                "tau posterior median",
                "P(benefit) > 0.95",
                "BF10 effect > 3",
                "BF10 het > 3",
                "BF10 het < 1/3",
            ],
            body,
        ),  # fmt: skip
        "",
        f"Across the grid, per meta-analysis: range of P(benefit) {quantiles(spread['p_hi'] - spread['p_lo'])}; "
        f"range of the tau median {quantiles(spread['t_hi'] - spread['t_lo'])}; P(benefit) on both sides of 0.95 "
        f"under some pair: {share(crosses)}; BF10 for heterogeneity on both sides of 1: {share(flips)}.",
        "",
    ]
