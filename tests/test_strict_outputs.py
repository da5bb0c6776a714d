"""Outputs a strict reader accepts: JSON without NaN, Markdown without the data's HTML."""

from __future__ import annotations

import json

import pytest
from scripts_loader import _load

from models.frequentist import pool
from models.msc.outputs import markdown_cell, strict_json
from models.msc.reproduction import Reproduction, reproduction_markdown
from models.tables import BinaryTable

pool_cli = _load("pool")


def _strict(text: str):
    def refuse(token: str):
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def test_single_study_hksj_json_has_null_not_nan(tmp_path, capsys) -> None:
    """issue: one study with --hksj --json printed NaN (the t interval has 0 degrees of freedom). The command now
    refuses a one-study file (one policy for every command: a meta-analysis needs 2 studies); the result it would
    print, pooled from that study, still has null where the interval is undefined."""
    path = tmp_path / "one.csv"
    path.write_text("study,e_t,n_t,e_c,n_c\na,3,10,5,10\n")
    assert pool_cli.main([str(path), "--measure", "OR", "--method", "DL", "--hksj", "--json"]) == 2
    assert capsys.readouterr().err == f"pool.py: error: {path}: has 1 study; a meta-analysis needs at least 2\n"
    one = BinaryTable(("a",), [3], [10], [5], [10])
    out = _strict(json.dumps(pool(one, "OR", "DL", hksj=True).to_dict(), allow_nan=False))
    assert out["ci_low"] is None and out["ci_high"] is None and out["k"] == 1
    assert out["estimate"] == pytest.approx((3 / 7) / (5 / 5))  # OR = (3/7) / (5/5)


def test_strict_json_turns_nan_into_null() -> None:
    assert _strict(strict_json({"a": float("nan"), "b": [float("inf"), 1.5]})) == {"a": None, "b": [None, 1.5]}


def test_reproduction_markdown_escapes_notes() -> None:
    """issue: reproduction.md copied HTML from the data's notes unescaped."""
    nan = float("nan")
    row = Reproduction(document="d<b>", analysis="a", measure="OR", published_model="fixed", published_estimate=1.0,
                       published_ci_low=0.5, published_ci_high=2.0, published_i2=nan, published_k=nan, method="",
                       k_used=0, studies_used="", studies_missing="", recomputed_estimate=nan, recomputed_ci_low=nan,
                       recomputed_ci_high=nan, recomputed_i2=nan, recomputed_q_p=nan, difference=nan,
                       status="not reproducible", reason="<script>alert(1)</script> & a|b\nc")  # fmt: skip
    text = reproduction_markdown((row,))
    assert "<script>" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; a\\|b c |" in text and "| d&lt;b&gt; |" in text


def test_markdown_cell() -> None:
    assert markdown_cell("<i>x</i> | y") == "&lt;i&gt;x&lt;/i&gt; \\| y"
