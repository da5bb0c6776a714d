"""The one column vocabulary of every output: :data:`COLUMNS` and the functions that turn results into records
(JSON), tables (pandas, for CSV) and Arrow tables (Parquet).

Documented once, in ``docs/results-columns.md``, generated from :data:`COLUMNS` (``python -m
models.results``) and checked by a test, as is every client's output against it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from models.results.model import Result


@dataclass(frozen=True)
class Column:
    """One output column: its name, value type (``str``, ``float``, ``int`` or ``bool``), meaning, and how a
    :class:`Result` gives its value (None: empty; strings and booleans are never empty)."""

    name: str
    type: type
    meaning: str
    value: Callable[[Result], object]


def _of(group: str, attr: str) -> Callable[[Result], object]:
    def value(r: Result) -> object:
        part = getattr(r, group)
        return None if part is None else getattr(part, attr)

    return value


def _control(attr: str) -> Callable[[Result], object]:
    def value(r: Result) -> object:
        return None if r.absolute is None else getattr(r.absolute.control, attr)

    return value


def _absolute(attr: str, key: float | None = None) -> Callable[[Result], object]:
    def value(r: Result) -> object:
        if r.absolute is None:
            return None
        got = getattr(r.absolute, attr)
        return got[key] if key is not None else got

    return value


def _published(attr: str) -> Callable[[Result], object]:
    def value(r: Result) -> object:
        return None if r.context.published is None else getattr(r.context.published, attr)

    return value


def _text(value: Callable[[Result], object]) -> Callable[[Result], object]:
    def text(r: Result) -> str:
        got = value(r)
        return "" if got is None else str(got)

    return text


REPORTED = "reported scale (ratio for OR/RR)"
COLUMNS: tuple[Column, ...] = (
    Column("analysis", str, "what was analysed: MSC `document/analysis[/variant]`; `fit`: `all_studies`, `without "
           "<study>`, `cumulative ...`, `published`, `absolute_at_<risk>`, a regression term; batch: the "
           "meta-analysis id", lambda r: r.key.analysis),
    Column("model", str, "model code, e.g. `binomial_normal_exact`, `normal_normal_exact`, `binomial_normal` (MCMC), "
           "`summary_level`, `summary_level_re`", lambda r: r.key.model),
    Column("tau_prior", str, "key of the heterogeneity prior (`reanalyse fit --list-priors`)",
           lambda r: r.key.tau_prior),
    Column("effect_prior", str, "key of the effect prior", lambda r: r.key.effect_prior),
    Column("primary_priors", bool, "true under the command's primary prior pair", lambda r: r.primary_priors),
    Column("kind", str, "`pooled`, `leave_one_out`, `cumulative`, `published`, `regression`, `absolute`, `subgroup`, "
           "`small_study` or `single_trial`", lambda r: str(r.kind)),
    Column("parent", str, "the analysis a variant belongs to (empty for a pooled analysis)",
           lambda r: r.context.parent),
    Column("subject", str, "what the variant is about: the study left out, the cumulative step, the regression term, "
           "the control risk, PET/PEESE", lambda r: r.context.subject),
    Column("source", str, "where the data come from: the study file (`fit`, batch) or the MSC document",
           lambda r: r.context.source),
    Column("title", str, "readable name of the analysis", lambda r: r.context.title),
    Column("method", str, "how the posterior was obtained: `exact_quadrature`, `mcmc`, `closed_form`, "
           "`normal_mixture`, `conjugate_monte_carlo`", _text(lambda r: r.method)),
    Column("method_label", str, "the method in words", _text(lambda r: None if r.method is None else r.method.label)),
    Column("measure", str, "effect measure of the posterior: OR, RR, RD, MD or SMD", lambda r: r.measure),
    Column("scale", str, "reported scale of the effect, prediction, published and frequentist estimates: `ratio` "
           "(OR, RR: exp of the log-scale analysis) or `difference`", lambda r: str(r.scale)),
    Column("higher_is_benefit", bool, "true when an effect above the null is a benefit",
           lambda r: r.direction.higher_is_benefit),
    Column("k", int, "studies behind the posterior (summary level widened by tau^2/k: that k)", lambda r: r.k),
    Column("studies", str, "the studies used, separated by `;`", lambda r: ";".join(r.context.studies)),
    Column("missing", str, "studies of the intended set whose counts are unknown (never filled in), `;`-separated",
           lambda r: ";".join(r.context.missing)),
    Column("effect_median", float, f"posterior median of the pooled effect, {REPORTED}", _of("effect", "median")),
    Column("effect_low", float, "lower limit of its 95% equal-tailed credible interval", _of("effect", "low")),
    Column("effect_high", float, "upper limit of its 95% equal-tailed credible interval", _of("effect", "high")),
    Column("p_below_null", float, "P(effect < 1) for ratios, P(effect < 0) for differences",
           _of("effect", "p_below_null")),
    Column("p_benefit", float, "P(effect on the benefit side of the null)", _of("effect", "p_benefit")),
    Column("important_threshold", float, f"smallest important effect, {REPORTED}, on the benefit side",
           _of("effect", "important_threshold")),
    Column("p_important", float, "P(effect beyond important_threshold on the benefit side)",
           _of("effect", "p_important")),
    Column("tau_median", float, "posterior median of tau, the between-study SD on the analysis scale (log OR/log RR)",
           _of("tau", "median")),
    Column("tau_low", float, "lower limit of tau's 95% equal-tailed credible interval", _of("tau", "low")),
    Column("tau_high", float, "upper limit of tau's 95% equal-tailed credible interval", _of("tau", "high")),
    Column("pred_low", float, f"95% prediction interval of the true effect in a new setting (mu + tau z), {REPORTED}: "
           "lower limit", _of("prediction", "low")),
    Column("pred_high", float, "its upper limit", _of("prediction", "high")),
    Column("p_new_benefit", float, "P(the true effect in a new setting is a benefit); not a new study's estimate",
           _of("prediction", "p_new_benefit")),
    Column("control_risk", float, "stated control-arm risk of the absolute effects (proportion)", _control("risk")),
    Column("control_risk_label", str, "what that risk is", _text(_control("label"))),
    Column("control_risk_source", str, "where that risk comes from", _text(_control("source"))),
    Column("events_per_1000", float, "events per 1,000 with treatment at control_risk: posterior median",
           _absolute("deaths_median")),
    Column("events_per_1000_low", float, "its 95% credible interval: lower limit", _absolute("deaths_low")),
    Column("events_per_1000_high", float, "upper limit", _absolute("deaths_high")),
    Column("difference_per_1000", float, "treatment minus control events per 1,000 (negative: fewer): median",
           _absolute("difference_median")),
    Column("difference_per_1000_low", float, "its 95% credible interval: lower limit", _absolute("difference_low")),
    Column("difference_per_1000_high", float, "upper limit", _absolute("difference_high")),
    Column("p_arr_at_least_1pct", float, "P(absolute risk reduction >= 1 percentage point)", _absolute("p_arr", 0.01)),
    Column("p_arr_at_least_2pct", float, "P(absolute risk reduction >= 2 percentage points)", _absolute("p_arr", 0.02)),
    Column("p_arr_at_least_5pct", float, "P(absolute risk reduction >= 5 percentage points)", _absolute("p_arr", 0.05)),
    Column("p_rrr_above_20pct", float, "P(risk ratio < 0.8 at control_risk): a relative reduction of more than 20%",
           _absolute("p_rr_below_0_8")),
    Column("p_nnt_at_most_50", float, "P(number needed to treat <= 50)", _absolute("p_nnt", 50)),
    Column("log_evidence", float, "natural log of the marginal likelihood p(data | model, priors)",
           _of("evidence", "log_evidence")),
    Column("log_bf10_effect", float, "natural log of the inclusion Bayes factor for an effect (mu free vs mu = 0)",
           _of("evidence", "log_bf10_effect")),
    Column("log_bf10_heterogeneity", float, "natural log of the inclusion Bayes factor for heterogeneity (tau free vs "
           "tau = 0)", _of("evidence", "log_bf10_heterogeneity")),
    Column("bf10_effect", float, "that Bayes factor on the natural scale, where representable (< 1e300)",
           _of("evidence", "bf10_effect")),
    Column("bf10_heterogeneity", float, "that Bayes factor on the natural scale, where representable",
           _of("evidence", "bf10_heterogeneity")),
    Column("p_benefit_model_averaged", float, "P(benefit) averaged over {fixed, random} x {null, effect}, prior "
           "probability 1/4 each", _of("evidence", "p_benefit_model_averaged")),
    Column("p_important_model_averaged", float, "P(beyond important_threshold), model-averaged",
           _of("evidence", "p_important_model_averaged")),
    Column("freq_method", str, "frequentist pooled result on the same data: its method (REML random effects, Wald "
           "interval, as metafor's rma)", _text(_of("frequentist", "method"))),
    Column("freq_measure", str, "measure of the frequentist result (may differ from measure: RR data, OR model)",
           _text(_of("frequentist", "measure"))),
    Column("freq_k", int, "studies in the frequentist result (double-zero studies left out)", _of("frequentist", "k")),
    Column("freq_estimate", float, f"frequentist pooled estimate, {REPORTED}", _of("frequentist", "estimate")),
    Column("freq_ci_low", float, "its 95% confidence interval: lower limit", _of("frequentist", "ci_low")),
    Column("freq_ci_high", float, "upper limit", _of("frequentist", "ci_high")),
    Column("freq_p", float, "two-sided p-value of the pooled estimate", _of("frequentist", "p")),
    Column("freq_tau2", float, "frequentist tau^2, analysis scale", _of("frequentist", "tau2")),
    Column("freq_i2", float, "I^2 in percent", _of("frequentist", "i2")),
    Column("freq_q", float, "Cochran's Q", _of("frequentist", "q")),
    Column("freq_q_p", float, "p-value of Q (k - 1 degrees of freedom)", _of("frequentist", "q_p")),
    Column("published_estimate", float, f"the published pooled estimate, {REPORTED}", _published("estimate")),
    Column("published_low", float, "its published 95% CI: lower limit", _published("low")),
    Column("published_high", float, "upper limit", _published("high")),
    Column("gate", str, "convergence verdict: `pass` / `fail` for MCMC, `not sampled` otherwise",
           lambda r: str(r.gate)),
    Column("rhat_max", float, "worst rank-normalised split R-hat of the fit", _of("mcmc", "rhat_max")),
    Column("ess_bulk_min", float, "smallest bulk ESS", _of("mcmc", "ess_bulk_min")),
    Column("ess_tail_min", float, "smallest tail ESS", _of("mcmc", "ess_tail_min")),
    Column("divergences", int, "divergent transitions after tuning", _of("mcmc", "divergences")),
    Column("exact_twin_diff_mcse", float, "MCMC mean of mu minus its exact twin's, in Monte Carlo standard errors",
           _of("mcmc", "exact_twin_diff_mcse")),
    Column("fit_file", str, "the fit's ArviZ NetCDF file, relative to the results folder",
           _text(_of("mcmc", "fit_file"))),
    Column("status", str, "`ok`; `partial` (the posterior computed, a derived quantity did not: see message); "
           "`error` (nothing computed)", lambda r: str(r.status)),
    Column("message", str, "why a row is `partial` or `error`, and caveats of an `ok` row", lambda r: r.message),
)  # fmt: skip
"""The output columns, in order (every client writes exactly these)."""

COLUMN_NAMES = tuple(c.name for c in COLUMNS)


def _clean(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_record(result: Result) -> dict[str, object]:
    """One result as a flat record in :data:`COLUMNS` order: strict-JSON-safe (None, never NaN; enums as text)."""
    return {c.name: _clean(c.value(result)) for c in COLUMNS}


def frame(results: Iterable[Result]):  # -> pandas.DataFrame
    """The results as a table in :data:`COLUMNS` order (floats NaN where empty; integer columns nullable)."""
    import pandas as pd

    records = [to_record(r) for r in results]
    data = {}
    for c in COLUMNS:
        values = [rec[c.name] for rec in records]
        if c.type is float:
            data[c.name] = pd.array([math.nan if v is None else v for v in values], dtype="float64")
        elif c.type is int:
            data[c.name] = pd.array(values, dtype="Int64")
        elif c.type is bool:
            data[c.name] = pd.array(values, dtype="bool")
        else:
            data[c.name] = pd.array(values, dtype="object")
    return pd.DataFrame(data, columns=list(COLUMN_NAMES))


def arrow_schema(metadata: dict[str, str] | None = None):  # -> pyarrow.Schema
    """The Arrow schema of :data:`COLUMNS` (numbers nullable; text and booleans never empty)."""
    import pyarrow as pa

    types = {str: pa.string(), float: pa.float64(), int: pa.int64(), bool: pa.bool_()}
    fields = [pa.field(c.name, types[c.type], nullable=c.type in (float, int)) for c in COLUMNS]
    return pa.schema(fields, metadata=metadata)


def to_arrow(results: Iterable[Result], metadata: dict[str, str] | None = None):  # -> pyarrow.Table
    """The results as an Arrow table with :func:`arrow_schema`."""
    import pyarrow as pa

    records = [to_record(r) for r in results]
    columns = {c.name: [rec[c.name] for rec in records] for c in COLUMNS}
    return pa.Table.from_pydict(columns, schema=arrow_schema(metadata))


def columns_markdown() -> str:
    """The column table of ``docs/results-columns.md`` (generated: ``python -m models.results``)."""
    kinds = {str: "text", float: "number", int: "integer", bool: "true/false"}
    lines = [
        "# Output columns",
        "",
        "Every command writes these columns, in this order: the MSC job's `summary.csv`, `reanalyse fit`'s "
        "`summary.csv` and the `results` records of `fit --json`, and `reanalyse batch`'s `results.parquet` / "
        "`results.csv`. A column that does not apply to a row is empty (null in JSON and Parquet). All intervals are "
        "95% and equal-tailed. Generated from `models/results/columns.py` (`python -m models.results`); a "
        "test checks that this file and every client agree with it.",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{c.name}` | {kinds[c.type]} | {c.meaning} |" for c in COLUMNS]
    return "\n".join(lines) + "\n"
