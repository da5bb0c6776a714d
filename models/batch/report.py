"""The corpus report: Markdown and PNG figures from the final results table.

Three questions, each answered for the primary priors and each model separately:

1. P(benefit) against the frequentist REML p-value (figure ``prob_benefit_vs_p.png``);
2. how many "significant" results (p < 0.05, estimate on the benefit side) have a posterior probability of a
   clinically important benefit (beyond ``--threshold``) below 0.5;
3. the distribution of the posterior tau medians against the primary tau prior of ratio measures (figure
   ``tau_medians.png``; the policy's default, Turner 2015 general, unless ``--tau-prior`` was written).

The report opens with the primary priors as :func:`models.prior_policy.statement` words them (the same sentence
``reanalyse fit`` prints).

Reads only the columns it needs from ``results.parquet`` (a few numbers per row).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
from matplotlib.figure import Figure

from models.atomic import write_atomic, write_text
from models.batch import MEASURES
from models.batch.analyse import MODELS, Options
from models.prior_policy import statement
from models.priors import TauPrior

COLUMNS = ["analysis", "model", "measure", "primary_priors", "status", "message", "higher_is_benefit", "p_benefit",
           "p_important", "important_threshold", "freq_p", "freq_estimate", "tau_median"]  # fmt: skip
MAX_ERRORS_LISTED = 25


@dataclass(frozen=True)
class ModelFindings:
    """The report's numbers for one model under the primary priors (ok rows only)."""

    model: str
    n: int
    significant_benefit: int
    significant_not_important: int
    prob_benefit_over_95_not_significant: int
    tau_rows: int
    tau_median_of_medians: float
    tau_share_below_prior_median: float


def _findings(model: str, t: dict[str, np.ndarray], prior_median: float) -> ModelFindings:
    ratio = np.isin(t["measure"], ["OR", "RR"])
    null = np.where(ratio, 1.0, 0.0)
    benefit_side = np.where(t["higher_is_benefit"], t["freq_estimate"] > null, t["freq_estimate"] < null)
    sig = (t["freq_p"] < 0.05) & benefit_side
    tau = t["tau_median"][ratio]
    return ModelFindings(
        model=model,
        n=int(t["freq_p"].size),
        significant_benefit=int(sig.sum()),
        significant_not_important=int((sig & (t["p_important"] < 0.5)).sum()),
        prob_benefit_over_95_not_significant=int(((t["p_benefit"] > 0.95) & ~(t["freq_p"] < 0.05)).sum()),
        tau_rows=int(tau.size),
        tau_median_of_medians=float(np.median(tau)) if tau.size else math.nan,
        tau_share_below_prior_median=float(np.mean(tau < prior_median)) if tau.size else math.nan,
    )


def _save(fig: Figure, path: Path) -> None:
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))


def _figure_p(per_model: dict[str, dict[str, np.ndarray]], path: Path) -> None:
    fig = Figure(figsize=(6.5 * len(per_model), 4.8), layout="constrained")
    axes = fig.subplots(1, len(per_model), squeeze=False)[0]
    for ax, (model, t) in zip(axes, per_model.items(), strict=True):
        p = np.clip(t["freq_p"], 1e-12, 1.0)
        ax.scatter(p, t["p_benefit"], s=12, alpha=0.7, color="#1f77b4")
        ax.set_xscale("log")
        ax.axvline(0.05, color="grey", ls="--", lw=1)
        ax.axhline(0.5, color="grey", ls=":", lw=1)
        ax.axhline(0.95, color="grey", ls=":", lw=1)
        ax.set_xlabel("REML p-value (two-sided; clipped at 1e-12)")
        ax.set_ylabel("posterior P(benefit)")
        ax.set_title(f"{model}, primary priors (n = {p.size})")
    _save(fig, path)


