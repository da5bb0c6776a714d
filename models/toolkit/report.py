"""The report of a reanalysis (Markdown and self-contained HTML via :class:`models.report.Report`).

Bottom line first: P(benefit), the 95% credible interval, P(important effect), tau and the 95% prediction
interval under the primary model and priors; beside it the frequentist random-effects result (metafor's REML, Wald
interval); then the MCMC check, the prior grid, leave-one-out, cumulative and published-estimate tables, the figures,
and the priors with their sources.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from models.formatting import fmt_interval, fmt_probability, probability_clause
from models.measures import is_ratio
from models.prior_policy import statement
from models.report import Report
from models.results import ALL_STUDIES, Frequentist, Kind, Result, find
from models.toolkit import analyses
from models.toolkit.draws import CHAINS, DRAWS_PER_CHAIN
from models.toolkit.pipeline import Reanalysis


def _effect(r: Result) -> str:
    e = r.effect
    return f"{r.measure} {e.median:.2f} (95% CrI {e.low:.2f} to {e.high:.2f})"


def _interval(low: float, high: float, measure: str) -> str:
    """An interval on the reported scale ('–' when not defined; ratios beyond 1000 or below 0.001 as bounds)."""
    return "–" if low != low or high != high else fmt_interval(low, high, ratio=is_ratio(measure))


def _benefit_word(run: Reanalysis) -> str:
    spec = run.spec
    op = ">" if spec.higher_is_benefit else "<"
    return f"{run.primary.measure} {op} {1 if run.primary.is_ratio else 0}"


def bottom_line(run: Reanalysis) -> str:
    """The first paragraph: what the primary analysis says, in numbers with their model and priors."""
    r, spec = run.primary, run.spec
    important = ""
    if r.effect.p_important is not None:
        op = ">" if spec.higher_is_benefit else "<"
        event = f"important benefit, {r.measure} {op} {spec.important:g}"
        important = f" {probability_clause(event, r.effect.p_important, '**')}."
    favours = f"{spec.favours[0]}" if not spec.higher_is_benefit else f"{spec.favours[1]}"
    return (
        f"Across {r.k} studies, the probability that the pooled effect favours {favours} (P({_benefit_word(run)})) is "
        f"**{fmt_probability(r.effect.p_benefit)}**; pooled {_effect(r)}.{important} Between-study SD tau "
        f"{r.tau.median:.2f} (95% CrI {r.tau.low:.2f} to {r.tau.high:.2f}); the true effect in a new setting lies in "
        f"{_interval(r.prediction.low, r.prediction.high, r.measure)} (95% prediction interval)."
        f"{_absolute_sentence(run)} "
        f"Model: {r.key.model.replace('_', '-')}; priors: {spec.tau_prior.label}, {spec.effect_prior.label} "
        f"({'given with --tau-prior/--effect-prior' if run.settings.priors.written() else 'the default'})."
    )


def _per_1000(low: float, high: float) -> str:
    """A 95% CrI of a difference per 1,000 in words: '170 fewer to 22 more'."""

    def words(x: float) -> str:
        return f"{abs(x):.0f} {'fewer' if x < 0 else 'more'}"

    return f"{words(low)} to {words(high)}"


def _absolute_sentence(run: Reanalysis) -> str:
    """The pooled effect per 1,000 patients at the first stated control risk (the data's crude control risk)."""
    if not run.absolute:
        return ""
    a = run.absolute[0]
    treated = run.spec.arms[0]
    return (
        f" At a control risk of {a.control_per_1000:.0f} per 1,000 ({a.control.label}), that is "
        f"{a.deaths_median:.0f} per 1,000 with {treated}: {abs(a.difference_median):.0f} "
        f"{'fewer' if a.difference_median < 0 else 'more'} per 1,000 (95% CrI "
        f"{_per_1000(a.difference_low, a.difference_high)}); "
        f"{probability_clause('at least 20 fewer per 1,000', a.p_important)}."
    )


def absolute_table(run: Reanalysis) -> pd.DataFrame:
    """Events per 1,000 with treatment and the difference at every stated control risk (primary model, 95% CrI)."""
    rows = []
    for a in run.absolute:
        rows.append({
            "control risk per 1,000": f"{a.control_per_1000:.0f} ({a.control.label}; {a.control.source})",
            f"with {run.spec.arms[0]} per 1,000": f"{a.deaths_median:.0f} ({a.deaths_low:.0f} to {a.deaths_high:.0f})",
            "difference per 1,000": f"{a.difference_median:+.0f} ({_per_1000(a.difference_low, a.difference_high)})",
            "P(≥ 10 fewer)": fmt_probability(a.p_arr[0.01]),
            "P(≥ 20 fewer)": fmt_probability(a.p_arr[0.02]),
            "P(≥ 50 fewer)": fmt_probability(a.p_arr[0.05]),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def frequentist_sentence(run: Reanalysis) -> str:
    """The frequentist random-effects result on the same effect table, as metafor's ``rma`` reports it."""
    f: Frequentist | None = run.frequentist
    if f is None:
        return f"Frequentist random effects: none ({run.frequentist_note})."
    scale = f"log {f.measure}" if f.measure in ("OR", "RR") else f.measure
    return (
        f"Frequentist random effects beside it (metafor's rma, {f.method} estimate of tau², Wald 95% CI, {f.k} "
        f"studies): {f.measure} {f.estimate:.2f} (95% CI {f.ci_low:.2f} to {f.ci_high:.2f}), {_p_value(f.p)}; "
        f"tau² {f.tau2:.3g} ({scale} scale), I² {f.i2:.0f}%, Q {f.q:.2f} ({_p_value(f.q_p)})."
    )


def _table(results: list[Result], first: str, label) -> pd.DataFrame:
    rows = []
    for r in results:
        e, pred = r.effect, r.prediction
        rows.append(
            {
                first: label(r),
                "k": r.k,
                "median": e.median,
                "95% CrI": _interval(e.low, e.high, r.measure),
                "P(benefit)": fmt_probability(e.p_benefit),
                "tau": r.tau.median,
                "95% PI": "–" if pred is None else _interval(pred.low, pred.high, r.measure),
            }
        )
    return pd.DataFrame(rows)


def _twin(r: Result) -> str:
    twin = None if r.mcmc is None else r.mcmc.exact_twin_diff_mcse
    return "–" if twin is None else f"{twin:+.1f}"


def _mcmc_check(report: Report, run: Reanalysis) -> None:
    if not run.fits:
        return
    report.add_heading("MCMC check")
    rows = [
        {
            "fit": f.path,
            "model": f.fit.model,
            "gate": str(f.gate),
            "divergences": f.fit.diagnostics.divergences,
            "estimate": _effect(f.results[0]),
            "mean, MCMC - exact (MCSE)": _twin(f.results[0]),
        }
        for f in run.fits
    ]
    report.add_table(pd.DataFrame(rows), "MCMC fits (ArviZ NetCDF files); the primary model beside its exact twin: "
                     "posterior mean of mu, MCMC minus exact, in Monte Carlo standard errors")  # fmt: skip
    for label, failures, passed in run.retried:
        report.add_paragraph(
            f"{label}: the first attempt failed its gates ({'; '.join(failures)}) and was not used; the fit above "
            f"is a retry with a new seed, twice the draws and target_accept 0.99, which "
            f"{'passed' if passed else 'FAILED as well'}."
        )


def _by_prior(r: Result) -> str:
    return f"{r.key.tau_prior} / {r.key.effect_prior}"


def _exact_tables(report: Report, run: Reanalysis) -> None:
    """The prior grid, the normal-normal model beside the binomial-normal one, leave-one-out and cumulative."""
    spec, model = run.spec, analyses.primary_model(run.spec)
    report.add_heading("Prior sensitivity")
    grid = find(run.results, model=model, analysis=ALL_STUDIES)
    report.add_table(_table(grid, "tau prior / effect prior", _by_prior),
                     f"{model} under every prior pair (exact); P(benefit) = P({_benefit_word(run)})")  # fmt: skip
    if spec.counts is not None and model != analyses.NORMAL_EXACT:
        nn = find(run.results, model=analyses.NORMAL_EXACT, tau_prior=spec.tau_prior.key,
                  effect_prior=spec.effect_prior.key, analysis=ALL_STUDIES)  # fmt: skip
        report.add_table(_table(nn, "model", lambda r: r.key.model),
                         "Normal-normal model on the effect table, primary priors")  # fmt: skip
    loo = find(run.results, model=model, kind=Kind.LEAVE_ONE_OUT)
    if loo:
        report.add_heading("Leave one out")
        report.add_table(_table(loo, "left out", lambda r: r.context.subject), "Primary model and priors")
    if run.cumulative:
        report.add_heading("Evidence over time")
        steps = [s.result for s in run.cumulative]
        report.add_table(_table(steps, "up to", lambda r: r.context.subject), "Cumulative by year")


def _published(report: Report, run: Reanalysis) -> None:
    spec = run.spec
    pub = find(run.results, kind=Kind.PUBLISHED, model=analyses.SUMMARY_LEVEL)
    if pub:
        report.add_heading("The published estimate, reanalysed")
        report.add_paragraph(f"{spec.published} taken at face value as the pooled effect (summary-level posterior).")
        report.add_table(_table(pub, "tau prior / effect prior", _by_prior),
                         "Summary-level posterior under every prior pair")  # fmt: skip
    widened = find(run.results, kind=Kind.PUBLISHED, model=analyses.SUMMARY_LEVEL_RE)
    if spec.published_fixed_effect and widened:
        report.add_paragraph(
            f"The published CI is a fixed-effect CI over {spec.k} studies, which leaves out the variation between "
            f"studies; with tau^2/{spec.k} added back (tau integrated over its prior):"
        )
        report.add_table(_table(widened, "tau prior / effect prior", _by_prior),
                         "Summary-level posterior, between-study variance added")  # fmt: skip


FIGURE_CAPTIONS = {
    "forest": "Observed and shrunken study effects, pooled effect, 95% prediction interval",
    "density": "Posterior of the pooled effect; the benefit side is shaded",
    "priors": "P(benefit) by heterogeneity and effect prior",
    "evidence_over_time": "Cumulative pooled effect and P(benefit) by year",
}


def build(run: Reanalysis, figures: dict[str, Path]) -> Report:
    """The whole report."""
    spec, primary = run.spec, run.primary
    report = Report(f"Bayesian reanalysis: {spec.title}")
    report.add_paragraph(bottom_line(run), anchor="bottom-line")
    report.add_paragraph(frequentist_sentence(run), anchor="frequentist")
    if spec.notes:
        report.add_callout("Data as read: " + " ".join(f"{n}." for n in spec.notes), "note")
    if run.quick and run.fits:
        report.add_callout("Quick MCMC (few draws, relaxed gates): a smoke test, not results.", "warning")
    for fit in run.failed_fits:
        report.add_callout(f"MCMC fit {fit.path} FAILED its gates: {'; '.join(fit.fit.diagnostics.failures)}", "error")
    if run.absolute:
        report.add_heading("Absolute effects")
        report.add_table(absolute_table(run), f"{analyses.primary_model(spec)}, primary priors; 95% CrI")
    _mcmc_check(report, run)
    _exact_tables(report, run)
    _published(report, run)
    reg = find((r for f in run.fits for r in f.results), kind=Kind.REGRESSION)
    if reg:
        from models.bayes.normal_normal import BETA_SD_DEFAULT  # with PyMC, loaded only when a model was sampled

        report.add_heading("Meta-regression")
        caption = (
            "Covariates standardised (0/1 covariates only centred); a slope is the ratio of "
            f"{primary.measure}s per SD of its covariate; slope prior Normal(0, {BETA_SD_DEFAULT:g}²)"
        )
        report.add_table(_table(reg, "term", lambda r: r.context.subject), caption)
    report.add_heading("Figures")
    for name, path in figures.items():
        report.add_figure(path, FIGURE_CAPTIONS[name])
    report.add_heading("The ArviZ file")
    report.add_paragraph(
        f"{run.exact_file}: {CHAINS} x {DRAWS_PER_CHAIN:,} exact independent draws of mu, tau, each study's theta and "
        "theta_new (a new study's effect) from the primary posterior, each by inverse-cdf sampling of its exact "
        "marginal (no MCMC, so no R-hat is needed; the variables are drawn independently of one another). Open it "
        "with az.from_netcdf."
    )
    report.add_heading("Priors and their sources")
    report.add_paragraph(statement(spec.measure, run.primary_pair, written=run.settings.priors.written()))
    report.add_paragraph("\n".join([f"- {p}" for p in (*run.taus, *run.effects)]))
    report.add_paragraph(
        f"Primary: {spec.tau_prior.key} and {spec.effect_prior.key}. Scale of tau and of the effect prior: "
        f"{'log ' + primary.measure if primary.is_ratio else primary.measure}. summary.csv has every row."
    )
    return report
