"""The report document: build it block by block, then write Markdown and a self-contained HTML file.

Text given to :meth:`Report.add_paragraph` and :meth:`Report.add_callout` is plain text with three inline
marks rendered in both formats: ``**bold**``, ``*italic*`` and ```code```. Anything else is literal: it
is HTML-escaped in the HTML file and protected from being read as HTML in the Markdown file.
Figures are referenced by relative path from the Markdown file and embedded as base64 data URIs in
the HTML file, so the HTML can be mailed or archived on its own. Both writes are atomic.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.atomic import write_text

CALLOUT_KINDS = {"note": ("NOTE", "Note"), "warning": ("WARNING", "Warning"), "error": ("CAUTION", "Error")}
IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
MISSING = "\u2013"  # en dash for missing table cells

FloatFormat = str | Callable[[float], str]

# Tables never grow wider than the text column on a laptop and never make the page scroll sideways on a phone: a
# number or a word never breaks inside itself (no ``overflow-wrap: anywhere``, no automatic hyphenation); long
# identifiers such as file names may break after '_', '/' or '.' (a <wbr> is inserted there, see _cell_html); on a
# narrow screen a table keeps readable columns and scrolls inside its own box with its first column fixed, its
# caption outside the scrolling box. Tables with WIDE_TABLE_COLUMNS or more columns get a smaller font and tighter
# padding, from VERY_WIDE_TABLE_COLUMNS smaller still.
WIDE_TABLE_COLUMNS = 7
VERY_WIDE_TABLE_COLUMNS = 14
LONG_TOKEN = 24
"""A token longer than this many characters without a break opportunity (a run of letters and digits) may break
anywhere: only such pathological tokens (hashes, generated names) ever break inside themselves."""
PHONE_WIDTH = "40rem"
"""Below this window width the phone layout applies (smaller headings, scrolling tables with a fixed first column)."""

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; line-height: 1.5;
       max-width: 62rem; margin: 1rem auto 2rem; padding: 0 1rem; color: #1a1a1a; }
h1 { font-size: 1.6rem; margin: 0.4em 0 0.3em; }
h1, h2, h3, h4 { line-height: 1.25; }
h2, h3, h4 { margin-top: 1.6em; }
h2 { margin-bottom: 0.5em; }
nav#toc + h2, .callout + h2 { margin-top: 0.8em; }
nav#toc { font-size: 0.9rem; margin: 0 0 0.8em; }
nav#toc summary { cursor: pointer; color: #0072B2; }
nav#toc ul { margin: 0.3em 0; padding-left: 1.4em; }
nav#toc li.sub { margin-left: 1.2em; }
.table-block { margin: 1em 0; }
.table-caption { font-weight: 600; font-size: 0.92rem; line-height: 1.35; padding-bottom: 0.4em; }
.table-wrap { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.92rem; font-variant-numeric: tabular-nums; table-layout: auto;
        max-width: 100%; line-height: 1.35; }
table.wide { font-size: 0.78rem; width: 100%; }
table.wide th, table.wide td { padding: 0.2em 0.35em; }
table.very-wide { font-size: 0.7rem; }
th, td { border: 1px solid #c8c8c8; padding: 0.3em 0.6em; vertical-align: top; overflow-wrap: normal;
         word-break: normal; hyphens: manual; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; white-space: nowrap; }
th:first-child, td:first-child { position: sticky; left: 0; z-index: 1; background: #fff;
                                 box-shadow: 1px 0 0 #c8c8c8; }
th:first-child { background: #f0f0f0; }
tbody tr:nth-child(even) td:first-child { background: #fafafa; }
.long { overflow-wrap: anywhere; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e0e0e0; }
figcaption { font-size: 0.92rem; color: #444; margin-top: 0.4em; }
code { background: #f3f3f3; padding: 0 0.25em; border-radius: 3px; }
.callout { border-left: 6px solid; padding: 0.4em 0.8em; margin: 0.8em 0; border-radius: 3px; font-size: 0.92rem; }
.callout p { margin: 0; }
.callout-note { border-color: #0072B2; background: #e8f2fa; }
.callout-warning { border-color: #E69F00; background: #fff4dc; }
.callout-error { border-color: #D55E00; background: #fde7dc; font-weight: 600; }
@media (max-width: PHONE_WIDTH) {
  body { font-size: 15px; line-height: 1.4; margin-top: 0.3rem; padding: 0 0.75rem; }
  h1 { font-size: 1.2rem; margin: 0.3em 0 0.2em; }
  h2 { font-size: 1.15rem; margin-top: 1.2em; margin-bottom: 0.4em; }
  nav#toc + h2, .callout + h2 { margin-top: 0.6em; }
  h3 { font-size: 1.05rem; }
  nav#toc { margin-bottom: 0.3em; }
  p { margin: 0.5em 0; }
  .table-caption { font-size: 0.8rem; }
  .callout { font-size: 0.8rem; line-height: 1.3; padding: 0.3em 0.6em; margin: 0.5em 0; }
  table, table.wide, table.very-wide { width: auto; max-width: none; font-size: 0.8rem; }
  .table-wrap th, .table-wrap td { min-width: 6.5em; max-width: 11em; padding: 0.2em 0.35em; }
  .table-wrap th { min-width: 8.5em; }
  .table-wrap td.num { min-width: 0; }
  .table-wrap th:first-child, .table-wrap td:first-child { min-width: 9.5em; max-width: 10em; }
  figure { margin: 1em 0; }
}
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; line-height: 1.35; }
  nav#toc { display: none; }
  h2 ~ h2 { break-before: page; }
  h2, h3, h4, .table-caption { break-after: avoid; }
  figure { break-inside: avoid; }
  figure img { max-height: 215mm; width: auto; }
  tr, figcaption { break-inside: avoid; }
  thead { display: table-header-group; }
  .table-wrap { overflow: visible; }
  th:first-child, td:first-child { position: static; box-shadow: none; }
  table.wide, table.very-wide { font-size: 7.5pt; }
  a { color: inherit; text-decoration: none; }
}
@page { margin: 14mm 12mm; }
""".strip().replace("PHONE_WIDTH", PHONE_WIDTH)


