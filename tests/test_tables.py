"""Study tables validate themselves: each rule with its own malformed input, errors name study and column."""

import pandas as pd
import pytest

from models.tables import BinaryTable, ContinuousTable, TableError


def _binary(**change):
    cols = {"study": ["a", "b"], "e_t": [1, 2], "n_t": [10, 10], "e_c": [3, 4], "n_c": [10, 10]}
    cols.update(change)
    return pd.DataFrame(cols)


def test_valid_table_round_trips():
    table = BinaryTable.from_frame(_binary())
    assert table.k == 2 and table.e_t.dtype.kind == "i"
    assert table.to_frame().equals(_binary())
    assert table.subset(["b"]).study == ("b",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"study": ["a", "a"]}, "appears more than once"),
        ({"study": ["a", " "]}, "non-empty"),
        ({"e_t": [-1, 2]}, "non-negative whole numbers; study 'a'"),
        ({"n_c": [10, 9.5]}, "non-negative whole numbers; study 'b'"),
        ({"e_c": [3, 11]}, "study 'b': e_c = 11 exceeds n_c = 10"),
        ({"e_t": [1, None]}, "missing or not finite for study 'b'"),
        ({"n_t": ["ten", 10]}, "must be numeric"),
    ],
)
def test_binary_rules(change, message):
    with pytest.raises(TableError, match=message):
        BinaryTable.from_frame(_binary(**change))


def test_missing_column_is_named():
    with pytest.raises(TableError, match="missing column"):
        BinaryTable.from_frame(_binary().drop(columns=["n_c"]))


def test_subset_rejects_unknown_labels():
    with pytest.raises(TableError, match="unknown study"):
        BinaryTable.from_frame(_binary()).subset(["zz"])


def test_continuous_rules():
    good = {"study": ["x"], "n_t": [20], "mean_t": [5.0], "sd_t": [1.0], "n_c": [20], "mean_c": [6.0], "sd_c": [2.0]}
    assert ContinuousTable.from_frame(pd.DataFrame(good)).k == 1
    with pytest.raises(TableError, match="sd_c must be positive"):
        ContinuousTable.from_frame(pd.DataFrame({**good, "sd_c": [0.0]}))
    with pytest.raises(TableError, match="n_t must be at least 2"):
        ContinuousTable.from_frame(pd.DataFrame({**good, "n_t": [1]}))
