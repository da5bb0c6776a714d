"""Write a finished reanalysis into its staging folder: summary.csv, figures, report.md and .html, run_info.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from models.atomic import write_text
from models.bayes.absolute import AbsoluteEffect
from models.bayes.fit import package_versions
from models.csv_safety import neutralise_formulas
from models.toolkit import figures, report
from models.toolkit.pipeline import Reanalysis
from models.toolkit.results import summary_frame, to_record


def json_object(run: Reanalysis, results_dir: Path) -> dict:
    """The object ``fit --json`` prints: the primary result and every result (strict JSON: null, never NaN)."""
    return {
        "title": run.spec.title,
        "measure": run.spec.measure,
        "data_notes": list(run.spec.notes),
        "results_dir": str(results_dir),
        "primary": to_record(run.primary),
        "failed_fits": [f.path for f in run.failed_fits],
        "results": [to_record(r) for r in sorted(run.results, key=lambda r: r.key)],
        "absolute": [absolute_record(a) for a in run.absolute],
    }


def absolute_record(effect: AbsoluteEffect) -> dict:
    """An absolute effect as JSON: the control risk and its source, events per 1,000 with treatment and the
    difference per 1,000 (median, 95% CrI), P(at least 10/20/50 fewer per 1,000)."""
    return {
        "control_risk": effect.control.risk,
        "control_risk_label": effect.control.label,
        "control_risk_source": effect.control.source,
        "events_per_1000": effect.deaths_median,
        "events_per_1000_low": effect.deaths_low,
        "events_per_1000_high": effect.deaths_high,
        "difference_per_1000": effect.difference_median,
        "difference_per_1000_low": effect.difference_low,
        "difference_per_1000_high": effect.difference_high,
        **{f"p_at_least_{1000 * x:.0f}_fewer_per_1000": p for x, p in effect.p_arr.items()},
    }


def write_outputs(run: Reanalysis, folder: Path) -> None:
    """Everything but the fits (saved while sampling) into ``folder``."""
    write_text(folder / "summary.csv", neutralise_formulas(summary_frame(run.results)).to_csv(index=False))
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
        "wall_seconds": round(run.wall_seconds, 1),
        "package_versions": package_versions(),
    }
    write_text(folder / "run_info.json", json.dumps(info, indent=2, allow_nan=False))