@dataclass(frozen=True)
class _Heading:
    text: str
    level: int
    anchor: str | None = None


@dataclass(frozen=True)
class _Paragraph:
    text: str
    anchor: str | None = None


@dataclass(frozen=True)
class _Table:
    df: pd.DataFrame
    caption: str | None
    float_format: FloatFormat
    index: bool
    number: int
    anchor: str | None = None


@dataclass(frozen=True)
class _Figure:
    path: Path
    caption: str
    number: int
    alt: str = ""


@dataclass(frozen=True)
class _Callout:
    text: str
    kind: str
    anchor: str | None = None


_ANCHOR = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def slug(text: str) -> str:
    """An HTML id from heading text: lower case, runs of other characters as one hyphen ('P(OR < 1)' -> 'p-or-1')."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _id_attr(anchor: str | None) -> str:
    return f' id="{anchor}"' if anchor else ""


_Block = _Heading | _Paragraph | _Table | _Figure | _Callout


def _format_cell(value: object, float_format: FloatFormat) -> str:
    """Table cell text: floats via float_format, integers as is, missing values as an en dash."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return float_format(float(value)) if callable(float_format) else format(float(value), float_format)
    return str(value)


def _label(label: object) -> str:
    return " / ".join(map(str, label)) if isinstance(label, tuple) else str(label)


def _md_text(text: str) -> str:
    """Plain text for Markdown: '<' that could open an HTML tag is escaped; inline marks pass through."""
    return re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)


def _md_cell(text: str) -> str:
    """A GitHub table cell: pipes escaped, line breaks as <br>."""
    return _md_text(text).replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def _md_literal(text: str) -> str:
    """Text shown literally on one Markdown line (the report title, which comes from a user's file name or
    ``--title``): line breaks become spaces and every character that can start Markdown or HTML is backslash-escaped
    (CommonMark: any ASCII punctuation may be), so no link, image, emphasis, tag or second heading can appear."""
    return re.sub(r"([\\`*_\[\]<>!&#~|])", r"\\\1", " ".join(text.split()))


def _html_text(text: str) -> str:
    """Escape, then render the inline marks **bold**, *italic*, `code`."""
    parts = re.split(r"(`[^`\n]+`)", text)
    out = []
    for part in parts:
        if len(part) > 1 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        s = html.escape(part)
        s = re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])", r"<em>\1</em>", s)
        out.append(s)
    return "".join(out).replace("\n", "<br>\n")


