"""Placing the run's figures in the report: each figure file printed once, a later mention refers to it by number."""

from __future__ import annotations

from pathlib import Path

from models.msc.report_figures import add_figures
from models.msc.state import FigureEntry
from models.report import Report

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_a_figure_already_in_the_report_is_referred_to_by_its_number(tmp_path: Path):
    forest, density = tmp_path / "forest.png", tmp_path / "density.png"
    for path in (forest, density):
        path.write_bytes(PNG)
    report = Report("R")
    add_figures(report, [FigureEntry(forest, "Forest plot of the trials", "forest", "alt forest")])
    add_figures(report, [
        FigureEntry(density, "Density", "density", "alt density"),
        FigureEntry(forest, "Forest plot of the trials", "forest", "alt forest", same_as="summary of findings"),
    ])  # fmt: skip
    text = report.to_markdown(tmp_path)
    assert text.count("![") == 2  # the forest plot is printed once
    assert "Forest plot: the same studies and counts as Figure 1 (summary of findings); not repeated." in text
    assert "*Figure 2. Density*" in text
