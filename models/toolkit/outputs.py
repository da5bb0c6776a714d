"""Write a finished reanalysis into its staging folder: summary.csv, figures, report.md and .html, run_info.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from models.atomic import write_text
from models.bayes.fit import package_versions
from models.csv_safety import neutralise_formulas
from models.provenance import provenance
from models.results import frame, to_record
from models.toolkit import figures, report
from models.toolkit.mcmc import FULL, QUICK
from models.toolkit.pipeline import Reanalysis


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
        "quick": run.settings.quick,
        "mcmc": run.settings.mcmc,
        "tau_prior": run.spec.tau_prior.key,
        "effect_prior": run.spec.effect_prior.key,
        "data_notes": list(run.spec.notes),
        "n_results": len(run.results),
        "fits": [f.path for f in run.fits],
        "failed_fits": [f.path for f in run.failed_fits],
        "gates": (QUICK if run.settings.quick else FULL)["gates"] if run.settings.mcmc else None,
        "wall_seconds": round(run.wall_seconds, 1),
        **provenance(),
        "package_versions": package_versions(),
    }
    write_text(folder / "run_info.json", json.dumps(info, indent=2, allow_nan=False))