class Report:
    """A report built from headings, paragraphs, tables, figures and callouts, written as Markdown and HTML.

    Every ``add_*`` method returns the report, so calls can be chained. Example::

        report = Report("Reanalysis")
        report.add_heading("Mortality").add_paragraph("P(OR < 1) = **0.93**")
        report.add_figure("figures/forest.png", "Observed and shrunken study effects")
        report.write_markdown("results/report.md")
        report.write_html("results/report.html")
    """

    def __init__(self, title: str) -> None:
        if not str(title).strip():
            raise ValueError("title must be non-empty")
        self.title = str(title)
        self._blocks: list[_Block] = []
        self._n_tables = 0
        self._n_figures = 0
        self._anchors: set[str] = {"toc"}

    def _anchor(self, anchor: str | None) -> str | None:
        """Check an element id (letters, digits, '-', '_'; unique in the document) and reserve it."""
        if anchor is None:
            return None
        if not isinstance(anchor, str) or not _ANCHOR.fullmatch(anchor):
            raise ValueError(
                f"anchor must start with a letter and hold only letters, digits, '-' or '_'; got {anchor!r}"
            )
        if anchor in self._anchors:
            raise ValueError(f"anchor {anchor!r} is already used in this report")
        self._anchors.add(anchor)
        return anchor

    def add_heading(self, text: str, level: int = 2, *, anchor: str | None = None) -> Report:
        """A section heading; level 1-6 (the report title is level 1).

        anchor: the heading's HTML id (default a slug of the text); level-2 and level-3 headings are listed in the
        HTML table of contents.
        """
        if not isinstance(level, int) or not 1 <= level <= 6:
            raise ValueError(f"level must be an integer from 1 to 6; got {level!r}")
        self._blocks.append(_Heading(str(text), level, self._anchor(anchor)))
        return self

    def add_paragraph(self, text: str, *, anchor: str | None = None) -> Report:
        """A paragraph of plain text (with **bold**, *italic*, `code`); newlines become line breaks.

        anchor: an HTML id for the paragraph, e.g. ``"bottom-line"`` (checked by the browser layout test to lie in
        the first screen).
        """
        self._blocks.append(_Paragraph(str(text), self._anchor(anchor)))
        return self

    def add_table(
        self,
        df: pd.DataFrame,
        caption: str | None = None,
        float_format: FloatFormat = ".2f",
        *,
        index: bool | None = None,
        anchor: str | None = None,
    ) -> Report:
        """A table; floats formatted with ``float_format`` (a format spec such as '.3f', or a function).

        index: include the row index as the first column; by default only when it is not a plain 0..n-1 range.
        Missing values are shown as an en dash. Tables with a caption are numbered ('Table 1.').
        anchor: an HTML id for the table, e.g. ``"summary-of-findings"``.
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"df must be a pandas DataFrame; got {type(df).__name__}")
        if not callable(float_format):
            try:
                format(1.0, float_format)
            except (TypeError, ValueError):
                raise ValueError(f"float_format {float_format!r} is not a valid format spec (e.g. '.3f')") from None
        if index is None:
            plain = isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1
            index = not plain or df.index.name is not None
        if caption is not None:
            self._n_tables += 1
        self._blocks.append(_Table(df.copy(), caption, float_format, index, self._n_tables, self._anchor(anchor)))
        return self

    def add_figure(self, png_path: str | os.PathLike[str], caption: str, *, alt: str | None = None) -> Report:
        """A figure file (PNG, SVG or JPEG) with a numbered caption ('Figure 1.'); the file must exist at write time.

        alt: the image's text alternative, saying what this figure shows (default the caption).
        """
        path = Path(png_path).absolute()
        if path.suffix.lower() not in IMAGE_TYPES:
            raise ValueError(f"png_path {str(png_path)!r} must end in one of {', '.join(IMAGE_TYPES)}")
        self._n_figures += 1
        self._blocks.append(_Figure(path, str(caption), self._n_figures, str(caption if alt is None else alt)))
        return self

    def figure_number(self, png_path: str | os.PathLike[str]) -> int | None:
        """The number of the figure already added from ``png_path`` (for 'same as Figure 3'), or None."""
        path = Path(png_path).absolute()
        return next((b.number for b in self._blocks if isinstance(b, _Figure) and b.path == path), None)

    def add_callout(self, text: str, kind: str = "warning", *, anchor: str | None = None) -> Report:
        """A highlighted box, e.g. for a failed or unconverged fit; kind is 'note', 'warning' or 'error'.

        anchor: an HTML id for the box, e.g. ``"bottom-line"``.
        """
        if kind not in CALLOUT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(CALLOUT_KINDS)}; got {kind!r}")
        self._blocks.append(_Callout(str(text), kind, self._anchor(anchor)))
        return self

    # Markdown

    def to_markdown(self, base_dir: str | os.PathLike[str]) -> str:
        """The report as GitHub-flavoured Markdown; figure paths are relative to ``base_dir``."""
        base = Path(base_dir).absolute()
        parts = [f"# {_md_literal(self.title)}"]
        for block in self._blocks:
            parts.append(self._md_block(block, base))
        return "\n\n".join(parts) + "\n"

    def _md_block(self, block: _Block, base: Path) -> str:
        match block:
            case _Heading(text, level, _):
                return f"{'#' * level} {text}"
            case _Paragraph(text, _):
                return _md_text(text)
            case _Callout(text, kind, _):
                tag, name = CALLOUT_KINDS[kind]
                lines = f"**{name}:** {_md_text(text)}".splitlines()
                return "\n".join([f"> [!{tag}]", *(f"> {line}" if line else ">" for line in lines)])
            case _Figure(path, caption, number, alt_text):
                _require_file(path)
                rel = Path(os.path.relpath(path, base)).as_posix()
                target = f"<{rel}>" if re.search(r"[\s()<>]", rel) else rel
                alt = re.sub(r"[\[\]\n]", " ", alt_text or caption)
                return f"![{alt}]({target})\n\n*Figure {number}. {_md_text(caption)}*"
            case _Table():
                return self._md_table(block)
        raise TypeError(f"unknown block {block!r}")  # pragma: no cover

    @staticmethod
    def _md_table(t: _Table) -> str:
        header, rows, numeric = _table_cells(t)
        lines = []
        if t.caption is not None:
            lines += [f"**Table {t.number}.** {_md_text(t.caption)}", ""]
        lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
        lines.append("|" + "|".join("---:" if num else "---" for num in numeric) + "|")
        for row in rows:
            lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
        return "\n".join(lines)

    def write_markdown(self, path: str | os.PathLike[str]) -> Path:
        """Write the Markdown report atomically; figure links are relative to the file's folder."""
        target = Path(path)
        return write_text(target, self.to_markdown(target.absolute().parent))

    # HTML

    def _heading_ids(self) -> dict[int, str]:
        """HTML id of every heading block (by position): its anchor, or a unique slug of its text."""
        used = set(self._anchors)
        ids = {}
        for i, block in enumerate(self._blocks):
            if isinstance(block, _Heading):
                if block.anchor:
                    ids[i] = block.anchor
                    continue
                base = candidate = slug(block.text)
                n = 2
                while candidate in used:
                    candidate, n = f"{base}-{n}", n + 1
                used.add(candidate)
                ids[i] = candidate
        return ids

    def _toc(self, ids: dict[int, str]) -> str:
        """A collapsed table of contents (one line on screen) of the level-2 and level-3 headings."""
        items = []
        for i, block in enumerate(self._blocks):
            if isinstance(block, _Heading) and block.level in (2, 3):
                cls = ' class="sub"' if block.level == 3 else ""
                items.append(f'<li{cls}><a href="#{ids[i]}">{html.escape(block.text)}</a></li>')
        if not items:
            return ""
        return '<nav id="toc"><details><summary>Contents</summary><ul>\n' + "\n".join(items) + "\n</ul></details></nav>"

    def to_html(self) -> str:
        """The report as one self-contained HTML page (inline CSS, images as data URIs, a table of contents)."""
        ids = self._heading_ids()
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        toc = self._toc(ids)
        if toc:
            body.append(toc)
        for i, block in enumerate(self._blocks):
            if isinstance(block, _Heading):
                body.append(f'<h{block.level} id="{ids[i]}">{html.escape(block.text)}</h{block.level}>')
            else:
                body.append(self._html_block(block))
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
            + "\n".join(body)
            + "\n</body>\n</html>\n"
        )

    def _html_block(self, block: _Block) -> str:
        match block:
            case _Heading(text, level, anchor):
                return f"<h{level}{_id_attr(anchor or slug(text))}>{html.escape(text)}</h{level}>"
            case _Paragraph(text, anchor):
                return f"<p{_id_attr(anchor)}>{_html_text(text)}</p>"
            case _Callout(text, kind, anchor):
                name = CALLOUT_KINDS[kind][1]
                role = ' role="alert"' if kind != "note" else ""
                return (
                    f'<div class="callout callout-{kind}"{_id_attr(anchor)}{role}>'
                    f"<p><strong>{name}:</strong> {_html_text(text)}</p></div>"
                )
            case _Figure(path, caption, number, alt):
                _require_file(path)
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                mime = IMAGE_TYPES[path.suffix.lower()]
                return (
                    f'<figure><img src="data:{mime};base64,{data}" alt="{html.escape(alt or caption)}">'
                    f"<figcaption>Figure {number}. {_html_text(caption)}</figcaption></figure>"
                )
            case _Table():
                return self._html_table(block)
        raise TypeError(f"unknown block {block!r}")  # pragma: no cover

    @staticmethod
    def _html_table(t: _Table) -> str:
        """The table in its own horizontally scrolling box, its caption above the box (it never scrolls away)."""
        header, rows, numeric = _table_cells(t)
        wide = (
            ' class="wide very-wide"'
            if len(header) >= VERY_WIDE_TABLE_COLUMNS
            else ' class="wide"'
            if len(header) >= WIDE_TABLE_COLUMNS
            else ""
        )
        out = [f'<div class="table-block"{_id_attr(t.anchor)}>']
        labelled = ""
        if t.caption is not None:
            caption = f"Table {t.number}. {_html_text(t.caption)}"
            out.append(f'<div class="table-caption" id="table-{t.number}">{caption}</div>')
            labelled = f' aria-labelledby="table-{t.number}"'
        out.append(f'<div class="table-wrap"><table{wide}{labelled}>')
        out.append("<thead><tr>" + "".join(f"<th>{_cell_html(h)}</th>" for h in header) + "</tr></thead>")
        out.append("<tbody>")
        for row in rows:
            cells = [
                f'<td class="num">{html.escape(c)}</td>' if num else f"<td>{_cell_html(c)}</td>"
                for c, num in zip(row, numeric, strict=True)
            ]
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</tbody></table></div></div>")
        return "\n".join(out)

    def write_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the self-contained HTML report atomically."""
        return write_text(path, self.to_html())


def _table_cells(t: _Table) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header texts, formatted rows and, per column, whether it is numeric (right-aligned)."""
    df = t.df
    columns = [_label(c) for c in df.columns]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    header = columns
    by_column = [[_format_cell(v, t.float_format) for v in df.iloc[:, j].tolist()] for j in range(df.shape[1])]
    rows = [list(row) for row in zip(*by_column, strict=True)] if by_column else [[] for _ in range(len(df))]
    if t.index:
        header = [_label(df.index.name) if df.index.name is not None else "", *columns]
        numeric = [False, *numeric]
        rows = [[_label(ix), *row] for ix, row in zip(df.index, rows, strict=True)]
    return header, rows, numeric


