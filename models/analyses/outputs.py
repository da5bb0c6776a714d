"""Writing a run's tables, run record and report into results/ (every write atomic)."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pandas as pd

from models.analyses.report import build_report
from models.analyses.runner import RunResult
from models.atomic import write_text
from models.bayes.diagnostics import GATES
from models.bayes.fit import package_versions
from models.datasets import Dataset
from models.reproduction import reproduction_markdown, reproduction_table


def _markdown_table(frame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in frame.iterrows():
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in r]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_reproduction(dataset: Dataset, out: Path) -> tuple[pd.DataFrame, list[Path]]:
    """Write reproduction.csv and reproduction.md; return the table and the paths."""
    out.mkdir(parents=True, exist_ok=True)
    table = reproduction_table(dataset)
    paths = [
        write_text(out / "reproduction.csv", table.to_csv(index=False)),
        write_text(out / "reproduction.md", reproduction_markdown(table)),
    ]
    return table, paths


def write_outputs(result: RunResult, out: Path) -> list[Path]:
    """Write reproduction.{csv,md}, summary.{csv,md}, run_info.json, report.{md,html}; return their paths."""
    reproduction, paths = write_reproduction(result.dataset, out)
    summary = result.summary
    paths += [
        write_text(out / "summary.csv", summary.to_csv(index=False, float_format="%.6g")),
        write_text(
            out / "summary.md",
            "# Summary (one row per analysis x model x prior)\n\n"
            + _markdown_table(summary.drop(columns=["studies", "title"])),
        ),  # fmt: skip
    ]
    info = {
        "seed": result.settings.seed,
        "quick": result.settings.quick,
        "only": result.settings.only,
        "data_hash": result.dataset.data_hash,
        "gates": GATES,
        "packages": package_versions(),
        "python": platform.python_version(),
        "n_mcmc_fits": len(result.fits),
        "failed_fits": [label for label, _ in result.failed_fits],
        "wall_seconds": round(result.wall_seconds, 1),
    }
    paths.append(write_text(out / "run_info.json", json.dumps(info, indent=2, sort_keys=True)))
    paths.extend(build_report(result, reproduction, out))
    return paths