def _figure_tau(per_model: dict[str, dict[str, np.ndarray]], prior: TauPrior, path: Path) -> None:
    fig = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = fig.subplots()
    grid = np.linspace(1e-4, 1.5, 400)
    for model, t in per_model.items():
        tau = t["tau_median"][np.isin(t["measure"], ["OR", "RR"])]
        if tau.size:
            ax.hist(tau, bins=np.linspace(0, 1.5, 31), density=True, alpha=0.5, label=f"{model} (n = {tau.size})")
    ax.plot(grid, prior.pdf(grid), color="black", lw=1.5, label=f"prior: {prior.label}")
    ax.axvline(prior.median(), color="black", ls="--", lw=1, label=f"prior median {prior.median():.2f}")
    ax.set_xlabel("posterior median of tau (SD of log-OR)")
    ax.set_ylabel("density")
    ax.set_title("tau medians against the primary tau prior (ratio measures)")
    ax.legend(fontsize=8)
    _save(fig, path)


def write_report(out: Path, options: Options) -> Path:
    """Write ``report.md``, ``prob_benefit_vs_p.png`` and ``tau_medians.png`` into ``out``; returns the Markdown."""
    threshold = options.threshold
    table = pq.read_table(out / "results.parquet", columns=COLUMNS)
    status = table["status"]
    n_ma = pc.count_distinct(table["analysis"]).as_py()
    errors = table.filter(pc.equal(status, "error"))
    partial = table.filter(pc.equal(status, "partial")).num_rows
    ok = table.filter(pc.and_(pc.not_equal(status, "error"), table["primary_priors"]))
    per_model = {}
    for model in MODELS:
        sub = ok.filter(pc.equal(ok["model"], model))
        if sub.num_rows:
            per_model[model] = {c: sub[c].to_numpy(zero_copy_only=False) for c in COLUMNS[2:]}
    prior = options.priors.primary("OR").tau
    present = set(table["measure"].to_pylist())
    measures = [m for m in MEASURES if m in present] or ["OR"]
    findings = [_findings(m, t, prior.median()) for m, t in per_model.items()]
    if per_model:
        _figure_p(per_model, out / "prob_benefit_vs_p.png")
        _figure_tau(per_model, prior, out / "tau_medians.png")
    lines = [
        "# Corpus report",
        "",
        f"{n_ma} meta-analyses, {table.num_rows} result rows ({errors.num_rows} with status `error`, {partial} "
        "`partial`: the posterior computed, a derived quantity not, see results.csv). Clinically important "
        f"benefit: beyond a ratio of {threshold:g} (1/{threshold:g} when higher is benefit) or the stated SMD. "
        "Frequentist: REML random effects, Wald interval and p-value.",
        "",
        *(f"- {m}: {statement(m, options.priors.primary(m), written=options.priors.written())}" for m in measures),
        "",
        "| model | meta-analyses (ok) | p < 0.05 favouring benefit | ... of which P(important benefit) < 0.5 | "
        "P(benefit) > 0.95 with p >= 0.05 | median of tau medians (ratio) | share below prior median |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in findings:
        lines.append(
            f"| {f.model} | {f.n} | {f.significant_benefit} | {f.significant_not_important} | "
            f"{f.prob_benefit_over_95_not_significant} | {f.tau_median_of_medians:.3f} (n = {f.tau_rows}) | "
            f"{f.tau_share_below_prior_median:.0%} |"
        )
    lines += [
        "",
        f"Prior median of tau: {prior.median():.3f}.",
        "",
        "![P(benefit) against the p-value](prob_benefit_vs_p.png)",
        "",
        "![tau medians against the prior](tau_medians.png)",
        "",
        "## Meta-analyses with errors",
        "",
    ]
    if errors.num_rows == 0:
        lines.append("None.")
    else:
        lines += ["| id | model | message |", "|---|---|---|"]
        for row in errors.slice(0, MAX_ERRORS_LISTED).to_pylist():
            lines.append(f"| {row['analysis']} | {row['model'] or '-'} | {row['message'].replace('|', '/')} |")
        if errors.num_rows > MAX_ERRORS_LISTED:
            lines.append(f"\n... and {errors.num_rows - MAX_ERRORS_LISTED} more rows (see results.csv).")
    return write_text(out / "report.md", "\n".join(lines) + "\n")
