"""The HTML report in a real browser (headless Chromium at 1366 x 768, the commonest laptop screen).

Checks what a reader sees: no table wider than the text column, and the bottom line and summary of findings on the
first screen. A synthetic document holds the hard cases (a 20-column table, an unbreakable 150-character cell, long
headings); set REPORT_HTML=path/to/report.html to check a real report as well. Skipped when Chromium is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from models.report import Report
from models.report.browser import SCREEN, find_chromium, measure_layout

FIRST_SCREEN_IDS = ("bottom-line", "summary-of-findings")

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="chromium not found: install it (apt-get install chromium) or set $CHROMIUM to run the browser layout test",
)


def _synthetic(path: Path) -> Path:
    report = Report("Reanalysis of a meta-analysis with a deliberately long title that wraps onto two lines")
    report.add_paragraph(
        "**Bottom line:** the treatment probably lowers mortality (P(OR < 1) = 0.93), but an important benefit "
        "(OR < 0.8) is uncertain (P = 0.61); the prediction interval for a new study includes harm.",
        anchor="bottom-line",
    )
    findings = pd.DataFrame(
        {
            "Outcome": ["Mortality", "Clinical improvement (day 14)"],
            "Pooled OR [95% CrI]": ["0.72 [0.51, 0.97]", "1.33 [1.11, 1.65]"],
            "P(benefit)": [0.93, 0.99],
            "Studies (patients)": ["9 (412)", "5 (230)"],
        }
    )
    report.add_table(findings, caption="Summary of findings", anchor="summary-of-findings")
    for i in range(8):
        report.add_heading(f"Section {i}: a long heading about sensitivity analyses under every prior combination")
        report.add_paragraph("Text " * 60)
    wide = pd.DataFrame(
        {f"a long column name number {j} (units)": [0.123456 * j, 12345.678 * j, float("nan")] for j in range(20)}
    )
    wide.insert(0, "file", ["fits/" + "x" * 150 + ".nc", "tau_prior_turner2015_mortality_pharmacological", "b"])
    report.add_table(wide, caption="Every prior, every model", float_format=".4f")
    long_cells = pd.DataFrame({"prior": ["turner2015_mortality_nonpharma__" * 6], "note": ["word " * 200]})
    report.add_table(long_cells, caption="Long cells")
    return report.write_html(path)


def _documents(tmp_path: Path) -> list[Path]:
    docs = [_synthetic(tmp_path / "synthetic.html")]
    real = os.environ.get("REPORT_HTML")
    if real:
        docs.append(Path(real))
    return docs


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("browser")
    return {str(doc): measure_layout(doc, ids=FIRST_SCREEN_IDS) for doc in _documents(tmp)}


def test_no_table_is_wider_than_the_text_column(layouts):
    for doc, layout in layouts.items():
        assert layout["viewport"] == SCREEN[0]
        assert layout["tables"], f"{doc}: no tables measured"
        too_wide = [t for t in layout["tables"] if t["width"] > layout["column_width"] + 1]
        assert not too_wide, f"{doc}: tables wider than the {layout['column_width']:.0f} px column: {too_wide}"
        outside = [
            t for t in layout["tables"] if t["left"] + t["width"] > layout["column_left"] + layout["column_width"] + 1
        ]
        assert not outside, f"{doc}: tables running past the column's right edge: {outside}"


def test_bottom_line_and_summary_of_findings_are_on_the_first_screen(layouts):
    for doc, layout in layouts.items():
        for element_id in FIRST_SCREEN_IDS:
            box = layout["ids"][element_id]
            assert box is not None, f'{doc}: no element with id="{element_id}"'
            assert box["bottom"] <= SCREEN[1], f'{doc}: id="{element_id}" ends at {box["bottom"]:.0f} px > {SCREEN[1]}'


def test_html_has_table_of_contents_linking_every_section(tmp_path):
    page = _synthetic(tmp_path / "toc.html").read_text(encoding="utf-8")
    assert '<nav id="toc">' in page
    for i in range(8):
        assert f'href="#section-{i}-a-long-heading-about-sensitivity-analyses-under-every-prior-combination"' in page
