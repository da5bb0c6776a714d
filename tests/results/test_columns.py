"""The one column vocabulary: records, tables and Arrow tables in the documented order; the documentation file is
the generated one. That every client writes exactly these columns is checked with each client's own run:
``reanalyse fit`` (summary.csv, --json) in tests/toolkit/test_fit_cli.py, ``reanalyse batch`` (results.parquet,
results.csv) in tests/batch/test_batch_cli.py and test_batch_run.py, the MSC job (summary.csv) in
tests/msc/test_pipeline.py and test_runner.py."""

import csv
import json
import math
from pathlib import Path

import pyarrow as pa

from models.bayes.absolute import ControlRisk
from models.results import (
    COLUMN_NAMES,
    Context,
    Direction,
    EffectSummary,
    Kind,
    Method,
    PublishedFigure,
    Result,
    ResultKey,
    arrow_schema,
    frame,
    to_arrow,
    to_record,
)
from models.results.columns import columns_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "results-columns.md"


def _result(control: ControlRisk | None = None) -> Result:
    effect = EffectSummary(0.8, 0.6, math.nan, 0.9, 0.9, 0.8, 0.4)
    context = Context(source="f.csv", studies=("a", "b"), published=PublishedFigure(0.7, 0.5, 0.9), control=control)
    return Result(ResultKey("all_studies", "m", "t", "e"), Kind.POOLED, Method.EXACT_QUADRATURE, "OR", 2,
                  Direction("OR", False, 0.8), context, effect)  # fmt: skip


def test_the_documentation_is_the_generated_table():
    assert DOC.read_text() == columns_markdown()


def test_record_is_strict_json_in_column_order():
    record = to_record(_result())
    assert tuple(record) == COLUMN_NAMES
    assert record["effect_high"] is None and record["method"] == "exact_quadrature"
    assert record["studies"] == "a;b" and record["published_low"] == 0.5 and record["gate"] == "not sampled"
    assert record["control_risk"] is None and record["control_risk_label"] == ""
    json.dumps(record, allow_nan=False)


def test_table_keeps_integers_integers_and_empty_numbers_empty(tmp_path):
    table = frame([_result(), _result()])
    assert tuple(table.columns) == COLUMN_NAMES
    table.to_csv(tmp_path / "s.csv", index=False)
    with open(tmp_path / "s.csv", newline="") as handle:
        cells = next(csv.DictReader(handle))
    assert cells["k"] == "2" and cells["divergences"] == "" and cells["effect_high"] == ""


def test_arrow_table_has_the_schema_and_nulls_for_empty_numbers():
    control = ControlRisk("c", 0.3, "c", "stated")
    table = to_arrow([_result(control)])
    assert table.schema.equals(arrow_schema())
    assert table.schema.field("k").type == pa.int64() and table.schema.field("studies").nullable is False
    assert table["effect_high"].null_count == 1
