"""``reanalyse fit`` and ``reanalyse published``: a user's meta-analysis, or one published estimate, reanalysed.

Both check every option first (the published estimate, the priors, the output folder) with nothing but the standard
library loaded, so ``--help`` and a bad option answer at once; numpy, pandas and the engines are imported after the
checks (``python -X importtime`` shows it). The dispatcher above the clients is :mod:`models.command`.

Exit codes: 0 done; 1 an MCMC fit (``--mcmc`` or a meta-regression) failed its convergence gates, or an unexpected
error (one line; ``--debug`` shows the traceback); 2 bad input or options (one line naming the file, row and column,
before any work; nothing written); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from models.atomic import OutputFolderError, check_output_folder, commit_staging, open_staging
from models.cli import Interrupts, OneLineParser, error, int_at_least, stage
from models.formatting import fmt_effect, fmt_interval, fmt_probability
from models.measures import MEASURES, PUBLISHED_MEASURES, is_ratio
from models.prior_policy import PriorError, PriorOptions, PriorPair, list_priors, sensitivity_grid, statement
from models.settings import Settings, add_prior_options, add_shared_options, settings_from
from models.toolkit.published import PublishedEstimate, SpecError

if TYPE_CHECKING:
    from models.toolkit.spec import MetaAnalysisSpec

FIT_EXAMPLES = """examples:
  reanalyse fit trials.csv --favours "drug,placebo" --published "OR 0.74 [0.55, 0.99]"
  reanalyse fit trials.csv --tau-prior 'halfnormal(0.5)' --json
  reanalyse fit trials.csv --mcmc --results trials_checked
  reanalyse fit --list-priors"""
PUBLISHED_EXAMPLES = """examples:
  reanalyse published "OR 0.74 [0.55, 0.99]"
  reanalyse published "0.74 (0.55-0.99)" --measure RR --fixed-effect-k 7
  reanalyse published "HR 0.80 (95% CI 0.66 to 0.97)" --tau-prior 'halfcauchy(1)' --json"""


def _favours(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(f"must be two names separated by a comma, e.g. 'drug,placebo'; got {text!r}")
    return parts[0], parts[1]


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite; got {text!r}")
    return value


def _control_risk(text: str) -> tuple[float, str]:
    """``RISK[:LABEL]``: a control-arm risk strictly between 0 and 1, and its label."""
    value, _, label = text.partition(":")
    try:
        risk = float(value)
    except ValueError:
        message = f"must be a risk between 0 and 1 (optionally ':label'); got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not 0.0 < risk < 1.0:
        raise argparse.ArgumentTypeError(f"must be a risk strictly between 0 and 1; got {text!r}")
    return risk, label.strip() or f"stated control risk {risk:g}"


def _direction_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--higher-is-benefit", action="store_true", help="an effect above the null is a benefit")
    parser.add_argument("--important", type=_finite, metavar="X",
                        help="smallest important effect, reported scale (OR/RR/HR default: 0.8, or 1.25 when "
                             "higher is benefit)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one strict-JSON object with a 'results' list")


def _important(measure: str, given: float | None, higher: bool) -> float | None:
    if given is not None:
        return given
    if is_ratio(measure):
        return 1.25 if higher else 0.8
    return None


def _strict_print(obj: object) -> None:
    print(json.dumps(obj, allow_nan=False))


# -- fit -------------------------------------------------------------------------------------------------------------


def fit_parser() -> OneLineParser:
    """The options of ``reanalyse fit`` (checked before anything heavy is imported)."""
    parser = OneLineParser(prog="reanalyse fit", description="Full Bayesian reanalysis of a study CSV: every "
                           "posterior exact (quadrature) first, MCMC only for a meta-regression or with --mcmc.",
                           epilog=FIT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("file", nargs="?", help="study CSV: 2x2, continuous or effects layout (see the README)")
    parser.add_argument("--measure", choices=MEASURES,
                        help="effect measure (default: OR for 2x2, SMD for continuous; effects files need one)",
                        )  # fmt: skip
    parser.add_argument("--list-priors", action="store_true", help="print the prior presets with their sources")
    parser.add_argument("--favours", type=_favours, default=("treatment", "control"), metavar="TREATMENT,CONTROL",
                        help="names of the experimental and control arms (default: treatment,control)")  # fmt: skip
    parser.add_argument("--published", metavar="'OR 0.74 [0.55, 0.99]'", help="the published pooled estimate")
    parser.add_argument("--published-fixed-effect", action="store_true",
                        help="the published CI is fixed-effect over the file's k studies: also add tau^2/k "
                             "back")  # fmt: skip
    parser.add_argument("--control-risk", type=_control_risk, action="append", default=[], metavar="RISK[:LABEL]",
                        help="a control-arm risk (0-1) at which to state absolute effects, e.g. '0.414:ventilated' "
                             "(repeatable; the data's crude control risk is always given)")  # fmt: skip
    parser.add_argument("--covariate", action="append", default=[], metavar="COLUMN",
                        help="numeric covariate column: a meta-regression (MCMC: no exact engine)")  # fmt: skip
    parser.add_argument("--title", help="title of the report (default: the file name)")
    add_shared_options(parser, results_help="output folder (default: <file stem>_reanalysis)")
    parser.add_argument("--mcmc", action="store_true",
                        help="also fit the primary model by MCMC, beside its exact twin (minutes)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="few MCMC draws and relaxed gates: a smoke test only")
    _direction_options(parser)
    return parser


def build_spec(args: argparse.Namespace, published: PublishedEstimate | None = None, settings: Settings | None = None
               ) -> MetaAnalysisSpec:  # fmt: skip
    """The specification of a ``fit`` run: reads the study file (the first heavy step). ``published`` and
    ``settings`` as :func:`fit_main` checked them (read from ``args`` when not given). Raises DataValidationError,
    SpecError or PriorError, each one line."""
    if published is None and args.published is not None:
        published = PublishedEstimate.parse(args.published, args.measure)
    if settings is None:
        settings = settings_from(args, None)
    from models.bayes.absolute import ControlRisk
    from models.reader import read_study_file
    from models.toolkit.spec import MetaAnalysisSpec

    study_file = read_study_file(
        args.file, args.measure or (published.measure if published is not None else None), args.covariate
    )
    measure = study_file.measure
    primary = settings.priors.primary(measure)
    risks = tuple(ControlRisk(f"stated_{r:g}", r, label, "given with --control-risk") for r, label in args.control_risk)
    return MetaAnalysisSpec(
        title=args.title or Path(args.file).name,
        source=Path(args.file).name,
        effects=study_file.effects,
        measure=measure,
        tau_prior=primary.tau,
        effect_prior=primary.effect,
        counts=study_file.counts,
        higher_is_benefit=args.higher_is_benefit,
        arms=args.favours,
        important=_important(measure, args.important, args.higher_is_benefit),
        published=published,
        year=study_file.year,
        design=study_file.design,
        covariates=study_file.covariates,
        control_risks=risks,
        published_fixed_effect=args.published_fixed_effect,
        notes=study_file.notes,
    )


def _checked_fit_options(args: argparse.Namespace) -> tuple[PublishedEstimate | None, Settings]:
    """Every check that needs no data (raises SpecError, PriorError or OutputFolderError, each one line)."""
    published = None
    if args.published is not None:
        published = PublishedEstimate.parse(args.published, args.measure)
        if published.summary_only:
            raise SpecError(f"--published {args.published!r}: a {published.measure} has no study-level analysis to "
                            f"compare with; reanalyse it with: reanalyse published {args.published!r}")  # fmt: skip
    if args.published_fixed_effect and published is None:
        raise SpecError("--published-fixed-effect needs --published (the estimate whose CI is fixed-effect)")
    target = check_output_folder(f"{Path(args.file).stem}_reanalysis" if args.results is None else args.results)
    settings = settings_from(args, target)
    measure = args.measure or (published.measure if published is not None else None)
    if measure is not None:
        settings.priors.primary(measure)  # MD/RD without both priors, an effect preset on MD: refused now
    return published, settings


def fit_main(argv: list[str]) -> int:
    """``reanalyse fit``: check everything, run the analyses into a staging folder, then swap it into place."""
    args = fit_parser().parse_args(argv)
    if args.list_priors:
        print(list_priors())
        return 0
    if args.file is None:
        return error("reanalyse fit: name a study CSV (or give --list-priors)")
    stage.at("checking the options", args.file)
    try:
        published, settings = _checked_fit_options(args)
    except (OutputFolderError, SpecError, PriorError) as err:
        return error(str(err))
    stage.at("reading the study file")
    from models.reader import CovariateError
    from models.validation import DataValidationError

    try:
        spec = build_spec(args, published, settings)
        for cov in spec.covariates:
            cov.standardised()
    except (DataValidationError, CovariateError, SpecError, PriorError) as err:
        return error(str(err))
    return _run_fit(args, spec, settings)


def _run_fit(args: argparse.Namespace, spec: MetaAnalysisSpec, settings: Settings) -> int:
    from models.toolkit.outputs import json_object, write_outputs
    from models.toolkit.pipeline import reanalyse

    target = settings.results
    assert target is not None  # checked by _checked_fit_options
    with Interrupts() as interrupts:
        stage.at("creating the staging folder")
        try:
            staging = open_staging(target)
        except OutputFolderError as err:
            return error(str(err))
        interrupts.staging, interrupts.target = staging, target
        stage.output(f"{target}/ left unchanged; partial output in {staging}/")
        stage.at("running the analyses")
        run = reanalyse(spec, settings, staging, mcmc=args.mcmc, quick=args.quick)
        stage.at("writing the report, figures and tables")
        write_outputs(run, staging)
        stage.at("replacing the results folder")
        with interrupts.deferred():
            commit_staging(staging, target)
            interrupts.committed = True
        stage.output(f"{target}/ holds the complete new run")
    if args.json:
        _strict_print(json_object(run, target))
    else:
        from models.toolkit.report import bottom_line

        print(bottom_line(run).replace("**", ""))
        print(f"wrote {target}/ (report.md, report.html, summary.csv, figures/, fits/)")
    for fit in run.failed_fits:
        print(f"FAILED: {fit.path}: {'; '.join(fit.fit.diagnostics.failures)}", file=sys.stderr)
    return 1 if run.failed_fits else 0


# -- published -------------------------------------------------------------------------------------------------------


def published_parser() -> OneLineParser:
    """The options of ``reanalyse published``."""
    parser = OneLineParser(prog="reanalyse published", epilog=PUBLISHED_EXAMPLES,
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           description="Reanalyse one published pooled estimate (summary level) under every prior "
                                       "pair of the sensitivity grid.")  # fmt: skip
    parser.add_argument("estimate", help="e.g. 'OR 0.74 [0.55, 0.99]', 'OR 0.74 (95%% CI 0.55 to 0.99)', "
                        "'0.74 (0.55-0.99)' with --measure; OR, RR, HR (ratios), RD, MD, SMD")  # fmt: skip
    parser.add_argument("--measure", choices=PUBLISHED_MEASURES, help="the measure, when the estimate names none")
    parser.add_argument("--fixed-effect-k", type=int_at_least(1), metavar="K",
                        help="the CI is a fixed-effect CI from K studies: add the between-study variance")  # fmt: skip
    add_prior_options(parser)
    _direction_options(parser)
    return parser


ENGINE_MEASURE = {"HR": "RR"}
"""The measure the summary-level engine computes a summary-only measure as: any log ratio is the same computation
(a normal likelihood for mu on the log scale); rows are labelled with the published measure."""


def published_main(argv: list[str]) -> int:
    """``reanalyse published``: the summary-level posterior of one published estimate under every prior pair."""
    args = published_parser().parse_args(argv)
    try:
        published = PublishedEstimate.parse(args.estimate, args.measure)
        priors = PriorOptions(args.tau_prior, args.effect_prior)
        primary = priors.primary(published.measure)
    except (SpecError, PriorError) as err:
        return error(str(err))
    stage.at("computing the summary-level posteriors")
    records = _published_records(published, args, primary)
    policy = statement(published.measure, primary, written=priors.written())
    if args.json:
        _strict_print({"published": str(published), "fixed_effect_k": args.fixed_effect_k, "priors": policy,
                       "results": records})  # fmt: skip
        return 0
    how = "" if args.fixed_effect_k is None else f" (fixed-effect CI, k = {args.fixed_effect_k})"
    print(f"{published}: summary-level posterior{how}")
    print(_published_table(records, published))
    print(f"\n{policy}")
    print("The prediction interval adds a new setting's deviation, tau from its prior alone (a published estimate "
          "says nothing about tau): under a wide tau prior it is very wide.")  # fmt: skip
    return 0


def _published_records(published: PublishedEstimate, args: argparse.Namespace, primary: PriorPair) -> list[dict]:
    """One JSON record per prior pair (primary pair first), measure as published."""
    from models.results import Direction, to_record
    from models.toolkit.analyses import published_results

    engine = ENGINE_MEASURE.get(published.measure, published.measure)
    computed = PublishedEstimate(engine, published.estimate, published.ci_low, published.ci_high, published.label)
    direction = Direction(engine, args.higher_is_benefit,
                          _important(published.measure, args.important, args.higher_is_benefit))  # fmt: skip
    taus, effects = sensitivity_grid(published.measure, primary)
    results = published_results(computed, direction, taus, effects, fixed_effect_k=args.fixed_effect_k,
                                primary=primary.keys)  # fmt: skip
    records = [{**to_record(r), "measure": published.measure} for r in results]
    return sorted(records, key=lambda r: not r["primary_priors"])  # the primary pair first, then the grid's order


def _published_table(records: list[dict], published: PublishedEstimate) -> str:
    """The rows as a plain-text table: reported scale, probabilities as their precision allows."""
    ratio = published.is_ratio
    head = ("tau prior", "effect prior", "median", "95% CrI", "P(benefit)", "P(important)", "95% PI")
    rows = [
        (
            r["tau_prior"],
            r["effect_prior"],
            fmt_effect(r["effect_median"], ratio=ratio),
            fmt_interval(r["effect_low"], r["effect_high"], ratio=ratio),
            fmt_probability(r["p_benefit"]),
            "n/a" if r["p_important"] is None else fmt_probability(r["p_important"]),
            fmt_interval(r["pred_low"], r["pred_high"], ratio=ratio),
        )
        for r in records
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(head, *rows, strict=True)]
    return "\n".join("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip()
                     for row in (head, *rows))  # fmt: skip
