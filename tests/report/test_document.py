"""Report document: Markdown tables and escaping, self-contained HTML, callouts, atomic writes.

Expected strings follow the GitHub-flavoured Markdown table spec (pipes in cells escaped as \\|) and the
HTML escaping of Python's html.escape; the embedded image is checked against base64 of the file's bytes.
"""

from __future__ import annotations

import base64
import html
import re

import numpy as np
import pandas as pd
import pytest

from models.report import Report

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16  # enough of a PNG for embedding; never decoded


@pytest.fixture
def figure(tmp_path):
    path = tmp_path / "out" / "figures" / "forest plot.png"
    path.parent.mkdir(parents=True)
    path.write_bytes(PNG)
    return path


def test_markdown_table_escapes_pipes_and_line_breaks_and_right_aligns_numbers(tmp_path):
    df = pd.DataFrame({"prior | kind": ["a|b", "two\nlines"], "P(OR < 1)": [0.93456, np.nan], "k": [3, 12]})
    report = Report("R").add_table(df, caption="Priors", float_format=".3f")
    text = report.to_markdown(tmp_path)
    assert "**Table 1.** Priors" in text
    assert "| prior \\| kind | P(OR < 1) | k |" in text
    assert "|---|---:|---:|" in text
    assert "| a\\|b | 0.935 | 3 |" in text
    assert "| two<br>lines | \u2013 | 12 |" in text


def test_table_index_shown_when_meaningful_and_callable_format(tmp_path):
    df = pd.DataFrame({"Normal(0, 1)": [0.9]}, index=pd.Index(["HalfNormal(0.5)"], name="tau prior"))
    text = Report("R").add_table(df, float_format=lambda x: f"{100 * x:.0f}%").to_markdown(tmp_path)
    assert "| tau prior | Normal(0, 1) |" in text
    assert "| HalfNormal(0.5) | 90% |" in text
    plain = Report("R").add_table(pd.DataFrame({"a": [1]})).to_markdown(tmp_path)
    assert "| a |" in plain and "|  | a |" not in plain


def test_markdown_text_keeps_inline_marks_and_neutralises_html(tmp_path):
    report = Report("Title").add_heading("Mortality", 2).add_paragraph("P(OR < 1) is **0.93** <b>not bold</b>")
    text = report.to_markdown(tmp_path)
    assert text.startswith("# Title\n\n## Mortality\n\n")
    assert "P(OR < 1) is **0.93** \\<b>not bold\\</b>" in text


def test_markdown_figure_path_is_relative_to_the_document(tmp_path, figure):
    out = tmp_path / "out" / "report.md"
    Report("R").add_figure(figure, "Forest plot [OR]").write_markdown(out)
    text = out.read_text(encoding="utf-8")
    assert "![Forest plot  OR ](<figures/forest plot.png>)" in text
    assert "*Figure 1. Forest plot [OR]*" in text


def test_html_is_self_contained_and_escaped(tmp_path, figure):
    report = Report("MSC <reanalysis>")
    report.add_paragraph('Risk & "odds" <script>alert(1)</script> with **bold**, *italic*, `code` and 2 * 3 * 4')
    report.add_table(pd.DataFrame({"a<b": ["x & y"], "n": [5]}), caption="T")
    report.add_figure(figure, "Forest <plot>")
    html_text = report.to_html()
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode('ascii')}" in html_text
    assert "<script>" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "Risk &amp; &quot;odds&quot;" in html_text
    assert "<strong>bold</strong>, <em>italic</em>, <code>code</code> and 2 * 3 * 4" in html_text
    assert "<title>MSC &lt;reanalysis&gt;</title>" in html_text
    assert "<th>a&lt;b</th>" in html_text and "<td>x &amp; y</td>" in html_text
    assert '<td class="num">5</td>' in html_text
    assert "<figcaption>Figure 1. Forest &lt;plot&gt;</figcaption>" in html_text
    assert "<style>" in html_text and "<link" not in html_text and 'src="http' not in html_text


def test_callout_is_loud_in_both_formats(tmp_path):
    report = Report("R").add_callout("Binomial-normal fit failed:\nR-hat 1.2", kind="error")
    md = report.to_markdown(tmp_path)
    assert "> [!CAUTION]\n> **Error:** Binomial-normal fit failed:\n> R-hat 1.2" in md
    html_text = report.to_html()
    assert '<div class="callout callout-error" role="alert"><p><strong>Error:</strong> Binomial-normal' in html_text
    warning = Report("R").add_callout("Quick mode").to_markdown(tmp_path)
    assert "> [!WARNING]\n> **Warning:** Quick mode" in warning


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path, figure):
    out = figure.parent.parent
    report = Report("R").add_paragraph("text").add_figure(figure, "c")
    md = report.write_markdown(out / "report.md")
    html_path = report.write_html(out / "report.html")
    assert md.read_text(encoding="utf-8").endswith("text\n\n![c](<figures/forest plot.png>)\n\n*Figure 1. c*\n")
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in out.iterdir()) == ["figures", "report.html", "report.md"]


