"""The ``reanalyse`` command: the full Bayesian reanalysis of any meta-analysis, and the shipped MSC job.

    reanalyse fit FILE.csv [--measure M] [--published "OR 0.74 [0.55, 0.99]"] [--results DIR] [--json] ...
    reanalyse published "OR 0.74 [0.55, 0.99]" [--fixed-effect-k K] [--json]
    reanalyse pool FILE.csv --measure M --method METHOD [--hksj] [--json]
    reanalyse run [--quick] [--only DOCUMENT[/ANALYSIS]] ...       (the shipped MSC/COVID-19 reanalysis)
    reanalyse batch ...                                            (many data sets with Dask, when installed)

Exit codes: 0 done; 1 an MCMC fit failed its convergence gates; 2 bad input or options (one line naming the file,
row and column, before any work; nothing written); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from models.atomic import OutputFolderError, check_output_folder, commit_staging, open_staging
from models.bayes.absolute import ControlRisk
from models.cli import Interrupts, OneLineParser, error, int_at_least, run_script, seed_value
from models.effects import MEASURES
from models.report.sensitivity import fmt_probability
from models.toolkit.prior_grid import PriorError, list_priors, parse_tau_prior, primary_priors, prior_grid
from models.toolkit.spec import MetaAnalysisSpec, PublishedEstimate, SpecError
from models.validation import DataValidationError

COMMANDS = ("fit", "published", "pool", "run", "batch")
DEFAULT_SEED = 2026


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


def _control_risk(text: str) -> ControlRisk:
    value, _, label = text.partition(":")
    try:
        risk = float(value)
    except ValueError:
        message = f"must be a risk between 0 and 1 (optionally ':label'); got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not 0.0 < risk < 1.0:
        raise argparse.ArgumentTypeError(f"must be a risk strictly between 0 and 1; got {text!r}")
    label = label.strip() or f"stated control risk {risk:g}"
    return ControlRisk(f"stated_{risk:g}", risk, label, "given with --control-risk")


def _prior_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tau-prior", metavar="NAME", help="heterogeneity prior: a preset (--list-priors) or e.g. 'halfnormal(0.5)'"
    )
    parser.add_argument(
        "--effect-prior", metavar="NAME", help="effect prior: a preset or 'normal(MEAN, SD)' (analysis scale)"
    )
    parser.add_argument("--higher-is-benefit", action="store_true", help="an effect above the null is a benefit")
    parser.add_argument("--important", type=_finite, metavar="X",
                        help="smallest important effect, reported scale (OR/RR: 0.8, or 1.25)")  # fmt: skip


def _important(measure: str, given: float | None, higher: bool) -> float | None:
    if given is not None:
        return given
    if measure in ("OR", "RR"):
        return 1.25 if higher else 0.8
    return None


def _strict_print(obj: object) -> None:
    print(json.dumps(obj, allow_nan=False))


# -- fit -------------------------------------------------------------------------------------------------------------


def fit_parser() -> OneLineParser:
    parser = OneLineParser(prog="reanalyse fit", description="Full Bayesian reanalysis of a study CSV.")
    parser.add_argument("file", nargs="?", help="study CSV: 2x2, continuous or effects layout (see the README)")
    parser.add_argument("--measure", choices=MEASURES,
                        help="effect measure (default: OR for 2x2, SMD for continuous; effects files need one)",
                        )  # fmt: skip
    _prior_options(parser)
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
    parser.add_argument("--covariate", action="append", default=[], metavar="COLUMN", help="numeric covariate column")
    parser.add_argument("--title", help="title of the report (default: the file name)")
    parser.add_argument("--results", help="output folder (default: <file stem>_reanalysis)")
    parser.add_argument("--seed", type=seed_value, default=DEFAULT_SEED, help="sampler seed (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="few MCMC draws and relaxed gates: a smoke test only")
    parser.add_argument("--exact-only", action="store_true", help="no MCMC: exact posteriors only (seconds)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print one JSON object with a 'results' list")
    return parser


def build_spec(args: argparse.Namespace) -> MetaAnalysisSpec:
    """The specification of a ``fit`` run from its options; raises DataValidationError, SpecError or PriorError."""
    from models.reader import read_study_file

    published = PublishedEstimate.parse(args.published) if args.published is not None else None
    study_file = read_study_file(
        args.file, args.measure or (published.measure if published is not None else None), args.covariate
    )
    measure = study_file.measure
    tau, effect = primary_priors(measure, args.tau_prior, args.effect_prior)
    return MetaAnalysisSpec(
        title=args.title or Path(args.file).name,
        source=Path(args.file).name,
        effects=study_file.effects,
        measure=measure,
        tau_prior=tau,
        effect_prior=effect,
        counts=study_file.counts,
        higher_is_benefit=args.higher_is_benefit,
        arms=args.favours,
        important=_important(measure, args.important, args.higher_is_benefit),
        published=published,
        year=study_file.year,
        design=study_file.design,
        covariates=study_file.covariates,
        control_risks=tuple(args.control_risk),
        published_fixed_effect=args.published_fixed_effect,
        notes=study_file.notes,
    )


def fit_main(argv: list[str]) -> int:
    """``reanalyse fit``: check everything, run the pipeline into a staging folder, then swap it into place."""
    args = fit_parser().parse_args(argv)
    if args.list_priors:
        print(list_priors())
        return 0
    if args.file is None:
        return error("reanalyse fit: name a study CSV (or give --list-priors)")
    try:
        target = check_output_folder(args.results or f"{Path(args.file).stem}_reanalysis")
        spec = build_spec(args)
        if spec.covariates:
            for cov in spec.covariates:
                cov.standardised()
    except (OutputFolderError, DataValidationError, SpecError, PriorError) as err:
        return error(str(err))
    from models.toolkit.outputs import json_object, write_outputs
    from models.toolkit.pipeline import RunSettings, reanalyse

    settings = RunSettings(seed=args.seed, quick=args.quick, mcmc=not args.exact_only, progress=not args.no_progress)
    with Interrupts() as interrupts:
        try:
            staging = open_staging(target)
        except OutputFolderError as err:
            return error(str(err))
        interrupts.staging, interrupts.target = staging, target
        try:
            run = reanalyse(spec, settings, staging)
            write_outputs(run, staging)
        except BaseException:
            print(f"run stopped: {target}/ left unchanged; partial output in {staging}/", file=sys.stderr)
            raise
        with interrupts.deferred():
            commit_staging(staging, target)
            interrupts.committed = True
    if args.json:
        _strict_print(json_object(run, target))
    else:
        from models.toolkit.report import bottom_line

        print(bottom_line(run).replace("**", ""))
        print(f"wrote {target}/ (report.md, report.html, summary.csv, figures/{', fits/' if run.fits else ''})")
    for fit in run.failed_fits:
        print(f"FAILED: {fit.path}: {'; '.join(fit.fit.diagnostics.failures)}", file=sys.stderr)
    return 1 if run.failed_fits else 0


# -- published -------------------------------------------------------------------------------------------------------


def published_main(argv: list[str]) -> int:
    """``reanalyse published``: the summary-level posterior of one published estimate under every prior pair."""
    parser = OneLineParser(prog="reanalyse published", description="Reanalyse one published pooled estimate.")
    parser.add_argument("estimate", help="e.g. 'OR 0.74 [0.55, 0.99]' (95%% CI)")
    parser.add_argument("--fixed-effect-k", type=int_at_least(1), metavar="K",
                        help="the CI is a fixed-effect CI from K studies: add the between-study variance")  # fmt: skip
    _prior_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object with a 'results' list")
    args = parser.parse_args(argv)
    try:
        published = PublishedEstimate.parse(args.estimate)
        if args.tau_prior is not None:
            parse_tau_prior(args.tau_prior)
        primary = primary_priors(published.measure, args.tau_prior, args.effect_prior)
    except (SpecError, PriorError) as err:
        return error(str(err))
    from models.results import Direction, to_record
    from models.toolkit.analyses import published_results

    direction = Direction(
        published.measure, args.higher_is_benefit, _important(published.measure, args.important, args.higher_is_benefit)
    )
    taus, effects = prior_grid(published.measure, primary)
    primary_keys = (primary[0].key, primary[1].key)
    results = list(published_results(published, direction, taus, effects, fixed_effect_k=args.fixed_effect_k,
                                     primary=primary_keys))  # fmt: skip
    records = [to_record(r) for r in results]
    if args.json:
        _strict_print({"published": str(published), "fixed_effect_k": args.fixed_effect_k, "results": records})
        return 0
    table = pd.DataFrame(records)[
        [
            "tau_prior",
            "effect_prior",
            "effect_median",
            "effect_low",
            "effect_high",
            "p_benefit",
            "p_important",
            "pred_low",
            "pred_high",
        ]
    ]
    for column in ("p_benefit", "p_important"):  # probabilities with the precision they have ("> 0.999")
        table[column] = [fmt_probability(p) if p is not None else "n/a" for p in table[column]]
    how = "" if args.fixed_effect_k is None else f" (fixed-effect CI, k = {args.fixed_effect_k})"
    print(f"{published}: summary-level posterior{how}")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    return 0


# -- delegating commands ---------------------------------------------------------------------------------------------


def batch_main(argv: list[str]) -> int:
    """``reanalyse batch``: delegate to ``models.batch.cli.main`` (the Dask batch runner), when it is installed."""
    try:
        from models.batch.cli import main as batch
    except ImportError as err:
        return error(
            f"reanalyse batch: the batch runner (models.batch, with Dask) is not installed in this environment ({err})"
        )
    return batch(argv)


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``reanalyse COMMAND ...``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "fit":
        return fit_main(rest)
    if command == "published":
        return published_main(rest)
    if command == "pool":
        from models.toolkit.pool import main as pool

        return pool(rest, prog="reanalyse pool")
    if command == "run":
        from models.msc.command import main as msc

        return msc(rest, prog="reanalyse run")
    if command == "batch":
        return batch_main(rest)
    return error(f"reanalyse: unknown command {command!r} (commands: {', '.join(COMMANDS)})")


def console() -> None:
    """Entry point of the installed ``reanalyse`` script."""
    sys.exit(run_script(main))
