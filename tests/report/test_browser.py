"""The HTML report in a real browser: headless Chromium on a laptop (1366 x 768), on a phone (390 x 844, with the
phone's viewport emulation) and printed to PDF on A4.

Checks what a reader sees: no table box wider than the text column and no page that scrolls sideways; every table
of the report fitting a laptop's column; the bottom line and the summary of findings on the first laptop screen, the
bottom line and the summary's first row on the first phone screen; no word or number broken inside itself on a
phone; and in print, every figure caption on the page of its figure. Two documents: a synthetic one with the hard
cases (a 20-column table, an unbreakable 150-character cell, long headings) and the report of the session's one
evidence-base run (tests/conftest.py, ``evidence_outputs``: built once, shared with the runner tests); set
REPORT_HTML=path/to/report.html to check a full report the same way. Skipped when Chromium is absent; the print check
also needs poppler (pdfimages, pdftotext).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from models.report import Report
from models.report.browser import (
    PHONE,
    SCREEN,
    Browser,
    figure_placements,
    find_chromium,
    find_poppler,
    is_mid_token,
    is_number,
)
from models.report.document import LONG_TOKEN

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


@pytest.fixture(scope="module")
def pages(tmp_path_factory, evidence_outputs) -> dict:
    """Every measurement from one browser: both documents on a laptop and a phone, and the report printed on A4."""
    tmp = tmp_path_factory.mktemp("browser")
    docs = {"synthetic": _synthetic(tmp / "synthetic.html"), "report": evidence_outputs / "report.html"}
    if os.environ.get("REPORT_HTML"):
        docs["given"] = Path(os.environ["REPORT_HTML"])
    out: dict = {"docs": docs, "pdf": {}}
    with Browser() as browser:
        for name, path in docs.items():
            for device, size in (("laptop", SCREEN), ("phone", PHONE)):
                browser.open(path, size, phone=device == "phone")
                out[name, device] = browser.measure(FIRST_SCREEN_IDS, breaks=device == "phone")
            if find_poppler() and name != "synthetic":
                browser.open(path)
                out["pdf"][name] = browser.print_pdf(tmp / f"{name}.pdf", "A4")
    return out


def _reports(pages: dict) -> list[str]:
    """The real reports measured: the session's run and, with REPORT_HTML, the given one."""
    return [name for name in pages["docs"] if name != "synthetic"]


def _layouts(pages: dict) -> list[tuple[str, dict]]:
    return [(f"{key[0]} ({key[1]})", value) for key, value in pages.items() if isinstance(key, tuple)]


def test_no_table_box_is_wider_than_the_text_column_and_no_page_scrolls_sideways(pages):
    for name, layout in _layouts(pages):
        assert layout["tables"], f"{name}: no tables measured"
        assert layout["page_width"] <= layout["viewport"], f"{name}: the page is {layout['page_width']} px wide"
        edge = layout["column_left"] + layout["column_width"] + 1
        outside = [t for t in layout["tables"] if t["box_width"] > layout["column_width"] + 1
                   or t["box_left"] + t["box_width"] > edge]  # fmt: skip
        assert not outside, f"{name}: table boxes past the {layout['column_width']:.0f} px column: {outside}"


def test_every_table_of_the_report_fits_a_laptop_column(pages):
    """On a laptop no table of a real report needs its scroll box (the synthetic 20-column table does)."""
    for doc in _reports(pages):
        layout = pages[doc, "laptop"]
        assert layout["viewport"] == SCREEN[0]
        too_wide = [t["caption"][:60] for t in layout["tables"] if t["width"] > layout["column_width"] + 1]
        assert not too_wide, f"{doc}: tables wider than the {layout['column_width']:.0f} px column: {too_wide}"


def test_bottom_line_and_summary_of_findings_are_on_the_first_laptop_screen(pages):
    for doc in pages["docs"]:
        layout = pages[doc, "laptop"]
        for element_id in FIRST_SCREEN_IDS:
            box = layout["ids"][element_id]
            assert box is not None, f'{doc}: no element with id="{element_id}"'
            assert box["bottom"] <= SCREEN[1], f'{doc}: id="{element_id}" ends at {box["bottom"]:.0f} px > {SCREEN[1]}'


def test_bottom_line_and_the_first_row_of_the_summary_are_on_the_first_phone_screen(pages):
    for doc in pages["docs"]:
        layout = pages[doc, "phone"]
        assert layout["viewport"] == PHONE[0]
        bottom_line, summary = layout["ids"]["bottom-line"], layout["ids"]["summary-of-findings"]
        assert bottom_line["bottom"] <= PHONE[1], f"{doc}: the bottom line ends at {bottom_line['bottom']:.0f} px"
        first_row = summary["row_bottoms"][0]
        assert first_row <= PHONE[1], f"{doc}: the summary's first row ends at {first_row:.0f} px > {PHONE[1]}"


def _pathological(token: str) -> bool:
    """A run of more than LONG_TOKEN letters and digits (the synthetic 150-character file name): it must break."""
    return re.search(rf"[A-Za-z0-9]{{{LONG_TOKEN + 1},}}", token) is not None


def test_no_word_or_number_breaks_inside_itself_on_a_phone(pages):
    for doc in pages["docs"]:
        inside = [b for b in pages[doc, "phone"]["broken"]
                  if is_mid_token(b["before"], b["after"]) and not _pathological(b["token"])]  # fmt: skip
        numbers = [(b["before"], b["after"]) for b in inside if is_number(b["token"])]
        assert not numbers, f"{doc}: numbers broken inside at 390 px: {numbers[:10]}"
        words = [(b["before"], b["after"]) for b in inside]
        assert not words, f"{doc}: {len(words)} words broken inside at 390 px: {words[:10]}"


def test_print_keeps_every_figure_caption_on_the_page_of_its_figure(pages):
    if not pages["pdf"]:
        pytest.skip("poppler (pdfimages, pdftotext) not found: apt-get install poppler-utils")
    for doc, pdf in pages["pdf"].items():
        placements = figure_placements(pdf)
        html = pages["docs"][doc].read_text(encoding="utf-8")
        assert len(placements) == html.count("<figure>") > 0, doc
        apart = [(p["number"], p["caption_page"], p["image_pages"]) for p in placements
                 if p["caption_page"] not in p["image_pages"]]  # fmt: skip
        assert not apart, (
            f"{doc}: captions on another page than their figure (number, caption page, image pages): {apart}"
        )


def test_html_has_table_of_contents_linking_every_section(tmp_path):
    page = _synthetic(tmp_path / "toc.html").read_text(encoding="utf-8")
    assert '<nav id="toc">' in page
    for i in range(8):
        assert f'href="#section-{i}-a-long-heading-about-sensitivity-analyses-under-every-prior-combination"' in page
