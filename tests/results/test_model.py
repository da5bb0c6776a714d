"""The result model's own rules: Bayes factors on the log scale, a failed derived quantity never discards a
posterior, error results carry no numbers."""

import math

import pytest

from models.results import Direction, EffectSummary, Evidence, Kind, Method, Result, ResultKey, Status, error_result
from models.results.model import natural_bf, with_failure

KEY = ResultKey("a", "m", "t", "e")


def test_bayes_factors_are_written_on_the_natural_scale_only_where_representable():
    assert Evidence(log_bf10_effect=math.log(3.0)).bf10_effect == pytest.approx(3.0, rel=1e-15)
    assert natural_bf(800.0) is None and natural_bf(-800.0) is None and natural_bf(None) is None


def test_a_failed_derived_quantity_keeps_the_posterior_summary():
    effect = EffectSummary(0.8, 0.6, 1.1, 0.9, 0.9)
    r = Result(KEY, Kind.POOLED, Method.EXACT_QUADRATURE, "OR", 5, Direction("OR"), effect=effect)
    partial = with_failure(r, "Bayes factors", ValueError("no evidence"))
    assert partial.status == Status.PARTIAL and partial.effect == effect
    assert partial.message == "Bayes factors not computed: ValueError: no evidence"


def test_error_result_has_no_numbers_and_a_one_line_message():
    r = error_result(KEY, kind=Kind.POOLED, measure="OR", direction=Direction("OR"), message="bad\n file")
    assert r.status == Status.ERROR and r.message == "bad file" and r.effect is None and r.gate == "not sampled"


def test_method_codes_have_labels():
    assert all(m.label for m in Method) and str(Method.EXACT_QUADRATURE) == "exact_quadrature"