def test_missing_figure_fails_the_write_and_keeps_the_old_report(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("old")
    report = Report("R").add_figure(tmp_path / "missing.png", "c")
    with pytest.raises(FileNotFoundError, match="figure file .*missing.png.* does not exist"):
        report.write_html(out)
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_bad_arguments_named(tmp_path):
    with pytest.raises(ValueError, match="level must be an integer from 1 to 6; got 7"):
        Report("R").add_heading("x", 7)
    with pytest.raises(ValueError, match="kind must be one of note, warning, error; got 'danger'"):
        Report("R").add_callout("x", kind="danger")
    with pytest.raises(ValueError, match="float_format 'xyz' is not a valid format spec"):
        Report("R").add_table(pd.DataFrame({"a": [1.0]}), float_format="xyz")
    with pytest.raises(TypeError, match="df must be a pandas DataFrame; got dict"):
        Report("R").add_table({"a": [1]})
    with pytest.raises(ValueError, match="png_path .*plot.gif.* must end in one of"):
        Report("R").add_figure(tmp_path / "plot.gif", "c")
    with pytest.raises(ValueError, match="title must be non-empty"):
        Report("  ")


HOSTILE_TITLES = [
    "[click](javascript:alert(1)) ![x](http://tracker.example/p.png)",
    "<script>alert(1)</script> <img src=x onerror=alert(1)>",
    "**bold** _it_ `code` ~~gone~~ &lt; &#60; \\*",
    "first line\n# a second heading\n\n- a list",
    "trial #1 | A_B | C#",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_markdown_title_is_literal_text(title):
    """issue 22: the report.md title was written unescaped. Oracle: a CommonMark renderer (markdown-it-py, the
    CommonMark preset plus strikethrough) shows exactly the title's text in the one h1, with no element inside it."""
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("strikethrough").render(Report(title).to_markdown("."))
    match = re.fullmatch(r"<h1>(.*)</h1>\n", rendered, flags=re.S)
    assert match, rendered
    assert "<" not in match.group(1) and html.unescape(match.group(1)) == " ".join(title.split())


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_html_title_is_escaped(title):
    text = Report(title).to_html()
    assert f"<h1>{html.escape(title)}</h1>" in text and f"<title>{html.escape(title)}</title>" in text
    assert "<script>" not in text and "<img" not in text


def test_cells_keep_numbers_and_words_whole_and_let_only_long_identifiers_break():
    df = pd.DataFrame({
        "Analysis": ["Randomised trials (primary)", "fits/evidence_base__rct__binomial_normal__primary.nc",
                     "x" * 30 + " (doi 10.1186/s13287-023-03286-8)"],
        "OR (95% CrI)": ["0.64 [0.35, 1.11]", "1.2 (0.9, 1.6)", "\u2013"],
        "P": [0.947, 0.5, 0.25],
    })  # fmt: skip
    page = Report("R").add_table(df, caption="Summary").to_html()
    assert "<td>Randomised trials (primary)</td>" in page  # ordinary words untouched
    assert "<td>0.64 [0.35,\u00a01.11]</td>" in page and "1.2 (0.9,\u00a01.6)" in page  # an interval stays whole
    assert '<td class="num">0.95</td>' in page  # numbers untouched
    assert "fits/<wbr>evidence_<wbr>base__<wbr>rct__<wbr>binomial_<wbr>normal__<wbr>primary.<wbr>nc" in page
    assert f'<span class="long">{"x" * 30}</span>' in page  # only a run too long for any column may break anywhere
    assert "10.1186/<wbr>s13287-023-03286-8)" in page  # a DOI breaks after its slash, never inside '10.1186'
    assert "overflow-wrap: anywhere" not in page.replace(".long { overflow-wrap: anywhere; }", "")


def test_table_caption_sits_above_the_scrolling_box_and_labels_the_table():
    page = Report("R").add_table(pd.DataFrame({"a": [1]}), caption="Summary", anchor="sof").to_html()
    assert ('<div class="table-block" id="sof">\n<div class="table-caption" id="table-1">Table 1. Summary</div>\n'
            '<div class="table-wrap"><table aria-labelledby="table-1">') in page  # fmt: skip
    assert "<caption>" not in page


def test_figures_carry_their_own_text_alternative_and_can_be_found_by_file(tmp_path, figure):
    report = Report("R").add_figure(figure, "Forest plot", alt="Forest plot of 10 trials: pooled OR 0.64")
    report.add_figure(tmp_path / "other.png", "Density")
    assert report.figure_number(figure) == 1 and report.figure_number(tmp_path / "other.png") == 2
    assert report.figure_number(tmp_path / "third.png") is None
    (tmp_path / "other.png").write_bytes(PNG)
    page = report.to_html()
    assert 'alt="Forest plot of 10 trials: pooled OR 0.64"' in page and 'alt="Density"' in page
    assert "![Forest plot of 10 trials: pooled OR 0.64](" in report.to_markdown(tmp_path)
