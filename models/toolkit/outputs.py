"""Write a finished reanalysis into its staging folder: summary.csv, figures, report.md and .html, run_info.json.

Every output states the primary priors: the report (bottom line and "Priors and their sources"), the JSON
(``priors``), run_info.json and summary.csv (column ``primary_priors``: true on the rows under the primary pair).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from models.atomic import write_text
from models.csv_safety import neutralise_formulas
from models.prior_policy import statement
from models.provenance import package_versions, provenance
from models.results import frame, to_record
from models.toolkit import figures, report
from models.toolkit.pipeline import Reanalysis


def priors_record(run: Reanalysis) -> dict[str, str]:
    """The primary priors as every output states them: keys, descriptions with sources, and the policy sentence."""
    spec = run.spec
    return {
        "tau_prior": spec.tau_prior.key,
        "tau_prior_description": str(spec.tau_prior),
        "effect_prior": spec.effect_prior.key,
        "effect_prior_description": str(spec.effect_prior),
        "statement": statement(spec.measure, run.primary_pair, written=run.settings.priors.written()),
    }


def _gates(run: Reanalysis) -> dict | None:
    """The convergence gates the MCMC fits were held to (None when nothing was sampled: PyMC is not imported)."""
    if not run.fits:
        return None
    from models.toolkit.mcmc import FULL, QUICK

    return (QUICK if run.quick else FULL)["gates"]


def json_object(run: Reanalysis, results_dir: Path) -> dict:
    """The object ``fit --json`` prints: the primary result and every result, each a record of the one column
    vocabulary (``docs/results-columns.md``; strict JSON: null, never NaN). Absolute effects are the results of kind
    ``absolute``; the frequentist random-effects result is in the ``freq_*`` fields of the pooled rows."""
    return {
        "title": run.spec.title,
        "measure": run.spec.measure,
        "data_notes": list(run.spec.notes),
        "results_dir": str(results_dir),
        "primary": to_record(run.primary),
        "priors": priors_record(run),
        "exact_file": run.exact_file,
        "failed_fits": [f.path for f in run.failed_fits],
        "results": [to_record(r) for r in sorted(run.results, key=lambda r: r.key)],
    }


def write_outputs(run: Reanalysis, folder: Path) -> None:
    """Everything but the fits (saved while sampling) into ``folder``."""
    summary = frame(sorted(run.results, key=lambda r: r.key))
    write_text(folder / "summary.csv", neutralise_formulas(summary).to_csv(index=False))
    paths = figures.draw_all(run, folder)
    document = report.build(run, paths)
    document.write_markdown(folder / "report.md")
    document.write_html(folder / "report.html")
    info = {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "complete": True,
        "title": run.spec.title,
        "seed": run.settings.seed,
        "quick": run.quick,
        "mcmc": run.mcmc,
        "priors": priors_record(run),
        "exact_file": run.exact_file,
        "data_notes": list(run.spec.notes),
        "n_results": len(run.results),
        "fits": [f.path for f in run.fits],
        "failed_fits": [f.path for f in run.failed_fits],
        "gates": _gates(run),
        "wall_seconds": round(run.wall_seconds, 1),
        **provenance(),
        "package_versions": package_versions(),
    }
    write_text(folder / "run_info.json", json.dumps(info, indent=2, allow_nan=False))
