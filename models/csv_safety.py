"""CSV cells a spreadsheet cannot run: text that would start a formula gets a leading single quote.

Study labels, batch ids, document and analysis names and error messages come from users' files and reach the CSV
outputs verbatim. Excel, LibreOffice Calc and Google Sheets read a cell starting with ``=``, ``+``, ``-`` or ``@``
(and tab, carriage return, line feed or NUL) as a formula, which can fetch URLs or, in old Excel, start programs
("CSV injection"). Following the OWASP advice (CSV Injection page; ASVS 5.0 requirement 1.2.10), such a text cell
is written with a single quote in front (``'=HYPERLINK(...)``): spreadsheets show it as text, and a program reading
the CSV sees the quote and can strip it.

Numbers are left alone: numeric columns are never touched, and a text cell that is exactly a decimal number
(``-0.5``, ``+1e-3``) is a number to a spreadsheet, not a formula, so it keeps its value. Everything else in the
file is unchanged; every CSV writer of the project passes its table through :func:`neutralise_formulas`.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_START = r"^[=+\-@\t\r\n\x00]"
"""A cell a spreadsheet may read as a formula starts with one of these characters."""
PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
"""A cell that is exactly a decimal number (a spreadsheet reads it as that number)."""
_FORMULA_START, _PLAIN_NUMBER = re.compile(FORMULA_START), re.compile(PLAIN_NUMBER)


def neutralise_cell(value: object) -> object:
    """``value`` with a single quote in front when it is text a spreadsheet would read as a formula; else as is."""
    if isinstance(value, str) and _FORMULA_START.match(value) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise_formulas(table: Any) -> Any:
    """A copy of ``table`` (a pandas DataFrame, or a pyarrow RecordBatch or Table) with every text cell that would
    start a formula prefixed by a single quote (:func:`neutralise_cell`); numeric, boolean and date columns are not
    touched. Column names are the project's own and are not changed."""
    if hasattr(table, "schema"):
        return _neutralise_arrow(table)
    import pandas as pd

    out = table.copy()
    for column in out.columns:
        values = out[column]
        dtype = values.dtype
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            continue
        out[column] = values.map(neutralise_cell)
    return out


def _neutralise_arrow(table: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.and_kleene(
                pc.match_substring_regex(column, FORMULA_START),
                pc.invert(pc.match_substring_regex(column, PLAIN_NUMBER)),
            )
            column = pc.if_else(pc.fill_null(risky, False), pc.utf8_replace_slice(column, 0, 0, "'"), column)
        columns.append(column)
    return type(table).from_arrays(columns, schema=table.schema)
