"""The corpus report: ``report.md`` and PNG figures from the final results table, for a methods researcher.

Sections (:mod:`models.batch.report_sections`, figures by :mod:`models.report.corpus_figures`):

1. the run: meta-analyses, rows by status, the priors (as :func:`models.prior_policy.statement` words them);
2. published meta-research side by side: tau against Turner et al. 2015, I^2 against Rhodes, Turner & Higgins
   2016, the share of Bayes factors below 1 against Bartoš et al. 2023's headline, each with its source and the
   differences in inclusion and priors;
3. tau by outcome type against Turner et al. 2015's Table IV, where the manifest gives ``outcome_type``;
4. a calibration check of the heterogeneity prior (:mod:`models.batch.calibration`: a prior predictive check of
   Cochran's Q; it reads the study files again);
5. Bayes factor categories for an effect and for heterogeneity (log10 beside the category; "> 10^300" beyond a
   double);
6. P(benefit) against the one-sided p-value for benefit, on logit axes;
7. results by number of studies; 8. binomial-normal against normal-normal; 9. prior sensitivity (``--priors grid``);
10. rows with status ``error``, by cause.

Everything is computed from ``results.parquet`` (and the study files it names, for 4 and the I^2 of 2); the same
table gives the same report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.atomic import write_text
from models.batch import MEASURES
from models.batch import report_sections as sections
from models.batch.analyse import Options
from models.batch.calibration import decile_shares, q_pit, read_effects
from models.batch.corpus import Entry
from models.batch.report_data import load
from models.prior_policy import statement
from models.report import corpus_figures as figures
from models.report.files import save_figure

MAX_ERRORS_LISTED = 25


def _priors(options: Options, measures: Sequence[str]) -> list[str]:
    written = options.priors.written() and options.prior_set != "bartos2023"
    lines = [f"- {m}: {statement(m, options.pairs(m)[0], written=written)}" for m in measures]
    if options.prior_set == "grid":
        lines.append("- `--priors grid`: every pair of the policy's sensitivity grid was also run (section Prior "
                     "sensitivity); the other sections use the primary pair.")  # fmt: skip
    return lines


def _priors_note(options: Options) -> str:
    if options.prior_set == "bartos2023":
        return "Priors of this run: Bartoš et al.'s empirical pairs (`--priors bartos2023`)."
    return (
        "Priors of this run: the toolkit's primary pair (Turner et al. 2015 general setting for tau and Normal(0, 1) "
        "for log OR, unless written); run with `--priors bartos2023` for Bartoš et al.'s."
    )


def _calibration(rows: pd.DataFrame, options: Options) -> tuple[list[str], Figure | None, dict[str, float]]:
    """The prior predictive check of Q for the primary tau prior of each measure, and the typical within-study
    variances (for I^2)."""
    nn = sections.model_rows(rows, sections.NORMAL)
    sources = list(nn[["analysis", "source", "measure"]].itertuples(index=False, name=None))
    effects, unread = read_effects(sources, options.seed)
    typical = {e.analysis: e.typical_variance for e in effects}
    lines = ["## Is the heterogeneity prior calibrated for this corpus?", ""]
    if not effects:
        return lines + ["No study file could be read again: no check.", ""], None, typical
    measure_of = dict(zip(nn["analysis"], nn["measure"], strict=True))
    panels, body = [], []
    for measure in sorted({measure_of[e.analysis] for e in effects}):
        prior = options.pairs(measure)[0].tau
        group = [e for e in effects if measure_of[e.analysis] == measure]
        for what, p_zero in (("random-effects prior", 0.0), ("model-averaged prior (1/2 at tau = 0)", 0.5)):
            u = np.array([q_pit(e, prior, options.seed, p_zero) for e in group])
            deciles = decile_shares(u)
            body.append([measure, prior.key, what, u.size, f"{100 * deciles[0]:.1f}%", f"{100 * deciles[-1]:.1f}%",
                         f"{100 * np.mean(u > 0.975):.1f}%", f"{100 * np.mean(u < 0.025):.1f}%"])  # fmt: skip
            panels.append((f"{measure}, {prior.key}, {what}", u))
    lines += sections.table(["measure", "tau prior", "prior of tau", "n", "u in lowest tenth", "u in highest tenth",
                             "u > 0.975", "u < 0.025"], body)  # fmt: skip
    lines += [
        "",
        "u = P(Q_rep <= Q_obs) for each meta-analysis under the prior predictive distribution of Cochran's Q (tau "
        "from the prior, normal-normal model on the REML effects; 4,000 seeded simulations each). If the prior "
        "described this corpus, u would be uniform: 10% in each tenth, 2.5% beyond each 2.5% point. More u near 1 "
        "means more heterogeneity than the prior expects; near 0, less.",
    ]
    if unread:
        lines.append(f"{len(unread)} study files could not be read again and are left out of the check.")
    lines += ["", "![calibration of the tau prior](tau_calibration.png)", ""]
    return lines, figures.pit_histograms(panels), typical


def _cause(message: str) -> str:
    """An error message without names and numbers: what the rows with that cause share."""
    last = message.split("; ")[-1]
    return re.sub(r"\d+(\.\d+)?", "N", re.sub(r"'[^']*'", "'...'", last)).strip()


def _errors(errors: pd.DataFrame) -> list[str]:
    lines = ["## Rows with status error, by cause", ""]
    if errors.empty:
        return lines + ["None.", ""]
    causes = errors["message"].map(_cause).value_counts()
    lines += sections.table(["cause", "rows"], [[c, n] for c, n in causes.items()])
    lines += ["", "First rows (all in results.csv):", ""]
    first = errors.head(MAX_ERRORS_LISTED)
    lines += sections.table(["id", "model", "message"], first[["analysis", "model", "message"]].to_numpy().tolist())
    return lines + [""]


def write_report(out: Path, options: Options, entries: Sequence[Entry] | None = None) -> Path:
    """Write ``report.md`` and its figures into ``out``; returns the Markdown file. ``entries`` (the corpus) give
    each meta-analysis's outcome type."""
    types = {e.id: e.outcome_type for e in entries or () if e.outcome_type}
    rows, errors = load(out, types)
    present = set(rows["measure"]) | set(errors["measure"])
    measures = [m for m in MEASURES if m in present] or ["OR"]
    n_ma = pd.concat([rows["analysis"], errors["analysis"]]).nunique()
    partial = int((rows["status"] == "partial").sum())
    lines = [
        "# Corpus report",
        "",
        f"{n_ma} meta-analyses, {rows.shape[0] + errors.shape[0]} result rows: {rows.shape[0] - partial} `ok`, "
        f"{partial} `partial` (the posterior computed, a derived quantity not: see `message` in results.csv), "
        f"{errors.shape[0]} `error` (nothing computed; causes at the end). Frequentist: REML random effects, Wald "
        "interval and p-value (metafor's `rma`).",
        "",
        *_priors(options, measures),
        "",
    ]
    figures_out: dict[str, Figure | None] = {}
    calibration, figures_out["tau_calibration.png"], typical = _calibration(rows, options)
    lines += sections.published(rows, typical, _priors_note(options))
    part, figures_out["tau_by_outcome.png"] = sections.tau_by_outcome(rows)
    lines += part + calibration
    for name, section in (("bayes_factors.png", sections.bayes_factors), ("prob_benefit_vs_p.png",
                                                                           sections.benefit_vs_p)):  # fmt: skip
        part, figures_out[name] = section(rows)
        lines += part
    lines += sections.by_number_of_studies(rows)
    part, figures_out["model_agreement.png"] = sections.model_agreement(rows)
    lines += part + sections.prior_sensitivity(rows) + _errors(errors)
    for name, fig in figures_out.items():
        if fig is not None:
            save_figure(fig, out / name)
    return write_text(out / "report.md", "\n".join(lines) + "\n")
