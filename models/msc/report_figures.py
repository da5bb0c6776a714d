"""Placing the run's figures in the report: each figure printed once, later mentions referring to it by number, and
the forest plots of the summary of findings right after that table.
"""

from __future__ import annotations

from collections.abc import Iterable

from models.msc.figures import FINDINGS
from models.msc.state import FigureEntry, RunResult
from models.report.document import Report

KIND_NAMES = {"forest": "Forest plot", "density": "Posterior density", "tau": "Heterogeneity (tau)",
              "missing_studies": "Map of the deaths the studies without counts would need"}  # fmt: skip
"""What a figure of each kind is called in a reference to it."""


def add_figures(report: Report, entries: Iterable[FigureEntry]) -> None:
    """Add each figure, or, when the same figure file is already in the report (a set with the same studies and
    counts as another, or a forest plot shown with the summary of findings), one sentence naming it by number."""
    for entry in entries:
        number = report.figure_number(entry.path)
        if number is None:
            report.add_figure(entry.path, entry.caption, alt=entry.alt or None)
            continue
        what = KIND_NAMES.get(entry.kind, "Figure")
        source = f" ({entry.same_as})" if entry.same_as else ""
        report.add_paragraph(f"{what}: the same studies and counts as Figure {number}{source}; not repeated.")


def findings_forests(report: Report, result: RunResult) -> None:
    """The forest plots of the summary of findings, one per row in the table's order, under their own heading."""
    entries = result.figures.get(FINDINGS, [])
    if not entries:
        return
    report.add_heading("Forest plots of the summary of findings", 3)
    report.add_paragraph(
        "One forest plot per row of the summary of findings, each drawn from that row's own posterior: the total "
        "row is the row's pooled odds ratio, the subgroup diamonds the same model on each subgroup alone, and tau "
        "and the weights come from the same model."
    )
    add_figures(report, entries)