_BREAK_AFTER = re.compile(r"(?<=[_/\\])(?=[A-Za-z0-9])|(?<=[A-Za-z]\.)(?=[A-Za-z])")
_RUN = re.compile(rf"[A-Za-z0-9]{{{LONG_TOKEN + 1},}}")


_INTERVAL = re.compile(r"([\[(][^\[\]()\s]+),\s([^\[\]()\s]+[\])])")


def _cell_html(text: str) -> str:
    """Escaped cell text in which only long tokens may break: after '_', '/' or '\\', or a '.' between letters,
    inside an identifier longer than LONG_TOKEN characters (a <wbr>; never inside a number such as a DOI's
    '10.1186'), and anywhere inside a run of more than LONG_TOKEN letters and digits (a span of class ``long``).
    Numbers and ordinary words are left whole, and an interval such as '[0.35, 1.11]' is kept on one line (a no-break
    space after its comma)."""
    text = _INTERVAL.sub("\\1,\u00a0\\2", text)
    parts = []
    for token in re.split(r"(\s+)", text):
        if len(token) <= LONG_TOKEN or token.isspace():
            parts.append(html.escape(token))
            continue
        pieces = _BREAK_AFTER.split(token)
        parts.append("<wbr>".join(_long_runs(piece) for piece in pieces))
    return "".join(parts)


def _long_runs(piece: str) -> str:
    out, last = [], 0
    for m in _RUN.finditer(piece):
        out += [html.escape(piece[last : m.start()]), f'<span class="long">{html.escape(m.group())}</span>']
        last = m.end()
    out.append(html.escape(piece[last:]))
    return "".join(out)


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"figure file {str(path)!r} does not exist")
