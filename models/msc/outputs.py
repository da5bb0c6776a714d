"""Writing a run's tables, run record and report into its output folder (every write atomic).

The output folder is the run's staging folder (``scripts/reanalyse.py``); ``run_info.json`` is written last and is
the run's manifest: run id, ``"complete": true``, start and finish times, and the sha256 of every other file, so a
reader can check that a results folder holds one whole run.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import platform
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from models.atomic import write_text
from models.csv_safety import neutralise_formulas
from models.msc.datasets import Dataset
from models.msc.findings import summary_digest
from models.msc.report import build_report
from models.msc.reproduction import Reproduction, reproduction_frame, reproduction_markdown, reproduction_table
from models.msc.state import RunResult
from models.provenance import package_versions, provenance


def markdown_cell(value: object) -> str:
    """Text for a Markdown table cell: HTML special characters escaped, pipes escaped, line breaks as spaces."""
    text = html.escape(" ".join(str(value).split()), quote=False)
    return text.replace("|", "\\|")


def _markdown_table(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(markdown_cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for _, r in frame.iterrows():
        lines.append("| " + " | ".join(markdown_cell(c) for c in r) + " |")
    return "\n".join(lines) + "\n"


def strict_json(value: object) -> str:
    """``value`` as strict JSON (indented, sorted keys): NaN and infinities become null, never ``NaN``."""

    def clean(v: object) -> object:
        if isinstance(v, float):
            return v if math.isfinite(v) else None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(value), indent=2, sort_keys=True, allow_nan=False)


def file_hashes(out: Path, exclude: tuple[str, ...] = ("run_info.json",)) -> dict[str, str]:
    """sha256 of every file below ``out`` (relative POSIX paths), except ``exclude``."""
    hashes = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        if rel not in exclude:
            hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def write_reproduction(dataset: Dataset, out: Path) -> tuple[tuple[Reproduction, ...], list[Path]]:
    """Write reproduction.csv and reproduction.md; return the records and the paths."""
    out.mkdir(parents=True, exist_ok=True)
    records = reproduction_table(dataset)
    paths = [
        write_text(out / "reproduction.csv", neutralise_formulas(reproduction_frame(records)).to_csv(index=False)),
        write_text(out / "reproduction.md", reproduction_markdown(records)),
    ]
    return records, paths


def write_outputs(result: RunResult, out: Path, *, run_id: str = "", started: str = "") -> list[Path]:
    """Write reproduction.{csv,md}, summary.{csv,md}, report.{md,html} and, last, run_info.json; return the paths.

    ``run_info.json`` records ``run_id``, ``started``, the finish time and ``"complete": true``, the settings, the
    convergence gates the run applied (relaxed for ``--quick``), the project version and git commit, and lists the
    sha256 of every other file in ``out`` (fits and figures included), so it is written after everything else.
    """
    reproduction, paths = write_reproduction(result.dataset, out)
    summary = result.summary
    paths += [
        write_text(out / "summary.csv", neutralise_formulas(summary).to_csv(index=False, float_format="%.6g")),
        write_text(
            out / "summary.md",
            "# Summary digest (primary priors; 95% intervals; summary.csv holds every "
            "prior, model and column)\n\n" + _markdown_table(summary_digest(result.results)),
        ),
    ]
    paths.extend(build_report(result, reproduction, out))
    info = {
        "run_id": run_id,
        "complete": True,
        "started": started,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": result.settings.seed,
        "quick": result.settings.quick,
        "only": result.settings.only,
        "data_hash": result.dataset.data_hash,
        "gates": result.settings.gates,
        **provenance(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "n_mcmc_fits": len(result.fits),
        "failed_fits": [label for label, _ in result.failed_fits],
        "wall_seconds": round(result.wall_seconds, 1),
    }
    info["files"] = file_hashes(out)
    paths.append(write_text(out / "run_info.json", strict_json(info)))
    return paths
